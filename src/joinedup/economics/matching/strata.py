"""Subclassification, exact matching and coarsened exact matching, as MatchIt 4.5.1 makes them.

Each method puts units into subclasses; the weights then follow MatchIt's ``weights.subclass``:

* ``subclass`` (``matchit2subclass``): cut points at the quantiles (R type 7) of the score among the
  treated (ATT) or controls (ATC), ``n_sub`` equal-probability classes (6 by default); each unit gets
  ``findInterval(score, q, all.inside = TRUE)``; classes are renumbered 1..S in order. A class lacking
  treated or controls is filled by moving units from its neighbours (``subclass_scoot``, min.n = 1).
* ``exact`` (``matchit2exact``): one stratum per combination of the covariates' values; strata that hold
  both groups are kept, numbered in order of first appearance among the units of the treatment value that
  comes first in the data (R's ``intersect`` over ``unique(treat)``).
* ``cem`` (``cem_matchit``, cutpoints "sturges"): each numeric covariate is cut into
  ``nclass.Sturges`` = ceiling(log2(n) + 1) equal-width bins between its min and max (outer bins open);
  factors are kept; then exact matching on the bins, strata numbered in order of first appearance among
  the controls (R's ``split`` orders the groups 0, 1).

Weights (ATT): treated 1; a control in subclass s gets n1_s / n0_s, rescaled so control weights sum to
the number of controls in subclasses; units in no subclass get 0 (the ATC swaps the groups).

Example:
    >>> import numpy as np
    >>> sub = np.array([1, 1, 1, 2, 2, 0])
    >>> subclass_weights(sub, np.array([1, 0, 0, 1, 0, 0]), "ATT").tolist()
    [1.0, 0.75, 0.75, 1.0, 1.5, 0.0]
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def subclass_weights(subclass: np.ndarray, treat: np.ndarray, estimand: str) -> np.ndarray:
    """MatchIt's ``weights.subclass`` for the ATT or ATC; ``subclass`` 0 means none."""
    sub, treat = np.asarray(subclass), np.asarray(treat)
    n = int(sub.max()) if sub.size else 0
    in1, in0 = (treat == 1) & (sub > 0), (treat == 0) & (sub > 0)
    n1 = np.bincount(sub[in1], minlength=n + 1).astype(float)
    n0 = np.bincount(sub[in0], minlength=n + 1).astype(float)
    w = np.zeros(len(sub))
    focal, other, n_f, n_o = (in1, in0, n1, n0) if estimand == "ATT" else (in0, in1, n0, n1)
    w[focal] = 1.0
    w[other] = n_f[sub[other]] / n_o[sub[other]]
    if w[other].sum() > 0:
        w[other] *= other.sum() / w[other].sum()
    if not (w[treat == 1].sum() > 0 and w[treat == 0].sum() > 0):
        raise ValueError("No units were matched: no subclass holds both treated and control units")
    return w


