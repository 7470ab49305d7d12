"""Estimators behind :mod:`joinedup.synthesis.meta`: input checks and the between-study variance tau2.

All estimators work on a design matrix ``x`` (a column of ones for a plain meta-analysis), so the same
code serves ``meta_analysis`` and ``meta_regression``, as in metafor's ``rma.uni``.

Example:
    >>> import numpy as np
    >>> fit = fit_model(np.array([0.1, 0.5, 0.9]), np.array([0.01, 0.01, 0.01]), np.ones((3, 1)), "DL")
    >>> round(fit.tau2, 4)
    0.15
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from scipy import optimize

Method = Literal["REML", "DL", "FE", "PM", "ML"]
METHODS: tuple[str, ...] = get_args(Method)


def check_method(method) -> None:
    """Raise a ValueError listing the allowed estimators when ``method`` is not one of them."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(repr(m) for m in METHODS)}; got {method!r}")


def check_options(knha, level, tol) -> None:
    """Validate the options shared by ``meta_analysis`` and ``meta_regression``."""
    if not isinstance(knha, (bool, np.bool_)):
        raise ValueError(f"knha must be True or False; got {knha!r}")
    if not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1 (e.g. 0.95); got {level!r}")
    if not isinstance(tol, (int, float)) or not tol > 0:
        raise ValueError(f"tol must be a positive number; got {tol!r}")


def check_inputs(yi, vi) -> tuple[np.ndarray, np.ndarray]:
    """Effect sizes and sampling variances as float arrays, with errors naming the bad position."""
    try:
        y, v = np.asarray(yi, dtype=float).ravel(), np.asarray(vi, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"yi and vi must be numeric: {exc}") from None
    if len(y) != len(v):
        raise ValueError(f"yi has {len(y)} values but vi has {len(v)}")
    for name, arr in (("yi", y), ("vi", v)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            raise ValueError(f"{name}[{bad[0]}] is missing or not finite ({arr[bad[0]]})")
    bad = np.flatnonzero(v <= 0)
    if len(bad):
        i = bad[0]
        # a zero variance would get infinite weight: the pooled estimate would be that study alone
        raise ValueError(f"vi[{i}] is {'zero' if v[i] == 0 else 'negative'} ({v[i]}): sampling variances "
                         "must be positive")
    if len(y) < 2:
        raise ValueError(f"a meta-analysis needs at least 2 estimates; got k = {len(y)}")
    return y, v


@dataclass(frozen=True)
class Fit:
    """tau2 with its SE (NaN where metafor gives none here), coefficients, their model-based covariance
    (before any Knapp-Hartung factor), the weights 1/(vi + tau2) and the iterations used."""

    tau2: float
    tau2_se: float
    beta: np.ndarray
    vcov: np.ndarray
    w: np.ndarray
    iterations: int


def _wls(y, v, x, tau2):
    w = 1 / (v + tau2)
    inv = np.linalg.inv(x.T @ (x * w[:, None]))
    return w, inv, inv @ (x.T @ (w * y))


def _p_matrix(w, x, inv):
    """P = W - W X (X'WX)^-1 X'W: residual-maker in the weighted metric (metafor's P)."""
    return np.diag(w) - (w[:, None] * x) @ inv @ (x.T * w)


def typical_variance(v, x) -> float:
    """metafor's "typical" within-study variance s2 = (k - p) / tr(P) with W = diag(1/vi); for an
    intercept-only model this is (k - 1) sum w / ((sum w)^2 - sum w^2)."""
    w, inv, _ = _wls(np.zeros(len(v)), v, x, 0.0)
    return (x.shape[0] - x.shape[1]) / np.trace(_p_matrix(w, x, inv))


def residual_q(y, v, x) -> float:
    """Cochran's Q (QE with moderators): weighted residual sum of squares of the fixed-effect fit."""
    w, _, b = _wls(y, v, x, 0.0)
    return float(np.sum(w * (y - x @ b) ** 2))


def _dl(y, v, x) -> float:
    k, p = x.shape
    w, inv, _ = _wls(y, v, x, 0.0)
    return max(0.0, (residual_q(y, v, x) - (k - p)) / np.trace(_p_matrix(w, x, inv)))


def _pm(y, v, x, tol) -> float:
    # Paule-Mandel: the tau2 at which the generalised Q equals its expectation k - p; Q decreases in tau2
    k, p = x.shape

    def excess(t):
        w, _, b = _wls(y, v, x, t)
        return np.sum(w * (y - x @ b) ** 2) - (k - p)

    if excess(0.0) <= 0:
        return 0.0
    hi = max(1.0, 10 * np.var(y))
    while excess(hi) > 0:
        hi *= 10
    return float(optimize.brentq(excess, 0.0, hi, xtol=tol, rtol=4 * np.finfo(float).eps))


def _scoring(y, v, x, method, tol, max_iter) -> tuple[float, int]:
    """Fisher scoring on the (restricted) likelihood, as metafor: start from the Hedges estimator,
    step until the change is below ``tol``; negative values are truncated at 0."""
    k, p = x.shape
    hat = x @ np.linalg.pinv(x)
    resid = y - hat @ y
    # Hedges (HE) starting value, metafor's default: (RSS - tr(P0 V)) / (k - p) with unweighted P0
    tau2 = max(0.0, (resid @ resid - np.sum(np.diag(np.eye(k) - hat) * v)) / (k - p))
    for it in range(1, max_iter + 1):
        w, inv, _ = _wls(y, v, x, tau2)
        pm = _p_matrix(w, x, inv)
        py = pm @ y
        if method == "REML":
            step = (py @ py - np.trace(pm)) / np.trace(pm @ pm)
        else:  # ML: the score uses W where REML uses P
            step = (py @ py - np.sum(w)) / np.sum(w ** 2)
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < tol:
            return new, it
        tau2 = new
    raise RuntimeError(f"{method} estimation of tau2 did not converge in {max_iter} iterations (tol = {tol})")


def fit_model(y, v, x, method: Method, tol: float = 1e-10, max_iter: int = 1000) -> Fit:
    """Estimate tau2 by ``method`` and the coefficients by weighted least squares with 1/(vi + tau2)."""
    check_method(method)
    it = 0
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = _dl(y, v, x)
    elif method == "PM":
        tau2 = _pm(y, v, x, tol)
    else:
        tau2, it = _scoring(y, v, x, method, tol, max_iter)
    w, inv, b = _wls(y, v, x, tau2)
    # SE of tau2 from the inverse Fisher information, as metafor prints for REML and ML
    if method == "REML":
        pm = _p_matrix(w, x, inv)
        tau2_se = float(np.sqrt(2 / np.trace(pm @ pm)))
    elif method == "ML":
        tau2_se = float(np.sqrt(2 / np.sum(w ** 2)))
    else:
        tau2_se = float("nan")
    return Fit(float(tau2), tau2_se, b, inv, w, it)
