"""The synthetic-control inner problem: the point of a convex hull nearest the origin.

Donor weights minimise ``(x1 - X0 w)' V (x1 - X0 w)`` over the unit simplex. Because the weights sum
to one, ``x1 - X0 w = -M w`` with ``M = V^(1/2) (X0 - x1 1')``, so the problem is the minimum-norm
point of the convex hull of the columns of ``M``. We solve it exactly with a primal active-set method
(Lawson & Hanson's NNLS adapted to the simplex, as in Wolfe's minimum-norm-point algorithm): the
support has at most K + 1 donors, so each step is a tiny linear solve, and a warm start from the
previous support (the outer optimiser moves V a little at a time) usually finishes in one or two
steps. Cold starts, and any warm start that stalls, go to scipy's NNLS, through the identity
``min_{z>=0} ||M z||^2 + (1'z - 1)^2`` has ``z = t w*`` with ``w*`` the simplex solution.

Example:
    >>> import numpy as np
    >>> M = np.array([[1.0, -1.0, 2.0], [1.0, 1.0, 2.0]])
    >>> np.round(simplex_min_norm(M), 6)   # nearest point of the hull to 0 is (0, 1)
    array([0.5, 0.5, 0. ])
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import lapack
from scipy.optimize import nnls

_TOL = 1e-12      # optimality slack, relative to the scale of M'M (M is rescaled to max |M| = 1)
_DROP = 1e-15     # weights this small after a ratio step leave the support


def simplex_min_norm(M: np.ndarray, support: np.ndarray | None = None) -> np.ndarray:
    """argmin ||M w||^2 over w >= 0, sum(w) = 1; ``support`` (donor indices) warm-starts it.

    Example:
        >>> simplex_min_norm(np.array([[3.0, 1.0]]))
        array([0., 1.])
    """
    M = np.asarray(M, dtype=float)
    scale = np.abs(M).max()
    if not np.isfinite(scale):
        raise ValueError("non-finite values in the synthetic control problem")
    if scale == 0.0:
        return np.full(M.shape[1], 1.0 / M.shape[1])
    M = M / scale
    # cold: scipy's compiled NNLS beats our Python loop adding donors one at a time
    w = None if support is None or len(support) == 0 else _active_set(M, support)
    return _nnls_cold(M) if w is None else w


def _nnls_cold(M: np.ndarray) -> np.ndarray:
    K, J = M.shape
    z, _ = nnls(np.vstack([M, np.ones((1, J))]), np.r_[np.zeros(K), 1.0], maxiter=50 * J)
    return z / z.sum()


def _affine_ls(MS: np.ndarray) -> np.ndarray | None:
    """argmin ||MS u||^2 subject to sum(u) = 1 (no sign constraint), via the KKT system."""
    s = MS.shape[1]
    kkt = np.empty((s + 1, s + 1))
    kkt[:s, :s] = MS.T @ MS
    kkt[:s, s] = 1.0
    kkt[s, :s] = 1.0
    kkt[s, s] = 0.0
    rhs = np.zeros(s + 1)
    rhs[s] = 1.0
    # LAPACK directly: numpy's solve costs more in checks than the 3x3..12x12 solve itself
    _, _, x, info = lapack.dgesv(kkt, rhs, overwrite_a=1, overwrite_b=1)
    if info != 0:
        return None
    u = x[:s]
    return u if np.isfinite(u).all() else None


def _active_set(M: np.ndarray, support: np.ndarray | None) -> np.ndarray | None:
    K, J = M.shape
    if support is None or len(support) == 0:
        # start at the donor nearest the target: a vertex of the simplex, always feasible
        S = [int(np.argmin((M * M).sum(axis=0)))]
    else:
        S = [int(j) for j in support[: K + 1]]
    ws = np.full(len(S), 1.0 / len(S))          # current (feasible) weights on S
    # the first solve may go negative from a warm start: the ratio test below keeps it feasible
    for _ in range(4 * J + 20):
        MS = M[:, S]
        u = _affine_ls(MS)
        if u is None:
            if len(S) == 1:
                return None
            S, ws = [S[int(np.argmax(ws))]], np.ones(1)   # degenerate support: restart
            continue
        if u.min() > 0:
            Mw = MS @ u
            g = Mw @ M                            # half the gradient of ||Mw||^2
            val = float(Mw @ Mw)
            g[S] = np.inf
            j = int(np.argmin(g))
            if g[j] >= val - _TOL * max(1.0, val):
                w = np.zeros(J)
                w[S] = u
                return w
            S.append(j)
            ws = np.append(u, 0.0)
            continue
        # step from ws towards u until the first weight reaches zero, then drop it
        neg = np.flatnonzero(u <= 0)
        ratios = ws[neg] / (ws[neg] - u[neg])
        k = int(np.argmin(ratios))
        ws = ws + ratios[k] * (u - ws)
        ws[neg[k]] = 0.0
        keep = ws > _DROP
        S = [j for j, kp in zip(S, keep) if kp]
        ws = ws[keep] / ws[keep].sum()
    return None
