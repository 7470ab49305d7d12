"""The outer problem: the diagonal V that makes the synthetic unit track the pre-period outcome.

As R Synth does, V is searched from two starting values (equal weights and the regression-based
weights of Synth's ``synth()``), the pre-period outcome MSPE over ``time_optimize_ssr`` is the loss,
and the best result of every start and method wins (first found wins ties). The methods:

- ``"nelder-mead"``: on Synth's own parameterisation, ``V = |x| / sum |x|``, with R ``optim``'s
  first simplex (steps of 0.1 x the largest start value) and its stopping rule (relative change of
  the loss below 1.5e-8), restarted from where it stopped until a restart gains less than 1e-6 of
  the loss (at most ``restarts`` times). The loss is flat in many directions of V and has kinks
  where a donor enters or leaves, so one simplex often stops early: on Proposition 99 one run from
  equal V ends at MSPE 3.159 with Colorado at 0.138, restarts reach 3.0767 and ADH's weights;
- ``"bfgs"``: on a softmax parameterisation (``V = exp(t) / sum exp(t)``) with the exact gradient:
  for the donors with positive weight the inner KKT system is differentiated, which costs one extra
  tiny solve (Synth's BFGS uses finite differences, 2K extra inner solves per step).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X0, Z0 = rng.normal(size=(3, 6)), rng.normal(size=(5, 6))
    >>> fit = fit_v(X0, X0[:, :2].mean(axis=1), Z0, Z0[:, :2].mean(axis=1))
    >>> round(fit.loss_v, 12)
    0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from joinedup.impact.synthetic._qp import simplex_min_norm

METHODS = ("nelder-mead", "bfgs")
STARTS = ("equal", "regression")
_RELTOL = 1.490116e-08   # R optim's default reltol, sqrt(.Machine$double.eps)
_RESTART_GAIN = 1e-6     # restart Nelder-Mead while a restart still gains this much (relative)


@dataclass(frozen=True)
class OuterFit:
    v: np.ndarray          # normalised diagonal of V
    w: np.ndarray          # donor weights
    loss_v: float          # outcome MSPE over time_optimize_ssr
    loss_w: float          # (x1 - X0 w)' V (x1 - X0 w) on the standardised predictors
    start: str
    method: str
    evaluations: int


def solve_w(v: np.ndarray, X0: np.ndarray, x1: np.ndarray, support=None) -> np.ndarray:
    """Donor weights for a given (normalised) V: the inner QP."""
    return simplex_min_norm(np.sqrt(v)[:, None] * (X0 - x1[:, None]), support)


def regression_start(X0: np.ndarray, x1: np.ndarray, Z0: np.ndarray, Z1: np.ndarray) -> np.ndarray | None:
    """Synth's regression-based start: diag(B B') of the OLS of outcomes on predictors, normalised."""
    X = np.column_stack([np.ones(X0.shape[1] + 1), np.column_stack([x1, X0]).T])
    Z = np.column_stack([Z1, Z0])
    try:
        beta = np.linalg.solve(X.T @ X, X.T @ Z.T)[1:]
    except np.linalg.LinAlgError:
        return None
    sv = np.einsum("kt,kt->k", beta, beta)
    if not np.all(np.isfinite(sv)) or sv.sum() <= 0:
        return None
    return sv / sv.sum()


class _Problem:
    """Loss (and gradient) of V, remembering the last support to warm-start the next inner QP."""

    def __init__(self, X0, x1, Z0, Z1):
        self.X0, self.x1, self.Z0, self.Z1 = X0, x1, Z0, Z1
        self.support = None
        self.calls = 0

    def weights(self, v):
        self.calls += 1
        w = solve_w(v, self.X0, self.x1, self.support)
        self.support = np.flatnonzero(w > 0)
        return w

    def loss(self, v) -> float:
        e = self.Z1 - self.Z0 @ self.weights(v)
        return float(e @ e) / len(e)

    def loss_grad(self, v) -> tuple[float, np.ndarray]:
        w = self.weights(v)
        S = self.support
        e = self.Z1 - self.Z0 @ w
        T = len(e)
        r = self.x1 - self.X0 @ w
        XS = self.X0[:, S]
        s = len(S)
        kkt = np.zeros((s + 1, s + 1))
        kkt[:s, :s] = XS.T @ (v[:, None] * XS)
        kkt[:s, s] = kkt[s, :s] = 1.0
        rhs = np.r_[self.Z0[:, S].T @ e, 0.0]
        # adjoint of the KKT system on the support: d loss / d v_k = -2/T r_k (X0_S[k] . y)
        y = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:s]
        return float(e @ e) / T, -2.0 / T * r * (XS @ y)


def fit_v(X0: np.ndarray, x1: np.ndarray, Z0: np.ndarray, Z1: np.ndarray,
          methods=METHODS, starts=STARTS, maxiter: int = 1000, restarts: int = 10) -> OuterFit:
    """Nested optimisation of V; ``X0``/``x1`` are the standardised predictors (K x J, K)."""
    K = X0.shape[0]
    prob = _Problem(X0, x1, Z0, Z1)
    best: OuterFit | None = None
    for start in starts:
        v0 = np.full(K, 1.0 / K) if start == "equal" else regression_start(X0, x1, Z0, Z1)
        if v0 is None:
            continue
        for method in methods:
            prob.support, prob.calls = None, 0
            if method == "nelder-mead":
                v = _nelder_mead(prob, v0, maxiter, restarts)
            else:
                v = _bfgs(prob, v0, maxiter)
            w = solve_w(v, X0, x1)
            fit = _finish(v, w, X0, x1, Z0, Z1, start, method, prob.calls)
            if best is None or fit.loss_v < best.loss_v:
                best = fit
    if best is None:  # K == 1 or no usable start: V is trivially the single predictor
        v = np.full(K, 1.0 / K)
        best = _finish(v, solve_w(v, X0, x1), X0, x1, Z0, Z1, "equal", "none", 1)
    return best


def fixed_v(v: np.ndarray, X0, x1, Z0, Z1, label: str = "custom") -> OuterFit:
    """Weights for a given V (normalised here, as Synth's ``custom.v``)."""
    v = np.abs(np.asarray(v, dtype=float))
    if v.shape != (X0.shape[0],) or not np.isfinite(v).all() or v.sum() <= 0:
        raise ValueError(f"v must be {X0.shape[0]} non-negative numbers, not all zero; got {v!r}")
    v = v / v.sum()
    return _finish(v, solve_w(v, X0, x1), X0, x1, Z0, Z1, label, label, 1)


def _finish(v, w, X0, x1, Z0, Z1, start, method, calls) -> OuterFit:
    d = x1 - X0 @ w
    e = Z1 - Z0 @ w
    return OuterFit(v, w, float(e @ e) / len(e), float(d @ (v * d)), start, method, calls)


def _nelder_mead(prob: _Problem, v0: np.ndarray, maxiter: int, restarts: int) -> np.ndarray:
    def f(x):
        a = np.abs(x)
        total = a.sum()
        return prob.loss(a / total) if total > 0 else np.inf

    v, fv = v0, f(v0)
    for _ in range(1 + restarts):
        size = 0.1 * np.abs(v).max() or 0.1
        simplex = np.vstack([v, v + size * np.eye(len(v))])
        res = minimize(f, v, method="Nelder-Mead",
                       options={"initial_simplex": simplex, "maxfev": maxiter, "xatol": np.inf,
                                "fatol": _RELTOL * (abs(fv) + _RELTOL)})
        a = np.abs(res.x)
        gain = fv - res.fun
        if res.fun < fv:
            v, fv = a / a.sum(), float(res.fun)
        if gain <= _RESTART_GAIN * abs(fv) or fv <= 1e-300:
            break
    return v


def _bfgs(prob: _Problem, v0: np.ndarray, maxiter: int) -> np.ndarray:
    theta0 = np.log(np.maximum(v0, 1e-12))
    scale = max(prob.loss(v0), 1e-300)

    def fg(theta):
        z = np.exp(theta - theta.max())
        v = z / z.sum()
        val, g = prob.loss_grad(v)
        return val / scale, v * (g - v @ g) / scale

    res = minimize(fg, theta0, jac=True, method="BFGS", options={"maxiter": maxiter, "gtol": 1e-9})
    z = np.exp(res.x - res.x.max())
    return z / z.sum()
