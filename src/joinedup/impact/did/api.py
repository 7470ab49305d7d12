"""``att_gt``: Callaway & Sant'Anna (2021) group-time average treatment effects, as R ``did`` 2.5.0.

Example:
    >>> import pandas as pd
    >>> from joinedup.impact import att_gt
    >>> mpdta = pd.read_csv("mpdta.csv")                                       # doctest: +SKIP
    >>> res = att_gt(mpdta, yname="lemp", tname="year", idname="countyreal",
    ...              gname="first.treat", seed=1)                              # doctest: +SKIP
    >>> res.aggregate("dynamic").overall_att                                   # doctest: +SKIP
    -0.07723982...
"""

from __future__ import annotations

import warnings
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import lu_factor, lu_solve
from scipy.stats import chi2, norm

from joinedup.impact.did._attgt import compute_att_gt
from joinedup.impact.did._boot import TINY, boot_se_crit, cluster_sums, multiplier_bootstrap
from joinedup.impact.did._drdid import rcond
from joinedup.impact.did._prep import Panel, prepare_panel
from joinedup.impact.did._rc import compute_att_gt_rc, prepare_rc, unbalanced_units
from joinedup.impact.did._results import AttGtResult

ControlGroup = Literal["nevertreated", "notyettreated"]
EstMethod = Literal["dr", "ipw", "reg"]
BasePeriod = Literal["varying", "universal"]
BootWeights = Literal["rademacher", "mammen"]


def _check(name: str, value, allowed) -> None:
    options = get_args(allowed)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")


def att_gt(data: pd.DataFrame, yname: str, tname: str, idname: str, gname: str,
           xformla: str | None = None, control_group: ControlGroup = "nevertreated",
           est_method: EstMethod = "dr", anticipation: float = 0, base_period: BasePeriod = "varying",
           weightsname: str | None = None, alp: float = 0.05, bstrap: bool = True, biters: int = 1000,
           cband: bool = True, clustervars: list[str] | str | None = None, seed=None, panel: bool = True,
           boot_weights: BootWeights = "rademacher", allow_unbalanced_panel: bool = False) -> AttGtResult:
    """Estimate every ATT(g,t) on a balanced long panel, with R ``did``'s arguments and defaults.

    ``gname`` holds the period a unit is first treated (0 if never treated); ``xformla`` a formula
    of covariates such as ``"~ lpop"`` (taken from the earlier of the two periods compared, as R).
    Standard errors are analytic (``bstrap=False``) or from the multiplier bootstrap with
    ``biters`` draws and ``seed`` (an int or ``numpy.random.Generator``); ``cband`` asks for a
    uniform (sup-t) band, which needs the bootstrap. ``boot_weights`` picks the multipliers:
    Rademacher (R did's) or Mammen.

    ``panel=False`` reads the rows as repeated cross-sections (different people each period; every
    row its own unit; ``idname`` may be None) and uses DRDID's ``drdid_rc`` / ``std_ipw_did_rc`` /
    ``reg_did_rc``, as R. ``allow_unbalanced_panel=True`` lets a panel miss rows: as R did, an
    unbalanced panel is estimated with the repeated cross-section estimators on the rows that exist,
    with influence functions summed within unit (inference clustered on the unit); a balanced panel
    keeps the panel estimators. ``result.design`` reports which was done and how many units were
    incomplete. Without the flag an unbalanced panel is refused, naming a unit and period.

    Example:
        >>> res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat",
        ...              xformla="~ lpop", control_group="notyettreated", bstrap=False)  # doctest: +SKIP
        >>> res.tidy()[["group", "t", "att", "se"]]                            # doctest: +SKIP
    """
    _check("control_group", control_group, ControlGroup)
    _check("est_method", est_method, EstMethod)
    _check("base_period", base_period, BasePeriod)
    _check("boot_weights", boot_weights, BootWeights)
    if not isinstance(anticipation, (int, float, np.integer, np.floating)) or not anticipation >= 0:
        raise ValueError(f"anticipation must be a non-negative number; got {anticipation!r}")
    if not 0 < alp < 1:
        raise ValueError(f"alp must be strictly between 0 and 1; got {alp!r}")
    if bstrap and (int(biters) != biters or biters < 1):
        raise ValueError(f"biters must be a positive whole number; got {biters!r}")
    if seed is not None and not isinstance(seed, (int, np.integer, np.random.Generator)):
        raise ValueError(f"seed must be an int or numpy.random.Generator; got {type(seed).__name__}")

    p, est, design = _estimate(data, yname, tname, idname, gname, xformla, weightsname, clustervars,
                               control_group, anticipation, base_period, est_method, bool(panel),
                               bool(allow_unbalanced_panel))
    inf, n = est.inffunc, len(p.ids)
    cband = bool(cband) and len(p.periods) > 2      # R: with two periods the band is pointwise

    if p.cluster is not None and not bstrap:
        se = np.sqrt((cluster_sums(inf, p.cluster) ** 2).sum(axis=0)) / n
    else:
        se = np.sqrt(np.einsum("ij,ij->j", inf, inf)) / n
    se = np.where(se <= TINY, np.nan, se)
    crit, uniform = norm.ppf(1 - alp / 2), False
    rng = np.random.default_rng(seed)
    if bstrap:
        m = n if p.cluster is None else len(np.unique(p.cluster))
        bres = multiplier_bootstrap(inf, int(biters), rng, boot_weights, p.cluster, col_groups=est.group)
        boot_se, boot_crit = boot_se_crit(bres, m, n, alp)
        se = np.where(np.isnan(se), np.nan, boot_se)
        se = np.where(se <= TINY, np.nan, se)
        if cband and np.isfinite(boot_crit):
            crit, uniform = boot_crit, True
            if crit >= 7:
                warnings.warn("Simultaneous critical value is arguably too large (>= 7) to be reliable",
                              stacklevel=2)
    # R reports no pre-test when clustering beyond the unit with the bootstrap (V ignores the clusters)
    W, Wpval = (None, None) if (p.cluster is not None and bstrap) else _pretest(
        est.group, est.t, est.att, se, inf, p.cluster)

    params = dict(yname=yname, tname=tname, idname=idname, gname=gname, xformla=xformla,
                  control_group=control_group, est_method=est_method, anticipation=anticipation,
                  base_period=base_period, weightsname=weightsname, alp=alp, bstrap=bool(bstrap),
                  biters=int(biters), cband=bool(cband), clustervars=clustervars, boot_weights=boot_weights,
                  seed=seed if isinstance(seed, (int, np.integer)) or seed is None else rng, panel=bool(panel),
                  allow_unbalanced_panel=bool(allow_unbalanced_panel))
    unit_g, unit_w = (p.g, p.w) if isinstance(p, Panel) else (p.unit_g, p.unit_w)
    return AttGtResult(group=est.group, t=est.t, att=est.att, se=se, post=est.post, crit_val=float(crit),
                       uniform=uniform, inffunc=inf, n=n, periods=p.periods, unit_ids=p.ids,
                       unit_g=np.where(np.isinf(unit_g), 0.0, unit_g), unit_w=unit_w, cluster=p.cluster,
                       W=W, Wpval=Wpval, params=params, design=design)


