"""Balance statistics exactly as MatchIt 4.5's ``summary.matchit`` (``bal1var``, ``qqsum``, ``nn``).

For each covariate, before matching (all units, weight 1) and after (matching weights):

- means of treated and controls (weighted means);
- standardised mean difference: the difference divided by the SD of the **treated** group for the
  ATT (controls for the ATC), computed once on all units *before* matching and used for both tables,
  so the two are comparable. Binary variables use sqrt(p(1-p)); others the sample SD (n-1);
- variance ratio treated/control (weighted "reliability" variances; blank for binary variables);
- eCDF mean and max: mean and largest gap between the weighted empirical CDFs (the max is the
  Kolmogorov-Smirnov statistic); for binary variables both are the absolute difference in means;
- after matching, the standardised mean absolute within-pair difference ("Std. Pair Dist.").

Example:
    >>> import numpy as np
    >>> x = np.array([1.0, 2, 3, 4]); t = np.array([1, 1, 0, 0])
    >>> s = balance_one(x, t, sd=np.std(x[:2], ddof=1))
    >>> float(round(s["smd"], 4)), s["var_ratio"], s["ecdf_max"]
    (-2.8284, 1.0, 1.0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_SQRT_EPS = np.sqrt(np.finfo(float).eps)
STATS = ("mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max", "pair_dist")


def is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def wvar(x, w=None, binary=None) -> float:
    """MatchIt ``wvar``: p(1-p) for binary variables, else the reliability-weighted variance."""
    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    binary = is_binary(x) if binary is None else binary
    w = w / w.sum()
    m = np.sum(w * x)
    if binary:
        return float(m * (1 - m))
    return float(np.sum(w * (x - m) ** 2) / (1 - np.sum(w ** 2)))


def pooled_sd(x, treat) -> float:
    """MatchIt ``pooled_sd`` (proportional contribution), the fallback when the focal SD is 0."""
    n = len(x)
    if is_binary(x):
        v = 0.0
        for g in (0, 1):
            s, ng = x[treat == g].sum(), (treat == g).sum()
            v += s * (1 - s / ng) / n
        return float(np.sqrt(v))
    xc = x.astype(float).copy()
    for g in (0, 1):
        xc[treat == g] -= xc[treat == g].mean()
    return float(np.sqrt(np.sum(xc ** 2) / (n - 2)))


def sd_denominator(x, treat, estimand: str = "ATT") -> float:
    """The SD that standardises mean differences: the focal group's, on all units, unweighted."""
    focal = 1 if estimand == "ATT" else 0
    sd = np.sqrt(wvar(x[treat == focal], binary=is_binary(x)))
    if not np.isfinite(sd) or sd < _SQRT_EPS:
        sd = pooled_sd(x, treat)
    return float(sd)


def ecdf_gaps(x, treat, w) -> tuple[float, float]:
    """Mean and max distance between the weighted eCDFs (MatchIt ``qqsum``, standardize=TRUE)."""
    w = np.asarray(w, float).copy()
    for g in (0, 1):
        w[treat == g] /= w[treat == g].sum()
    o = np.argsort(x, kind="stable")
    xo, wo, to = x[o], w[o], treat[o]
    wo = np.where(to == to[0], -wo, wo)
    keep = np.append(np.diff(xo) != 0, True)  # the eCDF's value at the end of each run of ties
    gaps = np.abs(np.cumsum(wo))[keep]
    return float(gaps.mean()), float(gaps.max())


