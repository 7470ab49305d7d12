"""Funnel-plot data for the headline indicator: areas' indirectly standardised ratios by financial
year, with FunnelPlotR's overdispersed (SHMI) limits.

Observed events are compared with those expected if each area had England's rates in every sex and
age band (for standardised indicators) or England's overall rate or proportion (otherwise).

Example:
    >>> points = headline_funnel_data(ds, "emergency_admissions")      # doctest: +SKIP
    >>> points[["financial_year", "area_code", "ratio", "outlier"]].head()   # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from joinedup.data import Dataset
from joinedup.indicators.catalogue import CATALOGUE
from joinedup.indicators.compute import indicator_counts
from joinedup.indicators.funnel_od import funnel


def headline_funnel_data(ds: Dataset, indicator_id: str) -> pd.DataFrame:
    """One row per area and financial year: observed, expected, ratio, limits and outlier flags."""
    indicator = CATALOGUE[indicator_id]
    if indicator.method == "percentile":
        raise ValueError(f"indicator {indicator_id!r} is a percentile: it has no funnel plot")
    counts = indicator_counts(ds, indicator, "financial_year")
    strata = [c for c in ("sex", "band_start") if c in counts.columns]
    keys = ["period_start"] + strata
    england = counts[counts["level"] == "england"].groupby(keys, as_index=False)[["numerator", "denominator"]].sum()
    england["reference_rate"] = england["numerator"] / england["denominator"]
    areas = counts[counts["level"] == "area"].merge(england[keys + ["reference_rate"]], on=keys)
    areas["expected"] = areas["denominator"] * areas["reference_rate"]
    per_area = areas.groupby(["period_start", "unit", "unit_name"], as_index=False).agg(
        observed=("numerator", "sum"), expected=("expected", "sum"))
    parts = []
    for start, year in per_area.groupby("period_start"):
        year = year[year["expected"] > 0]
        result = funnel(year, "observed", "expected", "unit", data_type="SR", sr_method="SHMI")
        tidy = result.tidy().rename(columns={"group": "area_code", "numerator": "observed",
                                             "denominator": "expected"})
        tidy["phi"], tidy["tau2"] = result.phi, result.tau2
        tidy.insert(0, "financial_year", f"{start.year}/{str(start.year + 1)[2:]}")
        parts.append(tidy.merge(year[["unit", "unit_name"]], left_on="area_code", right_on="unit").drop(columns="unit"))
    if not parts:  # no whole financial year in the data
        return pd.DataFrame(columns=["financial_year", "indicator", "area_code", "unit_name", "observed",
                                     "expected", "ratio", "outlier"])
    out = pd.concat(parts, ignore_index=True)
    out.insert(1, "indicator", indicator_id)
    return out
