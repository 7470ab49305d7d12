"""ATT(g,t) on repeated cross-sections and unbalanced panels, as R ``did`` 2.5.0's ``panel = FALSE``
branch of ``compute.att_gt`` (``allow_unbalanced_panel = TRUE`` takes the same branch).

Every cell uses the observations (rows) of its treated cohort and controls in its two periods and
runs a repeated-cross-section DRDID estimator (:mod:`._drdid_rc`) on them, with each row's own
covariates. The influence function of a row is scaled by ``n / n1`` (``n`` units, ``n1`` rows in
the cell) and summed within unit, as R does: for true repeated cross-sections every row is its own
unit; for an unbalanced panel the unit is the id, which clusters the inference on the unit.

Example:
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2] * 7, "g": [2, 2] + [0] * 12, "y": [0, 3.0] + [0, 1.0] * 6})
    >>> rc = prepare_rc(df, "y", "t", None, "g")
    >>> compute_att_gt_rc(rc, "nevertreated", 0, "varying", "dr").att.tolist()
    [2.0]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.impact.did._attgt import GtEstimates, plan_cells
from joinedup.impact.did._drdid_rc import RC_ESTIMATORS
from joinedup.impact.did._formula import build_design, cell_columns, formula_columns
from joinedup.impact.did._prep import (
    _check_columns,
    _check_numeric,
    _clustervars,
    _example_id,
    _show,
)


@dataclass(frozen=True)
class RcData:
    """Observations (rows) and the units they belong to (rows themselves for true cross-sections)."""

    periods: np.ndarray        # (T,) sorted periods
    groups: np.ndarray         # treated cohorts with ATT(g,t)
    y: np.ndarray              # (N,) outcome per row
    t_idx: np.ndarray          # (N,) period index per row
    g: np.ndarray              # (N,) first-treated period per row, inf for never treated
    w: np.ndarray              # (N,) sampling weights per row
    x: np.ndarray              # (N, k) design per row, intercept first
    xnames: tuple[str, ...]
    factor_groups: tuple       # columns of each factor (for R's per-cell droplevels)
    level_cols: tuple
    unit: np.ndarray           # (N,) unit code per row, 0..n-1
    ids: np.ndarray            # (n,) unit ids (row numbers for true cross-sections)
    unit_g: np.ndarray         # (n,)
    unit_w: np.ndarray         # (n,) mean row weight of the unit
    cluster: np.ndarray | None  # (n,) cluster label per unit
    n_unbalanced: int          # units not observed in every period (unbalanced panels)
    n_dropped_early: int       # units (rows) dropped as treated from the first period


def unbalanced_units(data: pd.DataFrame, idname: str, tname: str) -> tuple[int, int, int]:
    """(units, units missing at least one period, periods): the panel's balance in three numbers.

    Example:
        >>> unbalanced_units(pd.DataFrame({"id": [1, 1, 2], "t": [1, 2, 1]}), "id", "t")
        (2, 1, 2)
    """
    per_unit = data.groupby(idname, sort=False)[tname].nunique()
    n_t = data[tname].nunique()
    return len(per_unit), int((per_unit < n_t).sum()), n_t


def prepare_rc(data: pd.DataFrame, yname: str, tname: str, idname: str | None, gname: str,
               xformla: str | None = None, weightsname: str | None = None, clustervars=None,
               control_group: str = "nevertreated", anticipation: float = 0) -> RcData:
    """Validate long data for the repeated-cross-section branch; ``idname`` None: every row a unit.

    With an ``idname`` the rows are an (unbalanced) panel: the first-treated period, weights and
    clusters must be constant within unit, and a unit may have one row per period.
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame in long format (one row per observation)")
    if len(data) == 0:
        raise ValueError("data has no rows")
    clusters = _clustervars(clustervars, idname)
    _check_columns(data, {"yname": yname, "tname": tname, "idname": idname, "gname": gname,
                          "weightsname": weightsname, **{"clustervars": c for c in clusters}})
    data = data.reset_index(drop=True)
    rowname = idname if idname is not None else "row"
    ids = data[idname] if idname is not None else pd.Series(np.arange(len(data)), name="row")
    xvars = formula_columns(xformla, data)
    used = [yname, tname, gname, *xvars, *clusters] + ([idname] if idname else []) + \
        ([weightsname] if weightsname else [])
    for col in dict.fromkeys(used):
        miss = data[col].isna().to_numpy()
        if miss.any():
            raise ValueError(f"column {col!r} has {int(miss.sum())} missing value(s), e.g. at {rowname} "
                             f"{_example_id(ids, miss)!r}; drop or impute them first (nothing is dropped silently)")
    for col, role in ((tname, "tname"), (gname, "gname"), (yname, "yname")):
        _check_numeric(data.assign(row=ids), col, role, rowname)
    if weightsname:
        _check_numeric(data.assign(row=ids), weightsname, "weightsname", rowname)
    design = build_design(data, xformla, rowname=rowname, ids=ids)
    x = design.matrix

    periods, t_idx = np.unique(data[tname].to_numpy(dtype=float), return_inverse=True)
    if len(periods) < 2:
        raise ValueError(f"tname: column {tname!r} has only {len(periods)} distinct period(s); at least 2 are needed")
    unit, uniq = pd.factorize(ids, sort=True)
    n = len(uniq)
    if idname is not None:
        cell = unit.astype(np.int64) * len(periods) + t_idx
        counts = np.bincount(cell, minlength=n * len(periods))
        if counts.max() > 1:
            dup = int(np.argmax(counts > 1))
            raise ValueError(f"idname/tname: {idname} {_show(uniq[dup // len(periods)])!r} appears more than once "
                             f"in {tname} {periods[dup % len(periods)]:g}")
    g = data[gname].to_numpy(dtype=float)
    w = data[weightsname].to_numpy(dtype=float) if weightsname else np.ones(len(data))
    if weightsname and ((w < 0).any() or w.mean() <= 0):
        raise ValueError(f"weightsname: column {weightsname!r} must be non-negative with a positive mean; "
                         f"e.g. {rowname} {_show(ids.iloc[int(np.argmin(w))])!r}")
    unit_g = _per_unit(g, unit, n, uniq, gname, rowname, "the first-treated period must be constant within unit")
    if idname is not None and weightsname:
        _per_unit(w, unit, n, uniq, weightsname, rowname, "sampling weights must not vary over time within unit")
    cluster = None
    if clusters:
        codes = pd.factorize(data[clusters[0]])[0].astype(float)
        cluster = _per_unit(codes, unit, n, uniq, clusters[0], rowname, "cluster variables must be time-invariant")
    n_unbal = int((np.bincount(unit, minlength=n) < len(periods)).sum()) if idname is not None else 0

    # R's sample rules, on units (then carried to their rows)
    unit_g = np.where(unit_g == 0, np.inf, unit_g)
    unit_g = np.where(unit_g > periods[-1] + anticipation, np.inf, unit_g)
    latest = np.inf
    keep_row = np.ones(len(data), bool)
    if not np.isinf(unit_g).any():
        if control_group == "nevertreated":
            raise ValueError(f"gname: no never-treated units (column {gname!r} is never 0 or after the last "
                             f"{tname}); use control_group='notyettreated'")
        latest = unit_g.max()
        keep_t = periods < latest - anticipation
        if keep_t.sum() < 2:
            raise ValueError(f"gname: without never-treated units too few periods remain before the last "
                             f"cohort ({latest:g}) starts")
        keep_row &= keep_t[t_idx]
    first = periods[0]
    early = np.isfinite(unit_g) & (unit_g <= first + anticipation)
    if early.any():
        warnings.warn(f"Dropped {int(early.sum())} units that were already treated in the first period "
                      f"(e.g. {rowname} {_show(uniq[int(np.argmax(early))])!r}).", stacklevel=4)
        keep_row &= ~early[unit]
    # re-code the kept rows: periods, units
    kept_periods = np.unique(t_idx[keep_row])
    t_new = np.searchsorted(kept_periods, t_idx[keep_row])
    periods = periods[kept_periods]
    keep_unit = np.zeros(n, bool)
    keep_unit[unit[keep_row]] = True
    unit_new = (np.cumsum(keep_unit) - 1)[unit[keep_row]]
    unit_g, uniq = unit_g[keep_unit], np.asarray(uniq)[keep_unit]
    cluster = None if cluster is None else cluster[keep_unit]
    w_rows = w[keep_row]
    w_rows = w_rows / w_rows.mean()
    unit_w = np.bincount(unit_new, weights=w_rows) / np.bincount(unit_new)
    groups = np.unique(unit_g[np.isfinite(unit_g) & (unit_g > first + anticipation) & (unit_g < latest)])
    if len(groups) == 0:
        raise ValueError(f"gname: no treated groups first treated after the first period; column {gname!r} "
                         "should hold the period a unit is first treated (0 if never treated)")
    k = x.shape[1] - 1
    never = int(np.isinf(unit_g).sum())
    if control_group == "nevertreated" and never < k + 5:
        raise ValueError(f"gname: the never-treated group has only {never} unit(s); too small to serve as "
                         "control (try control_group='notyettreated')")
    return RcData(periods=periods, groups=groups, y=data[yname].to_numpy(dtype=float)[keep_row], t_idx=t_new,
                  g=unit_g[unit_new], w=w_rows, x=x[keep_row], xnames=design.names,
                  factor_groups=design.factor_groups, level_cols=design.level_cols, unit=unit_new, ids=uniq,
                  unit_g=unit_g, unit_w=unit_w, cluster=cluster, n_unbalanced=n_unbal,
                  n_dropped_early=int(early.sum()))


