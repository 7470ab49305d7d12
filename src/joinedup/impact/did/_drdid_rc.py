"""Two-period DiD estimators for repeated cross-sections, with influence functions, as R ``DRDID``
(``drdid_rc``, ``reg_did_rc``, ``std_ipw_did_rc``), which R ``did`` calls for every ATT(g,t) when
``panel = FALSE`` or an unbalanced panel is allowed.

Each takes the outcome ``y`` of every observation, ``post`` (1 in the later period of the cell),
the treatment indicator ``d``, the design ``x`` (n x k, intercept first; each observation's own
covariates) and weights ``w``, and returns ``(att, influence)`` with one influence value per
observation, scaled so that ``sqrt(mean(influence**2) / n)`` is the standard error.
``drdid_rc`` is Sant'Anna & Zhao's (2020) locally efficient doubly robust estimator: the one R
``did`` uses by default (its four outcome regressions make it locally efficient; the "improved"
``drdid_imp_rc`` of DRDID is not what ``did`` calls).

Example:
    >>> import numpy as np
    >>> y = np.array([1, 4, 0, 1, 2, 3.0]); post = np.array([0, 1, 0, 1, 0, 1.0])
    >>> d = np.array([1, 1, 0, 0, 0, 0.0])
    >>> att, inf = reg_did_rc(y, post, d, np.ones((6, 1)), np.ones(6))
    >>> round(float(att), 6)       # (4 - 1) - mean(1 - 0, 3 - 2)
    2.0
"""

from __future__ import annotations

import numpy as np

from joinedup.impact.did._drdid import TRIM_LEVEL, logit_fit, rcond


