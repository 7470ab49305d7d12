"""`joinedup survey ...`: the key-informant survey service, its analysis, coding and the typology.

Example:
    $ joinedup survey serve --store sqlite:///survey.db --results out/demo
    $ joinedup survey analyse --invitations i.csv --responses r.csv --out out/ki
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)

survey_app = typer.Typer(help="Key-informant panel surveys: analysis, the web service, panel admin.",
                         no_args_is_help=True, rich_markup_mode=None)


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

    try:
        s = SurveyStore(store)
        s.create()
        s.add_user(username, password, role, site)
    except SurveyError as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(f"{role} {username!r} can sign in at /admin/login")


@survey_app.command("erase-expired")
def survey_erase_expired(
    store: str = typer.Option("sqlite:///survey.db", "--store", help="Survey database URL (SQLite or PostgreSQL)"),
    today: str = typer.Option(None, "--today", help="Date to count retention from (YYYY-MM-DD; default today)"),
) -> None:
    """Erase names, e-mail addresses and survey links of waves past their retention period (answers are
    kept, de-identified); prints what was removed (see docs/survey.md)."""
    import datetime as dt

    from joinedup.survey.retention import erase_expired
    from joinedup.survey.store import SurveyError, SurveyStore

    try:
        day = dt.date.fromisoformat(today) if today else None
    except ValueError:
        console.print(f"error: --today {today!r} is not a date (YYYY-MM-DD)", markup=False, highlight=False)
        raise typer.Exit(2) from None
    try:
        s = SurveyStore(store)
        s.create()
        report = erase_expired(s, day)
    except SurveyError as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(str(report))


@survey_app.command("repair-withdrawals")
def survey_repair_withdrawals(
    store: str = typer.Option("sqlite:///survey.db", "--store", help="Survey database URL (SQLite or PostgreSQL)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be deleted"),
) -> None:
    """Delete answers that an older joinedup stored again after the respondent withdrew (a response import
    run after the withdrawal) and mark their invitations withdrawn again; prints what it did."""
    from joinedup.survey.retention import repair_withdrawals
    from joinedup.survey.store import SurveyError, SurveyStore

    try:
        s = SurveyStore(store)
        s.create()
        report = repair_withdrawals(s, apply=not dry_run)
    except SurveyError as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(str(report))


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
    instrument: list[str] = typer.Option([], "--instrument", help="ID=PATH: another XLSForm instrument a wave may "
                                         "use, e.g. p3ceq=instruments/p3ceq.xlsx (repeatable)"),
) -> None:
    """Run the web app: survey pages at /s/<token>, admin at /admin, site dashboards at /sites."""
    import uvicorn

    from joinedup.survey.mail import MailSettings
    from joinedup.web.app import create_app
    from joinedup.web.config import WebSettings

    mail = (MailSettings(smtp_host, smtp_port, sender, smtp_user, smtp_password, starttls=starttls)
            if smtp_host else None)
    url = base_url or f"http://{host}:{port}"
    try:
        settings = WebSettings.from_env(store, url, mail=mail, secure_cookies=url.startswith("https://"),
                                        results=results, instruments=instrument_paths(instrument))
    except ValueError as exc:  # a bad secret: one line naming where it came from, never the value
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    from joinedup.survey.store import SurveyError

    try:
        web_app = create_app(settings)
    except SurveyError as exc:  # the store cannot be reached: one line, no traceback
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    for problem in web_app.state.ctx.load_instruments():  # before the first request (web/app.py)
        console.print(f"warning: {problem}", markup=False, highlight=False, soft_wrap=True)
    from joinedup.web.logs import uvicorn_log_config

    # the access log names routes, never survey tokens (web/logs.py)
    uvicorn.run(web_app, host=host, port=port, log_config=uvicorn_log_config())


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
        tables = analyse(invitations, responses, codes, codebook)
    except ValueError as exc:  # SurveyInputError lists every problem with file, line and column
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    # the CSVs leave the program: each table's declared disclosure control (respondents per Pioneer:
    # 1-7 suppressed, others rounded to 5), its columns as before
    from joinedup.survey.analysis.run import controlled_survey_tables

    out.mkdir(parents=True, exist_ok=True)
    for name, frame in controlled_survey_tables(tables).items():
        frame.drop(columns="suppressed").to_csv(out / f"{name}.csv", index=False)
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


def instrument_paths(values: list[str]) -> dict[str, Path]:
    """``--instrument ID=PATH`` values as the web settings' instruments; a bad one is a ValueError.

    >>> instrument_paths(["p3ceq"])
    Traceback (most recent call last):
    ValueError: --instrument 'p3ceq': expected ID=PATH (e.g. p3ceq=instruments/p3ceq.xlsx)
    """
    out = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"--instrument {value!r}: expected ID=PATH (e.g. p3ceq=instruments/p3ceq.xlsx)")
        if not Path(path.strip()).is_file():
            raise ValueError(f"--instrument {name.strip()}: no file {path.strip()}")
        out[name.strip()] = Path(path.strip())
    return out
