"""PHE funnel plots: control limits, significance of each point, and plotting points for rates.

Follows PHEindicatormethods 2.1 (calculate_funnel_limits, assign_funnel_significance,
calculate_funnel_points), itself from PHE's funnel-plot Excel tool:

- proportions: the limits at population N are the proportions whose Wilson score interval just
  reaches the average proportion (``sigma_adjustment``), at z = qnorm(0.975) ("2s", 95%) and
  qnorm(0.999) ("3s", 99.8%); limits are clipped to [0, 100];
- ratios and rates: for O observed events, the expected count at which O is on the edge of the
  exact Poisson test, P(K >= O) = p ("low" side) or P(K <= O) = p ("high" side), p = 0.025 or
  0.001. PHE finds it by bisection; ``phe_funnel_math.poisson_funnel`` solves it exactly and
  replays PHE's bisection (and its series truncation), which reproduces PHE's limits;
- significance of a point: proportions against the Wilson funnel; ratios and rates against exact
  Poisson limits for O < 10 and Byar's from 10 (events < 10 are 'not applicable' for DSRs).

The x axis has 100 points from the rounded smallest denominator (or 1, when the largest is more
than twice the smallest) to the rounded largest, spaced geometrically, as PHE lays them out.

Example:
    >>> out = funnel_significance([30, 80], [100, 100], statistic="proportion")
    >>> list(out)
    ['Low (0.001)', 'High (0.001)']
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd

from joinedup.indicators.phe_common import as_float, format_number, require
from joinedup.indicators.phe_funnel_math import (
    axis_points,
    derived_denominator,
    poisson_funnel,
    ratio_limit,
    sigma_adjustment,
)

FunnelStatistic = Literal["proportion", "ratio", "rate"]
RatioType = Literal["count", "isr"]
RateType = Literal["dsr", "crude"]
FunnelOutput = Literal["full", "standard"]

SIGNIFICANCE_LEVELS = ("High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)",
                       "Not significant", "Not applicable for events less than 10 for dsrs")


def _option(name: str, value, allowed) -> str:
    options = get_args(allowed)
    if value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def _required(statistic, **given) -> None:
    missing = [k for k, v in given.items() if v is None]
    if missing:
        raise ValueError(f"the following arguments are required for {statistic}s: "
                         f"{', '.join(given)} (missing: {', '.join(missing)})")


# ---------------------------------------------------------------- inputs

def _rate_inputs(numerator, denominator, rate, what: str):
    num = as_float(numerator, "numerator")
    require(np.isnan(num), "numerator", "for rates, numerators must be provided for all records, "
            "even when their values are zero")
    rt = as_float(rate, "rate")
    den = None if denominator is None else as_float(denominator, "denominator")
    no_rate = np.isnan(rt) if den is None else np.isnan(rt) & np.isnan(den)
    require(no_rate, "rate", "for rates, rates must be provided for all records, or a denominator "
            "must be provided if the rate is zero")
    if (num == 0).any():
        if den is None:
            raise ValueError(f"denominator: for rates, where there are 0 events for a record, the "
                             f"denominator field needs to be provided using the denominator "
                             f"argument; records with 0 events at {np.flatnonzero(num == 0)[:10]}")
        require((num == 0) & ~(den > 0), "denominator", "for rates, where there are 0 events for "
                f"a record, the denominator must be provided ({what})")
    return num, den, rt


def _prop_inputs(numerator, denominator):
    num, den = as_float(numerator, "numerator"), as_float(denominator, "denominator")
    require(np.isnan(num) | np.isnan(den), "numerator/denominator", "for proportions, numerators "
            "and denominators must be provided for all records, even when their values are zero")
    return num, den


# ---------------------------------------------------------------- public API

def funnel_limits(numerator, denominator=None, rate=None, *, statistic: FunnelStatistic,
                  multiplier=None, ratio_type: RatioType | None = None,
                  rate_type: RateType | None = None, years_of_data=None,
                  output: FunnelOutput = "full") -> pd.DataFrame:
    """100 rows of 95% ('2s') and 99.8% ('3s') funnel limits, PHE calculate_funnel_limits.

    proportion: numerator, denominator, multiplier; ratio: observed (numerator), expected
    (denominator), ratio_type 'count' (limits O/E - 1) or 'isr' (O/E x 100); rate: numerator,
    rate, rate_type 'dsr' or 'crude', multiplier, years_of_data, and the denominator for records
    with 0 events.
    """
    _option("statistic", statistic, FunnelStatistic)
    _option("output", output, FunnelOutput)
    if statistic == "rate":
        _required("rate", numerator=numerator, rate=rate, rate_type=rate_type,
                  multiplier=multiplier, years_of_data=years_of_data)
        _option("rate_type", rate_type, RateType)
        num, den, rt = _rate_inputs(numerator, denominator, rate, "funnel limits")
        derived = derived_denominator(num, den, rt, rate_type, multiplier)
    elif statistic == "ratio":
        _required("ratio", numerator=numerator, denominator=denominator, ratio_type=ratio_type,
                  multiplier=multiplier)
        _option("ratio_type", ratio_type, RatioType)
        num, derived = as_float(numerator, "numerator"), as_float(denominator, "denominator")
    else:
        _required("proportion", numerator=numerator, denominator=denominator,
                  multiplier=multiplier)
        num, derived = _prop_inputs(numerator, denominator)
    av = num.sum() / np.nansum(derived)
    grid = axis_points(statistic, derived, av, years_of_data)

    if statistic == "proportion":
        out = pd.DataFrame({"Population": grid})
        for tag, p in (("2s", 0.975), ("3s", 0.999)):
            out[f"lower_{tag}_limit"] = np.maximum(
                0, sigma_adjustment(p, grid, av, "low", multiplier))
            out[f"upper_{tag}_limit"] = np.minimum(
                100, sigma_adjustment(p, grid, av, "high", multiplier))
        out["baseline"] = av * multiplier
    elif statistic == "ratio":
        out = pd.DataFrame({"Observed_events": grid})
        for tag, p in (("2s", 0.025), ("3s", 0.001)):
            for bound, side in (("lower", "high"), ("upper", "low")):
                expected = poisson_funnel(grid, p, side)
                out[f"{bound}_{tag}_exp_events"] = expected
                ratio = grid / expected
                out[f"{bound}_{tag}_limit"] = ratio - 1 if ratio_type == "count" else ratio * 100
    else:
        out = pd.DataFrame({"Events": grid})
        for tag, p in (("2s", 0.025), ("3s", 0.001)):
            for bound, side in (("lower", "high"), ("upper", "low")):
                population = poisson_funnel(grid, p, side) / av
                out[f"{bound}_{tag}_population_1_year"] = population / years_of_data
                out[f"{bound}_{tag}_limit"] = grid / population * multiplier
        out["baseline"] = av * multiplier

    if output == "full":
        if statistic == "ratio":
            out["statistic"] = f"ratio ({ratio_type})"
        elif statistic == "rate":
            mult = (f"{int(multiplier):,}" if float(multiplier).is_integer()
                    else format_number(multiplier))
            out["statistic"] = f"rate ({rate_type} per {mult})"
        else:
            out["statistic"] = "proportion"
        out["method"] = "Wilson" if statistic == "proportion" else "Poisson"
    return out


def funnel_significance(numerator, denominator=None, rate=None, *,
                        statistic: FunnelStatistic, rate_type: RateType | None = None,
                        multiplier=None) -> pd.Series:
    """Each point's position against the funnel, PHE assign_funnel_significance.

    Returns a categorical Series ('High (0.001)', 'High (0.025)', 'Low (0.001)', 'Low (0.025)',
    'Not significant', and for DSRs with fewer than 10 events 'Not applicable for events less
    than 10 for dsrs').
    """
    _option("statistic", statistic, FunnelStatistic)
    if statistic == "rate":
        _required("rate", numerator=numerator, rate=rate, rate_type=rate_type,
                  multiplier=multiplier)
        _option("rate_type", rate_type, RateType)
        num, den, rt = _rate_inputs(numerator, denominator, rate, "significance")
    else:
        _required(statistic, numerator=numerator, denominator=denominator)
        if statistic == "proportion":
            num, den = _prop_inputs(numerator, denominator)
        else:
            num, den = as_float(numerator, "numerator"), as_float(denominator, "denominator")
    require(num < 0, "numerator", "numerators must be greater than or equal to zero")
    if den is not None:
        require(den <= 0, "denominator", "denominators must be greater than zero")
    if statistic == "proportion":
        require(num > den, "numerator", "numerators must be less than or equal to denominator "
                "for a proportion statistic")
        average = num.sum() / den.sum()
        value = num / den
        high = [value > sigma_adjustment(p, den, average, "high") for p in (0.999, 0.975)]
        low = [value < sigma_adjustment(p, den, average, "low") for p in (0.999, 0.975)]
        conditions = [low[0], low[1], high[0], high[1]]
        labels = ["Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)"]
    else:
        if statistic == "ratio":
            reference, expected = 1.0, den
        else:
            expected = derived_denominator(num, den, rt, rate_type, multiplier)
            reference = num.sum() / np.nansum(expected)
        conditions = [reference < ratio_limit(num, expected, 0.998, "low"),
                      reference < ratio_limit(num, expected, 0.95, "low"),
                      reference > ratio_limit(num, expected, 0.998, "high"),
                      reference > ratio_limit(num, expected, 0.95, "high")]
        labels = ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"]
    result = np.select(conditions, labels, default="Not significant").astype(object)
    levels = list(SIGNIFICANCE_LEVELS[:5])
    if statistic == "rate" and rate_type == "dsr":
        result = np.where(num < 10, SIGNIFICANCE_LEVELS[5], result)
        levels = list(SIGNIFICANCE_LEVELS)
    index = numerator.index if isinstance(numerator, pd.Series) else None
    return pd.Series(pd.Categorical(result, categories=levels), index=index, name="significance")


def funnel_points(numerator, rate, denominator=None, *, rate_type: RateType | None = None,
                  years_of_data=None, multiplier=None) -> pd.DataFrame:
    """Rate and annual denominator to plot each point, PHE calculate_funnel_points.

    DSRs with fewer than 10 events are not plotted (NaN); records with 0 events use the given
    denominator. Returns columns ``rate_chart`` and ``denominator_derived``.
    """
    _required("rate", numerator=numerator, rate=rate, rate_type=rate_type,
              years_of_data=years_of_data, multiplier=multiplier)
    _option("rate_type", rate_type, RateType)
    num, rt = as_float(numerator, "numerator"), as_float(rate, "rate")
    den = None if denominator is None else as_float(denominator, "denominator")
    if (num == 0).any():
        if den is None:
            raise ValueError("denominator: for rates, where there are 0 events for a record, the "
                             "denominator field needs to be provided using the denominator argument")
        require((num == 0) & ((den == 0) | np.isnan(den)), "denominator", "for rates, where there "
                "are 0 events for a record, the denominator must be provided")
    with np.errstate(divide="ignore", invalid="ignore"):
        from_rate = multiplier * num / rt / years_of_data
    if rate_type == "dsr":
        chart = np.where(num < 10, np.nan, rt)
        derived = np.where(num < 10, np.nan, from_rate)
    else:
        chart = rt
        derived = from_rate if den is None else np.where(num == 0, den / years_of_data, from_rate)
    index = numerator.index if isinstance(numerator, pd.Series) else None
    return pd.DataFrame({"rate_chart": chart, "denominator_derived": derived}, index=index)
