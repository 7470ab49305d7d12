"""Andrews, Roth & Pakes (2023) conditional and hybrid tests of moment inequalities with nuisance
parameters, as HonestDiD uses them for relative-magnitude restrictions.

The test of ``H0: E[y] - X delta <= 0 for some delta`` solves the linear programme
``eta = min_{eta, delta} eta  s.t.  y - X delta <= eta * sd(y)`` and conditions on the binding set
(the "primal" approach when the optimum is unique and the binding rows have full rank, the "dual"
bisection of ARP appendix D otherwise). The ``"LF"`` hybrid first rejects when ``eta`` exceeds the
least-favourable critical value at size ``kappa`` (simulated), then runs the conditional test at
size ``(alpha - kappa) / (1 - kappa)`` with the upper truncation capped at that value.

This follows R HonestDiD 0.2.x ``arp-nuisance.R`` through its Python port ``honestdid`` 0.1.1
(function by function: ``.lp_conditional_test_fn``, ``.test_delta_lp_fn``, ``.vlo_vup_dual_fn``,
``.compute_least_favorable_cv``), with scipy's HiGHS for every linear programme.

Example:
    >>> import numpy as np
    >>> y = np.array([-1.0, -2.0]); X = np.zeros((2, 0)); sigma = np.eye(2)
    >>> conditional_test(y, X, sigma, alpha=0.05)   # both moments comfortably satisfied
    False
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import optimize, stats

TOL_LAMBDA = 1e-6        # HonestDiD: a moment binds when its dual weight exceeds this
TOL_EQUALITY = 1e-6      # HonestDiD: the dual bisection's tolerance on the LP optimum
MAX_VERTEX_SUPPORTS = 20_000   # above this many candidate supports, solving LPs is cheaper
TOL_C = 1e-6             # HonestDiD: the dual bisection's tolerance on the truncation point


def lp_eta(y: np.ndarray, X: np.ndarray, sigma: np.ndarray):
    """``min eta s.t. y - X delta <= eta * sd`` -> (eta, delta, dual weights) or None if it failed."""
    sd = np.sqrt(np.diag(sigma))
    k = X.shape[1]
    cost = np.zeros(1 + k)
    cost[0] = 1.0
    res = optimize.linprog(cost, A_ub=np.column_stack([-sd, -X]), b_ub=-y,
                           bounds=[(None, None)] * (1 + k), method="highs")
    if not res.success:
        return None
    return res.x[0], res.x[1:], -res.ineqlin.marginals


def truncated_normal_quantile(p: float, lo: float, hi: float) -> float:
    """Quantile ``p`` of a standard normal truncated to ``[lo, hi]`` (HonestDiD's norminvp_generalized)."""
    if lo >= hi:
        return lo
    if np.isinf(lo) and np.isinf(hi):
        return float(stats.norm.ppf(p))
    return float(stats.truncnorm.ppf(p, lo, hi))


def least_favorable_cv(X: np.ndarray, sigma: np.ndarray, kappa: float, sims: int = 1000,
                       seed: int = 0) -> float:
    """The ``1 - kappa`` quantile of ``eta`` when every moment holds with equality (simulated).

    Draws with ``numpy.random.RandomState(seed).multivariate_normal``, as honestdid 0.1.1 does, so
    the same seed gives the package's draws.
    """
    draws = np.random.RandomState(seed).multivariate_normal(np.zeros(sigma.shape[0]), sigma, size=sims)
    if math.comb(X.shape[0], X.shape[1] + 1) > MAX_VERTEX_SUPPORTS:    # long windows: one LP per draw
        eta = np.array([r[0] for r in (lp_eta(xi, X, sigma) for xi in draws) if r is not None])
    else:
        vertices = dual_vertices(X, np.sqrt(np.diag(sigma)))
        eta = (draws @ vertices.T).max(axis=1) if len(vertices) else np.array([])
    return float(np.quantile(eta, 1 - kappa)) if len(eta) else math.inf


def dual_vertices(X: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Vertices of ``{lam >= 0, sd'lam = 1, X'lam = 0}``, the feasible set of the dual of :func:`lp_eta`.

    The set does not depend on ``y``, so ``eta(y) = max over vertices of lam'y``: the least-favourable
    simulation then needs one matrix product instead of one linear programme per draw (the
    optimum of a bounded LP is attained at a vertex, so the value is the same).
    """
    m, k = X.shape
    constraint = np.column_stack([sd, X]).T            # (k + 1) x m
    rhs = np.zeros(k + 1)
    rhs[0] = 1.0
    out = []
    for support in itertools.combinations(range(m), k + 1):
        sub = constraint[:, support]
        if abs(np.linalg.det(sub)) < 1e-12:
            continue
        lam = np.linalg.solve(sub, rhs)
        if (lam >= -1e-12).all():
            full = np.zeros(m)
            full[list(support)] = lam
            out.append(full)
    return np.array(out)


def _max_program(s_t, gamma, sigma, W, c):
    """``max f'x s.t. W'x = e1, x >= 0`` with ``f = s + Sigma gamma c / gamma' Sigma gamma``."""
    f = s_t + (sigma @ gamma) * c / (gamma @ sigma @ gamma)
    beq = np.zeros(W.shape[1])
    beq[0] = 1.0
    res = optimize.linprog(-f, A_eq=W.T, b_eq=beq, bounds=[(0, None)] * len(f), method="highs")
    return res


def _is_solution(c, s_t, gamma, sigma, W):
    res = _max_program(s_t, gamma, sigma, W, c)
    return res, bool(res.success and abs(c + res.fun) <= TOL_EQUALITY)


def _roundeps(x: float) -> float:
    return 0.0 if abs(x) < np.finfo(float).eps ** 0.75 else float(x)


def _dual_bound(eta, s_t, gamma, sigma, W, start, upper: bool) -> float:
    """One end of the truncation interval by ARP's Algorithm 1 (fixed-point steps, then bisection)."""
    res, ok = _is_solution(start, s_t, gamma, sigma, W)
    if ok:
        return math.inf if upper else -math.inf
    b = sigma @ gamma / (gamma @ sigma @ gamma)
    dif, iters = 0.0, 1
    mid = _roundeps(res.x @ s_t) / (1 - res.x @ b)
    res, ok = _is_solution(mid, s_t, gamma, sigma, W)
    while not ok:
        iters += 1
        if iters >= 10:          # HonestDiD's switch from fixed-point steps to bisection
            dif = TOL_C + 1
            break
        mid = _roundeps(res.x @ s_t) / (1 - res.x @ b)
        res, ok = _is_solution(mid, s_t, gamma, sigma, W)
    inside, outside = eta, mid
    while dif > TOL_C and iters < 10000:
        iters += 1
        mid = (inside + outside) / 2
        if _is_solution(mid, s_t, gamma, sigma, W)[1]:
            inside = mid
        else:
            outside = mid
        dif = abs(outside - inside)
    return mid


def _dual_vlo_vup(y, X, eta, gamma, sigma):
    sd = np.sqrt(np.diag(sigma))
    W = np.column_stack([sd, X])
    gsg = gamma @ sigma @ gamma
    s_t = y - sigma @ gamma * (gamma @ y) / gsg
    if not _is_solution(eta, s_t, gamma, sigma, W)[1]:
        return eta, math.inf
    scale = math.sqrt(gsg)
    vup = _dual_bound(eta, s_t, gamma, sigma, W, max(100.0, eta + 20 * scale), upper=True)
    vlo = _dual_bound(eta, s_t, gamma, sigma, W, min(-100.0, eta - 20 * scale), upper=False)
    return vlo, vup


def conditional_test(y: np.ndarray, X: np.ndarray, sigma: np.ndarray, alpha: float,
                     lf_cv: float | None = None, kappa: float = 0.0) -> bool:
    """True when ARP's conditional test (or the LF hybrid, given ``lf_cv``) rejects ``E[y] <= X delta``."""
    sol = lp_eta(y, X, sigma)
    if sol is None:                      # HonestDiD: "LP for eta did not converge. Not rejecting."
        return False
    eta, _, lam = sol
    size = alpha
    if lf_cv is not None:
        if eta > lf_cv:
            return True
        size = (alpha - kappa) / (1 - kappa)
    k = X.shape[1]
    binding = lam > TOL_LAMBDA
    X_b = X[binding]
    full_rank = k == 0 or (X_b.size > 0 and np.linalg.matrix_rank(X_b) == min(X_b.shape))
    cap = math.inf if lf_cv is None else lf_cv
    if k > 0 and (binding.sum() != k + 1 or not full_rank):
        gamma = lam
        var = gamma @ sigma @ gamma
        if abs(var) < np.finfo(float).eps:
            return bool(eta > 0)
        scale = math.sqrt(var)
        vlo, vup = _dual_vlo_vup(y, X, eta, gamma, sigma)
        lo, hi, stat = vlo / scale, min(vup, cap) / scale, eta / scale
    else:
        if k == 0:                       # no nuisance: the binding moment is the largest normalised one
            binding = np.zeros(len(y), dtype=bool)
            binding[np.argmax(y / np.sqrt(np.diag(sigma)))] = True
        sd = np.sqrt(np.diag(sigma))
        eye = np.eye(len(y))
        cb, cbc = np.column_stack([sd[binding], X[binding]]), np.column_stack([sd[~binding], X[~binding]])
        inv_sb = np.linalg.solve(cb, eye[binding])
        gamma_b = cbc @ inv_sb - eye[~binding]
        v_b = inv_sb[0]
        var = v_b @ sigma @ v_b
        rho = gamma_b @ sigma @ v_b / var
        maximand = -(gamma_b @ y) / rho + v_b @ y
        vlo = maximand[rho > 0].max() if (rho > 0).any() else -math.inf
        vup = maximand[rho < 0].min() if (rho < 0).any() else math.inf
        scale = math.sqrt(var)
        lo, hi, stat = vlo / scale, min(vup, cap) / scale, eta / scale
    if not lo <= stat <= hi:
        return False
    return bool(stat > max(0.0, truncated_normal_quantile(1 - size, lo, hi)))


def conditional_tests_no_nuisance(Y: np.ndarray, sigma: np.ndarray, alpha: float,
                                  lf_cv: float | None = None, kappa: float = 0.0) -> np.ndarray:
    """:func:`conditional_test` for many ``y`` (rows of ``Y``) at once when there is no nuisance.

    With no nuisance parameter (a single post period, or a target that uses every post period's
    coefficient) the linear programme's optimum is the largest normalised moment, ``eta = max_j
    y_j / sd_j``, and the conditioning event depends on ``y`` only through which ``j`` binds, so
    the whole grid of ``theta`` values is tested with array arithmetic instead of one LP each (the
    same formulas as the primal branch of :func:`conditional_test`).
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    sd = np.sqrt(np.diag(sigma))
    z = Y / sd
    j_star = np.argmax(z, axis=1)
    eta = z[np.arange(len(Y)), j_star]
    reject = np.zeros(len(Y), dtype=bool)
    size, cap = alpha, math.inf
    if lf_cv is not None:
        size, cap = (alpha - kappa) / (1 - kappa), lf_cv
    for j in np.unique(j_star):
        rows = np.flatnonzero(j_star == j)
        others = np.arange(len(sd)) != j
        v_b = np.zeros(len(sd))
        v_b[j] = 1 / sd[j]
        gamma_b = np.outer(sd[others] / sd[j], np.eye(len(sd))[j]) - np.eye(len(sd))[others]
        var = v_b @ sigma @ v_b
        rho = gamma_b @ sigma @ v_b / var
        y = Y[rows]
        maximand = -(y @ gamma_b.T) / rho + (y @ v_b)[:, None]
        vlo = maximand[:, rho > 0].max(axis=1) if (rho > 0).any() else np.full(len(rows), -math.inf)
        vup = maximand[:, rho < 0].min(axis=1) if (rho < 0).any() else np.full(len(rows), math.inf)
        scale = math.sqrt(var)
        lo, hi, stat = vlo / scale, np.minimum(vup, cap) / scale, eta[rows] / scale
        inside = (lo <= stat) & (stat <= hi)
        crit = _truncated_normal_quantiles(1 - size, lo, hi, inside)
        reject[rows] = inside & (stat > np.maximum(0.0, crit))
    if lf_cv is not None:
        reject |= eta > lf_cv
    return reject


def _truncated_normal_quantiles(p: float, lo: np.ndarray, hi: np.ndarray, use: np.ndarray) -> np.ndarray:
    """:func:`truncated_normal_quantile` element by element (inf where ``use`` is False)."""
    out = np.full(len(lo), math.inf)
    empty = use & (lo >= hi)
    out[empty] = lo[empty]
    both_inf = use & ~empty & np.isinf(lo) & np.isinf(hi)
    out[both_inf] = stats.norm.ppf(p)
    rest = use & ~empty & ~both_inf
    if rest.any():
        out[rest] = stats.truncnorm.ppf(p, lo[rest], hi[rest])
    return out
