"""Every group-time ATT(g,t) and its influence function, as R ``did``'s ``compute.att_gt2``.

Cells run group by group (then period by period, R's order); each picks the treated cohort and its
controls and the two periods compared, then a two-period DRDID estimator runs on those units only.
The influence function is stored for all ``n`` units (zero outside the cell), scaled by
``n / n_cell`` as R does, so that aggregations can combine cells exactly. Designs with covariates
run cell by cell; intercept-only designs run blocks of cells at once (:mod:`._fast`).

Example:
    >>> import numpy as np, pandas as pd
    >>> from joinedup.impact.did._prep import prepare_panel
    >>> df = pd.DataFrame({"id": np.repeat(range(7), 2), "t": [1, 2] * 7,   # unit 0 treated in 2:
    ...                    "g": np.repeat([2] + [0] * 6, 2), "y": [0, 3.0] + [0, 1.0] * 6})  # +3 vs +1
    >>> est = compute_att_gt(prepare_panel(df, "y", "t", "id", "g"), "nevertreated", 0, "varying", "dr")
    >>> est.att.tolist()
    [2.0]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from joinedup.impact.did._drdid import ESTIMATORS, logit_fit, rcond
from joinedup.impact.did._fast import intercept_only_cells
from joinedup.impact.did._formula import cell_columns
from joinedup.impact.did._prep import Panel

BLOCK_ELEMENTS = 4_000_000   # units x cells per block on the fast path (~32 MB per matrix)


@dataclass(frozen=True)
class GtEstimates:
    group: np.ndarray     # (k,) cohort of each cell
    t: np.ndarray         # (k,) calendar period of each cell
    att: np.ndarray       # (k,) ATT(g,t), NaN where a cell could not be estimated
    post: np.ndarray      # (k,) 1 where t >= g (post-treatment), as R's post indicator
    inffunc: np.ndarray   # (n, k) influence functions


@dataclass(frozen=True)
class Cells:
    """The estimable cells: column, cohort, compared periods (indices) and control cutoff."""

    col: np.ndarray
    g: np.ndarray
    cur: np.ndarray       # index of the period t
    base: np.ndarray      # index of the base period
    cutoff: np.ndarray    # controls are units first treated after this (inf: never treated only)


def base_index_by_group(periods: np.ndarray, groups: np.ndarray, anticipation: float) -> list[int | None]:
    """Index of each group's last period before (anticipated) treatment: R's ``pret`` for post cells."""
    out = []
    for g in groups:
        idx = np.flatnonzero(periods + anticipation < g)
        out.append(int(idx[-1]) if len(idx) else None)
    return out


def plan_cells(panel: Panel, control_group: str, anticipation: float, base_period: str):
    """R's cell bookkeeping: which periods each ATT(g,t) compares, which are 0 or undefined."""
    periods = panel.periods
    varying = base_period == "varying"
    tfac = 1 if varying else 0
    n_t = len(periods) - tfac
    base_by_g = base_index_by_group(periods, panel.groups, anticipation)
    group = np.repeat(panel.groups, n_t)
    tt = np.tile(periods[tfac:], len(panel.groups))
    zero, undefined, rows = [], [], []
    col = -1
    for gi, g in enumerate(panel.groups):
        for t in range(n_t):
            col += 1
            tc = t + tfac
            pret = t if varying else base_by_g[gi]
            if g <= periods[tc]:
                pret = base_by_g[gi]
                if pret is None:
                    warnings.warn(f"There are no pre-treatment periods for the group first treated at {g:g}; "
                                  "its ATT(g,t) are NA", stacklevel=4)
                    undefined.append(col)
                    continue
            if not varying and periods[pret] == periods[tc]:
                zero.append(col)                    # the universal base period: 0 by construction
                continue
            # not-yet-treated controls: first treated after the later compared period (+ anticipation)
            cutoff = np.inf if control_group == "nevertreated" else periods[max(t, pret) + tfac] + anticipation
            rows.append((col, g, tc, pret, cutoff))
    arr = np.array(rows, dtype=float).reshape(-1, 5)
    cells = Cells(arr[:, 0].astype(int), arr[:, 1], arr[:, 2].astype(int), arr[:, 3].astype(int), arr[:, 4])
    return group, tt, cells, zero, undefined


def compute_att_gt(panel: Panel, control_group: str, anticipation: float, base_period: str,
                   est_method: str) -> GtEstimates:
    """Estimate all ATT(g,t) cells of ``panel``; see the module docstring."""
    group, tt, cells, zero, undefined = plan_cells(panel, control_group, anticipation, base_period)
    n, k = len(panel.g), len(group)
    inffunc = np.zeros((n, k), order="F")   # column writes below: Fortran order keeps them contiguous
    att = np.full(k, np.nan)
    att[zero] = 0.0
    inffunc[:, undefined] = np.nan
    if panel.x is None:
        _fast_cells(panel, cells, est_method, att, inffunc)
    else:
        _slow_cells(panel, cells, est_method, control_group, att, inffunc)
    return GtEstimates(group=group, t=tt, att=att, post=(group <= tt).astype(int), inffunc=inffunc)


def _masks(gvec: np.ndarray, g: np.ndarray, cutoff: np.ndarray):
    treat = gvec[:, None] == g[None, :]
    ctrl = (gvec[:, None] > cutoff[None, :]) | np.isinf(gvec)[:, None]
    return treat, ctrl & ~treat


