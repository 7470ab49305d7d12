"""Entropy balancing (Hainmueller 2012): control weights that reproduce the treated moments exactly.

The weights w_i = q_i exp(lambda' c_i) / sum_j q_j exp(lambda' c_j) are closest to the base weights
q (in Kullback-Leibler divergence) among those whose weighted control means of the constraint
columns c equal the treated means. lambda minimises the convex dual log sum q exp(lambda' c) with
c centred on the treated means; we solve it by Newton's method with a backtracking line search
(the Hessian is the weighted covariance of c), on standardised columns for numerical stability.
With ``moments=2`` the squares of non-binary covariates are added, so variances match too.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 1, 0, 0, 0], "x": [2.0, 3, 1, 2, 4]})
    >>> eb = entropy_balance(df, "t", ["x"])
    >>> round(float((eb.weights[df.t == 0] * df.x[df.t == 0]).sum() / eb.weights[df.t == 0].sum()), 6)
    2.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, special

from joinedup.economics.matching.design import binary_treatment, check_columns, check_complete, covariate_matrix


@dataclass(frozen=True)
class EntropyBalanceResult:
    weights: pd.Series        # 1 for treated; controls sum to the number of controls
    lambdas: pd.Series        # dual coefficients on the standardised constraint columns
    balance: pd.DataFrame     # treated mean, control mean before and after weighting
    converged: bool
    iterations: int
    max_abs_gap: float        # largest |weighted control mean - treated mean|, original units
    ess_control: float        # (sum w)^2 / sum w^2 over controls

    def tidy(self) -> pd.DataFrame:
        return self.balance


def entropy_balance(data: pd.DataFrame, treat: str, covariates, moments: int = 1, base_weights=None,
                    tol: float = 1e-12, max_iter: int = 200) -> EntropyBalanceResult:
    """Entropy-balancing weights for the controls of ``data`` (see module docstring)."""
    if moments not in (1, 2):
        raise ValueError(f"moments must be 1 (means) or 2 (means and variances); got {moments!r}")
    covariates = list(covariates)
    check_columns(data, [treat, *covariates], what="entropy_balance")
    check_complete(data, covariates, what="covariate")
    t = binary_treatment(data[treat], treat)
    x = covariate_matrix(covariates, data)
    if moments == 2:
        sq = {f"{c}^2": x[c] ** 2 for c in x.columns if not np.all(np.isin(x[c], (0, 1)))}
        x = pd.concat([x, pd.DataFrame(sq, index=x.index)], axis=1)
    xt, xc = x.to_numpy()[t == 1], x.to_numpy()[t == 0]
    target = xt.mean(axis=0)
    scale = x.to_numpy().std(axis=0)
    keep = scale > 0
    c = (xc[:, keep] - target[keep]) / scale[keep]
    c, cols = _independent(c, np.array(x.columns)[keep])
    q = np.ones(len(xc)) if base_weights is None else np.asarray(base_weights, float)[t == 0]
    logq = np.log(q / q.sum())
    lam, converged, it = _newton(c, logq, tol, max_iter)
    eta = logq + c @ lam
    wc = np.exp(eta - special.logsumexp(eta))
    gap = np.abs(wc @ xc - target)
    weights = np.ones(len(t))
    weights[t == 0] = wc * len(wc)
    table = pd.DataFrame({"variable": x.columns, "mean_treated": target,
                          "mean_control": xc.mean(axis=0), "mean_control_weighted": wc @ xc})
    ess = float(wc.sum() ** 2 / np.sum(wc ** 2))
    return EntropyBalanceResult(pd.Series(weights, index=data.index, name="weights"),
                                pd.Series(lam, index=cols), table, converged, it,
                                float(gap.max()) if gap.size else 0.0, ess)


def _independent(c, names):
    """Drop constraint columns that repeat others (e.g. all levels of a factor sum to one)."""
    keep = []
    for j in range(c.shape[1]):
        trial = keep + [j]
        if np.linalg.matrix_rank(c[:, trial]) == len(trial):
            keep.append(j)
    return c[:, keep], names[keep]


def _newton(c, logq, tol, max_iter):
    """Minimise the dual f(l) = logsumexp(logq + c l); gradient = weighted mean of c."""
    lam = np.zeros(c.shape[1])

    def value(lam):
        return special.logsumexp(logq + c @ lam)

    f = value(lam)
    for it in range(1, max_iter + 1):
        eta = logq + c @ lam
        p = np.exp(eta - special.logsumexp(eta))
        grad = p @ c
        if np.max(np.abs(grad)) < tol:
            return lam, True, it
        centred = c - grad
        hess = (centred * p[:, None]).T @ centred
        step = linalg.solve(hess + 1e-14 * np.eye(len(lam)), grad, assume_a="pos")
        t = 1.0
        while t > 1e-10:
            new = lam - t * step
            f_new = value(new)
            if f_new <= f - 1e-4 * t * grad @ step or abs(f_new - f) < 1e-15:
                break
            t /= 2
        lam, f = new, f_new
    return lam, False, max_iter
