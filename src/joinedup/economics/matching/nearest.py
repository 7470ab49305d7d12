"""Greedy nearest-neighbour matching, making the same choices as MatchIt 4.5.

Two engines, as in MatchIt:

``match_on_score`` (MatchIt's ``nn_matchC_vec``) matches on a 1-D score. All units are sorted by the
score (a stable sort, so ties keep data order, like R's ``order``); treated units are visited in
``order``; each takes the nearest still-available control to its left or right in that sorted order,
the left one when the two are equally far. A caliper stops the search when the nearest available
control on a side is too far. With ``ratio = k`` there are ``k`` rounds, each visiting every treated
unit once. Availability is kept in two union-find arrays ("next available control to the right /
left"), so each look-up is nearly O(1) and a whole match is O(n log n) for the sort.

``match_on_covariates`` (MatchIt's ``nn_matchC``) matches on Euclidean distance between rows of a
(Mahalanobis-transformed) covariate matrix, optionally within a caliper on a score; the nearest
control is the first one in data order among equally near ones. It computes a row of distances for
each treated unit: O(n1 * n0), fine for patient cohorts, not for millions.

Both return a match matrix: one row per treated unit in data order, ``ratio`` columns of control
indices (positions in the data), -1 where there is no match.

Example:
    >>> import numpy as np
    >>> treat = np.array([1, 0, 0, 1, 0])
    >>> score = np.array([0.9, 0.8, 0.1, 0.2, 0.5])
    >>> match_on_score(treat, score, order=np.array([0, 1]))
    array([[1],
           [2]])
"""

from __future__ import annotations

import numpy as np


def match_on_score(treat, score, order, ratio: int = 1, replace: bool = False,
                   caliper: float | None = None, discarded=None) -> np.ndarray:
    """Greedy matching on a 1-D score (see module docstring); ``order`` indexes treated units."""
    treat = np.asarray(treat)
    score = np.asarray(score, dtype=float)
    n1 = int((treat == 1).sum())
    discarded = np.zeros(len(treat), bool) if discarded is None else np.asarray(discarded, bool)
    srt = np.argsort(score, kind="stable")
    rank = np.empty(len(srt), dtype=np.int64)
    rank[srt] = np.arange(len(srt))
    ctrl = srt[treat[srt] == 0]  # controls in sorted order (data indices)
    ctrl_score = score[ctrl]
    t_idx = np.flatnonzero(treat == 1)
    # number of controls sorted before each treated unit: its insertion point among controls
    k = np.searchsorted(rank[ctrl], rank[t_idx])
    avail = ~discarded[ctrl]
    active = ~discarded[t_idx]
    mm = np.full((n1, ratio), -1, dtype=np.int64)
    cal = np.inf if caliper is None else float(caliper)
    if replace:
        picks = _with_replacement(k, score[t_idx], ctrl_score, avail, active, ratio, cal)
    else:
        picks = _without_replacement(k, score[t_idx], ctrl_score, avail, active, np.asarray(order), ratio, cal)
    mm[picks >= 0] = ctrl[picks[picks >= 0]]
    return mm


