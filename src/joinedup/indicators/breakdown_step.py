"""The breakdowns part of the indicators step: compute, control and write the two tables.

``tables/indicator_breakdowns`` (values by group; numerators and denominators controlled as every
sub-national count, rates with a numerator of 1-7 suppressed with them, England's rows exact) and
``tables/indicator_inequalities`` (SII and RII per unit and period across IMD quintiles: model
estimates, computed from the unrounded values before control, exempt as DESIGN.md states).

Example:
    >>> breakdown_step(ds, None, ["imd_quintile"], programme, out_dir, True)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from joinedup.indicators.breakdowns import compute_breakdowns, sii_by_unit
from joinedup.outputs import write_table


def breakdown_step(ds, ids, breakdowns, programme, out_dir: Path, disclosure_control: bool):
    """Write both tables; return (controlled breakdowns, inequalities, unrounded breakdowns)."""
    table = compute_breakdowns(ds, ids, breakdowns, programme=programme)
    sii = sii_by_unit(table) if "imd_quintile" in breakdowns else sii_by_unit(table.iloc[:0])
    controlled = write_table(table, out_dir, "indicator_breakdowns", ["numerator", "denominator"],
                             national=(table["level"] == "england").to_numpy(),
                             disclosure_control=disclosure_control)
    written_sii = write_table(sii, out_dir, "indicator_inequalities", [],
                              disclosure_control=disclosure_control)
    return controlled, written_sii, table
