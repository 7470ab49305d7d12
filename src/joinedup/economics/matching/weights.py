"""Matching weights and pair subclasses from a match matrix, as MatchIt computes them.

Weights (MatchIt ``weights_matrixC``): a matched treated unit gets 1; a control gets, summed over
the treated units it is matched to, 1 / (that unit's number of matches); control weights are then
scaled so they sum to the number of matched controls. Without replacement and 1:1 every matched
unit weighs 1.

Subclasses (MatchIt ``mm2subclass``, only without replacement): a treated unit and its controls
share one subclass, named after the treated unit's row number; MatchIt numbers subclasses by sorting
those row numbers as text ("1" < "10" < "2"), and so do we, so the labels agree with R's.

Example:
    >>> import numpy as np
    >>> treat = np.array([1, 0, 1, 0, 0])
    >>> mm = np.array([[1, 3], [4, -1]])
    >>> matching_weights(mm, treat).tolist()
    [1.0, 0.75, 1.0, 0.75, 1.5]
    >>> pair_subclass(mm, treat).tolist()
    [1, 1, 2, 1, 2]
"""

from __future__ import annotations

import numpy as np


def matching_weights(mm: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Weights for every unit (0 for unmatched); see module docstring."""
    treat = np.asarray(treat)
    n = len(treat)
    t_idx = np.flatnonzero(treat == 1)
    matched = mm >= 0
    n_matches = matched.sum(axis=1)
    w = np.zeros(n)
    rows, cols = np.nonzero(matched)
    np.add.at(w, mm[rows, cols], 1.0 / n_matches[rows])
    w[t_idx[n_matches > 0]] = 1.0
    c = treat == 0
    total = w[c].sum()
    if total > 0:
        w[c] = w[c] * (w[c] > 0).sum() / total
    return w


def pair_subclass(mm: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Subclass numbers 1..S (0 for units in no subclass); see module docstring."""
    t_idx = np.flatnonzero(np.asarray(treat) == 1)
    label = np.zeros(len(treat), dtype=np.int64)  # 1-based row number of the treated unit
    has = mm[:, 0] >= 0
    label[t_idx[has]] = t_idx[has] + 1
    rows, cols = np.nonzero(mm >= 0)
    label[mm[rows, cols]] = t_idx[rows] + 1
    used = np.unique(label[label > 0])
    as_text = sorted(used.tolist(), key=str)  # R: factor() of a character vector sorts as text
    number = {v: i + 1 for i, v in enumerate(as_text)}
    out = np.zeros(len(treat), dtype=np.int64)
    nz = label > 0
    out[nz] = [number[v] for v in label[nz].tolist()]
    return out