def _next_available(avail: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each control position: the nearest available one at or right of it (n if none) and at or
    left of it (-1 if none)."""
    n = len(avail)
    pos = np.arange(n)
    right = np.minimum.accumulate(np.where(avail, pos, n)[::-1])[::-1]
    left = np.maximum.accumulate(np.where(avail, pos, -1))
    return right, left


def _with_replacement(k, t_score, c_score, avail, active, ratio, cal) -> np.ndarray:
    """Controls stay available, so each treated unit walks outwards from its place in the sorted
    order; all treated units advance together (vectorised), one round per match."""
    nc = len(c_score)
    right, left = _next_available(avail)
    right = np.append(right, nc)  # sentinel for "past the end"
    lo = np.where(k > 0, left[np.maximum(k - 1, 0)], -1)
    hi = right[k]
    picks = np.full((len(k), ratio), -1, dtype=np.int64)
    live = active.copy()
    big = np.append(c_score, np.nan)
    for r in range(ratio):
        dl = np.where(lo >= 0, np.abs(t_score - big[np.maximum(lo, 0)]), np.inf)
        dr = np.where(hi < nc, np.abs(big[hi] - t_score), np.inf)
        dl[dl > cal] = np.inf
        dr[dr > cal] = np.inf
        take_left = np.isfinite(dl) & (dl <= dr)
        take_right = ~take_left & np.isfinite(dr)
        live &= take_left | take_right
        picks[live & take_left, r] = lo[live & take_left]
        picks[live & take_right, r] = hi[live & take_right]
        step_l = live & take_left
        lo[step_l] = np.where(lo[step_l] > 0, left[np.maximum(lo[step_l] - 1, 0)], -1)
        step_r = live & take_right
        hi[step_r] = right[hi[step_r] + 1]
    return picks


def _without_replacement(k, t_score, c_score, avail, active, order, ratio, cal) -> np.ndarray:
    """MatchIt's rounds: round r visits every treated unit in ``order`` and gives it its (r+1)th
    control. Used controls leave two union-find arrays. They stay numpy arrays: a lookup touches a
    few entries, and converting a million-entry array to a list would cost more than all lookups."""
    nc = len(c_score)
    right, left = _next_available(avail)
    cs, ts, kk = c_score, t_score.tolist(), k.tolist()
    live = active.tolist()
    n_avail = int(avail.sum())
    picks = np.full((len(kk), ratio), -1, dtype=np.int64)
    order = order.tolist()

    def find_right(i):
        root = i
        while root < nc and right[root] != root:
            root = int(right[root])
        while i < nc and right[i] != root:  # path compression
            right[i], i = root, int(right[i])
        return root

    def find_left(i):
        root = i
        while root >= 0 and left[root] != root:
            root = int(left[root])
        while i >= 0 and left[i] != root:
            left[i], i = root, int(left[i])
        return root

    for r in range(ratio):
        for t in order:
            if n_avail == 0:
                return picks
            if not live[t]:
                continue
            st, p = ts[t], kk[t]
            lo = find_left(p - 1) if p > 0 else -1
            hi = find_right(p) if p < nc else nc
            dl = abs(st - float(cs[lo])) if lo >= 0 else np.inf
            dr = abs(float(cs[hi]) - st) if hi < nc else np.inf
            if dl > cal:
                dl = np.inf
            if dr > cal:
                dr = np.inf
            if dl == np.inf and dr == np.inf:
                live[t] = False  # MatchIt: can_be_matched[ii] = false; no later round either
                continue
            c = lo if dl <= dr else hi
            picks[t, r] = c
            right[c] = c + 1
            left[c] = c - 1
            n_avail -= 1
    return picks


def match_on_covariates(treat, covs, order, ratio: int = 1, replace: bool = False,
                        score=None, caliper: float | None = None, discarded=None) -> np.ndarray:
    """Greedy matching on Euclidean distance between rows of ``covs`` (see module docstring)."""
    treat = np.asarray(treat)
    covs = np.asarray(covs, dtype=float)
    if covs.ndim == 1:
        covs = covs[:, None]
    discarded = np.zeros(len(treat), bool) if discarded is None else np.asarray(discarded, bool)
    t_idx = np.flatnonzero(treat == 1)
    c_idx = np.flatnonzero(treat == 0)
    free = ~discarded[c_idx]
    mm = np.full((len(t_idx), ratio), -1, dtype=np.int64)
    rounds = 1 if replace else ratio
    for r in range(rounds):
        for t in np.asarray(order):
            if discarded[t_idx[t]]:
                continue
            if not replace and not free.any():
                return mm
            ok = free.copy()
            if caliper is not None:
                ok &= np.abs(score[c_idx] - score[t_idx[t]]) <= caliper
            cand = np.flatnonzero(ok)
            if cand.size == 0:
                continue
            d = np.sqrt(((covs[c_idx[cand]] - covs[t_idx[t]]) ** 2).sum(axis=1))
            if replace:
                best = cand[np.argsort(d, kind="stable")[:ratio]]
                mm[t, :len(best)] = c_idx[best]
            else:
                best = cand[np.argmin(d)]  # first in data order among equally near controls
                mm[t, r] = c_idx[best]
                free[best] = False
    return mm
