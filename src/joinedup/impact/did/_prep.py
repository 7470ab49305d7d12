"""Check a long panel and pivot it once to unit x period arrays, following R ``did``'s
pre-processing (``pre_process_did2``) where it is well defined and stopping with a ValueError where
R would silently drop or coerce.

Example:
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"id": np.repeat(range(7), 2), "t": [1, 2] * 7,
    ...                    "g": np.repeat([2] + [0] * 6, 2), "y": np.arange(14.0)})
    >>> p = prepare_panel(df, "y", "t", "id", "g")
    >>> p.y.shape, p.groups.tolist()
    ((7, 2), [2.0])
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.impact.did._formula import build_design, formula_columns


@dataclass(frozen=True)
class Panel:
    """A balanced panel as arrays: units in rows (by cohort, then id), periods in columns (sorted)."""

    ids: np.ndarray             # (n,) unit ids
    periods: np.ndarray         # (T,) sorted time periods
    y: np.ndarray               # (n, T) outcomes
    g: np.ndarray               # (n,) first treated period, inf for never (or as-if never) treated
    w: np.ndarray               # (n,) sampling weights normalised to mean 1
    x: np.ndarray | None        # (n, T, k) design with intercept; None when intercept only
    xnames: tuple[str, ...]     # column names of the design, "(Intercept)" first
    cluster: np.ndarray | None  # (n,) cluster labels beyond the unit, or None
    groups: np.ndarray          # treated groups for which ATT(g,t) is computed, sorted
    factor_groups: tuple = ()   # design columns of each factor (R's per-cell droplevels)
    level_cols: tuple = ()      # design columns coding factor levels


def parse_xformla(xformla: str | None) -> list[str]:
    """Covariate names in a one-sided formula of main effects: "~ a + b" -> ["a", "b"].

    The intercept is always included (as R's ``model.matrix``); "1" terms are accepted and ignored.

    Example:
        >>> parse_xformla("~ lpop + 1"), parse_xformla(None), parse_xformla("~1")
        (['lpop'], [], [])
    """
    if xformla is None:
        return []
    text = str(xformla).strip()
    if not text.startswith("~"):
        raise ValueError(f"xformla must be a one-sided formula such as '~ lpop'; got {xformla!r}")
    names = []
    for term in text[1:].split("+"):
        term = term.strip()
        if term in ("", "1"):
            if term == "" and text[1:].strip():
                raise ValueError(f"xformla has an empty term: {xformla!r}")
            continue
        if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*|`[^`]+`", term):
            raise ValueError(f"xformla supports only main effects of columns joined by '+'; "
                             f"cannot read term {term!r} in {xformla!r}")
        names.append(term.strip("`"))
    return list(dict.fromkeys(names))


def _show(value) -> object:
    """A plain Python value for messages (``8001``, not ``np.int64(8001)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _example_id(ids: pd.Series, mask) -> object:
    return _show(ids[np.asarray(mask)].iloc[0])


def _check_columns(data: pd.DataFrame, roles: dict[str, str | None]) -> None:
    for role, col in roles.items():
        if col is not None and col not in data.columns:
            raise ValueError(f"{role}: column {col!r} is not in the data (columns: {list(data.columns)})")


def _check_numeric(data: pd.DataFrame, col: str, role: str, idname: str) -> None:
    s = data[col]
    if pd.api.types.is_bool_dtype(s) and role == "yname":
        return
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        bad = pd.to_numeric(s, errors="coerce").isna() & s.notna()
        example = _example_id(data[idname], bad) if bad.any() else data[idname].iloc[0]
        value = _show(s[bad].iloc[0] if bad.any() else s.iloc[0])
        raise ValueError(f"{role}: column {col!r} must be numeric (dtype {s.dtype}); e.g. value {value!r} "
                         f"for {idname} {example!r}")


def prepare_panel(data: pd.DataFrame, yname: str, tname: str, idname: str, gname: str,
                  xformla: str | None = None, weightsname: str | None = None,
                  clustervars: list[str] | str | None = None, control_group: str = "nevertreated",
                  anticipation: float = 0) -> Panel:
    """Validate ``data`` and return a :class:`Panel`; raise ValueError naming column and an id."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError("data must be a pandas DataFrame in long format (one row per unit and period)")
    clusters = _clustervars(clustervars, idname)
    _check_columns(data, {"yname": yname, "tname": tname, "idname": idname, "gname": gname,
                          "weightsname": weightsname, **{"clustervars": c for c in clusters}})
    xvars = formula_columns(xformla, data)
    if len(data) == 0:
        raise ValueError("data has no rows")
    ids = data[idname]
    used = [yname, tname, idname, gname, *xvars] + ([weightsname] if weightsname else []) + clusters
    for col in dict.fromkeys(used):
        miss = data[col].isna().to_numpy()
        if miss.any():
            who = "row" if col == idname else f"{idname} {_example_id(ids, miss)!r}"
            raise ValueError(f"column {col!r} has {int(miss.sum())} missing value(s), e.g. at {who}; "
                             "drop or impute them first (nothing is dropped silently)")
    _check_numeric(data, tname, "tname", idname)
    _check_numeric(data, gname, "gname", idname)
    _check_numeric(data, yname, "yname", idname)
    if weightsname:
        _check_numeric(data, weightsname, "weightsname", idname)

    # pivot once: integer codes for units and periods, then scatter into (n, T) arrays
    id_codes, uniq_ids = pd.factorize(ids, sort=True)
    tvals = data[tname].to_numpy(dtype=float)
    periods, t_codes = np.unique(tvals, return_inverse=True)
    n, T = len(uniq_ids), len(periods)
    if T < 2:
        raise ValueError(f"tname: column {tname!r} has only {T} distinct period(s); at least 2 are needed")
    cell = id_codes.astype(np.int64) * T + t_codes
    counts = np.bincount(cell, minlength=n * T)
    if counts.max() > 1:
        dup = int(np.argmax(counts > 1))
        raise ValueError(f"idname/tname: {idname} {_show(uniq_ids[dup // T])!r} appears more than once in "
                         f"{tname} {periods[dup % T]:g}")
    if counts.min() == 0:
        gap = int(np.argmin(counts))
        raise ValueError(f"tname: the panel is unbalanced: {idname} {_show(uniq_ids[gap // T])!r} has no row for "
                         f"{tname} {periods[gap % T]:g} ({int((counts.reshape(n, T).sum(1) < T).sum())} "
                         "unit(s) incomplete); pass allow_unbalanced_panel=True to estimate on the rows that exist "
                         "(R did's repeated cross-section estimators, clustered on the unit), or panel=False if "
                         "the rows are different people each period")

    def grid(col, values=None) -> np.ndarray:
        out = np.empty(n * T)
        out[cell] = data[col].to_numpy(dtype=float) if values is None else values
        return out.reshape(n, T)

    y = grid(yname)
    gmat = grid(gname)
    g = _unit_constant(gmat, uniq_ids, gname, idname, "the first-treated period must be constant within unit")
    w = np.ones(n)
    if weightsname:
        w = _unit_constant(grid(weightsname), uniq_ids, weightsname, idname,
                           "sampling weights must not vary over time within unit")
        if (w < 0).any() or w.mean() <= 0:
            raise ValueError(f"weightsname: column {weightsname!r} must be non-negative with a positive mean; "
                             f"e.g. {idname} {_show(uniq_ids[int(np.argmin(w))])!r}")
        w = w / w.mean()
    cluster = None
    if clusters:
        codes = grid(clusters[0], pd.factorize(data[clusters[0]])[0].astype(float))
        cluster = _unit_constant(codes, uniq_ids, clusters[0], idname, "cluster variables must be time-invariant")
    x = None
    design = build_design(data, xformla, rowname=idname, ids=ids.reset_index(drop=True))
    if design.matrix.shape[1] > 1:
        x = np.empty((n * T, design.matrix.shape[1]))
        x[cell] = design.matrix
        x = x.reshape(n, T, -1)
    y, g, w, x, cluster, ids_arr, periods, groups = _sample(
        y, g, w, x, cluster, np.asarray(uniq_ids), periods, gname, idname, tname, control_group,
        anticipation, len(xvars))
    # units ordered by cohort (never treated last), then id, as R's faster mode: each cell's units
    # are then a few contiguous blocks, which the bootstrap exploits
    order = np.argsort(g, kind="stable")
    return Panel(ids=ids_arr[order], periods=periods, y=y[order], g=g[order], w=w[order],
                 x=None if x is None else x[order], xnames=design.names,
                 cluster=None if cluster is None else cluster[order], groups=groups,
                 factor_groups=design.factor_groups, level_cols=design.level_cols)


def _clustervars(clustervars, idname) -> list[str]:
    if clustervars is None:
        return []
    cl = [clustervars] if isinstance(clustervars, str) else list(clustervars)
    cl = [c for c in cl if c != idname]
    if len(cl) > 1:
        raise ValueError(f"clustervars: at most one cluster variable beyond {idname!r} is supported; got {cl}")
    return cl


def _unit_constant(mat: np.ndarray, ids, col: str, idname: str, why: str) -> np.ndarray:
    bad = (mat != mat[:, :1]).any(axis=1)
    if bad.any():
        raise ValueError(f"column {col!r} varies over time for {idname} {_show(ids[int(np.argmax(bad))])!r} "
                         f"({int(bad.sum())} unit(s)): {why}")
    return mat[:, 0].copy()


def _sample(y, g, w, x, cluster, ids, periods, gname, idname, tname, control_group, anticipation, k):
    """R's sample rules: never treated (0 or after the panel) -> inf, drop units treated from the start."""
    g = np.where(g == 0, np.inf, g)
    g = np.where(g > periods[-1] + anticipation, np.inf, g)
    if not np.isinf(g).any():
        if control_group == "nevertreated":
            raise ValueError(f"gname: no never-treated units (column {gname!r} is never 0 or after the last "
                             f"{tname}); use control_group='notyettreated', e.g. {idname} {_show(ids[0])!r} has "
                             f"{gname} {g[0]:g}")
        # R: drop periods from the last cohort's (anticipated) start; that cohort only serves as control
        latest = g.max()
        keep_t = periods < latest - anticipation
        y, periods = y[:, keep_t], periods[keep_t]
        x = None if x is None else x[:, keep_t]
        if len(periods) < 2:
            raise ValueError(f"gname: without never-treated units too few periods remain before the last "
                             f"cohort ({latest:g}) starts")
    else:
        latest = np.inf
    first = periods[0]
    early = np.isfinite(g) & (g <= first + anticipation)
    if early.any():
        warnings.warn(f"Dropped {int(early.sum())} units that were already treated in the first period "
                      f"(e.g. {idname} {_show(ids[int(np.argmax(early))])!r}).", stacklevel=4)
        keep = ~early
        y, g, w, ids = y[keep], g[keep], w[keep], ids[keep]
        x = None if x is None else x[keep]
        cluster = None if cluster is None else cluster[keep]
        w = w / w.mean()
    groups = np.unique(g[np.isfinite(g) & (g > first + anticipation) & (g < latest)])
    if len(groups) == 0:
        raise ValueError(f"gname: no treated groups first treated after the first period; column {gname!r} "
                         "should hold the period a unit is first treated (0 if never treated)")
    never = np.isinf(g).sum()
    if control_group == "nevertreated" and never < k + 5:
        raise ValueError(f"gname: the never-treated group has only {never} unit(s); too small to serve as "
                         "control (try control_group='notyettreated')")
    sizes = {gv: int((g == gv).sum()) for gv in np.unique(g)}
    small = [0 if np.isinf(gv) else gv for gv, s in sizes.items() if s < k + 5]
    if small:
        warnings.warn(f"Some groups have very few units, which may cause estimation problems: {small}",
                      stacklevel=4)
    return y, g, w, x, cluster, ids, periods, groups
