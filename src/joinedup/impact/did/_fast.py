"""The DRDID estimators for intercept-only designs, for many ATT(g,t) cells at once.

Without covariates the propensity score is the (weighted) share treated, ``p``, and the outcome
regression the weighted control mean, so ``drdid_panel``, ``std_ipw_did_panel`` and
``reg_did_panel`` reduce to weighted means, and their influence functions to

    psi = dy * A + sum_j  U_j * v_j

with unit-level coefficients ``A``, ``U_j`` (which depend only on who is treated, who is a control
and the weights) and cell-level scalars ``v_j``. With an intercept only, the terms for estimating the
regression coefficient cancel exactly between the treated and the control parts (DRDID's ``M1``
and ``M3`` equal the means of the two weights). The functions evaluate this for a block of cells
(columns) at once; a test checks them against the per-cell estimators of :mod:`._drdid` to 1e-13.
Masks may be ``n x k`` (a cell's own units) or ``n x 1`` (units shared by all cells of a block, as
with never-treated controls), in which case the coefficients are vectors and only ``dy`` is a matrix.

Example:
    >>> import numpy as np
    >>> from joinedup.impact.did._drdid import drdid_panel
    >>> dy = np.array([[2.0], [3.0], [1.0], [0.0], [2.0]])
    >>> treat = np.array([[1], [1], [0], [0], [0]], bool)
    >>> att, inf = intercept_only_cells(dy, treat, ~treat, np.ones(5), "dr")
    >>> ref = drdid_panel(dy[:, 0], treat[:, 0] * 1.0, np.ones((5, 1)), np.ones(5))
    >>> bool(np.isclose(att[0], ref[0]) and np.allclose(inf[:, 0], ref[1]))
    True
"""

from __future__ import annotations

import numpy as np

from joinedup.impact.did._drdid import TRIM_LEVEL


def _colsum(weights: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Column sums of ``weights * mat``; a matrix-vector product when the weights are one column."""
    return weights[:, 0] @ mat if weights.shape[1] == 1 else np.einsum("ij,ij->j", weights, mat)


def intercept_only_cells(dy: np.ndarray, treat: np.ndarray, ctrl: np.ndarray, w: np.ndarray,
                         est_method: str, n_total: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ATT and influence functions of k cells (columns) for the n rows (units) given.

    ``dy`` (n x k) outcome changes; ``treat`` / ``ctrl`` masks of each cell's units (n x k, or n x 1
    when shared). The influence function is 0 off a cell's units and scaled by ``n / n_cell`` as R
    does, with ``n = n_total`` when the rows are a subset of the panel's units (default: all rows).
    Cells with no control, or whose controls all fall to trimming, come back NaN.
    """
    n = dy.shape[0] if n_total is None else n_total
    inside = treat | ctrl
    n1 = inside.sum(axis=0).astype(float)
    a = np.where(inside, w[:, None], 0.0)
    a = a / (a.sum(axis=0) / n1)                 # weights normalised to mean 1 within each cell
    ad = np.where(treat, a, 0.0)
    ac = np.where(ctrl, a, 0.0)
    sum_ad, sum_ac = ad.sum(axis=0), ac.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.minimum(sum_ad / (sum_ad + sum_ac), 1 - 1e-6)   # the logit MLE with only an intercept
        mean_c = _colsum(ac, dy) / sum_ac
        mean_t = _colsum(ad, dy) / sum_ad
        mt = sum_ad / n1                                       # mean(w.treat)
        ad_mt = ad / mt
        if est_method == "reg":
            xpx_inv = n1 / sum_ac
            coef = ad_mt - ac * xpx_inv
            att = mean_t - mean_c
            inf = dy * coef - ad_mt * mean_t + (ac * xpx_inv) * mean_c
        else:
            odds = np.where(p < TRIM_LEVEL, p / (1 - p), 0.0)  # DRDID trims controls with ps >= 0.995
            w_cont = ac * odds
            mc = sum_ac * odds / n1                            # mean(w.cont)
            wc_mc = w_cont / mc
            hess = n1 / (p * (1 - p) * a.sum(axis=0))
            score = a * (np.where(treat, 1.0, 0.0) - p)
            coef = ad_mt - wc_mc
            if est_method == "dr":
                # resid = dy - mean_c; eta.treat = mean_t - mean_c; eta.cont = weighted mean of resid
                eta_t = mean_t - mean_c
                eta_c = _colsum(w_cont, dy) / n1 / mc - mean_c
                m2 = _colsum(w_cont, dy) / n1 - (mean_c + eta_c) * mc
                att = eta_t - eta_c
                inf = dy * coef - coef * mean_c - ad_mt * eta_t + wc_mc * eta_c - score * (hess * m2 / mc)
            else:
                eta_c = _colsum(w_cont, dy) / n1 / mc
                m2 = _colsum(w_cont, dy) / n1 - eta_c * mc
                att = mean_t - eta_c
                inf = dy * coef - ad_mt * mean_t + wc_mc * eta_c - score * (hess * m2 / mc)
        inf *= n / n1
    att = np.broadcast_to(att, (dy.shape[1],)).copy()
    bad = ~np.isfinite(att)
    att[bad] = np.nan
    inf[:, bad] = np.nan
    return att, inf
