"""Optimal fixed-length confidence intervals (FLCIs) under smoothness restrictions ``Delta^SD(M)``
(Rambachan & Roth 2023, section 4.1; Armstrong & Kolesar 2018): the trend violation's slope changes
by at most ``M`` between consecutive periods, ``|(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M``.

The interval is ``a + v' beta -+ chi``, an affine estimator of ``theta = l' tau_post`` whose pre-period
weights are chosen to minimise the half-length ``chi = cv_alpha(bias / sd) * sd``, where ``bias`` is
the estimator's worst-case bias over ``Delta^SD(M)`` and ``cv_alpha(b)`` the ``1 - alpha`` quantile of
``|N(b, 1)|``. As R HonestDiD ``findOptimalFLCI``: for each ``h`` the smallest worst-case bias with
``sd <= h`` is a convex programme in the weights ``w`` (``l_pre`` in first differences); ``h`` is then
searched between the minimum-variance estimator's ``sd`` and the ``sd`` of the estimator that puts all
weight on the last pre-period. Differences from the package, on purpose: the folded-normal quantile is
solved exactly (R and honestdid simulate it from 10^6 draws, good to about 0.1%), and ``h`` is found
by Brent's bounded search rather than a 100-step bisection on finite differences.

Example:
    >>> import numpy as np
    >>> round(folded_normal_quantile(0.95, 0.0), 4)      # the usual 1.96
    1.96
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats


def folded_normal_quantile(p: float, mu: float) -> float:
    """The ``p`` quantile of ``|N(mu, 1)|``."""
    mu = abs(mu)
    return float(optimize.brentq(lambda x: stats.norm.cdf(x - mu) - stats.norm.cdf(-x - mu) - p,
                                 0.0, mu + 10.0, xtol=1e-14))


def _w_to_l(n_pre: int) -> np.ndarray:
    """``l_pre = D w``: the pre-period weights from their running sums ``w`` (HonestDiD's w-space)."""
    return np.eye(n_pre) - np.eye(n_pre, k=-1)


def _variance_parts(sigma, n_pre, l_vec):
    """``var(w) = w'Qw + q'w + c`` for the estimator ``(D w)' beta_pre + l' beta_post``."""
    D = _w_to_l(n_pre)
    pre, post = slice(0, n_pre), slice(n_pre, None)
    return (D.T @ sigma[pre, pre] @ D, 2 * D.T @ sigma[pre, post] @ l_vec,
            float(l_vec @ sigma[post, post] @ l_vec))


def _bias_constant(l_vec) -> float:
    n = len(l_vec)
    j = np.arange(1, n + 1)
    return sum(abs(np.arange(1, s + 1) @ l_vec[n - s:]) for s in range(1, n + 1)) - float(j @ l_vec)


def _min_variance_w(Q, q, target):
    """``argmin w'Qw + q'w s.t. sum(w) = target`` (KKT system)."""
    k = len(q)
    kkt = np.block([[2 * Q, np.ones((k, 1))], [np.ones((1, k)), np.zeros((1, 1))]])
    return np.linalg.solve(kkt, np.concatenate([-q, [target]]))[:k]


def _min_bias_given_h(h, Q, q, c, target, w0):
    """Smallest ``sum |cumsum(w)|`` (the bias per unit of M, less a constant) with ``sd(w) <= h``."""
    k = len(q)
    tri = np.tril(np.ones((k, k)))
    cons = [{"type": "ineq", "fun": lambda x: x[:k] - tri @ x[k:], "jac": lambda x: np.hstack([np.eye(k), -tri])},
            {"type": "ineq", "fun": lambda x: x[:k] + tri @ x[k:], "jac": lambda x: np.hstack([np.eye(k), tri])},
            {"type": "eq", "fun": lambda x: x[k:].sum() - target,
             "jac": lambda x: np.concatenate([np.zeros(k), np.ones(k)])},
            {"type": "ineq", "fun": lambda x: h ** 2 - (x[k:] @ Q @ x[k:] + q @ x[k:] + c),
             "jac": lambda x: np.concatenate([np.zeros(k), -(2 * Q @ x[k:] + q)])}]
    x0 = np.concatenate([np.abs(tri @ w0), w0])
    res = optimize.minimize(lambda x: x[:k].sum(), x0, jac=lambda x: np.concatenate([np.ones(k), np.zeros(k)]),
                            constraints=cons, method="SLSQP", options={"ftol": 1e-13, "maxiter": 500})
    w = res.x[k:]
    return float(np.abs(tri @ w).sum()), w


def optimal_flci(beta, sigma, n_pre: int, n_post: int, l_vec, m: float, alpha: float = 0.05):
    """(lower, upper, weights) of the optimal FLCI for ``l' tau_post`` under ``Delta^SD(m)``.

    ``weights`` is the full vector ``v`` (pre then post) of the affine estimator ``v' beta``.
    """
    l_vec = np.asarray(l_vec, dtype=float)
    Q, q, c = _variance_parts(sigma, n_pre, l_vec)
    target = float(np.arange(1, n_post + 1) @ l_vec)
    const = _bias_constant(l_vec)
    w_min = _min_variance_w(Q, q, target)
    h_min = math.sqrt(max(w_min @ Q @ w_min + q @ w_min + c, 0.0))
    w_last = np.zeros(n_pre)
    w_last[-1] = target
    h_zero_bias = math.sqrt(max(w_last @ Q @ w_last + q @ w_last + c, 0.0))
    z = 1 - alpha

    def half_length(h):
        bias = m * (const + _min_bias_given_h(h, Q, q, c, target, w_last)[0])
        return folded_normal_quantile(z, bias / h) * h

    if m == 0 or h_zero_bias <= h_min * (1 + 1e-12):
        w = w_min if m == 0 else w_last
        h = h_min if m == 0 else h_zero_bias
        chi = folded_normal_quantile(z, m * (const + np.abs(np.cumsum(w)).sum()) / h) * h
    else:
        res = optimize.minimize_scalar(half_length, bounds=(h_min, h_zero_bias), method="bounded",
                                       options={"xatol": 1e-10 * h_zero_bias})
        h = float(res.x)
        candidates = [(half_length(h_zero_bias), h_zero_bias), (res.fun, h)]
        chi, h = min(candidates)
        w = _min_bias_given_h(h, Q, q, c, target, w_last)[1]
    weights = np.concatenate([_w_to_l(n_pre) @ w, l_vec])
    estimate = float(weights @ beta)
    return estimate - chi, estimate + chi, weights
