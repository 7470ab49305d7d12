"""Two-period panel DiD estimators with their influence functions, as R ``DRDID`` 1.2
(``drdid_panel``, ``std_ipw_did_panel``, ``reg_did_panel``), which R ``did`` calls for every ATT(g,t).

Each takes the outcome change ``dy = y1 - y0``, the treatment indicator ``d``, the design ``x``
(n x k, intercept first) and weights ``w``, and returns ``(att, influence)`` with one influence value
per unit, scaled so that ``sqrt(mean(influence**2) / n)`` is the standard error.

Example:
    >>> import numpy as np
    >>> d = np.array([1, 1, 0, 0, 0.0]); dy = np.array([2, 3, 1, 0, 2.0])
    >>> att, inf = drdid_panel(dy, d, np.ones((5, 1)), np.ones(5))
    >>> round(float(att), 6)
    1.5
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import LinAlgWarning, lapack, lu_factor

TRIM_LEVEL = 0.995  # DRDID's default: controls with pscore >= 0.995 get no weight


def logit_fit(x: np.ndarray, d: np.ndarray, w: np.ndarray, tol: float = 1e-12, maxit: int = 100) -> np.ndarray:
    """Fitted probabilities of a weighted logistic regression of ``d`` on ``x`` (Newton/IRLS).

    Intercept-only designs have the closed form ``sum(w d) / sum(w)``, which the iterations would
    only approximate.

    Example:
        >>> x = np.column_stack([np.ones(4), [0, 1, 2, 3.0]])
        >>> p = logit_fit(x, np.array([0, 1, 0, 1.0]), np.ones(4))
        >>> bool(np.all((p > 0) & (p < 1)))
        True
    """
    if x.shape[1] == 1 and np.all(x[:, 0] == x[0, 0]):
        return np.full(len(d), np.dot(w, d) / w.sum())
    beta = np.zeros(x.shape[1])
    p0 = np.clip(np.dot(w, d) / w.sum(), 1e-6, 1 - 1e-6)
    if np.all(x[:, 0] == 1.0):
        beta[0] = np.log(p0 / (1 - p0))  # start at the marginal rate: fewer steps, same optimum
    dev_old = np.inf
    for _ in range(maxit):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        wt = w * p * (1 - p)
        grad = x.T @ (w * (d - p))
        hess = (x * wt[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        eta = x @ beta
        dev = -2 * np.sum(w * (d * eta - np.logaddexp(0, eta)))
        if abs(dev - dev_old) <= tol * (abs(dev) + 0.1) and np.max(np.abs(step)) < 1e-9:
            break
        dev_old = dev
    return 1.0 / (1.0 + np.exp(-(x @ beta)))


def _wols(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted least squares coefficients (a single weighted mean for an intercept-only design)."""
    if x.shape[1] == 1:
        wx = w * x[:, 0]
        return np.array([np.dot(wx, y) / np.dot(wx, x[:, 0])])
    xw = x * w[:, None]
    return np.linalg.solve(xw.T @ x, xw.T @ y)


def rcond(a: np.ndarray) -> float:
    """Reciprocal condition number in the 1-norm, LAPACK's estimate (what R's ``rcond`` returns)."""
    if a.shape == (1, 1):
        return 1.0 if a[0, 0] != 0 and np.isfinite(a[0, 0]) else 0.0
    if not np.isfinite(a).all():
        return 0.0
    with warnings.catch_warnings():          # an exactly singular matrix is the answer 0, not a warning
        warnings.simplefilter("ignore", LinAlgWarning)
        lu, _ = lu_factor(a, check_finite=False)
    value, _ = lapack.dgecon(lu, np.abs(a).sum(axis=0).max(), norm="1")
    return float(value)


