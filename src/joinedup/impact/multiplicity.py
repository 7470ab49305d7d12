"""Multiplicity: the protocol's primary family of outcomes and its adjusted p-values.

The protocol declares, before the data are seen, which outcomes are primary (``[impact]
primary_outcomes``, default every listed outcome) and which design gives the primary estimate
(``primary_design``). The family is those outcomes' rows of that design; their p-values are adjusted
by Holm's step-down method (Holm 1979), which controls the family-wise error rate under any
dependence, and equals ``statsmodels.stats.multitest.multipletests(p, method="holm")``. Where the
primary design is the wave-1 TWFE DiD, the family is also adjusted by Romano and Wolf's step-down
method on a wild cluster bootstrap that resamples the outcomes together
(:mod:`joinedup.impact.romano_wolf`): ``p_adjusted_romano_wolf``, which uses the outcomes'
correlation and so is never needlessly conservative; the other designs' inference (multiplier
bootstrap, placebos) is not resampled jointly here, and that column stays empty for them. The
family's intervals are adjusted too: ``ci_low_bonferroni`` / ``ci_high_bonferroni`` are
simultaneous (family-wise) 95% intervals, each row's own interval rebuilt with the critical value
for ``alpha / m`` (Bonferroni, Dunn 1961: Holm's step-down has no interval of its own that keeps
its gain, so the simultaneous intervals that accompany it are Bonferroni's), with the row's own
reference distribution (normal, or Student t with the degrees of freedom its interval used). Every
other row is labelled exploratory and left unadjusted.

Example:
    >>> [round(p, 12) for p in holm([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

# primary_design -> (design prefix, estimator prefix, estimand) of the impact_estimates rows
PRIMARY_DESIGNS = {
    "twfe_wave1": ("wave 1, baseline vs after the start", "TWFE DiD (cluster-robust)", "ATT"),
    "cs_simple": ("waves 1 and 2, staggered", "Callaway & Sant'Anna", "overall ATT (simple)"),
    "sdid": ("wave 1, sites as units", "synthetic DiD", "ATT"),
}


def holm(pvalues) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order (NaN stays NaN, and is not counted).

    The k-th smallest of m p-values becomes ``max_{j<=k} min(1, (m - j + 1) p_(j))``.

    >>> holm([0.02, float("nan"), 0.5])
    [0.04, nan, 0.5]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m == 0:
        return out.tolist()
    order = ok[np.argsort(p[ok], kind="stable")]
    steps = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(steps)
    return [float(v) for v in out]


def primary_mask(estimates: pd.DataFrame, primary_outcomes: list[str], primary_design: str) -> pd.Series:
    """Rows of ``impact_estimates`` in the primary family (outcome listed and the primary design)."""
    design, estimator, estimand = PRIMARY_DESIGNS[primary_design]
    return (estimates["outcome"].isin(primary_outcomes) & estimates["design"].str.startswith(design)
            & estimates["estimator"].str.startswith(estimator) & (estimates["estimand"] == estimand))


def adjust(estimates: pd.DataFrame, primary_outcomes: list[str], primary_design: str,
           romano_wolf: dict[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """``estimates`` with ``analysis`` ("primary" or "exploratory"), ``p_adjusted_holm`` (the primary
    family's Holm-adjusted p-values) and ``p_adjusted_romano_wolf`` (from ``romano_wolf``, outcome ->
    (bootstrap p, Romano-Wolf p), see :func:`joinedup.impact.romano_wolf.twfe_romano_wolf`); both
    empty for exploratory rows.

    >>> est = pd.DataFrame({"outcome": ["a", "b"], "design": ["wave 1, baseline vs after the start"] * 2,
    ...                     "estimator": ["TWFE DiD (cluster-robust)"] * 2, "estimand": ["ATT"] * 2,
    ...                     "p_value": [0.01, 0.04]})
    >>> adjust(est, ["a", "b"], "twfe_wave1", {"a": (0.02, 0.03), "b": (0.05, 0.05)})[
    ...     ["analysis", "p_adjusted_holm", "p_adjusted_romano_wolf"]].values.tolist()
    [['primary', 0.02, 0.03], ['primary', 0.04, 0.05]]
    """
    out = estimates.copy()
    mask = primary_mask(out, primary_outcomes, primary_design)
    out["analysis"] = np.where(mask, "primary", "exploratory")
    out["p_adjusted_holm"] = np.nan
    out.loc[mask, "p_adjusted_holm"] = holm(out.loc[mask, "p_value"].to_numpy())
    out["ci_low_bonferroni"], out["ci_high_bonferroni"] = bonferroni_intervals(out, mask)
    out["p_adjusted_romano_wolf"] = np.nan
    if romano_wolf:
        rw = out.loc[mask, "outcome"].map(lambda o: romano_wolf[o][1] if o in romano_wolf else np.nan)
        out.loc[mask, "p_adjusted_romano_wolf"] = rw.astype(float)
    return out


def _degrees_of_freedom(crit: float, alpha: float) -> float:
    """The Student t degrees of freedom whose 1 - alpha/2 quantile is ``crit`` (inf: the normal)."""
    normal = stats.norm.ppf(1 - alpha / 2)
    if crit <= normal * (1 + 1e-9):
        return np.inf
    return optimize.brentq(lambda df: stats.t.ppf(1 - alpha / 2, df) - crit, 0.05, 1e9, xtol=1e-10)


def bonferroni_intervals(estimates: pd.DataFrame, mask: pd.Series, alpha: float = 0.05) -> tuple[pd.Series, pd.Series]:
    """Simultaneous (1 - alpha) intervals for the rows in ``mask``: each row's interval
    ``estimate +- crit * std_error`` rebuilt with the ``1 - alpha / (2 m)`` quantile of the same
    distribution (m = rows in the family with an estimate and a standard error); NaN elsewhere.

    >>> est = pd.DataFrame({"estimate": [0.1, -0.2], "std_error": [0.05, 0.1],
    ...                     "ci_low": [0.1 - 1.959963984540054 * 0.05, -0.2 - 1.959963984540054 * 0.1],
    ...                     "ci_high": [0.1 + 1.959963984540054 * 0.05, -0.2 + 1.959963984540054 * 0.1]})
    >>> lo, hi = bonferroni_intervals(est, pd.Series([True, True]))
    >>> [round(v, 5) for v in lo], round(float(stats.norm.ppf(1 - 0.05 / 4)), 6)
    ([-0.01207, -0.42414], 2.241403)
    """
    low = pd.Series(np.nan, index=estimates.index)
    high = pd.Series(np.nan, index=estimates.index)
    if not {"estimate", "std_error", "ci_low", "ci_high"} <= set(estimates.columns):
        return low, high
    family = estimates[mask & estimates["std_error"].notna() & (estimates["std_error"] > 0)
                       & estimates["ci_low"].notna() & estimates["ci_high"].notna()]
    m = len(family)
    for idx, row in family.iterrows():
        crit = (row["ci_high"] - row["ci_low"]) / (2 * row["std_error"])
        df = _degrees_of_freedom(crit, alpha)
        dist = stats.norm if np.isinf(df) else stats.t(df)
        wide = float(dist.ppf(1 - alpha / (2 * m)))
        low[idx], high[idx] = row["estimate"] - wide * row["std_error"], row["estimate"] + wide * row["std_error"]
    return low, high