def _wls(x: np.ndarray, y: np.ndarray, w: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Weighted least squares on the rows in ``mask``; raise (as DRDID) on a singular design."""
    xm, wm = x[mask], w[mask]
    if x.shape[1] == 1:                       # intercept only: a weighted mean (no LAPACK calls)
        sw = np.dot(wm, xm[:, 0] * xm[:, 0])
        if not sw > 0:
            raise np.linalg.LinAlgError("no observations with positive weight in a treatment-period group")
        return np.array([np.dot(wm * xm[:, 0], y[mask]) / sw])
    xtx = (xm * wm[:, None]).T @ xm
    if len(xm) == 0 or rcond(xtx) < np.finfo(float).eps:
        raise np.linalg.LinAlgError("the outcome regression design matrix is singular (too few observations "
                                    "or collinear covariates in a treatment-period group)")
    return np.linalg.solve(xtx, (xm * wm[:, None]).T @ y[mask])


def _ols_rep(x, y, w, mask, beta, n):
    """Asymptotic linear representation of the WLS coefficients fitted on ``mask`` (n x k)."""
    wm = w * mask
    if x.shape[1] == 1:
        xpx = np.dot(wm, x[:, 0] * x[:, 0]) / n
        if not xpx > 0:
            raise np.linalg.LinAlgError("The regression design matrix is singular")
        return x * (wm * (y - x[:, 0] * beta[0]) / xpx)[:, None]
    xpx = (x * wm[:, None]).T @ x / n
    if rcond(xpx) < np.finfo(float).eps:
        raise np.linalg.LinAlgError("The regression design matrix is singular")
    return (x * (wm * (y - x @ beta))[:, None]) @ np.linalg.inv(xpx)


def _pscore(x, d, w, trim_level):
    """Capped logit propensity scores, the trimming indicator and the logit's linear representation."""
    n = len(d)
    ps = np.minimum(logit_fit(x, d, w), 1 - 1e-6)
    trim = np.where(d == 1, ps < 1.01, ps < trim_level)
    if x.shape[1] == 1:
        hess = np.array([[n / np.dot(ps * (1 - ps) * w, x[:, 0] * x[:, 0])]])
    else:
        hess = np.linalg.inv((x * (ps * (1 - ps) * w)[:, None]).T @ x) * n
    return ps, trim, (x * (w * (d - ps))[:, None]) @ hess


def _ratio(weights: np.ndarray, values: np.ndarray):
    """Hajek mean of ``values`` with ``weights`` and its influence terms ``w (v - mean) / mean(w)``."""
    mw = weights.mean()
    m = np.mean(weights * values) / mw
    return m, weights * (values - m) / mw, mw


def reg_did_rc(y, post, d, x, w):
    """Outcome-regression DiD for repeated cross-sections (Heckman, Ichimura & Todd 1997), as
    ``DRDID::reg_did_rc``: control-group regressions in each period, imputed for the treated."""
    n = len(d)
    w = w / w.mean()
    c0, c1 = (d == 0) & (post == 0), (d == 0) & (post == 1)
    b0, b1 = _wls(x, y, w, c0), _wls(x, y, w, c1)
    out0, out1 = x @ b0, x @ b1
    w_pre, w_post, w_d = w * d * (1 - post), w * d * post, w * d
    eta_pre, inf_pre, _ = _ratio(w_pre, y)
    eta_post, inf_post, _ = _ratio(w_post, y)
    eta_cont, inf_cont1, m_d = _ratio(w_d, out1 - out0)
    att = (eta_post - eta_pre) - eta_cont
    m1 = (x * w_d[:, None]).mean(axis=0)
    inf_cont2 = (_ols_rep(x, y, w, c1, b1, n) - _ols_rep(x, y, w, c0, b0, n)) @ m1 / m_d
    return att, (inf_post - inf_pre) - (inf_cont1 + inf_cont2)


def std_ipw_did_rc(y, post, d, x, w, trim_level: float = TRIM_LEVEL):
    """Normalised (Hajek) IPW DiD for repeated cross-sections (Abadie 2005), as ``DRDID::std_ipw_did_rc``."""
    w = w / w.mean()
    ps, trim, ps_rep = _pscore(x, d, w, trim_level)
    odds = ps / (1 - ps)
    parts = {}
    for name, wt in (("tpre", trim * w * d * (1 - post)), ("tpost", trim * w * d * post),
                     ("cpre", trim * w * odds * (1 - d) * (1 - post)), ("cpost", trim * w * odds * (1 - d) * post)):
        parts[name] = (*_ratio(wt, y), wt)
    att = (parts["tpost"][0] - parts["tpre"][0]) - (parts["cpost"][0] - parts["cpre"][0])

    def m2(key):
        m, _, mw, wt = parts[key]
        return (x * (wt * (y - m))[:, None]).mean(axis=0) / mw

    inf_treat = parts["tpost"][1] - parts["tpre"][1]
    inf_cont = parts["cpost"][1] - parts["cpre"][1] + ps_rep @ (m2("cpost") - m2("cpre"))
    return att, inf_treat - inf_cont


def drdid_rc(y, post, d, x, w, trim_level: float = TRIM_LEVEL):
    """Locally efficient doubly robust DiD for repeated cross-sections (Sant'Anna & Zhao 2020), as
    ``DRDID::drdid_rc``: logit propensity score and outcome regressions for both groups in both periods."""
    n = len(d)
    w = w / w.mean()
    ps, trim, ps_rep = _pscore(x, d, w, trim_level)
    masks = {"c0": (d == 0) & (post == 0), "c1": (d == 0) & (post == 1),
             "t0": (d == 1) & (post == 0), "t1": (d == 1) & (post == 1)}
    beta = {k: _wls(x, y, w, m) for k, m in masks.items()}
    out = {k: x @ b for k, b in beta.items()}
    out_c = post * out["c1"] + (1 - post) * out["c0"]
    resid = y - out_c
    odds = ps / (1 - ps)
    w_tpre, w_tpost = trim * w * d * (1 - post), trim * w * d * post
    w_cpre, w_cpost = trim * w * odds * (1 - d) * (1 - post), trim * w * odds * (1 - d) * post
    w_d, w_dt1, w_dt0 = trim * w * d, trim * w * d * post, trim * w * d * (1 - post)

    a_tpre, i_tpre, m_tpre = _ratio(w_tpre, resid)
    a_tpost, i_tpost, m_tpost = _ratio(w_tpost, resid)
    a_cpre, i_cpre, m_cpre = _ratio(w_cpre, resid)
    a_cpost, i_cpost, m_cpost = _ratio(w_cpost, resid)
    diff1, diff0 = out["t1"] - out["c1"], out["t0"] - out["c0"]
    a_d1, i_d1, m_d = _ratio(w_d, diff1)
    a_dt1, i_dt1, m_dt1 = _ratio(w_dt1, diff1)
    a_d0, i_d0, _ = _ratio(w_d, diff0)
    a_dt0, i_dt0, m_dt0 = _ratio(w_dt0, diff0)
    att = (a_tpost - a_tpre) - (a_cpost - a_cpre) + (a_d1 - a_dt1) - (a_d0 - a_dt0)

    rep = {k: _ols_rep(x, y, w, masks[k], beta[k], n) for k in masks}

    def colmean(v):
        return (x * v[:, None]).mean(axis=0)

    # DRDID's M1 and M3 multiply by post (1 - post) again: idempotent, kept for the same arithmetic
    inf_treat_or = rep["c1"] @ (-colmean(w_tpost * post) / m_tpost) - rep["c0"] @ (-colmean(w_tpre * (1 - post)) / m_tpre)
    inf_cont_ps = ps_rep @ (colmean(w_cpost * (resid - a_cpost)) / m_cpost - colmean(w_cpre * (resid - a_cpre)) / m_cpre)
    inf_cont_or = rep["c1"] @ (-colmean(w_cpost * post) / m_cpost) - rep["c0"] @ (-colmean(w_cpre * (1 - post)) / m_cpre)
    inf_eff = (i_d1 - i_dt1) - (i_d0 - i_dt0)
    mom_post = colmean(w_d / m_d - w_dt1 / m_dt1)
    mom_pre = colmean(w_d / m_d - w_dt0 / m_dt0)
    inf_or = (rep["t1"] - rep["c1"]) @ mom_post - (rep["t0"] - rep["c0"]) @ mom_pre
    inf_treat = i_tpost - i_tpre + inf_treat_or
    inf_cont = i_cpost - i_cpre + inf_cont_ps + inf_cont_or
    return att, inf_treat - inf_cont + inf_eff + inf_or


RC_ESTIMATORS = {"dr": drdid_rc, "ipw": std_ipw_did_rc, "reg": reg_did_rc}
