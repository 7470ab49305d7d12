"""One call from an initiative register to the process-evaluation tables and figures.

Writes (under ``out``): ``tables/process_site_years``, ``process_positions``, ``process_moves``,
``process_trends``, ``process_delays``, ``process_dose`` (CSV and Parquet, through
:func:`joinedup.outputs.write_table`), ``figures/process-*.svg`` and ``register_rejects.csv``.
Counts of initiatives and site-years are counts of projects, not of people, and are shown as they
are; people covered (``process_dose.people_covered``) are counts of people in one site and go
through disclosure control (1-7 suppressed, others rounded to 5).

Example:
    >>> summary = run_register_analysis("register.csv", Path("out/process"))     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.outputs import write_table
from joinedup.process.charts import delays_figure, narrowing_figure, positions_figure
from joinedup.process.portfolio import site_years
from joinedup.process.positions import moves, positions
from joinedup.process.register_io import read_register
from joinedup.process.treatment import dose
from joinedup.process.trends import delay_test, trend_test


def run_register_analysis(register: str | Path, out: Path, disclosure_control: bool = True) -> dict:
    """Read, check and analyse a register; returns counts and the trend and delay results."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reg = read_register(register, rejects=out / "register_rejects.csv")
    if reg.rows.empty:
        raise ValueError(f"{register}: no accepted rows ({len(reg.rejects)} rejected, see register_rejects.csv)")
    panel = site_years(reg.rows)
    pos = positions(panel)
    trends = pd.DataFrame([trend_test(panel, m) for m in ("medical_share", "focus_share", "breadth")])
    delays = pd.DataFrame([delay_test(reg.initiatives(), reg.rows["period"].max())])
    write_table(panel, out, "process_site_years", [], disclosure_control=disclosure_control)
    write_table(pos, out, "process_positions", [], disclosure_control=disclosure_control)
    write_table(moves(pos), out, "process_moves", [], disclosure_control=disclosure_control)
    write_table(trends, out, "process_trends", [], national=True, disclosure_control=disclosure_control)
    write_table(delays, out, "process_delays", [], national=True, disclosure_control=disclosure_control)
    write_table(dose(reg.rows), out, "process_dose", ["people_covered"], disclosure_control=disclosure_control)
    for fig in (narrowing_figure(panel), positions_figure(pos), delays_figure(reg.initiatives())):
        fig.write(out / "figures")
    return {"rows": len(reg.rows), "rejected": len(reg.rejects), "sites": int(panel["site"].nunique()),
            "trends": trends, "delays": delays}
