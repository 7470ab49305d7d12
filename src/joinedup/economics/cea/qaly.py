"""QALYs from utility measurements over time, baseline adjustment, and discounting (NICE: 3.5%).

Example:
    >>> import pandas as pd
    >>> eq = pd.DataFrame({"id": [1, 1, 1], "years": [0.0, 0.5, 1.0], "utility": [0.6, 0.8, 0.8]})
    >>> float(qaly_auc(eq, "id", "years", "utility").iloc[0])      # 0.5*(0.6+0.8)/2 + 0.5*0.8
    0.75
    >>> round(float(discount(1000.0, 2)), 2)                       # £1,000 two years on, at 3.5%
    933.51
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

NICE_RATE = 0.035  # NICE reference case (PMG36, 2022): 3.5% a year for costs and health effects
_PER_YEAR = {"years": 1.0, "months": 12.0, "weeks": 365.25 / 7, "days": 365.25}


def discount(values, years, rate: float = NICE_RATE):
    """Present value of ``values`` occurring ``years`` from the start: ``values / (1 + rate) ** years``.

    Year 0 is not discounted; fractional years are allowed. Works on scalars, arrays and Series.

    Example:
        >>> discount([100.0, 100.0, 100.0], [0, 1, 2]).round(2).tolist()
        [100.0, 96.62, 93.35]
    """
    if rate <= -1:
        raise ValueError(f"rate must exceed -1; got {rate}")
    t = np.asarray(years, dtype=float)
    if np.any(t < 0):
        raise ValueError("years must be non-negative (time from the start of the evaluation)")
    out = np.asarray(values, dtype=float) / (1.0 + rate) ** t
    if isinstance(values, pd.Series):
        return pd.Series(out, index=values.index, name=values.name)
    return out if out.ndim else float(out)


def qaly_auc(data: pd.DataFrame, id: str, time: str, utility: str, time_unit: str = "years",
             rate: float = 0.0) -> pd.Series:
    """QALYs per person: area under the utility curve, linear between measurements (trapezium rule).

    ``time`` is time since baseline in ``time_unit`` (years, months, weeks or days). With ``rate``
    the curve is discounted continuously at that annual rate (exact integral of a straight line
    times ``(1 + rate) ** -t``); the default 0 leaves within-trial QALYs undiscounted. People with a
    single measurement get 0. Deaths should be entered as a utility of 0 at the date of death.

    Example:
        >>> eq = pd.DataFrame({"id": [1, 1], "months": [0, 12], "utility": [0.5, 0.7]})
        >>> round(float(qaly_auc(eq, "id", "months", "utility", time_unit="months").iloc[0]), 3)
        0.6
    """
    if time_unit not in _PER_YEAR:
        raise ValueError(f"time_unit must be one of {', '.join(map(repr, _PER_YEAR))}; got {time_unit!r}")
    frame = data[[id, time, utility]]
    for col in (id, time, utility):
        bad = frame[col].isna().to_numpy()
        if bad.any():
            raise ValueError(f"column {col!r} is missing a value at row {frame.index[np.argmax(bad)]!r}")
    frame = frame.sort_values([id, time], kind="stable")
    dup = frame.duplicated([id, time]).to_numpy()
    if dup.any():
        row = frame.iloc[np.argmax(dup)]
        raise ValueError(f"person {row[id]!r} has two utility measurements at {time}={row[time]!r}")
    ids = frame[id].to_numpy()
    t = frame[time].to_numpy(dtype=float) / _PER_YEAR[time_unit]
    u = frame[utility].to_numpy(dtype=float)
    same = ids[1:] == ids[:-1]  # consecutive rows of one person form a segment
    t0, t1, u0, u1 = t[:-1][same], t[1:][same], u[:-1][same], u[1:][same]
    area = _segment_area(t0, t1, u0, u1, rate)
    owners = ids[1:][same]
    people = pd.unique(ids)
    sums = pd.Series(area, dtype=float).groupby(owners, sort=False).sum() if len(area) else pd.Series(dtype=float)
    return sums.reindex(people, fill_value=0.0).rename("qaly").rename_axis(id)


def _segment_area(t0, t1, u0, u1, rate: float) -> np.ndarray:
    if rate == 0:
        return (t1 - t0) * (u0 + u1) / 2
    d = np.log1p(rate)  # continuous rate equivalent to the annual one
    slope = np.where(t1 > t0, (u1 - u0) / np.where(t1 > t0, t1 - t0, 1), 0.0)

    def primitive(t):  # antiderivative of (u0 + slope (t - t0)) * exp(-d t)
        level = u0 + slope * (t - t0)
        return -np.exp(-d * t) * (level / d + slope / d**2)

    return primitive(t1) - primitive(t0)


@dataclass(frozen=True)
class BaselineAdjusted:
    """Regression-adjusted incremental QALYs (Manca, Hawkins & Sculpher 2005)."""

    estimate: float        # coefficient on treatment
    se: float              # classical OLS standard error
    lower: float
    upper: float
    coefficients: pd.Series
    adjusted: pd.Series    # per-person QALYs net of covariate imbalance (their arm difference = estimate)


def baseline_adjusted(data: pd.DataFrame, qaly: str, baseline: str, group: str,
                      covariates: Sequence[str] = (), treated=1, level: float = 0.95) -> BaselineAdjusted:
    """Incremental QALYs adjusted for baseline utility by OLS: ``qaly ~ treated + baseline + covariates``.

    Unadjusted AUC differences are biased when baseline utility differs between arms, because
    baseline utility feeds straight into the area. ``adjusted`` holds each person's QALYs minus the
    fitted effect of their covariates' deviation from the mean; the difference of its arm means
    equals the regression estimate, so it can be bootstrapped with :func:`bootstrap_ce`.

    Example:
        >>> fit = baseline_adjusted(df, "qaly", "u0", "mdt")                    # doctest: +SKIP
        >>> fit.estimate, fit.se                                                 # doctest: +SKIP
    """
    cols = [qaly, baseline, group, *covariates]
    frame = data[cols]
    if frame.isna().any().any():
        col = frame.columns[frame.isna().any()][0]
        raise ValueError(f"column {col!r} has missing values; impute or drop them first")
    y = frame[qaly].to_numpy(dtype=float)
    z = frame[[baseline, *covariates]].to_numpy(dtype=float)
    t = (frame[group] == treated).to_numpy(dtype=float)
    if t.min() == t.max():
        raise ValueError(f"group {group!r} must contain both treated ({treated!r}) and control rows")
    x = np.column_stack([np.ones(len(y)), t, z])
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    df_resid = len(y) - x.shape[1]
    cov = (resid @ resid / df_resid) * np.linalg.inv(x.T @ x)
    se = float(np.sqrt(cov[1, 1]))
    crit = stats.t.ppf((1 + level) / 2, df_resid)
    adjusted = y - (z - z.mean(axis=0)) @ beta[2:]
    names = ["intercept", "treated", baseline, *covariates]
    return BaselineAdjusted(float(beta[1]), se, float(beta[1] - crit * se), float(beta[1] + crit * se),
                            pd.Series(beta, index=names), pd.Series(adjusted, index=data.index, name=f"{qaly}_adjusted"))
