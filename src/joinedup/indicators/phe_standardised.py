"""Directly and indirectly standardised rates (PHE calculate_dsr, calculate_ISRatio, calculate_ISRate).

All take long data (one row per group x age band), name the columns to use, and return one row per
group (``by`` columns first, sorted), computed with vectorised group-by sums.

DSR (Dobson et al. 1991): value = sum(x_i w_i / n_i) / sum(w_i) * multiplier, with
var = sum(x_i (w_i / n_i)^2) / sum(w_i)^2 and limits
value + sqrt(var / O) (B(O) - O) * multiplier, where O is the total count and B(O) its Byar's limit.
Missing counts count as 0. Values and limits are NaN when O < 10 (statistic says so), as PHE.
With ``independent_events=False`` (several events per individual, ``eventfreq`` = events per
individual, ``x`` = individuals with that frequency), the variance becomes
sum over f of f^2 var_f, var_f computed from the individuals with frequency f, and the value uses
the events (f x); this is PHE 2.1's adjustment for non-independent events.

ISR: expected E = sum(x_ref / n_ref * n) (missing x_ref or n count as 0), observed O = sum(x);
ratio = O / E * refvalue, rate = O / E * ref_rate, ref_rate = sum(x_ref) / sum(n_ref) * multiplier;
limits from O: exact Poisson below 10, Byar's from 10. ``x_ref``/``n_ref`` are column names, or
sequences given once and repeated for every group (each group must then have that many rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.indicators.phe_common import (
    as_float,
    by_list,
    check_columns,
    confidence_label,
    format_number,
    limit_columns,
    parse_confidence,
    require,
)
from joinedup.indicators.phe_limits import byars_lower, byars_upper, poisson_limits
from joinedup.indicators.phe_rates import _check_multiplier

DSR_MIN_COUNT = 10


def _keys(data: pd.DataFrame, by) -> list[str]:
    keys = by_list(by)
    for key in keys:
        if key not in data.columns:
            raise ValueError(f"by: {key!r} is not a field name from data {list(data.columns)}")
    return keys


def _numeric_column(data: pd.DataFrame, column: str, arg: str) -> np.ndarray:
    values = data[column]
    if not (pd.api.types.is_numeric_dtype(values.dtype) or values.isna().all()):
        raise TypeError(f"field {arg} must be numeric; column {column!r} has dtype {values.dtype}")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _recycled(data: pd.DataFrame, keys: list[str], values, arg: str) -> np.ndarray:
    """A per-row column from a column name, or a sequence repeated within every group."""
    if isinstance(values, str):
        check_columns(data, **{arg: values})
        return _numeric_column(data, values, arg)
    seq = as_float(values, arg)
    if keys:
        grouped = data.groupby(keys, sort=False, dropna=False)
        sizes = grouped.size().to_numpy()
        position = grouped.cumcount().to_numpy()
    else:
        sizes, position = np.array([len(data)]), np.arange(len(data))
    if len(set(sizes.tolist())) != 1:
        raise ValueError("data must contain the same number of rows for each group; "
                         f"group sizes {sorted(set(sizes.tolist()))}")
    if len(seq) != sizes[0]:
        raise ValueError(f"{arg} length must equal number of rows in each group within data "
                         f"({len(seq)} != {sizes[0]})")
    return seq[position]


def _group_sums(frame: pd.DataFrame, keys: list[str], columns: dict[str, bool]) -> pd.DataFrame:
    """Sum columns by group; ``columns`` maps column -> skip missing (R na.rm)."""
    if not keys:
        return pd.DataFrame({c: [frame[c].sum(skipna=skip)] for c, skip in columns.items()})
    grouped = frame.groupby(keys, sort=True, dropna=False)
    return pd.DataFrame({c: grouped[c].sum(skipna=skip) for c, skip in columns.items()}).reset_index()


def dsr(data: pd.DataFrame, x: str, n: str, stdpop, *, by=None, multiplier=100_000,
        confidence=0.95, independent_events: bool = True, eventfreq: str | None = None,
        ageband: str | None = None) -> pd.DataFrame:
    """Directly standardised rate with Dobson limits, one row per group of ``by``.

    ``stdpop`` is a column name or a sequence repeated within every group (e.g. ESP 2013).
    Returns ``by`` columns, total_count, total_pop, value, limits, confidence, statistic, method.
    """
    check_columns(data, x=x, n=n)
    keys = [k for k in _keys(data, by) if k != eventfreq]
    levels = parse_confidence(confidence)
    mult = _check_multiplier(multiplier)
    if not isinstance(independent_events, (bool, np.bool_)):
        raise TypeError("independent_events must be True or False")
    frame = data[keys].copy()
    frame["x"] = _numeric_column(data, x, "x")
    frame["n"] = _numeric_column(data, n, "n")
    frame["stdpop"] = _recycled(data, keys, stdpop, "stdpop")
    require(np.isnan(frame["n"]), "n", "field n cannot have missing values")
    require(np.isnan(frame["stdpop"]), "stdpop", "field stdpop cannot have missing values")
    require(frame["x"] < 0, "x", "numerators must all be greater than or equal to zero")
    require(frame["n"] <= 0, "n", "denominators must all be greater than zero")
    require(frame["stdpop"] < 0, "stdpop", "stdpop must all be greater than or equal to zero")
    method = "Dobson"
    if independent_events:
        var_by_group = None
    else:
        frame, var_by_group = _nonindependent(data, frame, keys, eventfreq, ageband)
        method = "Dobson, with confidence adjusted for non-independent events"
    x0 = frame["x"].fillna(0.0)
    frame["wt_rate"] = x0 * frame["stdpop"] / frame["n"]
    frame["sq_rate"] = x0 * (frame["stdpop"] / frame["n"]) ** 2
    out = _group_sums(frame, keys, {"x": True, "n": False, "wt_rate": False, "sq_rate": False,
                                    "stdpop": False})
    out = out.rename(columns={"x": "total_count", "n": "total_pop"})
    var = None
    if var_by_group is not None:
        var = (out[keys].merge(var_by_group, on=keys, how="left")["vardsr"].to_numpy()
               if keys else var_by_group["vardsr"].to_numpy())
    limits = dsr_from_sums(out, multiplier=mult, confidence=confidence, var=var)
    small = out["total_count"].to_numpy() < DSR_MIN_COUNT
    out = out.drop(columns=["wt_rate", "sq_rate", "stdpop"])
    for col in limits.columns:
        out[col] = limits[col].to_numpy()
    out["confidence"] = confidence_label(levels)
    out["statistic"] = np.where(small, "dsr NA for total count < 10",
                                f"dsr per {format_number(mult)}")
    out["method"] = method
    return out


def dsr_from_sums(sums: pd.DataFrame, *, multiplier=100_000, confidence=0.95, var=None) -> pd.DataFrame:
    """DSR value and Dobson limits from per-group sums (what ``dsr`` computes after its group-by, so
    an engine can add up the strata and Python only adds the limits).

    ``sums`` has ``total_count`` (O), ``wt_rate`` (sum of x w / n), ``sq_rate`` (sum of x (w / n)^2)
    and ``stdpop`` (sum of w); ``var`` replaces sq_rate / stdpop^2 (non-independent events).
    Returns ``value`` and the limit columns, NaN where O < 10.

    Example:
        >>> s = pd.DataFrame({"total_count": [20.0], "wt_rate": [40.0], "sq_rate": [4.0], "stdpop": [200.0]})
        >>> round(float(dsr_from_sums(s, multiplier=100)["value"].iloc[0]), 6)
        20.0
    """
    levels = parse_confidence(confidence)
    mult = _check_multiplier(multiplier)
    value = (sums["wt_rate"] / sums["stdpop"] * mult).to_numpy()
    if var is None:
        var = (sums["sq_rate"] / sums["stdpop"] ** 2).to_numpy()
    count = sums["total_count"].to_numpy()
    small = count < DSR_MIN_COUNT
    safe = np.where(small, DSR_MIN_COUNT, count)
    out = pd.DataFrame({"value": np.where(small, np.nan, value)}, index=sums.index)
    spread = np.sqrt(var / safe) * mult
    for (lo_name, up_name), level in zip(limit_columns(levels), levels):
        out[lo_name] = np.where(small, np.nan, value + spread * (byars_lower(safe, level) - safe))
        out[up_name] = np.where(small, np.nan, value + spread * (byars_upper(safe, level) - safe))
    return out


def _nonindependent(data, frame, keys, eventfreq, ageband):
    """Events per row and the summed frequency-weighted variance per group."""
    for arg, col in (("eventfreq", eventfreq), ("ageband", ageband)):
        if col is None:
            raise ValueError(f"dsr requires an {arg} column to be specified when "
                             "independent_events is False")
        check_columns(data, **{arg: col})
    freq = data[eventfreq]
    if not pd.api.types.is_numeric_dtype(freq.dtype):
        raise TypeError(f"eventfreq field must be numeric; column {eventfreq!r} has dtype "
                         f"{freq.dtype}")
    frame["eventfreq"] = freq.to_numpy(dtype="float64", na_value=np.nan)
    require(np.isnan(frame["eventfreq"]), "eventfreq", "eventfreq field must not have any "
            "missing values")
    frame["ageband"] = data[ageband].to_numpy()
    require(frame["ageband"].isna(), "ageband", "ageband field must not have any missing values")
    per_band = frame.groupby(keys + ["ageband"], sort=False, dropna=False)[["n", "stdpop"]].nunique()
    if (per_band > 1).any(axis=None):
        raise ValueError("There are rows with the same grouping variables and ageband but with "
                         "different populations (n) or standard populations (stdpop): "
                         f"{per_band[(per_band > 1).any(axis=1)].index.tolist()[:10]}")
    x0 = frame["x"].fillna(0.0)
    parts = frame[keys + ["eventfreq"]].assign(
        sq_rate=x0 * (frame["stdpop"] / frame["n"]) ** 2, stdpop=frame["stdpop"])
    by_freq = parts.groupby(keys + ["eventfreq"], sort=True, dropna=False)[["sq_rate", "stdpop"]].sum()
    freq_values = by_freq.index.get_level_values("eventfreq").to_numpy(dtype="float64")
    weighted = (by_freq["sq_rate"] / by_freq["stdpop"] ** 2 * freq_values ** 2).rename("vardsr")
    if keys:
        var_by_group = weighted.groupby(level=keys, dropna=False).sum().reset_index()
    else:
        var_by_group = pd.DataFrame({"vardsr": [weighted.sum()]})
    events = frame[keys + ["ageband", "n", "stdpop"]].assign(x=frame["eventfreq"] * frame["x"])
    banded = events.groupby(keys + ["ageband", "n", "stdpop"], sort=True,
                            dropna=False)["x"].sum().reset_index()
    return banded, var_by_group


def smr(observed, expected, *, confidence=0.95, refvalue=1.0) -> pd.DataFrame:
    """Ratio observed/expected * refvalue with exact (O < 10) or Byar's limits from O."""
    levels = parse_confidence(confidence)
    obs, exp = as_float(observed, "observed"), as_float(expected, "expected")
    require(obs < 0, "observed", "numerators must all be greater than or equal to zero")
    out = pd.DataFrame({"observed": obs, "expected": exp})
    if isinstance(observed, pd.Series):
        out.index = observed.index
    _add_ratio_limits(out, levels, refvalue)
    out["statistic"] = f"indirectly standardised ratio x {format_number(refvalue)}"
    return out[[c for c in out.columns if c != "method"] + ["method"]]


