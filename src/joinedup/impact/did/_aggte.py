"""Aggregations of ATT(g,t) into summary parameters, as R ``did``'s ``compute.aggte``.

``simple`` (post-treatment cells weighted by group size), ``group`` (by cohort), ``dynamic`` (by
event time e = t - g) and ``calendar`` (by period). Each aggregate's influence function is the
weighted sum of the cells' influence functions plus, where the weights are estimated group
shares, the term for estimating them (R's ``wif``), so standard errors match R's exactly.

Example:
    >>> import numpy as np
    >>> pg = np.array([0.2, 0.2, 0.3]); G = np.array([2, 2, 3, 0]); w = np.ones(4)
    >>> wif(np.array([0, 2]), pg, w, G, np.array([2, 2, 3])).shape
    (4, 2)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from joinedup.impact.did._boot import TINY, boot_se_crit, cluster_sums, multiplier_bootstrap


@dataclass(frozen=True)
class AggInputs:
    """What an aggregation needs from an ATT(g,t) result (unit arrays in the same row order)."""

    group: np.ndarray
    t: np.ndarray
    att: np.ndarray
    inffunc: np.ndarray
    periods: np.ndarray
    unit_g: np.ndarray      # first treated period per unit, 0 for never treated (R's convention)
    unit_w: np.ndarray      # normalised sampling weights
    cluster: np.ndarray | None


def wif(keepers, pg, w, G, group) -> np.ndarray:
    """Influence function of the estimated weights pg[keepers] / sum(pg[keepers]) (R's ``wif``)."""
    spg = pg[keepers].sum()
    centered = w[:, None] * (G[:, None] == group[keepers][None, :]) - pg[keepers][None, :]
    return centered / spg - np.outer(centered.sum(axis=1), pg[keepers] / spg ** 2)


def _agg_if(att, inffunc, which, weights, wif_=None) -> np.ndarray:
    if len(which) == 0:
        raise ValueError("No valid ATT(g,t) estimates for this aggregation (all cells excluded or NA)")
    out = inffunc[:, which] @ weights
    if wif_ is not None:
        out = out + wif_ @ att[which]
    return out


def aggregate(inp: AggInputs, kind: str, *, min_e=-np.inf, max_e=np.inf, balance_e=None, na_rm=False,
              bstrap=False, biters=1000, cband=False, alp=0.05, rng=None, boot_weights="rademacher"):
    """Compute one aggregation; returns a dict of arrays consumed by :class:`AggteResult`."""
    group, t, att, inf = inp.group, inp.t, inp.att, inp.inffunc
    glist = np.unique(group)
    if na_rm:
        keep = ~np.isnan(att)
        if not keep.any():
            raise ValueError("All ATT(g,t) estimates are NA; nothing to aggregate")
        group, t, att, inf = group[keep], t[keep], att[keep], inf[:, keep]
        glist = np.unique(group)
        if kind == "group":
            ok_g = [g for g in glist if not np.isnan(att[(group == g) & (g <= t) & (t <= g + max_e)].mean())]
            keep = np.isin(group, ok_g)
            if not keep.any():
                raise ValueError("No group has a non-missing post-treatment ATT(g,t)")
            group, t, att, inf = group[keep], t[keep], att[keep], inf[:, keep]
            glist = np.unique(group)
    if not na_rm and np.isnan(att).any():
        raise ValueError("Missing values found in the ATT(g,t) estimates; set na_rm=True to drop them")

    # R recodes periods to 1, 2, ... over the union of periods and groups before comparing t with
    # g + max_e in "simple" and "group"; do the same so those windows match R where periods are uneven
    gtlist = np.unique(np.concatenate([inp.periods, glist]))
    t_r = np.searchsorted(gtlist, t) + 1
    g_r = np.searchsorted(gtlist, group) + 1
    w, G = inp.unit_w, inp.unit_g
    pgg = np.array([np.mean(w * (G == g)) for g in glist])
    pg = pgg[np.searchsorted(glist, group)]
    keepers = np.flatnonzero((g_r <= t_r) & (t_r <= g_r + max_e))

    egt = att_egt = None
    ifs_egt = None
    if kind == "simple":
        overall = np.sum(att[keepers] * pg[keepers]) / pg[keepers].sum() if len(keepers) else np.nan
        if_overall = _agg_if(att, inf, keepers, pg[keepers] / pg[keepers].sum(), wif(keepers, pg, w, G, group))
    elif kind == "group":
        sel = [np.flatnonzero((g_r == gr) & (gr <= t_r) & (t_r <= g_r + max_e))
               for gr in np.searchsorted(gtlist, glist) + 1]
        egt = glist
        att_egt = np.array([att[s].mean() if len(s) else np.nan for s in sel])
        ifs_egt = np.column_stack([_agg_if(att, inf, s, pg[s] / pg[s].sum()) if len(s)
                                   else np.full(inf.shape[0], np.nan) for s in sel])
        overall = np.sum(att_egt * pgg) / pgg.sum()
        all_g = np.arange(len(glist))
        if_overall = _agg_if(att_egt, ifs_egt, all_g, pgg / pgg.sum(), wif(all_g, pgg, w, G, glist))
    elif kind == "dynamic":
        e = t - group
        include = np.ones(len(att), dtype=bool)
        eseq = np.unique(e)
        if balance_e is not None:
            tmax, tmin = t.max(), gtlist[0]
            include = (tmax - group) >= balance_e
            eseq = np.unique(e[include])
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        sel = [np.flatnonzero((e == ev) & include) for ev in eseq]
        egt = eseq
        att_egt = np.array([np.sum(att[s] * pg[s] / pg[s].sum()) for s in sel])
        ifs_egt = _stack([_agg_if(att, inf, s, pg[s] / pg[s].sum(), wif(s, pg, w, G, group)) for s in sel],
                         inf.shape[0])
        pos = eseq >= 0
        overall = att_egt[pos].mean() if pos.any() else np.nan
        if_overall = ifs_egt[:, pos].mean(axis=1) if pos.any() else np.full(inf.shape[0], np.nan)
    elif kind == "calendar":
        tlist_r = np.unique(t_r)
        cal = tlist_r[tlist_r >= g_r.min()]
        sel = [np.flatnonzero((t_r == tr) & (g_r <= t_r)) for tr in cal]
        egt = gtlist[cal - 1]
        att_egt = np.array([np.sum(att[s] * pg[s] / pg[s].sum()) for s in sel])
        ifs_egt = _stack([_agg_if(att, inf, s, pg[s] / pg[s].sum(), wif(s, pg, w, G, group)) for s in sel],
                         inf.shape[0])
        overall = att_egt.mean()
        if_overall = ifs_egt.mean(axis=1)
    else:
        raise ValueError(f"kind must be one of 'simple', 'group', 'dynamic', 'calendar'; got {kind!r}")

    n = inf.shape[0]
    ifs = if_overall[:, None] if ifs_egt is None else np.column_stack([ifs_egt, if_overall])
    z = norm.ppf(1 - alp / 2)
    crit = z
    need_boot = bstrap or (cband and ifs_egt is not None)
    if need_boot:
        m = n if inp.cluster is None else len(np.unique(inp.cluster))
        bres = multiplier_bootstrap(ifs, biters, rng, boot_weights, inp.cluster)
        mask = np.zeros(ifs.shape[1], dtype=bool)
        mask[:-1] = True
        boot_se, boot_crit = boot_se_crit(bres, m, n, alp, crit_cols=mask)
    if bstrap:
        se = boot_se
    elif inp.cluster is not None:
        se = np.sqrt((cluster_sums(ifs, inp.cluster) ** 2).sum(axis=0)) / n
    else:
        se = np.sqrt(np.mean(ifs ** 2, axis=0) / n)
    se = np.where(se <= TINY, np.nan, se)
    uniform = False
    if cband and ifs_egt is not None:
        crit, uniform = _checked_crit(boot_crit, z)
    return dict(kind=kind, overall_att=float(overall), overall_se=float(se[-1]), egt=egt, att_egt=att_egt,
                se_egt=None if ifs_egt is None else se[:-1], crit_val=float(crit), uniform=uniform,
                inf_egt=ifs_egt, inf_overall=if_overall, alp=alp, min_e=min_e, max_e=max_e,
                balance_e=balance_e)


def _stack(cols, n) -> np.ndarray:
    return np.column_stack(cols) if cols else np.empty((n, 0))


def _checked_crit(crit: float, z: float) -> tuple[float, bool]:
    """R's fallbacks: a NaN or infinite, or a narrower-than-pointwise, uniform value reverts to z."""
    if not np.isfinite(crit):
        warnings.warn("Simultaneous critical value is NA; falling back to pointwise intervals", stacklevel=4)
        return z, False
    if crit < z:
        warnings.warn("The simultaneous band is narrower than pointwise; falling back to pointwise intervals",
                      stacklevel=4)
        return z, False
    if crit >= 7:
        warnings.warn("Simultaneous critical value is very large (>= 7) and may be unreliable", stacklevel=4)
    return crit, True