def _r_quantile(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    return np.quantile(x, probs, method="linear")  # R's quantile type 7


def propensity_subclasses(score, treat, discarded, n_sub: int, estimand: str) -> np.ndarray:
    """``matchit2subclass`` with its defaults (min.n = 1): subclass numbers 1..S, 0 for discarded."""
    focal = treat == 1 if estimand == "ATT" else treat == 0
    q = _r_quantile(score[focal], np.linspace(0, 1, n_sub + 1))
    keep = ~discarded
    # findInterval(all.inside = TRUE): i with q[i] <= x < q[i+1], clamped to 1..len(q)-1
    raw = np.clip(np.searchsorted(q, score[keep], side="right"), 1, len(q) - 1)
    sub = np.zeros(len(score), dtype=np.int64)
    sub[keep] = raw
    if any(not ((sub == s) & (treat == g) & keep).any() for s in np.unique(raw) for g in (0, 1)):
        sub[keep] = _scoot(sub[keep], treat[keep], score[keep])
    return _renumber_in_order(sub)


def _renumber_in_order(sub: np.ndarray) -> np.ndarray:
    """R's factor() of integer classes, relabelled 1..nlevels: sorted values become 1, 2, ..."""
    values = np.unique(sub[sub > 0])
    out = np.zeros_like(sub)
    out[sub > 0] = np.searchsorted(values, sub[sub > 0]) + 1
    return out


def _scoot(sub, treat, x) -> np.ndarray:
    """MatchIt's ``subclass_scoot`` (from WeightIt) for min.n = 1: while a class has no unit of a group,
    move into it the nearest unit of that group from the side with more (distance-weighted) units."""
    values = np.unique(sub)
    sub = np.searchsorted(values, sub) + 1  # contiguous 1..nsub
    nsub = len(values)
    groups = [str(g) for g in pd.unique(treat.astype(str))]
    t = treat.astype(str)
    for g in groups:
        if (t == g).sum() < nsub:
            raise ValueError(f"Not enough units to fit treated and control units in each of {nsub} subclasses")
        if (t == g).sum() == nsub:
            sub[t == g] = np.arange(1, nsub + 1)
    tab = {g: np.array([((t == g) & (sub == s)).sum() for s in range(1, nsub + 1)]) for g in groups}
    for g in groups:
        row = tab[g]
        while (row == 0).any():
            first0 = int(np.flatnonzero(row == 0)[0]) + 1
            left = np.arange(1, first0)
            right = np.arange(first0 + 1, nsub + 1)
            pull_left = first0 == nsub or (first0 != 1 and
                                           np.sum(np.maximum(row[left - 1] - 1, 0) / np.abs(first0 - left)) >=
                                           np.sum(np.maximum(row[right - 1] - 1, 0) / np.abs(first0 - right)))
            if pull_left:
                src = int(left[row[left - 1] > 0].max())
                cand = np.flatnonzero((t == g) & (sub == src))
                move = cand[x[cand] == x[cand].max()][0]
            else:
                src = int(right[row[right - 1] > 0].min())
                cand = np.flatnonzero((t == g) & (sub == src))
                move = cand[x[cand] == x[cand].min()][0]
            sub[move] = first0
            row[first0 - 1] = 1
            row[src - 1] -= 1
    return sub


def exact_subclasses(keys: pd.Series, treat: np.ndarray, first_group: int) -> np.ndarray:
    """Strata holding both groups, numbered by first appearance among units with ``treat == first_group``;
    0 for units in strata with one group only."""
    codes, uniques = pd.factorize(keys)
    in1 = np.zeros(len(uniques), bool)
    in0 = np.zeros(len(uniques), bool)
    in1[codes[treat == 1]] = True
    in0[codes[treat == 0]] = True
    both = in1 & in0
    order = pd.unique(codes[treat == first_group])
    number = np.zeros(len(uniques), dtype=np.int64)
    kept = [c for c in order if both[c]]
    number[kept] = np.arange(1, len(kept) + 1)
    if not kept:
        raise ValueError("No exact matches were found: no combination of the covariates' values holds both "
                         "treated and control units; use method='cem' or fewer covariates")
    return number[codes]


def stratum_keys(frame: pd.DataFrame) -> pd.Series:
    """One hashable key per row: the tuple of its values (MatchIt pastes formatted values with "|")."""
    return pd.Series(list(zip(*(frame[c].tolist() for c in frame.columns))), index=frame.index)


def sturges_bins(x: np.ndarray) -> int:
    """R's ``nclass.Sturges``: ceiling(log2(n) + 1)."""
    return math.ceil(math.log2(len(x)) + 1)


def coarsen(frame: pd.DataFrame, cutpoints) -> pd.DataFrame:
    """CEM's coarsening: numeric columns to bin numbers (``findInterval`` on the breaks), others kept.

    ``cutpoints``: ``"sturges"`` (MatchIt's default), a number of bins for every numeric column, or a
    dict naming, per column, a number of bins or a list of inner cut points."""
    out = frame.copy()
    for col in frame.columns:
        x = frame[col]
        if not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x):
            continue
        spec = cutpoints.get(col, "sturges") if isinstance(cutpoints, dict) else cutpoints
        v = x.to_numpy(dtype=float)
        if isinstance(spec, str):
            if spec != "sturges":
                raise ValueError(f"cutpoints for {col!r} must be 'sturges', a number of bins or a list of cut "
                                 f"points; got {spec!r}")
            spec = sturges_bins(v)
        if np.ndim(spec) == 0:
            bins = int(spec)
            if bins < 2 or bins != spec:
                raise ValueError(f"cutpoints for {col!r}: the number of bins must be a whole number >= 2; "
                                 f"got {spec!r}")
            breaks = np.linspace(v.min(), v.max(), bins + 1)
            breaks[0], breaks[-1] = -np.inf, np.inf
        else:
            breaks = np.concatenate([[-np.inf], np.unique(np.asarray(spec, dtype=float)), [np.inf]])
        out[col] = np.searchsorted(breaks, v, side="right")  # findInterval
    return out
