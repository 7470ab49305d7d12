"""`joinedup process REGISTER --out DIR`: the process evaluation of an initiative register.

Example:
    $ joinedup process register.xlsx --out out/process
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def process_command(
    register: Path = typer.Argument(..., help="Initiative register (CSV or Excel; docs/process-evaluation.md)"),
    out: Path = typer.Option(Path("out/process"), "--out", help="Output folder"),
) -> None:
    """Portfolios per site and year, positions and moves, narrowing and delay tests, charts."""
    from joinedup.process.register import RegisterError
    from joinedup.process.run import run_register_analysis

    try:
        summary = run_register_analysis(register, out)
    except (RegisterError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    t = summary["trends"].set_index("measure")
    d = summary["delays"].iloc[0]
    typer.echo(f"{summary['rows']} register rows read, {summary['rejected']} rejected (register_rejects.csv); "
               f"{summary['sites']} sites")
    for m in t.index:
        typer.echo(f"trend in {m}: {t.at[m, 'slope']:+.3f} a year (p = {t.at[m, 'p_value']:.3g}; {t.at[m, 'test']})")
    typer.echo(f"design to go-live: mean {d['mean_delay_months']:.1f} months "
               f"(95% CI {d['ci_low']:.1f} to {d['ci_high']:.1f}; p(mean > {d['slow_months']:g}) = {d['p_slow']:.3g})")
    typer.echo(f"wrote {out}")
