"""Distance measures: the propensity score (R ``glm``, gradient boosting), Mahalanobis, prognostic.

``glm_fit`` is R's ``glm.fit`` for a binomial family written out: the same starting values
(``mustart = (y + 0.5) / 2``), the same link functions with R's clamps at |eta| = 30, the same IRLS
step and the same stopping rule (|dev - dev_old| / (|dev| + 0.1) < 1e-8, at most 25 iterations), so
it stops at the same iterate as R and the coefficients agree with R's to rounding.

Example:
    >>> import numpy as np
    >>> x = np.column_stack([np.ones(6), [1.0, 2, 3, 4, 5, 6]])
    >>> fit = glm_fit(x, np.array([0, 0, 1, 0, 1, 1]))
    >>> bool(fit.converged), fit.coefficients.round(4).tolist()
    (True, [-4.2491, 1.214])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

_EPS = np.finfo(float).eps
_THRESH = 30.0  # R family.c: logit_linkinv / logit_mu_eta clamp beyond |eta| = 30


@dataclass(frozen=True)
class GlmFit:
    coefficients: np.ndarray  # NaN where a column is aliased (R reports NA)
    fitted: np.ndarray        # mu, the propensity score
    linear_predictor: np.ndarray
    deviance: float
    iterations: int
    converged: bool
    link: str


def _logit_inv(eta):
    e = np.exp(eta)
    if eta.min() < -_THRESH or eta.max() > _THRESH:  # rare: R's clamps
        e = np.where(eta < -_THRESH, _EPS, np.where(eta > _THRESH, 1 / _EPS, e))
    return e / (1 + e)


def _logit_mu_eta(eta):
    e = np.exp(np.clip(eta, -_THRESH, _THRESH))
    out = e / (1 + e) ** 2
    if eta.min() < -_THRESH or eta.max() > _THRESH:
        out[np.abs(eta) > _THRESH] = _EPS
    return out


_PROBIT_T = -stats.norm.ppf(_EPS)

LINKS = {
    "logit": (special.logit, _logit_inv, _logit_mu_eta),
    "probit": (stats.norm.ppf, lambda eta: stats.norm.cdf(np.clip(eta, -_PROBIT_T, _PROBIT_T)),
               lambda eta: np.maximum(stats.norm.pdf(eta), _EPS)),
    "cloglog": (lambda mu: np.log(-np.log1p(-mu)),
                lambda eta: np.clip(-np.expm1(-np.exp(eta)), _EPS, 1 - _EPS),
                lambda eta: np.maximum(np.exp(np.minimum(eta, 700)) * np.exp(-np.exp(np.minimum(eta, 700))), _EPS)),
}


def _deviance(y, mu):
    one = y == 1
    return float(-2 * (np.log(mu[one]).sum() + np.log1p(-mu[~one]).sum()))


def _kept_columns(x: np.ndarray, tol: float = 1e-7) -> np.ndarray:
    """Columns that are not linear combinations of earlier ones (R keeps the first and reports NA
    for the aliased one, as its pivoting QR ``dqrdc2`` does). Judged on the Gram matrix of
    unit-norm columns (cheap for a million rows); a borderline case is settled by a QR."""
    norms = np.sqrt(np.einsum("ij,ij->j", x, x))
    unit = np.where(norms > 0, norms, 1)
    gram = sum(c.T @ c for c in (x[r] / unit for r in _chunks(len(x))))
    keep: list[int] = []
    for j in range(x.shape[1]):
        if norms[j] == 0:
            continue
        g = gram[keep, j]
        r2 = gram[j, j] - (g @ np.linalg.solve(gram[np.ix_(keep, keep)], g) if keep else 0.0)
        if 1e-13 < r2 < 1e-9:  # borderline: the Gram matrix cannot tell, ask a QR
            xs = x[:, keep + [j]] / unit[keep + [j]]
            q, _ = np.linalg.qr(xs[:, :-1])
            r2 = float(np.sum((xs[:, -1] - q @ (q.T @ xs[:, -1])) ** 2))
        if r2 > tol ** 2:
            keep.append(j)
    return np.array(keep, dtype=int)


CHUNK_ROWS = 1 << 20  # rows per block of the weighted cross-products


def _chunks(n: int) -> list[slice]:
    """Row blocks of at most CHUNK_ROWS: the cross-products are summed block by block, so no
    second n x k matrix is held (10 million controls x 9 columns is 720 MB at scale 1.0); up to
    CHUNK_ROWS rows it is one block and the arithmetic is exactly the unblocked one."""
    return [slice(i, min(i + CHUNK_ROWS, n)) for i in range(0, max(n, 1), CHUNK_ROWS)]


def _irls_step(x: np.ndarray, scale: np.ndarray, y: np.ndarray, eta: np.ndarray, mu: np.ndarray,
               mu_eta) -> np.ndarray:
    """One IRLS step: the least squares of the working response on the unit-norm columns ``x / scale``,
    each row weighted by its working weight, by the semi-normal equations with one step of iterative
    refinement (as accurate as a QR for the well-scaled designs IRLS sees, and several times faster
    on a million rows). Built block by block: the scaled design, the working weights and the working
    response exist only for CHUNK_ROWS rows at a time, never as n-long copies (at scale 1.0 the
    scaled copy of 10 million controls x 9 columns alone was 720 MB); each block's values are those
    the whole-array arithmetic gives, so the fit is unchanged to the last bit."""
    from scipy.linalg import cho_factor, cho_solve

    def weighted(r):
        e, m = eta[r], mu[r]
        g = mu_eta(e)
        w = np.sqrt(g ** 2 / (m * (1 - m)))
        return (x[r] / scale) * w[:, None], (e + (y[r] - m) / g) * w

    blocks = _chunks(len(x))
    gram, rhs = 0.0, 0.0
    for r in blocks:
        a, b = weighted(r)
        gram, rhs = gram + a.T @ a, rhs + a.T @ b
    c = cho_factor(gram)
    beta = cho_solve(c, rhs)
    refine = 0.0
    for r in blocks:
        a, b = weighted(r)
        refine = refine + a.T @ (b - a @ beta)
    return beta + cho_solve(c, refine)


def _linear_predictor(x: np.ndarray, scale: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``(x / scale) @ beta`` row by row, a block at a time (identical covariate rows get identical
    scores, as R's do)."""
    eta = np.empty(len(x))
    for r in _chunks(len(x)):
        eta[r] = np.einsum("ij,j->i", x[r] / scale, beta)
    return eta


