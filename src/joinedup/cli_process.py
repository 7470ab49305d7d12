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
