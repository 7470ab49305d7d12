"""The `joinedup` command line: each subcommand is a thin call into a package.

Example:
    $ joinedup simulate --scale 0.02 --seed 2013 --out data/england
    $ joinedup validate-data data/england
    $ joinedup run my_protocol.toml
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from joinedup.options import Engine, ScenarioName, TableFormat

app = typer.Typer(help="joinedup: evaluate integrated health and social care programmes.", no_args_is_help=True,
                  pretty_exceptions_enable=False, rich_markup_mode=None)


def _version(value: bool) -> None:
    if value:
        import joinedup

        typer.echo(f"joinedup {joinedup.__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print joinedup's version and exit.")) -> None:
    """joinedup: evaluate integrated health and social care programmes."""
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
    format: str = typer.Option("canonical", "--format", help="canonical, or hes: also write the data as NHS "
                               "extracts (HES APC pipe-delimited, by financial year) into OUT/hes"),
) -> None:
    """Simulate England: every canonical table plus truth.json with the programmed effects."""
    if format not in ("canonical", "hes"):
        raise typer.BadParameter(f"--format must be canonical or hes, not {format!r}")
    summary = _simulate_with_bar(out, scale, seed, scenario, (first_year, last_year))
    if format == "hes":
        from joinedup.simulate.hes_layout import write_hes_layout

        for extract, files in write_hes_layout(out, out / "hes").items():
            console.print(f"Wrote {extract} as {len(files)} file(s) in {out / 'hes'}")
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
    from joinedup.survey.demo import DEMO_PASSWORD, seed_demo

    _run(example_protocol_path(), out)
    db = out / "survey.db"
    db.unlink(missing_ok=True)
    seeded = seed_demo(f"sqlite:///{db}")
    typer.echo(f"Survey and site dashboards: .venv/bin/joinedup serve --store sqlite:///{db} --results {out} "
               f"(sign in as demo or programme, password {DEMO_PASSWORD!r}; {seeded['panelists']} panelists; "
               f"a respondent's page: /s/{seeded['try_token']})")


def _run(protocol_path: Path, out: Path | None) -> None:
    from joinedup.data import DataSourceError, DataValidationError
    from joinedup.pipeline import planned_steps, run_protocol
    from joinedup.protocol import ProtocolError, load_protocol

    try:
        protocol = load_protocol(protocol_path)
        with _bar() as bar:
            steps = bar.add_task("Evaluation", total=len(planned_steps(protocol)))
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
    pdf = json.loads(result.manifest.read_text(encoding="utf-8")).get("pdf", "")
    if pdf.startswith("not written"):
        typer.echo(f"PDF {pdf}")
    typer.echo(f"Tables, figures and manifest in {result.out_dir.resolve()}")


@app.command()
def indicators(
    data: str = typer.Option(..., "--data", help="Dataset folder or Ibis connection URL"),
    out: Path = typer.Option(..., "--out", help="Output folder (tables/indicators.parquet, and .csv with "
                             "--table-format both)"),
    period: list[str] = typer.Option(["month", "quarter", "financial_year"], help="Period(s) to compute"),
    indicator: list[str] = typer.Option([], "--indicator", help="Indicator id(s); default: the catalogue"),
    engine: Engine = typer.Option("duckdb", help="Engine to run the definitions on"),
    table_format: TableFormat = typer.Option("parquet", "--table-format",
                                             help="parquet (the table's Parquet only) or both (a CSV too)"),
) -> None:
    """Compute the indicator catalogue for every area, site, wave and period (disclosure-controlled)."""
    from joinedup.data import DataSourceError, DataValidationError, load_dataset
    from joinedup.indicators import CATALOGUE, compute_indicators
    from joinedup.outputs import table_files, write_table

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
                          national=(table["level"] == "england").to_numpy(), table_format=table_format)
    files = " and ".join(str(out / "tables" / f) for f in table_files(out / "tables", "indicators"))
    typer.echo(f"Wrote {len(written):,} rows to {files}")


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


from joinedup.cli_survey import survey_app, survey_serve  # noqa: E402  (the survey subcommands)

app.add_typer(survey_app, name="survey")

from joinedup.cli_cohort import cohort_app  # noqa: E402  (the cohort subcommands)

app.add_typer(cohort_app, name="cohort")
app.command("serve", help="Run the web app (as `joinedup survey serve`): survey pages at /s/<token>, "
            "admin at /admin, site dashboards at /sites.")(survey_serve)


from joinedup.cli_import import import_app  # noqa: E402  (the `joinedup import ...` subcommands)

app.add_typer(import_app, name="import")

from joinedup.qual.cli_coding import coding_app  # noqa: E402  (`joinedup coding ...`: the qualitative workbench)

app.add_typer(coding_app, name="coding")

from joinedup.cli_panel import impact_command  # noqa: E402  (`joinedup impact PROTOCOL --panel FILE`)

app.command("impact")(impact_command)

from joinedup.cli_experience import experience_app  # noqa: E402  (person-centred care: GPPS, ASCOF, P3CEQ)

app.add_typer(experience_app, name="experience")

from joinedup.cli_process import process_command  # noqa: E402  (`joinedup process REGISTER`)

app.command("process")(process_command)
from joinedup.cli_process import register_import_command  # noqa: E402  (`joinedup register-import FILE --store`)

app.command("register-import")(register_import_command)


@app.command()
def doctor(strict: bool = typer.Option(False, "--strict", help="Exit 1 if anything optional is missing")) -> None:
    """List what this installation can do (Spark, PDFs, PostgreSQL, the embedding model, …) and how
    to install what is missing."""
    from joinedup.doctor import run_checks

    checks = run_checks()
    for c in checks:
        mark = "ok     " if c.found else "missing"
        typer.echo(f"{mark} {c.name:<34} {c.detail}")
        if not c.found:
            typer.echo(f"        {'':<34} needed for {c.needed_for}; install: {c.install}")
    if strict and not all(c.found for c in checks):
        raise typer.Exit(1)


from joinedup.cli_protocol import protocol_app  # noqa: E402  (`joinedup protocol lock|check`)

app.add_typer(protocol_app, name="protocol")


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
