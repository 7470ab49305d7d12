"""Turn counts into indicator values with confidence limits (95% and 99.8%), vectorised over every
reporting unit and period at once, with the PHEindicatormethods implementations in ``stats``.

Example:
    >>> values = indicator_values(counts, CATALOGUE["acsc_chronic"])       # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.indicators import stats
from joinedup.indicators.catalogue import Indicator

# 2013 European Standard Population (Eurostat), per five-year band from 0-4 to 90+; sums to 100,000.
ESP2013 = dict(zip(range(0, 95, 5), (5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000, 7000,
                                     6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000)))
KEYS = ["indicator", "level", "unit", "unit_name", "period_start", "period_end"]
LIMITS = {"lower95_0cl": "lower", "upper95_0cl": "upper", "lower99_8cl": "lower_998", "upper99_8cl": "upper_998"}
OUTPUT = KEYS + ["numerator", "denominator", "value", "lower", "upper", "lower_998", "upper_998", "method"]


def indicator_values(counts: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    """One row per unit and period: numerator, denominator, value and limits, and the method used."""
    method = indicator.method
    if method == "dsr":
        out = _dsr(counts, indicator)
    elif method == "percentile":
        out = _percentile(counts, indicator.percentile)
    elif method == "proportion":
        res = stats.proportion(counts["numerator"], counts["denominator"], multiplier=indicator.multiplier,
                               confidence=(0.95, 0.998))
        out = _with_limits(counts, res, "Wilson score, % (PHEindicatormethods phe_proportion)")
    else:
        out = _crude(counts, indicator.multiplier)
        if method == "rate_per_day":  # delayed days per day: the period's rate divided by its length
            days = (pd.to_datetime(out["period_end"]) - pd.to_datetime(out["period_start"])).dt.days + 1
            for col in ("value", *LIMITS.values()):
                out[col] = out[col] / days.to_numpy()
            out["method"] = "rate per day of the period, Byar's limits on delayed days"
        if not indicator.limits:
            out[list(LIMITS.values())] = np.nan
            out["method"] = "crude rate, no limits (the amounts are not Poisson counts)"
    return out[OUTPUT].sort_values(KEYS[1:5], kind="stable").reset_index(drop=True)


def _crude(counts: pd.DataFrame, multiplier: float) -> pd.DataFrame:
    """Crude rates; a unit and period without residents (possible in the smallest areas at small
    simulation scales) has no rate, but keeps its events."""
    counts = counts.reset_index(drop=True)
    has_pop = (counts["denominator"] > 0).to_numpy()
    res = stats.crude_rate(counts.loc[has_pop, "numerator"], counts.loc[has_pop, "denominator"],
                           multiplier=multiplier, confidence=(0.95, 0.998))
    full = pd.DataFrame(index=counts.index, columns=["value", *LIMITS], dtype="float64")
    full.loc[has_pop, ["value", *LIMITS]] = res[["value", *LIMITS]].to_numpy()
    out = _with_limits(counts, full, "crude rate, Byar's limits (exact below 10 events)")
    out.loc[~has_pop, "method"] = "crude rate: no residents in the denominator"
    return out


def _with_limits(counts: pd.DataFrame, res: pd.DataFrame, method: str) -> pd.DataFrame:
    out = counts.reset_index(drop=True).copy()
    out["value"] = res["value"].to_numpy()
    for phe, ours in LIMITS.items():
        out[ours] = res[phe].to_numpy()
    out["method"] = method
    return out


def _dsr(counts: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    frame = counts.copy()
    frame["esp"] = frame["band_start"].map(ESP2013).astype("float64")
    # A stratum with no residents has no rate; its events (people who moved band after mid-year)
    # cannot be standardised and are counted in numerator but reported, never silently lost.
    empty = frame["denominator"] <= 0
    orphans = frame[empty].groupby(KEYS, as_index=False)["numerator"].sum().rename(
        columns={"numerator": "events_without_population"})
    frame = frame[~empty]
    res = stats.dsr(frame, "numerator", "denominator", "esp", by=KEYS, multiplier=indicator.multiplier,
                    confidence=(0.95, 0.998))
    out = res.rename(columns={"total_count": "numerator", "total_pop": "denominator", **LIMITS})
    out = out.merge(orphans, on=KEYS, how="left")
    extra = out["events_without_population"].fillna(0)
    out["numerator"] = out["numerator"] + extra
    out["method"] = np.where(out["value"].isna(), "DSR (ESP 2013), not given for fewer than 10 events",
                             "DSR (ESP 2013), Dobson limits")
    return out


def _percentile(counts: pd.DataFrame, p: float) -> pd.DataFrame:
    """Type-7 percentile from a frequency table (value, n) per unit and period, vectorised."""
    keys = KEYS
    frame = counts.sort_values(keys + ["amount"], kind="stable").reset_index(drop=True)
    group = frame.groupby(keys, sort=False)
    total = group["n"].transform("sum").to_numpy()
    cum = group["n"].cumsum().to_numpy()
    h = (total - 1) * p  # 0-based position of the percentile among the sorted values
    lo_rank, hi_rank = np.floor(h) + 1, np.ceil(h) + 1  # 1-based ranks of the two values to mix
    before = cum - frame["n"].to_numpy()
    holds_lo = (before < lo_rank) & (cum >= lo_rank)
    holds_hi = (before < hi_rank) & (cum >= hi_rank)
    frame["v_lo"] = np.where(holds_lo, frame["amount"], np.nan)
    frame["v_hi"] = np.where(holds_hi, frame["amount"], np.nan)
    frame["frac"] = h - np.floor(h)
    out = frame.groupby(keys, sort=False).agg(
        v_lo=("v_lo", "max"), v_hi=("v_hi", "max"), frac=("frac", "first"), denominator=("n", "sum")).reset_index()
    out["value"] = out["v_lo"] + out["frac"] * (out["v_hi"] - out["v_lo"])
    out["numerator"] = np.nan
    for col in LIMITS.values():
        out[col] = np.nan
    out["method"] = f"{p:.0%} percentile (type 7), no limits"
    return out