def _add_ratio_limits(out: pd.DataFrame, levels, scale) -> None:
    obs, exp = out["observed"].to_numpy(), out["expected"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["value"] = obs / exp * scale
        method = None
        for (lo_name, up_name), level in zip(limit_columns(levels), levels):
            lower, upper, method = poisson_limits(obs, level)
            out[lo_name] = lower / exp * scale
            out[up_name] = upper / exp * scale
    out["confidence"] = confidence_label(levels)
    out["method"] = method


def _isr_base(data, x, n, x_ref, n_ref, by, observed_totals, with_ref_rate):
    keys = _keys(data, by)
    check_columns(data, n=n)
    if observed_totals is None:
        check_columns(data, x=x)
    else:
        if x not in observed_totals.columns:
            raise ValueError(f"observed_totals is provided but x ({x!r}) is not a field name in it")
        missing = [k for k in keys if k not in observed_totals.columns]
        if missing:
            raise ValueError(f"observed_totals lacks the by column(s) {missing}")
    frame = data[keys].copy()
    frame["n"] = _numeric_column(data, n, "n")
    frame["x_ref"] = _recycled(data, keys, x_ref, "x_ref")
    frame["n_ref"] = _recycled(data, keys, n_ref, "n_ref")
    require(frame["n"] < 0, "n", "denominators must all be greater than or equal to zero")
    frame["exp_x"] = frame["x_ref"].fillna(0.0) / frame["n_ref"] * frame["n"].fillna(0.0)
    sums = {"exp_x": False}
    if with_ref_rate:
        sums.update({"x_ref": True, "n_ref": False})
    if observed_totals is None:
        frame["x"] = _numeric_column(data, x, "x")
        require(frame["x"] < 0, "x", "numerators must all be greater than or equal to zero")
        sums = {"x": True, **sums}
    out = _group_sums(frame, keys, sums).rename(columns={"x": "observed", "exp_x": "expected"})
    if observed_totals is not None:
        totals = observed_totals[keys + [x]].rename(columns={x: "observed"})
        require(_numeric_column(totals, "observed", "x") < 0, "x",
                "numerators must all be greater than or equal to zero")
        out = (out.merge(totals, on=keys, how="left") if keys
               else out.assign(observed=totals["observed"].to_numpy()[:1]))
        out = out[keys + ["observed"] + [c for c in out.columns if c not in keys + ["observed"]]]
    out["observed"] = out["observed"].astype("float64")
    return keys, out


def isratio(data: pd.DataFrame, x: str, n: str, x_ref, n_ref, *, by=None, confidence=0.95,
            refvalue=1.0, observed_totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Indirectly standardised ratio (SMR) x refvalue, one row per group of ``by``.

    ``observed_totals``: a frame with the ``by`` columns and column ``x`` giving observed totals
    per group (then ``data`` needs no ``x``).
    """
    levels = parse_confidence(confidence)
    _, out = _isr_base(data, x, n, x_ref, n_ref, by, observed_totals, with_ref_rate=False)
    _add_ratio_limits(out, levels, float(refvalue))
    out["statistic"] = f"indirectly standardised ratio x {format_number(refvalue)}"
    return out[[c for c in out.columns if c != "method"] + ["method"]]


def israte(data: pd.DataFrame, x: str, n: str, x_ref, n_ref, *, by=None, confidence=0.95,
           multiplier=100_000, observed_totals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Indirectly standardised rate: O / E * ref_rate, ref_rate = sum(x_ref)/sum(n_ref)*multiplier."""
    levels = parse_confidence(confidence)
    mult = _check_multiplier(multiplier)
    _, out = _isr_base(data, x, n, x_ref, n_ref, by, observed_totals, with_ref_rate=True)
    out["ref_rate"] = out.pop("x_ref") / out.pop("n_ref") * mult
    _add_ratio_limits(out, levels, out["ref_rate"].to_numpy())
    out["statistic"] = f"indirectly standardised rate per {format_number(mult)}"
    return out[[c for c in out.columns if c != "method"] + ["method"]]