def _fast_cells(panel: Panel, cells: Cells, est_method: str, att: np.ndarray, inffunc: np.ndarray) -> None:
    n = len(panel.g)
    for g in np.unique(cells.g):
        # a cohort's cells share (never-treated) or nest (not-yet-treated) their units: work on those
        # rows only, which for large panels is most of the saving
        of_g = np.flatnonzero(cells.g == g)
        rows = np.flatnonzero((panel.g == g) | (panel.g > cells.cutoff[of_g].min()) | np.isinf(panel.g))
        gvec, y, w = panel.g[rows], panel.y[rows], panel.w[rows]
        step = max(1, BLOCK_ELEMENTS // max(len(rows), 1))
        for s in range(0, len(of_g), step):
            sel = of_g[s:s + step]
            if np.isinf(cells.cutoff[sel]).all():    # never-treated controls: one mask for every cell
                treat = (gvec == g)[:, None]
                ctrl = np.isinf(gvec)[:, None] & ~treat
            else:
                treat, ctrl = _masks(gvec, cells.g[sel], cells.cutoff[sel])
            dy = y[:, cells.cur[sel]] - y[:, cells.base[sel]]
            a, inf = intercept_only_cells(dy, treat, ctrl, w, est_method, n_total=n)
            # R's guards: overlap (share treated >= 0.999, unweighted) for dr/ipw; some control for dr/reg
            n_ctrl = np.broadcast_to(ctrl.sum(axis=0), (len(sel),))
            share = np.broadcast_to(treat.sum(axis=0), (len(sel),)) / (n_ctrl + treat.sum(axis=0))
            bad = (n_ctrl == 0) | ((share >= 0.999) if est_method in ("dr", "ipw") else False)
            for c in np.flatnonzero(bad & (n_ctrl > 0)):
                warnings.warn(f"overlap condition violated for (g, t) = ({g:g}, "
                              f"{panel.periods[cells.cur[sel][c]]:g}); its ATT is NA", stacklevel=4)
            a[bad] = np.nan
            inf[:, bad] = np.nan
            cols = cells.col[sel]
            att[cols] = a
            if cols[-1] - cols[0] + 1 == len(cols):  # consecutive columns: slices, not gathers
                for i0, i1 in _runs(rows):           # units sorted by cohort: rows are a few runs
                    inffunc[rows[i0]:rows[i1 - 1] + 1, cols[0]:cols[-1] + 1] = inf[i0:i1]
            else:
                inffunc[np.ix_(rows, cols)] = inf
            if bad.any():
                inffunc[:, cols[bad]] = np.nan


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """Positions [i0, i1) in sorted ``rows`` where the values are consecutive integers."""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    bounds = np.concatenate([[0], breaks, [len(rows)]])
    return list(zip(bounds[:-1], bounds[1:]))


def _slow_cells(panel: Panel, cells: Cells, est_method: str, control_group: str, att: np.ndarray,
                inffunc: np.ndarray) -> None:
    n = len(panel.g)
    estimator = ESTIMATORS[est_method]
    checks: dict = {}
    for col, g, tc, pret, cutoff in zip(cells.col, cells.g, cells.cur, cells.base, cells.cutoff):
        treat, ctrl = (m[:, 0] for m in _masks(panel.g, np.array([g]), np.array([cutoff])))
        if not ctrl.any():
            inffunc[:, col] = np.nan
            continue
        idx = np.flatnonzero(treat | ctrl)
        n1 = len(idx)
        cov_t = min(pret, tc)                       # covariates from the earlier of the two periods (R)
        x = panel.x[idx, cov_t, :]
        keep = cell_columns(x, panel.factor_groups, panel.level_cols)   # R's droplevels in the cell
        x = x if keep is None else x[:, keep]
        d = treat[idx].astype(float)
        label = f"(g, t) = ({g:g}, {panel.periods[tc]:g})"
        key = (g, cov_t) if control_group == "nevertreated" else None   # R caches these guards too
        problem = checks.get(key) if key is not None else None
        if problem is None:
            problem = _cell_problem(x, d, est_method)
            if key is not None:
                checks[key] = problem
        if problem:
            warnings.warn(f"{problem} for {label}; its ATT is NA", stacklevel=4)
            inffunc[:, col] = np.nan
            continue
        dy = panel.y[idx, tc] - panel.y[idx, pret]
        try:
            a, inf = estimator(dy, d, x, panel.w[idx])
        except np.linalg.LinAlgError as err:
            warnings.warn(f"Could not compute the 2x2 DiD for {label}: {err}; its ATT is NA", stacklevel=4)
            inffunc[:, col] = np.nan
            continue
        if not np.isfinite(a):
            inffunc[:, col] = np.nan
            continue
        att[col] = a
        inffunc[idx, col] = (n / n1) * inf


def _cell_problem(x: np.ndarray, d: np.ndarray, est_method: str) -> str:
    """R did's per-cell guards: propensity overlap (dr, ipw) and a regular control design (dr, reg)."""
    if est_method in ("dr", "ipw"):
        try:
            with np.errstate(all="ignore"):
                fail = not logit_fit(x, d, np.ones(len(d))).max() < 0.999
        except np.linalg.LinAlgError:
            fail = True
        if fail:
            return "overlap condition violated"
    if est_method in ("dr", "reg"):
        xc = x[d == 0]
        if len(xc) == 0 or rcond(xc.T @ xc) < np.finfo(float).eps:
            return "covariate matrix for control units is singular or ill-conditioned"
    return ""