def _per_unit(values: np.ndarray, unit: np.ndarray, n: int, uniq, col: str, rowname: str, why: str) -> np.ndarray:
    first = np.full(n, np.nan)
    order = np.argsort(unit, kind="stable")
    starts = np.unique(unit[order], return_index=True)[1]
    first[unit[order][starts]] = values[order][starts]
    bad = values != first[unit]
    if bad.any():
        u = unit[int(np.argmax(bad))]
        raise ValueError(f"column {col!r} varies over time for {rowname} {_show(uniq[u])!r} "
                         f"({len(np.unique(unit[bad]))} unit(s)): {why}")
    return first


def compute_att_gt_rc(rc: RcData, control_group: str, anticipation: float, base_period: str,
                      est_method: str) -> GtEstimates:
    """Every ATT(g,t) of ``rc`` with influence functions per unit; see the module docstring."""
    group, tt, cells, zero, undefined = plan_cells(rc, control_group, anticipation, base_period)
    n, k = len(rc.ids), len(group)
    inffunc = np.zeros((n, k), order="F")
    att = np.full(k, np.nan)
    att[zero] = 0.0
    inffunc[:, undefined] = np.nan
    estimator = RC_ESTIMATORS[est_method]
    never = np.isinf(rc.g)
    for col, g, tc, pret, cutoff in zip(cells.col, cells.g, cells.cur, cells.base, cells.cutoff):
        treat = rc.g == g
        ctrl = (never | (rc.g > cutoff)) & ~treat
        rows = np.flatnonzero((treat | ctrl) & ((rc.t_idx == tc) | (rc.t_idx == pret)))
        d = treat[rows].astype(float)
        post = (rc.t_idx[rows] == tc).astype(float)
        label = f"(g, t) = ({g:g}, {rc.periods[tc]:g})"
        empty = [what for what, m in (("treated units in the period", d * post), ("treated units in the base period",
                                       d * (1 - post)), ("control units in the period", (1 - d) * post),
                                      ("control units in the base period", (1 - d) * (1 - post))) if m.sum() == 0]
        if empty:
            warnings.warn(f"No {empty[0]} for {label}; its ATT is NA", stacklevel=4)
            inffunc[:, col] = np.nan
            continue
        x = rc.x[rows]
        keep = cell_columns(x, rc.factor_groups, rc.level_cols)
        x = x if keep is None else x[:, keep]
        try:
            with np.errstate(all="ignore"):
                a, inf = estimator(rc.y[rows], post, d, x, rc.w[rows])
        except np.linalg.LinAlgError as err:
            warnings.warn(f"Could not compute the 2x2 DiD for {label}: {err}; its ATT is NA", stacklevel=4)
            inffunc[:, col] = np.nan
            continue
        if not np.isfinite(a):          # R: NA, with a zero influence function
            continue
        att[col] = a
        inffunc[:, col] = np.bincount(rc.unit[rows], weights=(n / len(rows)) * inf, minlength=n)
    return GtEstimates(group=group, t=tt, att=att, post=(group <= tt).astype(int), inffunc=inffunc)