def glm_fit(x: np.ndarray, y: np.ndarray, link: str = "logit", epsilon: float = 1e-8,
            maxit: int = 25) -> GlmFit:
    """Binomial GLM by IRLS exactly as R's ``glm.fit`` (see module docstring)."""
    if link not in LINKS:
        raise ValueError(f"link must be one of {', '.join(map(repr, LINKS))}; got {link!r}")
    linkfun, linkinv, mu_eta = LINKS[link]
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    keep = _kept_columns(x)
    # every column kept (the usual case): no x[:, keep] copy, the same values (10 million controls x 9
    # columns is 720 MB a copy at scale 1.0, and two were made here)
    kept = x if len(keep) == x.shape[1] else x[:, keep]
    scale = np.sqrt(np.einsum("ij,ij->j", kept, kept))  # unit-norm columns: conditioning
    mu = (y + 0.5) / 2.0
    eta = linkfun(mu)
    mu = linkinv(eta)
    dev_old = _deviance(y, mu)
    beta = np.zeros(len(keep))
    converged = False
    it = 0
    for it in range(1, maxit + 1):
        beta = _irls_step(kept, scale, y, eta, mu, mu_eta)
        eta = _linear_predictor(kept, scale, beta)
        mu = linkinv(eta)
        dev = _deviance(y, mu)
        if abs(dev - dev_old) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        dev_old = dev
    coef = np.full(x.shape[1], np.nan)
    coef[keep] = beta / scale
    return GlmFit(coef, mu, eta, dev, it, converged, link)


def propensity_glm(x: np.ndarray, treat: np.ndarray, link: str = "logit") -> tuple[np.ndarray, GlmFit]:
    """MatchIt's ``distance = "glm"``: the fitted probability, or the linear predictor when
    ``link`` starts with ``"linear."`` (``link = "linear.logit"``)."""
    linear = link.startswith("linear.")
    fit = glm_fit(x, treat, link=link.removeprefix("linear."))
    if not fit.converged:
        import warnings

        warnings.warn(f"the propensity model did not converge in {fit.iterations} iterations "
                      "(R: 'glm.fit: algorithm did not converge')", RuntimeWarning, stacklevel=3)
    return (fit.linear_predictor if linear else fit.fitted), fit