def _estimate(data, yname, tname, idname, gname, xformla, weightsname, clustervars, control_group,
              anticipation, base_period, est_method, panel, allow_unbalanced_panel):
    """Route to the panel or the repeated cross-section branch (as R) and describe what was done."""
    if panel and allow_unbalanced_panel and isinstance(data, pd.DataFrame) and idname in data.columns \
            and tname in data.columns:
        n_units, n_unbal, n_t = unbalanced_units(data, idname, tname)
        if n_unbal:
            rc = prepare_rc(data, yname, tname, idname, gname, xformla, weightsname, clustervars, control_group,
                            anticipation)
            design = {"data": "unbalanced panel", "units": len(rc.ids), "rows": len(rc.y),
                      "unbalanced_units": rc.n_unbalanced, "periods": len(rc.periods),
                      "treatment": f"{rc.n_unbalanced} of {n_units} units miss at least one of the {n_t} periods: "
                                   "estimated on the rows that exist with the repeated cross-section estimators "
                                   "(R did's allow_unbalanced_panel), standard errors clustered on the unit; "
                                   "covariates are each row's own (not the base period's)"}
            return rc, compute_att_gt_rc(rc, control_group, anticipation, base_period, est_method), design
    if not panel:
        rc = prepare_rc(data, yname, tname, None, gname, xformla, weightsname, clustervars, control_group,
                        anticipation)
        design = {"data": "repeated cross-sections", "units": len(rc.ids), "rows": len(rc.y),
                  "unbalanced_units": 0, "periods": len(rc.periods),
                  "treatment": "every row is its own observation (panel=False): repeated cross-section "
                               "estimators; covariates are each row's own"}
        return rc, compute_att_gt_rc(rc, control_group, anticipation, base_period, est_method), design
    p = prepare_panel(data, yname, tname, idname, gname, xformla, weightsname, clustervars, control_group,
                      anticipation)
    design = {"data": "balanced panel", "units": len(p.ids), "rows": len(p.ids) * len(p.periods),
              "unbalanced_units": 0, "periods": len(p.periods),
              "treatment": "balanced panel: panel estimators; covariates from the base period of each comparison"}
    if p.x is not None:
        varying = (p.x != p.x[:, :1, :]).any(axis=1)            # (units, columns)
        if varying.any():
            cols = [p.xnames[j] for j in np.flatnonzero(varying.any(axis=0))]
            note = (f"covariate(s) {', '.join(cols)} vary over time for {int(varying.any(axis=1).sum())} unit(s): "
                    "each ATT(g,t) uses their values in its base period (the earlier of the two periods "
                    "compared), as R did; choose the base with base_period: 'varying' (the period before, "
                    "short differences before treatment) or 'universal' (g - 1 - anticipation for every "
                    f"period, long differences); this run used base_period={base_period!r}")
            warnings.warn(note[0].upper() + note[1:], stacklevel=3)
            design["covariates"] = note
    return p, compute_att_gt(p, control_group, anticipation, base_period, est_method), design


def _pretest(group, t, att, se, inf, cluster):
    """Wald test that all pre-treatment ATT(g,t) are zero (R's W and Wpval), or (None, None)."""
    pre = (group > t) & ~np.isnan(se)
    if not pre.any():
        return None, None
    sub = inf[:, pre]
    if np.isnan(sub).any() or np.isnan(att[pre]).any():
        return None, None
    n = inf.shape[0]
    s = cluster_sums(sub, cluster)
    if s.size and np.count_nonzero(s) < 0.1 * s.size:   # repeated cross-sections: each cell uses few rows
        sp = sparse.csc_matrix(s)
        v = (sp.T @ sp).toarray() / n
    else:
        v = s.T @ s / n
    if rcond(v) <= np.finfo(float).eps:       # R: no statistic for a singular covariance
        return None, None
    a = att[pre]
    W = float(n * a @ lu_solve(lu_factor(v, check_finite=False), a, check_finite=False))
    return W, float(1 - chi2.cdf(W, pre.sum()))