def _check_regression(x: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(X'WX / n)^{-1} over the controls; raise as DRDID does when it is singular."""
    n = len(d)
    wc = w * (1 - d)
    xpx = (x * wc[:, None]).T @ x / n
    if rcond(xpx) < np.finfo(float).eps:
        raise np.linalg.LinAlgError("The regression design matrix is singular")
    return 1.0 / xpx if xpx.shape == (1, 1) else np.linalg.inv(xpx)


def drdid_panel(dy, d, x, w, trim_level: float = TRIM_LEVEL):
    """Locally efficient doubly robust DiD (Sant'Anna & Zhao 2020), as ``DRDID::drdid_panel``.

    Logistic propensity score and an outcome regression of ``dy`` on ``x`` among controls.
    """
    n = len(d)
    w = w / w.mean()
    ps = np.minimum(logit_fit(x, d, w), 1 - 1e-6)
    trim = np.where(d == 1, ps < 1.01, ps < trim_level)
    ctrl = d == 0
    beta = _wols(x[ctrl], dy[ctrl], w[ctrl])
    resid = dy - x @ beta
    w_treat = trim * w * d
    w_cont = trim * w * ps * (1 - d) / (1 - ps)
    mt, mc = w_treat.mean(), w_cont.mean()
    eta_treat = np.dot(w_treat, resid) / n / mt
    eta_cont = np.dot(w_cont, resid) / n / mc
    att = eta_treat - eta_cont

    xpx_inv = _check_regression(x, d, w)
    wols_e = w * (1 - d) * resid                        # rows of the OLS linear representation
    hess = np.linalg.inv((x * (ps * (1 - ps) * w)[:, None]).T @ x) * n
    score = w * (d - ps)                                # rows of the logit linear representation
    m1 = (x * w_treat[:, None]).mean(axis=0)
    m2 = (x * (w_cont * (resid - eta_cont))[:, None]).mean(axis=0)
    m3 = (x * w_cont[:, None]).mean(axis=0)
    # (n x k) @ (k x k) @ k collapsed to (n x k) @ k: same linear map, far fewer flops
    inf_treat = (w_treat * (resid - eta_treat) - wols_e * (x @ (xpx_inv @ m1))) / mt
    inf_cont = (w_cont * (resid - eta_cont) + score * (x @ (hess @ m2)) - wols_e * (x @ (xpx_inv @ m3))) / mc
    return att, inf_treat - inf_cont


def std_ipw_did_panel(dy, d, x, w, trim_level: float = TRIM_LEVEL):
    """Normalised (Hajek) inverse-probability-weighted DiD, as ``DRDID::std_ipw_did_panel``."""
    n = len(d)
    w = w / w.mean()
    ps = np.minimum(logit_fit(x, d, w), 1 - 1e-6)
    trim = np.where(d == 1, ps < 1.01, ps < trim_level)
    w_treat = trim * w * d
    w_cont = trim * w * ps * (1 - d) / (1 - ps)
    mt, mc = w_treat.mean(), w_cont.mean()
    eta_treat = np.dot(w_treat, dy) / n / mt
    eta_cont = np.dot(w_cont, dy) / n / mc
    att = eta_treat - eta_cont
    hess = np.linalg.inv((x * (ps * (1 - ps) * w)[:, None]).T @ x) * n
    m2 = (x * (w_cont * (dy - eta_cont))[:, None]).mean(axis=0)
    inf_treat = w_treat * (dy - eta_treat) / mt
    inf_cont = (w_cont * (dy - eta_cont) + w * (d - ps) * (x @ (hess @ m2))) / mc
    return att, inf_treat - inf_cont


def reg_did_panel(dy, d, x, w):
    """Outcome-regression DiD (Heckman, Ichimura & Todd 1997), as ``DRDID::reg_did_panel``."""
    n = len(d)
    w = w / w.mean()
    ctrl = d == 0
    beta = _wols(x[ctrl], dy[ctrl], w[ctrl])
    out = x @ beta
    w_d = w * d                      # DRDID weights both parts by the treated (w.cont <- i.weights * D)
    md = w_d.mean()
    eta_treat = np.dot(w_d, dy) / n / md
    eta_cont = np.dot(w_d, out) / n / md
    att = eta_treat - eta_cont
    xpx_inv = _check_regression(x, d, w)
    m1 = (x * w_d[:, None]).mean(axis=0)
    inf_treat = w_d * (dy - eta_treat) / md
    inf_cont = (w_d * (out - eta_cont) + w * (1 - d) * (dy - out) * (x @ (xpx_inv @ m1))) / md
    return att, inf_treat - inf_cont


ESTIMATORS = {"dr": drdid_panel, "ipw": std_ipw_did_panel, "reg": reg_did_panel}
