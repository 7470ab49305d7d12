"""`joinedup cohort ...`: person-level evaluation of a scheme that enrols people (risk-set matching).

Example:
    $ joinedup cohort simulate --data out/sim --trigger admission --effect -0.2
    $ joinedup cohort check --protocol cohort.toml --data out/sim
    $ joinedup cohort plan --protocol cohort.toml --data out/sim
    $ joinedup cohort run --protocol cohort.toml --data out/sim --out out/cohort
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

from joinedup.options import Engine

console = Console(stderr=True)

cohort_app = typer.Typer(help="Person-level evaluation of a scheme: enrolments, risk-set matching, MDE, effects.",
                         no_args_is_help=True, rich_markup_mode=None)


def _fail(exc: Exception) -> None:
    console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1) from None


def _load(protocol: Path, data: str | None, engine: Engine):
    from joinedup.cohort.tables import cohort_dataset
    from joinedup.protocol import load_protocol

    p = load_protocol(protocol)
    if p.cohort is None:
        raise ValueError(f"{protocol}: has no [cohort] table")
    location = data or p.resolve(p.data.source)
    return p, cohort_dataset(location, engine), location


def _errors():
    from joinedup.cohort.economics import CohortEq5dError
    from joinedup.cohort.enrolments import EnrolmentError
    from joinedup.data import DataSourceError, DataValidationError
    from joinedup.protocol import ProtocolError

    return (ProtocolError, DataSourceError, DataValidationError, EnrolmentError, CohortEq5dError, ValueError)


@cohort_app.command("simulate")
def cohort_simulate(
    data: Path = typer.Option(..., "--data", help="A simulated dataset folder (changed in place)"),
    trigger: str = typer.Option("admission", help="admission (an emergency admission in the month before) or risk"),
    effect: float = typer.Option(-0.2, help="Relative change in the enrolled's admissions (0: the null scenario)"),
    months: int = typer.Option(24, help="Months of enrolment"),
    utility_gain: float = typer.Option(0.0, help="EQ-5D utility gain of the enrolled at 6 and 12 months (0: none)"),
    eq5d_share: float = typer.Option(0.5, min=0, max=1, help="Share of the enrolled and of a comparison sample "
                                     "answering EQ-5D (cohort_eq5d.csv)"),
    seed: int = typer.Option(2013, min=0),
) -> None:
    """Add an enrolling scheme to simulated data: enrolled.csv, cohort_eq5d.csv and its truth in truth.json."""
    from joinedup.simulate.cohort_scheme import add_triggered_scheme

    try:
        enrolled = add_triggered_scheme(data, trigger=trigger, effect=effect, months=months, seed=seed,
                                        utility_gain=utility_gain, eq5d_share=eq5d_share)
    except (ValueError, OSError) as exc:
        _fail(exc)
    typer.echo(f"Enrolled {len(enrolled):,} people; wrote {(data / 'enrolled.csv').resolve()}")


def _enrolments(protocol: Path, data: str | None, engine: str):
    """The protocol, dataset, monthly panel and checked enrolment file (shared by check and plan)."""
    from joinedup.cohort.enrolments import read_enrolments
    from joinedup.cohort.panel import monthly_panel
    from joinedup.economics.cohort import data_period

    p, ds, _ = _load(protocol, data, engine)
    panel = monthly_panel(ds)
    return p, ds, panel, read_enrolments(p.resolve(p.cohort.enrolments), panel.person_id, data_period(ds))


@cohort_app.command("check")
def cohort_check(
    protocol: Path = typer.Option(..., "--protocol", help="Protocol with a [cohort] table"),
    data: str = typer.Option(None, "--data", help="Dataset (default: the protocol's [data] source)"),
    engine: Engine = typer.Option("duckdb"),
) -> None:
    """Check the enrolment file against the data (unknown people, dates outside the data, duplicates)."""
    try:
        p, _, _, got = _enrolments(protocol, data, engine)
    except _errors() as exc:
        _fail(exc)
    typer.echo(f"{p.cohort.enrolments}: {len(got):,} enrolments, {got['site'].nunique()} site(s), "
               f"{got['enrolment_date'].min().date()} to {got['enrolment_date'].max().date()}: OK")


@cohort_app.command("plan")
def cohort_plan(
    protocol: Path = typer.Option(..., "--protocol", help="Protocol with a [cohort] table"),
    data: str = typer.Option(None, "--data", help="Dataset (default: the protocol's [data] source)"),
    engine: Engine = typer.Option("duckdb"),
) -> None:
    """Print the minimum detectable effect of the design (matching and pre-index history only; no outcomes)."""
    from joinedup.cohort.evaluate import _fit_risk, spec_from
    from joinedup.cohort.features import MonthFeatures
    from joinedup.cohort.power import planned_mde
    from joinedup.cohort.riskset import risk_set_match

    try:
        p, ds, panel, enrolled = _enrolments(protocol, data, engine)
        spec = spec_from(p.cohort)
        feat = MonthFeatures(panel, _fit_risk(ds, p.cohort))
        match = risk_set_match(panel, enrolled, spec, feat)
        plan = planned_mde(feat, match.pairs, spec.followup_months, alpha=p.cohort.alpha, power=p.cohort.power)
    except _errors() as exc:
        _fail(exc)
    typer.echo(f"Matched enrolled: {plan['enrolled']:,} ({plan['controls_per_enrolled']:.2f} controls each)")
    typer.echo(f"Baseline: {plan['baseline']:.3f} emergency admissions a person in {spec.followup_months} months; "
               f"SD {plan['sd']:.3f}; correlation between periods {plan['rho']:.2f}")
    typer.echo(f"Minimum detectable effect ({100 * plan['power']:.0f}% power, two-sided {100 * plan['alpha']:.0f}%): "
               f"{plan['mde_absolute']:.3f} a person = {100 * plan['mde_relative']:.1f}% of the baseline")


@cohort_app.command("run")
def cohort_run(
    protocol: Path = typer.Option(..., "--protocol", help="Protocol with a [cohort] table"),
    out: Path = typer.Option(..., "--out", help="Output folder (tables/, figures/, cohort.html)"),
    data: str = typer.Option(None, "--data", help="Dataset (default: the protocol's [data] source)"),
    engine: Engine = typer.Option("duckdb"),
) -> None:
    """The cohort step alone: plan, risk-set matching, balance, trajectory, effects; its own small report."""
    from joinedup.cohort.evaluate import cohort_step
    from joinedup.manifest import package_versions
    from joinedup.report.html import render_report

    try:
        p, ds, location = _load(protocol, data, engine)
        with console.status("Risk-set matching and estimates"):
            section = cohort_step(ds, p, out, location)
    except _errors() as exc:
        _fail(exc)
    for figure in section.figures:
        figure.write(out / "figures")
    provenance = {"Data": str(location), "Seeds": f"cohort {p.cohort.seed}",
                  "Software": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
                  "Disclosure control": "on" if p.output.disclosure_control else "off"}
    html = render_report(p.evaluation.name, [section], provenance,
                         generated=f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.")
    path = out / "cohort.html"
    path.write_text(html, encoding="utf-8")
    typer.echo(f"Report: {path.resolve()}")
    typer.echo(f"Tables in {(out / 'tables').resolve()}")
