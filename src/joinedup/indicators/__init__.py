"""Indicators of integration performance: catalogue, computation, statistics, SPC and funnels.

Example:
    >>> from joinedup.data import load_dataset
    >>> from joinedup.indicators import compute_indicators
    >>> ds = load_dataset("out/demo/data")                                        # doctest: +SKIP
    >>> table = compute_indicators(ds, ["emergency_admissions"], ["quarter"])     # doctest: +SKIP
    >>> table.columns[:6].tolist()                                                # doctest: +SKIP
    ['indicator', 'period', 'level', 'unit', 'unit_name', 'area_code']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from joinedup.data import Dataset
from joinedup.indicators.catalogue import CATALOGUE, Indicator
from joinedup.options import Period, check_option

COLUMNS = ["indicator", "period", "level", "unit", "unit_name", "area_code", "period_start", "period_end",
           "numerator", "denominator", "value", "lower", "upper", "lower_998", "upper_998", "method"]


def compute_indicators(ds: Dataset, ids: Sequence[str] | None = None,
                       periods: Sequence[Period] = ("quarter",),
                       progress: Callable[[str], None] | None = None, programme=None) -> pd.DataFrame:
    """The long tidy table of every indicator for every reporting unit and period (no disclosure
    control yet: apply it where the table leaves the program, :func:`joinedup.outputs.write_table`).
    Site levels follow ``programme`` (default: the built-in Pioneers)."""
    from joinedup.indicators.compute import monthly_counts, reporting_units
    from joinedup.indicators.engine_periods import engine_values

    ids = list(ids) if ids else list(CATALOGUE)
    unknown = [i for i in ids if i not in CATALOGUE]
    if unknown:
        raise ValueError(f"unknown indicator id(s) {unknown}; known: {', '.join(CATALOGUE)}")
    for period in periods:
        check_option("period", period)
    units = reporting_units(ds, programme)
    cache: dict = {}  # population and time span, queried once for the whole catalogue
    parts = []
    for iid in ids:
        if progress:
            progress(iid)
        # The engine's work: the monthly counts once per indicator, kept there, then one query sums
        # them into periods and reporting units (docs/running-on-a-cluster.md, "What stays on the driver").
        monthly = monthly_counts(ds, CATALOGUE[iid], cache, keep=True)
        try:
            parts.append(engine_values(ds, monthly, periods, units, cache))
        finally:
            monthly.table.release()
    table = pd.concat(parts, ignore_index=True)
    table["area_code"] = table["unit"].where(table["level"] == "area")
    for col in ("period_start", "period_end"):  # datetime64 keys inside; calendar dates outside
        table[col] = pd.to_datetime(table[col]).dt.date
    return table[COLUMNS]


__all__ = ["CATALOGUE", "COLUMNS", "Indicator", "compute_indicators"]
