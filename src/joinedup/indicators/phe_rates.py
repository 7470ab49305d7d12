"""Crude rates, proportions and means with confidence limits (PHE phe_rate, phe_proportion, phe_mean).

Each function takes arrays (or Series) and returns a DataFrame with one row per input row, or one
row per group when ``by`` is given (then x and n are summed within groups first, as PHE does for
grouped data; a missing value makes the group's sum missing, as R's ``sum``).

Columns: the group keys (if any), the inputs (``x``, ``n``), ``value``, the limits (``lowercl``,
``uppercl`` for one confidence level; ``lower95_0cl`` ... ``upper99_8cl`` for (0.95, 0.998)),
``confidence``, ``statistic``, ``method``. Missing inputs give missing results, as in PHE.

Example:
    >>> out = crude_rate([5, 65], [100, 100], multiplier=100)
    >>> out[["value", "lowercl", "uppercl"]].round(4).values.tolist()
    [[5.0, 1.6235, 11.6683], [65.0, 50.1632, 82.8491]]
    >>> out["method"].tolist()
    ['Exact', 'Byars']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from joinedup.indicators.phe_common import (
    as_float,
    confidence_label,
    format_number,
    group_keys,
    limit_columns,
    parse_confidence,
    require,
    same_length,
)
from joinedup.indicators.phe_limits import poisson_limits, wilson_lower, wilson_upper


def _inputs(x, n, by) -> pd.DataFrame:
    """x and n (summed within groups if ``by``), with the group keys as leading columns."""
    xs, ns = np.atleast_1d(as_float(x, "x")), np.atleast_1d(as_float(n, "n"))
    length = same_length(x=xs, n=ns)
    keys = group_keys(by, length)
    frame = pd.DataFrame({"x": xs, "n": ns})
    index = x.index if isinstance(x, pd.Series) and not keys else None
    if not keys:
        if index is not None:
            frame.index = index
        return frame
    grouped = frame.groupby(keys, sort=True, dropna=False).sum(skipna=False)
    return grouped.reset_index()


def _check_multiplier(multiplier) -> float:
    if isinstance(multiplier, bool) or not isinstance(multiplier, (int, float, np.number)):
        raise TypeError(f"multiplier must be numeric; got {multiplier!r}")
    if not multiplier > 0:
        raise ValueError(f"multiplier must be greater than 0; got {multiplier!r}")
    return float(multiplier)


def crude_rate(x, n, *, multiplier=100_000, confidence=0.95, by=None) -> pd.DataFrame:
    """Crude rate x/n * multiplier; exact Poisson limits below 10 events, Byar's from 10.

    Errors (ValueError naming the argument and positions): x < 0, n <= 0. x > n is allowed.
    """
    levels = parse_confidence(confidence)
    mult = _check_multiplier(multiplier)
    frame = _inputs(x, n, by)
    xs, ns = frame["x"].to_numpy(), frame["n"].to_numpy()
    require(xs < 0, "x", "numerators must be greater than or equal to zero")
    require(ns <= 0, "n", "denominators must be greater than zero")
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["value"] = xs / ns * mult
        method = None
        for (lo_name, up_name), level in zip(limit_columns(levels), levels):
            lower, upper, method = poisson_limits(xs, level)
            frame[lo_name] = lower / ns * mult
            frame[up_name] = upper / ns * mult
    frame["confidence"] = confidence_label(levels)
    frame["statistic"] = f"rate per {format_number(mult)}"
    frame["method"] = method
    return frame


def proportion(x, n, *, confidence=0.95, multiplier=1, by=None) -> pd.DataFrame:
    """Proportion x/n * multiplier with Wilson score limits (``confidence=None``: no limits).

    Errors: x < 0, n <= 0, x > n. ``multiplier=100`` labels the statistic 'percentage'.
    """
    levels = None if confidence is None else parse_confidence(confidence)
    mult = _check_multiplier(multiplier)
    frame = _inputs(x, n, by)
    xs, ns = frame["x"].to_numpy(), frame["n"].to_numpy()
    require(xs < 0, "x", "numerators must be greater than or equal to zero")
    require(ns <= 0, "n", "denominators must be greater than zero")
    require(xs > ns, "x", "numerators must be less than or equal to denominator for a proportion "
            "statistic")
    frame["value"] = xs / ns * mult
    if levels is not None:
        for (lo_name, up_name), level in zip(limit_columns(levels), levels):
            frame[lo_name] = wilson_lower(xs, ns, level) * mult
            frame[up_name] = wilson_upper(xs, ns, level) * mult
        frame["confidence"] = confidence_label(levels)
    frame["statistic"] = "percentage" if mult == 100 else f"proportion of {format_number(mult)}"
    if levels is not None:
        frame["method"] = "Wilson"
    return frame


def mean_ci(values, *, by=None, confidence=0.95) -> pd.DataFrame:
    """Mean with Student t limits: mean -/+ |qt(alpha/2, k - 1)| sd / sqrt(k), per group.

    Returns the group keys, ``value_sum``, ``value_count``, ``stdev`` (k - 1 denominator),
    ``value`` and the limits. A missing value makes its group's results missing (R's sum).
    """
    levels = parse_confidence(confidence)
    vs = np.atleast_1d(as_float(values, "values"))
    keys = group_keys(by, len(vs))
    frame = pd.DataFrame({"v": vs})
    if keys:
        grouped = frame.groupby(keys, sort=True, dropna=False)["v"]
        out = pd.DataFrame({"value_sum": grouped.sum(skipna=False),
                            "value_count": grouped.size(),
                            "stdev": grouped.std(ddof=1, skipna=False)}).reset_index()
    else:
        has_nan = np.isnan(vs).any()
        out = pd.DataFrame({"value_sum": [np.nan if has_nan else vs.sum()],
                            "value_count": [len(vs)],
                            "stdev": [np.nan if has_nan or len(vs) < 2 else vs.std(ddof=1)]})
    count = out["value_count"].to_numpy(dtype="float64")
    out["value"] = out["value_sum"] / count
    se = out["stdev"].to_numpy() / np.sqrt(count)
    for (lo_name, up_name), level in zip(limit_columns(levels), levels):
        df = np.where(count > 1, count - 1, np.nan)
        half = np.abs(student_t.ppf((1 - level) / 2, df)) * se
        out[lo_name] = out["value"] - half
        out[up_name] = out["value"] + half
    out["confidence"] = confidence_label(levels)
    out["statistic"] = "mean"
    out["method"] = "Student's t-distribution"
    return out
