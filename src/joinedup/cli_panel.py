"""`joinedup impact PROTOCOL --panel area_panel.csv`: the impact designs from published aggregates.

Example:
    $ joinedup impact my_evaluation.toml --panel area_panel.csv --out out/panel
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)


def impact_command(
    protocol: Path = typer.Argument(..., help="Protocol: its [impact] (outcome, period, designs) and "
                                    "[programme] (sites file) are used"),
    panel: Path = typer.Option(..., "--panel", help="area_panel.csv: unit_code, period_start, period_end, "
                               "indicator, numerator, denominator[, imd_score, share_65plus, share_85plus]"),
    out: Path = typer.Option(None, "--out", help="Output folder (default: the protocol's output folder)"),
) -> None:
    """Impact designs from an area x period panel of numerators and denominators (docs/area-panel.md)."""
    from joinedup.impact.from_panel import impact_from_panel
    from joinedup.manifest import package_versions
    from joinedup.outputs import write_table
    from joinedup.programme import ProgrammeError
    from joinedup.protocol import ProtocolError, load_protocol
    from joinedup.report import render_report
    from joinedup.report.impact_section import impact_section

    try:
        spec = load_protocol(protocol)
        out_dir = Path(out or spec.output.folder)
        with console.status("Impact designs on the area panel"):
            result, read = impact_from_panel(panel, spec, out_dir)
    except (ProtocolError, ProgrammeError, ValueError) as exc:
        console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(read.summary(), markup=False, highlight=False)
    if not read.rejects.empty:
        console.print(f"Rejected rows, with file, row, field and reason: {out_dir / 'rejects' / 'area_panel.csv'}",
                      markup=False)
    for name, frame in result.tables.items():
        write_table(frame, out_dir, name, [], disclosure_control=spec.output.disclosure_control)
    section = impact_section(result, spec.impact)
    for figure in section.figures:
        figure.write(out_dir / "figures")
    provenance = {"Data": f"area panel {panel.name} (published aggregates; no person-level data)",
                  "Seeds": f"impact {spec.impact.seed}",
                  "Software": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
                  "Disclosure control": "on" if spec.output.disclosure_control else "OFF"}
    html = render_report(spec.evaluation.name, [section], provenance,
                         generated=f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.")
    (out_dir / "impact.html").write_text(html, encoding="utf-8")
    typer.echo(f"Report: {(out_dir / 'impact.html').resolve()}")
    typer.echo(f"Tables in {(out_dir / 'tables').resolve()}")