def balance_one(x, treat, w=None, sd: float | None = None, mm=None, focal=None, subclass=None) -> dict:
    """One row of a MatchIt balance table (see module docstring); ``w=None`` means before matching.

    ``mm`` is the match matrix, its rows the ``focal`` units (the treated for the ATT); without one,
    ``subclass`` (0 = none) gives the pair distance over all treated-control pairs within subclasses."""
    x = np.asarray(x, float)
    treat = np.asarray(treat)
    matched = w is not None
    w = np.ones(len(x)) if w is None else np.asarray(w, float)
    i1, i0 = treat == 1, treat == 0
    binary = is_binary(x)
    too_small = (w[i1] != 0).sum() < 2 and (w[i0] != 0).sum() < 2
    out = dict.fromkeys(STATS, np.nan)
    out["mean_treated"] = np.sum(x[i1] * w[i1]) / np.sum(w[i1])
    out["mean_control"] = np.sum(x[i0] * w[i0]) / np.sum(w[i0])
    diff = out["mean_treated"] - out["mean_control"]
    scale = None
    if sd is not None and abs(diff) > _SQRT_EPS:
        if not too_small:
            scale = sd
            out["smd"] = diff / sd
    else:
        out["smd"] = diff
    if matched and (scale is not None or abs(diff) <= _SQRT_EPS or sd is None):
        if mm is not None:
            out["pair_dist"] = pair_distance(x, treat if focal is None else focal, mm, scale)
        elif subclass is not None:
            out["pair_dist"] = subclass_pair_distance(x, treat, subclass, scale)
    if binary:
        out["ecdf_mean"] = out["ecdf_max"] = abs(diff)
    elif not too_small:
        with np.errstate(divide="ignore", invalid="ignore"):  # R: x / 0 is Inf (or NaN for 0 / 0)
            out["var_ratio"] = float(np.float64(wvar(x[i1], w[i1], False)) / wvar(x[i0], w[i0], False))
        out["ecdf_mean"], out["ecdf_max"] = ecdf_gaps(x, treat, w)
    return out


def pair_distance(x, focal, mm, scale=None) -> float:
    """Mean absolute treated-control difference over matched pairs, over ``scale`` if given."""
    t_idx = np.flatnonzero(np.asarray(focal) == 1)
    rows, cols = np.nonzero(mm >= 0)
    if rows.size == 0:
        return np.nan
    d = float(np.mean(np.abs(x[t_idx[rows]] - x[mm[rows, cols]])))
    if scale is not None and abs(d) > 1e-8:
        d /= scale
    return d


def subclass_pair_distance(x, treat, subclass, scale=None) -> float:
    """MatchIt's ``pairdistsubC``: mean |x_treated - x_control| over every treated-control pair within each
    subclass (treated minus control whatever the estimand), over ``scale`` if given."""
    total, pairs = 0.0, 0
    for s in np.unique(subclass[subclass > 0]):
        x1, x0 = x[(subclass == s) & (treat == 1)], x[(subclass == s) & (treat == 0)]
        total += float(np.abs(x1[:, None] - x0[None, :]).sum())
        pairs += len(x1) * len(x0)
    d = total / pairs if pairs else np.nan
    if scale is not None and abs(d) > 1e-8:
        d /= scale
    return d


def balance_table(covs: pd.DataFrame, treat, weights=None, estimand: str = "ATT", mm=None,
                  focal=None, subclass=None) -> pd.DataFrame:
    """MatchIt's balance table for every column of ``covs`` (one row each)."""
    treat = np.asarray(treat)
    rows = []
    for name in covs.columns:
        x = covs[name].to_numpy(dtype=float)
        sd = sd_denominator(x, treat, estimand)
        row = balance_one(x, treat, weights, sd=sd, mm=mm, focal=focal, subclass=subclass)
        rows.append({"variable": name, **row, "sd_denominator": sd})
    return pd.DataFrame(rows)


def ess(w) -> float:
    """Effective sample size, (sum w)^2 / sum w^2 (Kish)."""
    w = np.asarray(w, float)
    return float(w.sum() ** 2 / np.sum(w ** 2)) if np.any(w) else 0.0


def sample_sizes(treat, weights, discarded) -> pd.DataFrame:
    """MatchIt's "Sample Sizes" table: All, Matched (ESS), Matched, Unmatched, Discarded."""
    treat = np.asarray(treat)
    w = np.asarray(weights, float)
    cols = {}
    for label, g in (("Control", 0), ("Treated", 1)):
        in_g = treat == g
        cols[label] = [in_g.sum(), ess(w[in_g]), (in_g & (w > 0)).sum(),
                       (in_g & (w == 0) & ~discarded).sum(), (in_g & discarded).sum()]
    return pd.DataFrame(cols, index=["All", "Matched (ESS)", "Matched", "Unmatched", "Discarded"])
