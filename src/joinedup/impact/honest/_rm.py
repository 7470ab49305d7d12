"""Robust confidence sets under relative-magnitude restrictions ``Delta^RM(Mbar)`` (Rambachan & Roth
2023, section 2.4.1): every post-period change in the trend violation is at most ``Mbar`` times the
largest pre-period change, ``|delta_{t+1} - delta_t| <= Mbar * max_{s<0} |delta_{s+1} - delta_s|``.

``Delta^RM`` is a union of polyhedra, one for each pre-period ``s`` whose change is the largest and
its sign; the confidence set is the union of the ARP sets over them (R HonestDiD
``computeConditionalCS_DeltaRM``), each found by testing ``theta = l' tau_post`` on a grid of
``grid_points`` values over ``+-20`` standard errors of ``l' beta_post``, only with the moments that
involve post periods (``postPeriodMomentsOnly = TRUE``, HonestDiD's default).

Example:
    >>> A = rm_constraints(2, 1, mbar=1.0, s=0, max_positive=True)
    >>> A.shape
    (5, 3)
"""

from __future__ import annotations

import numpy as np

from joinedup.impact.honest._arp import conditional_test, conditional_tests_no_nuisance, least_favorable_cv


def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, max_positive: bool) -> np.ndarray:
    """``A`` with ``A delta <= 0`` for the polyhedron where pre-period change ``s`` is the largest.

    Columns are the pre and post coefficients (the reference period's 0 dropped), as HonestDiD's
    ``.create_A_RM``: ``s`` runs over ``-(n_pre - 1), ..., 0``.
    """
    total = n_pre + n_post
    diff = np.zeros((total, total + 1))          # first differences, with the reference period
    diff[np.arange(total), np.arange(total)] = -1.0
    diff[np.arange(total), np.arange(total) + 1] = 1.0
    v = np.zeros(total + 1)
    v[n_pre + s - 1], v[n_pre + s] = -1.0, 1.0
    if not max_positive:
        v = -v
    bound = np.vstack([np.tile(v, (n_pre, 1)), np.tile(mbar * v, (n_post, 1))])
    A = np.vstack([diff - bound, -diff - bound])
    A = A[(A ** 2).sum(axis=1) > 1e-10]
    return np.delete(A, n_pre, axis=1)


def _gamma(l_vec: np.ndarray) -> np.ndarray:
    """An invertible matrix whose first row is ``l'`` and the rest unit rows (HonestDiD's RREF choice:
    the first unit vectors, left to right, that are independent of those already chosen)."""
    rows = [l_vec]
    for j in range(len(l_vec)):
        e = np.eye(len(l_vec))[j]
        if np.linalg.matrix_rank(np.vstack(rows + [e])) > len(rows):
            rows.append(e)
        if len(rows) == len(l_vec):
            break
    return np.vstack(rows)


def _accept_on_grid(beta, sigma, n_pre, n_post, A, l_vec, alpha, hybrid, kappa, grid, seed):
    d = np.zeros(A.shape[0])                     # Delta^RM's right-hand side is 0
    post = slice(n_pre, n_pre + n_post)
    rows = np.flatnonzero(np.abs(A[:, post]).sum(axis=1) > 0)
    if n_post == 1:                              # HonestDiD drops the pre-only rows outright here
        A, d = A[rows], d[rows]
        rows = np.arange(A.shape[0])
    a_gamma_inv = A[:, post] @ np.linalg.inv(_gamma(l_vec))
    Y = (A @ beta - d)[rows]
    sigma_y = (A @ sigma @ A.T)[np.ix_(rows, rows)]
    first, nuisance = a_gamma_inv[rows, 0], a_gamma_inv[rows, 1:]
    lf_cv = least_favorable_cv(nuisance, sigma_y, kappa, seed=seed) if hybrid == "LF" else None
    if nuisance.shape[1] == 0:                   # one post period: the whole grid in one pass
        return ~conditional_tests_no_nuisance(Y[None, :] - np.outer(grid, first), sigma_y, alpha, lf_cv, kappa)
    return np.array([not conditional_test(Y - first * theta, nuisance, sigma_y, alpha, lf_cv, kappa)
                     for theta in grid])


def rm_confidence_set(beta, sigma, n_pre, n_post, l_vec, mbar, alpha=0.05, method="C-LF",
                      grid_points=1000, grid_lb=None, grid_ub=None, seed=0):
    """(lower, upper) of the robust confidence set for ``l' tau_post`` under ``Delta^RM(mbar)``.

    ``method``: "C-LF" (the least-favourable hybrid, HonestDiD's default, kappa = alpha / 10) or
    "Conditional". NaN when no grid value is accepted.
    """
    sd = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    grid = np.linspace(-20 * sd if grid_lb is None else grid_lb, 20 * sd if grid_ub is None else grid_ub,
                       grid_points)
    hybrid = {"C-LF": "LF", "Conditional": "ARP"}[method]
    accept = np.zeros(grid_points, dtype=bool)
    for s in range(-(n_pre - 1), 1):
        for sign in (True, False):
            A = rm_constraints(n_pre, n_post, mbar, s, sign)
            accept |= _accept_on_grid(beta, sigma, n_pre, n_post, A, l_vec, alpha, hybrid, alpha / 10,
                                      grid, seed)
    if not accept.any():
        return np.nan, np.nan
    return float(grid[accept].min()), float(grid[accept].max())
