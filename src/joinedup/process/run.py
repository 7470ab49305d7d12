"""One call from an initiative register to the process-evaluation tables and figures.

Writes (under ``out``): ``tables/process_site_years``, ``process_positions``, ``process_moves``,
``process_trends``, ``process_delays``, ``process_dose``, ``process_unreviewed`` (CSV and Parquet, through
:func:`joinedup.outputs.write_table`), ``figures/process-*.svg`` and ``register_rejects.csv``.
Counts of initiatives and site-years are counts of projects, not of people, and are shown as they
are; people covered (``process_dose.people_covered``) are counts of people in one site and go
through disclosure control (1-7 suppressed, others rounded to 5).

Example:
    >>> summary = run_register_analysis("register.csv", Path("out/process"))     # doctest: +SKIP
    >>> summary = run_register_analysis(None, Path("out/p"), store="sqlite:///survey.db")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from joinedup.outputs import write_table
from joinedup.process.charts import delays_figure, narrowing_figure, positions_figure
from joinedup.process.pipeline_step import register_tests
from joinedup.process.portfolio import site_years
from joinedup.process.positions import moves, positions
from joinedup.process.register_io import read_register
from joinedup.process.register_source import _safe, store_register, unreviewed_table, verified_only
from joinedup.process.treatment import dose


def run_register_analysis(register: str | Path | None, out: Path, disclosure_control: bool = True,
                          store: str | None = None) -> dict:
    """Read, check and analyse a register file, or the register kept in the survey store's database
    (``store``: its URL); returns counts and the trend and delay results. Only verified rows are
    analysed; unreviewed site submissions and pending proposals go to ``process_unreviewed``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (register is None) == (store is None):
        raise ValueError("give a register file or --store (the survey service's database URL), not both")
    proposals = None
    if store is not None:
        reg, proposals = store_register(store)
        reg.rejects.to_csv(out / "register_rejects.csv", index=False)
        where = f"survey store {_safe(store)}"
    else:
        reg, where = read_register(register, rejects=out / "register_rejects.csv"), str(register)
    reg, unverified = verified_only(reg)
    unreviewed = unreviewed_table(unverified, proposals)
    if reg.rows.empty:
        raise ValueError(f"{where}: no verified rows ({len(reg.rejects)} rejected, see register_rejects.csv; "
                         f"{len(unverified)} unreviewed site submissions left aside)")
    panel = site_years(reg.rows)
    pos = positions(panel)
    notes: list[str] = []  # a test the register cannot support is left out with a note (as in the pipeline)
    trends, delays = register_tests(panel, reg, notes)
    write_table(panel, out, "process_site_years", [], disclosure_control=disclosure_control)
    write_table(pos, out, "process_positions", [], disclosure_control=disclosure_control)
    write_table(moves(pos), out, "process_moves", [], disclosure_control=disclosure_control)
    write_table(trends, out, "process_trends", [], national=True, disclosure_control=disclosure_control)
    write_table(delays, out, "process_delays", [], national=True, disclosure_control=disclosure_control)
    write_table(dose(reg.rows), out, "process_dose", ["people_covered"], disclosure_control=disclosure_control)
    write_table(unreviewed, out, "process_unreviewed", [], disclosure_control=disclosure_control)
    figures = [narrowing_figure(panel), positions_figure(pos)]
    if reg.initiatives()["delay_months"].notna().any():
        figures.append(delays_figure(reg.initiatives()))
    for fig in figures:
        fig.write(out / "figures")
    return {"rows": len(reg.rows), "rejected": len(reg.rejects), "sites": int(panel["site"].nunique()),
            "trends": trends, "delays": delays, "unreviewed": unreviewed, "notes": notes}
