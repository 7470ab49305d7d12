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

Method = Literal["REML", "DL", "FE", "PM", "ML", "HE", "SJ", "EB"]
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
    """tau2 with its SE (NaN for FE), coefficients, their model-based covariance
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


def _dl(y, v, x) -> tuple[float, float]:
    """DerSimonian-Laird and its SE (metafor: P with W = diag(1/vi), truncated tau2 in the SE)."""
    k, p = x.shape
    w, inv, _ = _wls(y, v, x, 0.0)
    pm = _p_matrix(w, x, inv)
    tr = np.trace(pm)
    tau2 = max(0.0, (residual_q(y, v, x) - (k - p)) / tr)
    return tau2, float(np.sqrt((2 * (k - p) + 4 * tau2 * tr + 2 * tau2 ** 2 * np.sum(pm * pm)) / tr ** 2))


def _hedges_raw(y, v, x) -> tuple[float, np.ndarray]:
    """Hedges' (HE) unweighted method of moments before truncation, (RSS - tr(P0 V)) / (k - p) with the
    ordinary residual-maker P0 = I - X (X'X)^-1 X', and P0 V (metafor's PV)."""
    k, p = x.shape
    p0 = np.eye(k) - x @ np.linalg.pinv(x)
    resid = p0 @ y
    pv = p0 * v[None, :]
    return float((resid @ resid - np.trace(pv)) / (k - p)), pv


def _he(y, v, x) -> tuple[float, float]:
    """Hedges' estimator truncated at 0, and metafor's SE:
    sqrt((2 tr(PV PV) + 4 tau2 tr(PV) + 2 tau2^2 (k - p)) / (k - p)^2)."""
    k, p = x.shape
    raw, pv = _hedges_raw(y, v, x)
    tau2 = max(0.0, raw)
    var = (2 * np.sum(pv * pv.T) + 4 * tau2 * np.trace(pv) + 2 * tau2 ** 2 * (k - p)) / (k - p) ** 2
    return tau2, float(np.sqrt(var))


def _sj(y, v, x) -> tuple[float, float]:
    """Sidik-Jonkman: tau2_0 Q_0 / (k - p), Q_0 the residual Q with weights 1/(vi + tau2_0) and, as metafor,
    the starting value tau2_0 = var(y) (k - 1) / k of the raw estimates (with moderators too); never
    negative. SE as metafor: tau2_0 / (k - p) sqrt(2 tr(PV PV) + 4 tau2 tr(PV P) + 2 tau2^2 tr(PP))."""
    k, p = x.shape
    tau2_0 = float(np.var(y))
    w, inv, _ = _wls(y, v, x, tau2_0)
    pm = _p_matrix(w, x, inv)
    tau2 = max(0.0, tau2_0 * float(y @ pm @ y) / (k - p))
    pv = pm * v[None, :]
    var = 2 * np.sum(pv * pv.T) + 4 * tau2 * np.sum(pv * pm) + 2 * tau2 ** 2 * np.sum(pm * pm)
    return tau2, float(tau2_0 / (k - p) * np.sqrt(var))


def _pm_se(v, x, tau2) -> float:
    """metafor's SE for the Paule-Mandel and empirical Bayes estimators: sqrt(2 k^2 / (k - p)) / sum w."""
    k, p = x.shape
    return float(np.sqrt(2 * k ** 2 / (k - p)) / np.sum(1 / (v + tau2)))


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
    step until the change is below ``tol``; negative values are truncated at 0 (metafor halves a step
    that would cross 0 instead: the same limit, reached exactly here). ``EB`` uses the same loop with
    the empirical Bayes step."""
    k, p = x.shape
    tau2 = max(0.0, _hedges_raw(y, v, x)[0])  # Hedges (HE) starting value, metafor's default
    for it in range(1, max_iter + 1):
        w, inv, _ = _wls(y, v, x, tau2)
        pm = _p_matrix(w, x, inv)
        py = pm @ y
        if method == "REML":
            step = (py @ py - np.trace(pm)) / np.trace(pm @ pm)
        elif method == "ML":  # the score uses W where REML uses P
            step = (py @ py - np.sum(w)) / np.sum(w ** 2)
        else:  # EB (Morris): metafor's step (y'Py k / (k - p) - k) / sum w; its fixed point is PM's
            step = (y @ py * k / (k - p) - k) / np.sum(w)
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < tol:
            return new, it
        tau2 = new
    raise RuntimeError(f"{method} estimation of tau2 did not converge in {max_iter} iterations (tol = {tol})")


def fit_model(y, v, x, method: Method, tol: float = 1e-10, max_iter: int = 1000) -> Fit:
    """Estimate tau2 by ``method`` and the coefficients by weighted least squares with 1/(vi + tau2).

    The SE of tau2 is metafor's ``se.tau2`` for every estimator: the inverse Fisher information for REML
    and ML, the variance of the moment estimators (DL, HE, SJ) given tau2, and sqrt(2 k^2 / (k - p)) / sum w
    for PM and EB; NaN for FE.
    """
    check_method(method)
    it, tau2_se = 0, float("nan")
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2, tau2_se = _dl(y, v, x)
    elif method == "HE":
        tau2, tau2_se = _he(y, v, x)
    elif method == "SJ":
        tau2, tau2_se = _sj(y, v, x)
    elif method == "PM":
        tau2 = _pm(y, v, x, tol)
    else:
        tau2, it = _scoring(y, v, x, method, tol, max_iter)
    w, inv, b = _wls(y, v, x, tau2)
    if method == "REML":
        pm = _p_matrix(w, x, inv)
        tau2_se = float(np.sqrt(2 / np.trace(pm @ pm)))
    elif method == "ML":
        tau2_se = float(np.sqrt(2 / np.sum(w ** 2)))
    elif method in ("PM", "EB"):
        tau2_se = _pm_se(v, x, tau2)
    return Fit(float(tau2), tau2_se, b, inv, w, it)