def propensity_gbm(x: np.ndarray, treat: np.ndarray, seed=None) -> tuple[np.ndarray, object]:
    """Gradient-boosted propensity score (scikit-learn's ``HistGradientBoostingClassifier``).

    Not MatchIt's ``gbm`` (which tunes the number of trees by cross-validation in R ``gbm``), so
    scores and matches differ from R's; use it as a flexible alternative to the logistic model.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(random_state=seed).fit(x, treat)
    return model.predict_proba(x)[:, 1], model


def prognostic_score(x: np.ndarray, treat: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hansen's (2008) prognostic score: the outcome predicted from covariates by least squares
    fitted on the controls only, for every unit."""
    ctrl = treat == 0
    beta, *_ = np.linalg.lstsq(x[ctrl], outcome[ctrl], rcond=None)
    return x @ beta, beta


def mahalanobis_transform(x: np.ndarray, treat: np.ndarray, discarded: np.ndarray) -> np.ndarray:
    """Rotate covariates so Euclidean distance is Mahalanobis distance (MatchIt
    ``transform_covariates``): scale, pooled within-group covariance of the kept units, inverse (or
    generalised inverse when singular, as with every level of a factor), then a square root of it.

    Up to CHUNK_ROWS rows the covariance is numpy's ``cov`` of the group-centred rows (MatchIt's
    parity tests); beyond, the same sums are taken a block of rows at a time, and the rotation is
    written over the standardised copy in place: at scale 1.0 (10 million controls x 6 columns) the
    whole-array route held four 480 MB copies at once beside the caller's."""
    x = np.asarray(x, dtype=float)
    spread = x.max(axis=0) - x.min(axis=0)
    wide = spread >= np.sqrt(_EPS)
    if not wide.all():
        x = x[:, wide]  # constant columns carry no distance
    if x.shape[1] == 0:
        return np.zeros((len(treat), 1))
    sd = x.std(axis=0, ddof=1)
    x = x - x.mean(axis=0)  # a new array: the caller's is left alone
    x /= sd  # in place: one n x k array, not two
    keep = ~discarded
    cov = _within_group_cov(x, treat, keep) if len(x) > CHUNK_ROWS else _within_group_cov_small(x, treat, keep)
    if np.linalg.det(cov) > 1e-8:
        inv = np.linalg.inv(cov)
    else:
        u, d, vt = np.linalg.svd(cov)
        pos = d > max(1e-8 * d[0], 0)
        inv = (vt[pos].T / d[pos]) @ u[:, pos].T
    vals, vecs = np.linalg.eigh((inv + inv.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0, None))  # inv = root @ root.T
    for r in _chunks(len(x)):  # up to CHUNK_ROWS rows one block: exactly x @ root
        x[r] = x[r] @ root
    return x


def _within_group_cov_small(x: np.ndarray, treat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The pooled within-group covariance of the kept rows, as MatchIt computes it (whole arrays)."""
    xc = x[keep]  # a boolean mask copies already
    tk = treat[keep]
    for g in (0, 1):
        xc[tk == g] -= xc[tk == g].mean(axis=0)
    return np.atleast_2d(np.cov(xc, rowvar=False)) * (len(xc) - 1) / (len(xc) - 2)


def _within_group_cov(x: np.ndarray, treat: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """:func:`_within_group_cov_small` from sums over row blocks: each group's mean, then the
    cross-products of the group-centred rows about their overall mean (``np.cov``'s centring),
    over ``n - 2``. Equal to it up to the order of summation."""
    k = x.shape[1]
    rows = np.flatnonzero(keep)
    tk = treat[rows]
    means = {}
    for g in (0, 1):
        members = rows[tk == g]
        total = np.zeros(k)
        for r in _chunks(len(members)):
            total += x[members[r]].sum(axis=0)
        means[g] = total / max(len(members), 1)
    n = len(rows)
    gram, total = np.zeros((k, k)), np.zeros(k)
    for r in _chunks(n):
        block = x[rows[r]] - np.where((tk[r] == 1)[:, None], means[1], means[0])
        gram += block.T @ block
        total += block.sum(axis=0)
    centre = total / n
    return np.atleast_2d(gram - n * np.outer(centre, centre)) / (n - 2)
