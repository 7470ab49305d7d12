"""The `joinedup` command line: each subcommand is a thin call into a package.

Example:
    $ joinedup simulate --scale 0.02 --seed 2013 --out data/england
    $ joinedup validate-data data/england
    $ joinedup run my_protocol.toml
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from joinedup.options import Engine, ScenarioName

app = typer.Typer(help="joinedup: evaluate integrated health and social care programmes.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
console = Console(stderr=True)


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def _simulate_with_bar(out: Path, scale: float, seed: int, scenario: str, years: tuple[int, int]):
    from joinedup.simulate import simulate

    with _bar() as bar:
        task = bar.add_task("Simulating England", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Simulating England: {label}")

        return simulate(out, scale=scale, seed=seed, years=years, scenario=scenario, progress=progress)


@app.command()
def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write one Parquet file or folder per table into"),
    scale: float = typer.Option(0.02, min=0.0001, max=1.0, help="Share of England (1.0 = the whole country)"),
    seed: int = typer.Option(2013, min=0, help="Seed: same seed, same data"),
    scenario: ScenarioName = typer.Option("default", help="True effects: default or null"),
    first_year: int = typer.Option(2010, help="First calendar year"),
    last_year: int = typer.Option(2019, help="Last calendar year"),
) -> None:
    """Simulate England: every canonical table plus truth.json with the programmed effects."""
    summary = _simulate_with_bar(out, scale, seed, scenario, (first_year, last_year))
    total = sum(summary.rows.values())
    console.print(f"Wrote {total:,} rows to {out} in {summary.seconds:.1f} s "
                  f"({summary.rows_per_second:,.0f} rows/s)")
    for name, rows in summary.rows.items():
        console.print(f"  {name:<22} {rows:>12,}")


@app.command("validate-data")
def validate_data(
    location: str = typer.Argument(..., help="Dataset folder or Ibis connection URL"),
    engine: Engine = typer.Option("duckdb", help="Engine to run the checks on"),
) -> None:
    """Check a dataset against the canonical schema; exit 1 if any rule is broken."""
    from joinedup.data import DataSourceError, validate_dataset

    try:
        report = validate_dataset(location, engine)
    except DataSourceError as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    console.print(report.summary(), markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def run(
    protocol: Path = typer.Argument(..., help="Evaluation protocol (TOML)"),
    out: Path | None = typer.Option(None, "--out", help="Output folder (default: the protocol's)"),
) -> None:
    """Run the evaluation a protocol describes and write tables, figures, report and manifest."""
    _run(protocol, out)


@app.command()
def demo(out: Path = typer.Option(Path("out/demo"), "--out", help="Output folder")) -> None:
    """Simulate a default England and run the example Pioneer evaluation protocol on it."""
    from joinedup.protocol import example_protocol_path

    _run(example_protocol_path(), out)


def _run(protocol_path: Path, out: Path | None) -> None:
    from joinedup.data import DataSourceError, DataValidationError
    from joinedup.pipeline import run_protocol
    from joinedup.protocol import ProtocolError, load_protocol

    try:
        protocol = load_protocol(protocol_path)
        with _bar() as bar:
            optional = (protocol.indicators, protocol.impact, protocol.economics)
            total = 3 + (protocol.data.source == "simulate") + sum(step is not None for step in optional)
            steps = bar.add_task("Evaluation", total=total)  # validate, overview, report + the optional steps
            sim = bar.add_task("Simulating England", total=None, visible=False)

            def on_step(name: str) -> None:
                # counted on entering a step, so the bar shows the steps started
                bar.update(steps, description=f"Evaluation: {name}", advance=1)

            def on_sim(done: int, total: int, label: str) -> None:
                bar.update(sim, visible=True, completed=done, total=total, description=f"Simulating: {label}")

            result = run_protocol(protocol, out, progress=on_step, simulate_progress=on_sim)
    except (ProtocolError, DataSourceError, DataValidationError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    for step, seconds in result.timings.items():
        console.print(f"  {step:<10} {seconds:7.1f} s")
    typer.echo(f"Report: {result.report.resolve()}")
    typer.echo(f"Tables, figures and manifest in {result.out_dir.resolve()}")


@app.command()
def indicators(
    data: str = typer.Option(..., "--data", help="Dataset folder or Ibis connection URL"),
    out: Path = typer.Option(..., "--out", help="Output folder (tables/indicators.csv and .parquet)"),
    period: list[str] = typer.Option(["month", "quarter", "financial_year"], help="Period(s) to compute"),
    indicator: list[str] = typer.Option([], "--indicator", help="Indicator id(s); default: the catalogue"),
    engine: Engine = typer.Option("duckdb", help="Engine to run the definitions on"),
) -> None:
    """Compute the indicator catalogue for every area, site, wave and period (disclosure-controlled)."""
    from joinedup.data import DataSourceError, DataValidationError, load_dataset
    from joinedup.indicators import CATALOGUE, compute_indicators
    from joinedup.outputs import write_table

    try:
        ds = load_dataset(data, engine)
        with _bar() as bar:
            ids = indicator or None
            task = bar.add_task("Indicators", total=len(ids or CATALOGUE))

            def progress(name: str) -> None:
                bar.update(task, advance=1, description=f"Indicators: {name}")

            table = compute_indicators(ds, ids, period, progress=progress)
    except (DataSourceError, DataValidationError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    written = write_table(table, out, "indicators", ["numerator", "denominator"],
                          national=(table["level"] == "england").to_numpy())
    typer.echo(f"Wrote {len(written):,} rows to {out / 'tables' / 'indicators.csv'} (and .parquet)")


@app.command()
def economics(
    data: str = typer.Option(..., "--data", help="Dataset folder or Ibis connection URL"),
    out: Path = typer.Option(..., "--out", help="Output folder (tables/, figures/, economics.html)"),
    protocol: Path = typer.Option(None, "--protocol", help="Protocol whose [economics] section to use "
                                  "(default: the section's defaults)"),
    engine: Engine = typer.Option("duckdb", help="Engine to run the queries on"),
    seed: int = typer.Option(None, help="Override the protocol's seed"),
) -> None:
    """Cost-effectiveness of MDT case management: cohort, matching, outcomes, costs, QALYs, CEA."""
    from joinedup.data import DataSourceError, DataValidationError, load_dataset
    from joinedup.pipeline import run_economics_only
    from joinedup.protocol import Economics, ProtocolError, load_protocol

    try:
        spec = (load_protocol(protocol).economics if protocol else None) or Economics()
        if seed is not None:
            spec = spec.model_copy(update={"seed": seed})
        ds = load_dataset(data, engine)
        with console.status("Economic evaluation (cohort, matching, outcomes, bootstrap)"):
            report = run_economics_only(ds, spec, out, data)
    except (ProtocolError, DataSourceError, DataValidationError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(f"Report: {report.resolve()}")
    typer.echo(f"Tables in {(out / 'tables').resolve()}, figures in {(out / 'figures').resolve()}")


survey_app = typer.Typer(help="Key-informant panel surveys: analysis, the web service, panel admin.",
                         no_args_is_help=True)
app.add_typer(survey_app, name="survey")


@survey_app.command("add-user")
def survey_add_user(
    store: str = typer.Option("sqlite:///survey.db", "--store", help="Survey database URL (SQLite or PostgreSQL)"),
    username: str = typer.Option(..., "--username"),
    role: str = typer.Option("admin", "--role", help="admin (survey admin pages, all sites), programme (every "
                             "site's dashboard) or site (one site's dashboard)"),
    site: str = typer.Option(None, "--site", help="The site of a site user (as in the report, e.g. Barnsley)"),
    password: str = typer.Option(..., "--password", prompt=True, hide_input=True, confirmation_prompt=True,
                                 envvar="JOINEDUP_USER_PASSWORD"),
) -> None:
    """Create (or reset) a login for the web app."""
    from joinedup.survey.store import SurveyError, SurveyStore

    s = SurveyStore(store)
    s.create()
    try:
        s.add_user(username, password, role, site)
    except SurveyError as exc:
        console.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from None
    typer.echo(f"{role} {username!r} can sign in at /admin/login")


@survey_app.command("serve")
def survey_serve(
    store: str = typer.Option("sqlite:///survey.db", "--store", help="Survey database URL (SQLite or PostgreSQL)"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    base_url: str = typer.Option(None, "--base-url", help="Public address used in e-mailed links"),
    smtp_host: str = typer.Option(None, "--smtp-host", help="SMTP server for invitations and reminders"),
    smtp_port: int = typer.Option(25, "--smtp-port"),
    sender: str = typer.Option("survey@localhost", "--sender", help="From address of the e-mails"),
    smtp_user: str = typer.Option(None, "--smtp-user", envvar="JOINEDUP_SMTP_USER"),
    smtp_password: str = typer.Option(None, "--smtp-password", envvar="JOINEDUP_SMTP_PASSWORD"),
    starttls: bool = typer.Option(False, "--starttls"),
    results: Path = typer.Option(None, "--results", help="Output folder of a joinedup run, for the site "
                                 "dashboards at /sites"),
) -> None:
    """Run the web app: survey pages at /s/<token>, admin at /admin, site dashboards at /sites."""
    import uvicorn

    from joinedup.survey.mail import MailSettings
    from joinedup.web.app import create_app
    from joinedup.web.config import WebSettings

    mail = (MailSettings(smtp_host, smtp_port, sender, smtp_user, smtp_password, starttls=starttls)
            if smtp_host else None)
    url = base_url or f"http://{host}:{port}"
    settings = WebSettings.from_env(store, url, mail=mail, secure_cookies=url.startswith("https://"), results=results)
    uvicorn.run(create_app(settings), host=host, port=port)


@survey_app.command("simulate")
def survey_simulate(
    out: Path = typer.Option(..., "--out", help="Folder for invitations.csv, responses.csv, codes.csv, codebook.csv"),
    seed: int = typer.Option(2013, help="Random seed"),
    waves: int = typer.Option(3, min=2, help="Survey waves"),
    panel: int = typer.Option(360, min=25, help="Key informants invited in wave 1"),
) -> None:
    """A simulated key-informant panel (25 Pioneers) with programmed changes (truth.csv)."""
    from joinedup.simulate.ki_panel import simulate_ki_panel

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in simulate_ki_panel(seed, waves=waves, n_panel=panel).items():
        frame.to_csv(out / f"{name}.csv", index=False)
    typer.echo(f"Wrote invitations, responses, codes, codebook and truth CSVs to {out.resolve()}")


@survey_app.command("analyse")
def survey_analyse(
    invitations: Path = typer.Option(None, "--invitations", help="invitations.csv (panelist_id, wave, pioneer, "
                                     "org_type, is_lead, disposition)"),
    responses: Path = typer.Option(None, "--responses", help="responses.csv (panelist_id, wave, question names)"),
    store: str = typer.Option(None, "--store", help="Read invitations and responses from the survey service's "
                              "database instead (SQLite or PostgreSQL URL)"),
    codes: Path = typer.Option(None, "--codes", help="codes.csv (panelist_id, wave, question, code, coder)"),
    codebook: Path = typer.Option(None, "--codebook", help="codebook.csv (code, label, parent, description)"),
    out: Path = typer.Option(..., "--out", help="Output folder for the CSVs and survey.html"),
) -> None:
    """Response rates, progress, barriers, helpfulness, involvement, coded free text and change."""
    from joinedup.survey.analysis import analyse
    from joinedup.survey.analysis.charts import report_section

    try:
        if store:
            from joinedup.survey.exchange import analysis_frames
            from joinedup.survey.instrument import load_form
            from joinedup.survey.pioneer_instrument import pioneer_instrument_path
            from joinedup.survey.store import SurveyStore

            invitations, responses = analysis_frames(SurveyStore(store), load_form(pioneer_instrument_path()))
        elif invitations is None or responses is None:
            raise ValueError("give --invitations and --responses, or --store")
        tables = analyse(invitations, responses, codes, codebook, out_dir=out)
    except ValueError as exc:  # SurveyInputError lists every problem with file, line and column
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    (out / "survey.html").write_text(report_section(tables), encoding="utf-8")
    for name, frame in tables.items():
        typer.echo(f"  {name + '.csv':<28} {len(frame):>5} rows")
    typer.echo(f"Wrote {len(tables)} tables and survey.html to {out.resolve()}")


@survey_app.command("suggest-codes")
def survey_suggest_codes(
    responses: Path = typer.Option(..., "--responses", help="responses.csv with the free-text answers"),
    codes: Path = typer.Option(..., "--codes", help="codes.csv of the answers people have coded"),
    out: Path = typer.Option(..., "--out", help="Folder for suggestions.csv and agreement.csv"),
    question: list[str] = typer.Option(["achievements", "challenge"], "--question", help="Free-text question(s)"),
    threshold: float = typer.Option(0.5, min=0.0, max=1.0, help="Lowest score suggested"),
    seed: int = typer.Option(2013, help="Seed of the held-out split"),
) -> None:
    """Suggest codes for uncoded answers from the coded ones (never final until a person accepts them)."""
    import pandas as pd

    from joinedup.survey.coding.suggest import CodeSuggester, evaluate_heldout

    resp = pd.read_csv(responses, dtype=str, keep_default_na=False)
    coded = pd.read_csv(codes, dtype=str, keep_default_na=False)
    missing = [q for q in question if q not in resp.columns]
    if missing:
        console.print(f"error: {responses.name} has no column(s) {', '.join(missing)}", markup=False)
        raise typer.Exit(1)
    long = resp.melt(id_vars=["panelist_id", "wave"], value_vars=question, var_name="question", value_name="text")
    long = long[long["text"].str.strip() != ""]
    sets = coded.groupby(["panelist_id", "wave", "question"])["code"].agg(set)
    key = list(zip(long["panelist_id"], long["wave"], long["question"]))
    is_coded = [k in sets.index for k in key]
    train = long[is_coded]
    train_sets = [sets[k] for k, c in zip(key, is_coded) if c]
    if len(train) < 10:
        console.print("error: fewer than 10 coded answers to learn from", markup=False)
        raise typer.Exit(1)
    out.mkdir(parents=True, exist_ok=True)
    evaluate_heldout(train["text"].tolist(), train_sets, seed=seed, threshold=threshold).to_csv(
        out / "agreement.csv", index=False)
    todo = long[[not c for c in is_coded]]
    model = CodeSuggester().fit(train["text"].tolist(), train_sets)
    rows = [{"panelist_id": r.panelist_id, "wave": r.wave, "question": r.question, "code": s.code,
             "score": round(s.score, 3), "accepted": s.accepted}
            for r, sug in zip(todo.itertuples(), model.suggest(todo["text"].tolist(), threshold=threshold)) for s in sug]
    pd.DataFrame(rows, columns=["panelist_id", "wave", "question", "code", "score", "accepted"]).to_csv(
        out / "suggestions.csv", index=False)
    typer.echo(f"{len(rows)} suggestion(s) for {len(todo)} uncoded answer(s) (none accepted); "
               f"held-out agreement in {out / 'agreement.csv'}")


@survey_app.command("typology")
def survey_typology(
    data: str = typer.Option(..., "--data", help="Dataset folder (its schemes table is the scheme registry)"),
    out: Path = typer.Option(..., "--out", help="Output folder (CSVs, figures, typology.html)"),
    k: int = typer.Option(None, help="Number of clusters (default: best average silhouette, 2-6)"),
    seed: int = typer.Option(2013, help="Seed of k-modes and the stability bootstrap"),
    protocol: Path = typer.Option(None, "--protocol", help="Protocol to write the selected MDT schemes to"),
    write_selection: bool = typer.Option(False, "--write-selection", help="Write [economics] schemes"),
) -> None:
    """Cluster sites by their schemes (Jaccard + k-modes, bootstrap stability) and pick MDT schemes."""
    from joinedup.data import DataSourceError, load_dataset
    from joinedup.report import render_report
    from joinedup.report.html import ReportSection, table_html
    from joinedup.survey import typology as ty
    from joinedup.survey.typology_plots import dendrogram_figure, heatmap_figure

    try:
        ds = load_dataset(data, tables=["schemes"])
        registry = ty.scheme_registry(ds.execute(ds.table("schemes")))
        typ = ty.typology(registry, k=k, seed=seed)
        selection = ty.select_schemes(typ, registry)
        if write_selection:
            if protocol is None:
                raise ValueError("--write-selection needs --protocol")
            ty.write_selection(protocol, " ".join(selection["scheme_ids"].dropna()).split())
    except (DataSourceError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    out.mkdir(parents=True, exist_ok=True)
    tables = {"typology_clusters": typ.clusters, "typology_stability": typ.stability,
              "typology_silhouette": typ.silhouette, "typology_profiles": typ.profiles(),
              "typology_selection": selection}
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False)
    figures = (dendrogram_figure(typ), heatmap_figure(typ))
    for f in figures:
        f.write(out / "figures")
    body = f"<p>{typ.k} clusters; hierarchical and k-modes agree with adjusted Rand index {typ.agreement_ari:.2f}.</p>"
    body += "".join(table_html(frame, name.replace("_", " ")) for name, frame in tables.items())
    (out / "typology.html").write_text(render_report("Typology of sites", [ReportSection(
        "typology", "Typology of sites", body, figures)], {"Data": data, "Seed": str(seed)}), encoding="utf-8")
    typer.echo(f"{typ.k} clusters; selected schemes: {' '.join(selection['scheme_ids'].dropna()) or 'none'}")
    typer.echo(f"Wrote {len(tables)} tables, 2 figures and typology.html to {out.resolve()}")


@app.command("protocol-example")
def protocol_example() -> None:
    """Print the example protocol of the Pioneer evaluation (start your own from it)."""
    from joinedup.protocol import example_protocol_path

    sys.stdout.write(example_protocol_path().read_text(encoding="utf-8"))


@app.command()
def docs(out: Path = typer.Option(Path("docs"), "--out", help="Docs folder")) -> None:
    """Regenerate the generated docs pages (data dictionary, protocol reference)."""
    from joinedup.docs import GENERATED_PAGES

    out.mkdir(parents=True, exist_ok=True)
    for name, render in GENERATED_PAGES.items():
        (out / name).write_text(render(), encoding="utf-8")
        typer.echo(f"Wrote {out / name}")


if __name__ == "__main__":
    app()
