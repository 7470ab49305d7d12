"""From a long panel to the matrices of a synthetic control fit (what R Synth's ``dataprep`` does).

Predictors are computed once for every unit in the pool (treated and donors alike), so placebo runs
reuse them: a placebo only picks other columns.

- ``predictors``: columns averaged (``predictors_op``: mean or median, missing values skipped, as
  Synth's ``na.rm = TRUE``) over ``time_predictors_prior`` (default: every pre-treatment period);
- ``special_predictors``: ``(column, periods)`` or ``(column, periods, op)``, e.g. the outcome in one
  year, ``("cigsale", [1975])``, or a predictor over its own window, ``("beer", range(1984, 1989))``;
- ``time_optimize_ssr``: the periods whose outcome MSPE chooses V (default: every pre period).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": list("aabbcc"), "t": [1, 2] * 3, "y": [1.0, 2, 3, 4, 5, 6]})
    >>> prep = prepare(df, "u", "t", "y", "a", 2, ["b", "c"], None, [("y", [1])], "mean", None, None,
    ...                scale=True)
    >>> prep.P
    array([[1., 3., 5.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.impact.synthetic._panel import (check_balanced, check_columns, check_periods,
                                          check_units, wide_outcome)

OPS = ("mean", "median")


@dataclass(frozen=True)
class Prepared:
    """Matrices for the treated unit (column 0) and its donors (columns 1..J), in ``units`` order."""

    units: list            # treated first, then donors
    times: np.ndarray      # every period, sorted
    Y: np.ndarray          # outcome, periods x units
    P: np.ndarray          # predictors, predictors x units (unscaled)
    names: list[str]       # predictor names
    opt: np.ndarray        # row indices of time_optimize_ssr in ``times``
    pre: np.ndarray        # boolean mask of pre-treatment periods
    scale: bool            # standardise predictors by their SD across the fitted units (Synth)
    outcome: str
    treatment_time: object


def prepare(data: pd.DataFrame, unit: str, time: str, outcome: str, treated_unit, treatment_time,
            donors: Sequence | None, predictors: Sequence[str] | None, special_predictors,
            predictors_op: str, time_predictors_prior, time_optimize_ssr, *, scale: bool,
            outcome_only: bool = False) -> Prepared:
    """Validate the panel and build the matrices; see the module docstring for the options."""
    check_columns(data, [unit, time, outcome, *(predictors or [])])
    for sp in special_predictors or []:
        check_columns(data, [_special(sp)[0]])
    if predictors_op not in OPS:
        raise ValueError(f"predictors_op must be one of {', '.join(map(repr, OPS))}; got {predictors_op!r}")
    check_units(data, unit, [treated_unit], "treated unit")
    if donors is None:
        donors = [u for u in sorted(data[unit].unique()) if u != treated_unit]
    else:
        donors = check_units(data, unit, donors, "donor")
        if treated_unit in donors:
            raise ValueError(f"treated unit {treated_unit!r} is also listed among the donors")
        if len(set(donors)) != len(donors):
            raise ValueError("donors must not repeat a unit")
    if len(donors) < 2:
        raise ValueError(f"need at least two donors for unit {treated_unit!r}; got {len(donors)}")
    units = [treated_unit, *donors]
    data = data[data[unit].isin(units)]
    check_balanced(data, unit, time)
    times = np.array(sorted(data[time].unique()))
    pre = times < treatment_time
    if not pre.any() or pre.all():
        raise ValueError(f"treatment_time {treatment_time!r} must fall after the first period "
                         f"{times[0]!r} and no later than the last {times[-1]!r} of column {time!r}")
    opt_times = list(times[pre]) if time_optimize_ssr is None else check_periods(
        time_optimize_ssr, times, "time_optimize_ssr")
    wide = wide_outcome(data, unit, time, outcome, times=list(times)).loc[units]
    Y = wide.to_numpy().T
    opt = np.searchsorted(times, np.array(opt_times, dtype=times.dtype))
    if outcome_only:
        names = [f"{outcome} ({t})" for t in opt_times]
        return Prepared(units, times, Y, Y[opt].copy(), names, opt, pre, False, outcome,
                        treatment_time)
    prior = list(times[pre]) if time_predictors_prior is None else check_periods(
        time_predictors_prior, times, "time_predictors_prior")
    rows, names = [], []
    indexed = data.set_index([unit, time])
    for col in predictors or []:
        rows.append(_aggregate(indexed, col, units, prior, predictors_op, unit))
        names.append(col)
    for sp in special_predictors or []:
        col, periods, op = _special(sp)
        periods = check_periods(periods, times, f"special predictor {col!r}")
        rows.append(_aggregate(indexed, col, units, periods, op, unit))
        names.append(f"{col} ({_describe(periods)})")
    if not rows:
        raise ValueError("no predictors: give predictors or special_predictors, or use v='outcome'")
    names = _unique(names)
    return Prepared(units, times, Y, np.vstack(rows), names, opt, pre, scale, outcome, treatment_time)


def _special(sp) -> tuple[str, list, str]:
    if not isinstance(sp, (tuple, list)) or len(sp) not in (2, 3):
        raise ValueError(f"special predictor must be (column, periods) or (column, periods, op); got {sp!r}")
    col, periods = sp[0], sp[1]
    op = sp[2] if len(sp) == 3 else "mean"
    if op not in OPS:
        raise ValueError(f"special predictor {col!r}: op must be one of {', '.join(map(repr, OPS))}; got {op!r}")
    return col, periods, op


def _aggregate(indexed: pd.DataFrame, col: str, units: list, periods: list, op: str,
               unit: str) -> np.ndarray:
    values = indexed[col].unstack()  # units x periods
    values = values.reindex(index=units, columns=periods).astype(float)
    arr = values.to_numpy()
    empty = np.isnan(arr).all(axis=1)
    if empty.any():
        bad = [u for u, e in zip(units, empty) if e]
        raise ValueError(f"predictor {col!r} has no values in periods {_describe(periods)} for "
                         f"{unit} {bad[:5]}")
    return np.nanmean(arr, axis=1) if op == "mean" else np.nanmedian(arr, axis=1)


def _describe(periods: list) -> str:
    p = list(periods)
    if len(p) == 1:
        return f"{p[0]:g}" if isinstance(p[0], (int, float, np.number)) else str(p[0])
    try:
        consecutive = all(float(b) - float(a) == 1 for a, b in zip(p, p[1:]))
    except (TypeError, ValueError):
        consecutive = False
    if consecutive:
        return f"{p[0]:g}-{p[-1]:g}"
    return ", ".join(f"{x:g}" if isinstance(x, (int, float, np.number)) else str(x) for x in p)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    return out
