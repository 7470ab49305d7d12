"""`joinedup process REGISTER --out DIR` (or `--store URL`): the process evaluation of an initiative register.

Example:
    $ joinedup process register.xlsx --out out/process
    $ joinedup process --store sqlite:///survey.db --out out/process
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def process_command(
    register: Path = typer.Argument(None, help="Initiative register (CSV or Excel; docs/process-evaluation.md)"),
    out: Path = typer.Option(Path("out/process"), "--out", help="Output folder"),
    store: str = typer.Option(None, "--store", help="Read the register kept in the survey service's database "
                              "instead (SQLite or PostgreSQL URL): reviewed entries only"),
) -> None:
    """Portfolios per site and year, positions and moves, narrowing and delay tests, charts."""
    from joinedup.process.register import RegisterError
    from joinedup.process.run import run_register_analysis

    try:
        summary = run_register_analysis(register, out, store=store)
    except (RegisterError, ValueError) as exc:  # SurveyError (store unreachable) is a ValueError
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    t = summary["trends"].set_index("measure") if len(summary["trends"]) else summary["trends"]
    typer.echo(f"{summary['rows']} verified register rows analysed, {summary['rejected']} rejected (register_rejects.csv); "
               f"{summary['sites']} sites")
    u = summary["unreviewed"]
    if len(u):
        typer.echo(f"left aside as unreviewed: {int(u['unverified_rows'].sum())} site-submitted row(s), "
                   f"{int(u['pending_new'].sum() + u['pending_corrections'].sum())} pending proposal(s) "
                   "(process_unreviewed)")
    for m in t.index:
        typer.echo(f"trend in {m}: {t.at[m, 'slope']:+.3f} a year (p = {t.at[m, 'p_value']:.3g}; {t.at[m, 'test']})")
    if len(summary["delays"]):
        d = summary["delays"].iloc[0]
        typer.echo(f"design to go-live: mean {d['mean_delay_months']:.1f} months (95% CI {d['ci_low']:.1f} to "
                   f"{d['ci_high']:.1f}; p(mean > {d['slow_months']:g}) = {d['p_slow']:.3g})")
    for note in summary["notes"]:
        typer.echo(note)
    typer.echo(f"wrote {out}")


def register_import_command(
    register: Path = typer.Argument(..., help="Initiative register (CSV or Excel) of the team's own entries"),
    store: str = typer.Option(..., "--store", help="The survey service's database URL (SQLite or PostgreSQL)"),
    by: str = typer.Option(..., "--by", help="Who imports (recorded with every changed cell and in the audit log)"),
    rejects: Path = typer.Option(Path("register_rejects.csv"), "--rejects", help="Where rejected rows are written"),
) -> None:
    """Load a register file into the database the dashboards edit (accepted rows; rejects listed)."""
    from joinedup.process.register import RegisterError
    from joinedup.process.register_book import RegisterBook
    from joinedup.process.register_io import read_register
    from joinedup.survey.store import SurveyStore

    try:
        reg = read_register(register, rejects=rejects)
        db = SurveyStore(store)
        db.create()  # migrates an older database to the register's tables (schema version 5)
        changed = RegisterBook(db).import_register(reg, by, f"import of {register.name}")
    except (RegisterError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    typer.echo(f"{len(reg.rows)} rows imported ({changed} cells changed), {len(reg.rejects)} rejected ({rejects})")
