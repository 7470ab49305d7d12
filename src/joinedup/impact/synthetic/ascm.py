"""Ridge-augmented synthetic control (Ben-Michael, Feller & Rothstein 2021, JASA), outcome-only.

The augmented estimator corrects the synthetic control's pre-period imbalance with a ridge outcome
model. With the pre-period outcomes centred at the donors' mean in each period (``X0``, periods x
donors; ``x1`` the treated unit), the synthetic control weights ``w`` (simplex, every pre-period
matched with V = identity) are augmented by

    adj = X0' (X0 X0' + lambda I)^-1 (x1 - X0 w)

so ``w_aug = w + adj`` (BFR 2021 eq. 7, the ``progfunc = "Ridge"`` option of R ``augsynth``). The
adjustment sums to zero (the rows of ``X0`` are centred), so ``w_aug`` sums to one but may be
negative: ridge ASCM extrapolates a little outside the donors' hull, and ``lambda`` sets how much.

``lambda`` is chosen as pysyncon 1.7.0's ``AugSynth`` chooses it (its port of augsynth's
``cv_lambda``): leave out one block of ``holdout_length`` consecutive pre-periods at a time, refit
the synthetic control on the rest, score each lambda by the squared error of the augmented weights
on the held-out block, and take the largest lambda within one standard error of the smallest mean
error (``min_1se``). The grid is pysyncon's: 21 values ``s_max^2 * r^(k - 1)``, k = 0..20, with
``s_max`` the largest singular value of ``X0`` and ``r = 1e-8^(1/20)``; pass ``lambdas`` to use
another grid, or ``lambda_`` to fix it. Covariates are not used (outcome-only, as every synthetic
design of the impact step).

Written by hand, not imported: pysyncon is in the compare group only (tests cross-check against it),
and its QP (SLSQP) is looser than the exact simplex solver synth already uses.

Example:
    >>> import pandas as pd
    >>> prop99 = pd.read_csv("california_prop99.csv", sep=";")                # doctest: +SKIP
    >>> res = ascm(prop99, "State", "Year", "PacksPerCapita", "California", 1989)  # doctest: +SKIP
    >>> round(res.att, 2), round(res.lambda_, 1)                               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from joinedup.impact.synthetic._prep import prepare
from joinedup.impact.synthetic._qp import simplex_min_norm


@dataclass(frozen=True)
class AscmResult:
    """One ridge ASCM fit: augmented and synthetic control weights, lambda, paths and gap (frozen)."""

    treated_unit: object
    treatment_time: object
    outcome: str
    weights: pd.Series            # augmented weights by donor (sum to 1, may be negative)
    scm_weights: pd.Series        # the synthetic control's simplex weights
    lambda_: float
    cv: pd.DataFrame | None       # lambda, error_mean, error_se (None when lambda_ was given)
    times: np.ndarray
    treated: np.ndarray
    synthetic: np.ndarray         # the augmented counterfactual, Y0 @ weights
    details: dict = field(default_factory=dict)

    @property
    def ridge_adjustment(self) -> pd.Series:
        """What the ridge outcome model adds to each donor's weight (sums to zero)."""
        return (self.weights - self.scm_weights).rename("ridge_adjustment")

    @property
    def pre(self) -> np.ndarray:
        return self.times < self.treatment_time

    @property
    def gap(self) -> np.ndarray:
        return self.treated - self.synthetic

    @property
    def att(self) -> float:
        """Average gap over the post-treatment periods."""
        return float(np.mean(self.gap[~self.pre]))

    @property
    def pre_rmspe(self) -> float:
        return float(np.sqrt(np.mean(self.gap[self.pre] ** 2)))

    def gaps(self) -> pd.DataFrame:
        """One row per period: time, treated, synthetic (augmented), gap, post."""
        return pd.DataFrame({"time": self.times, "treated": self.treated, "synthetic": self.synthetic,
                             "gap": self.gap, "post": ~self.pre})

    def effects(self) -> pd.DataFrame:
        """ATT by post-treatment period: time, estimate."""
        post = ~self.pre
        return pd.DataFrame({"time": self.times[post], "estimate": self.gap[post]})

    def tidy(self) -> pd.DataFrame:
        """One row: the ATT with lambda and the pre-period fit."""
        return pd.DataFrame([{
            "treated_unit": self.treated_unit, "treatment_time": self.treatment_time, "estimand": "att",
            "estimate": self.att, "lambda": self.lambda_, "pre_rmspe": self.pre_rmspe,
            "n_donors": len(self.weights), "n_negative_weights": int((self.weights < 0).sum()),
            "min_weight": float(self.weights.min())}])


def ascm(data: pd.DataFrame, unit: str, time: str, outcome: str, treated_unit, treatment_time, *,
         donors: Sequence | None = None, lambda_: float | None = None, lambdas: Sequence[float] | None = None,
         holdout_length: int = 1, min_1se: bool = True) -> AscmResult:
    """Ridge ASCM for ``treated_unit``, treated from ``treatment_time`` on (balanced panel).

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": list("aaaabbbbcccc"), "t": [1, 2, 3, 4] * 3,
        ...                    "y": [1.0, 2, 3, 9, 0, 1, 2, 3, 2, 3, 4, 5]})
        >>> res = ascm(df, "u", "t", "y", "a", 4, lambda_=1.0)
        >>> round(res.att, 6), round(float(res.weights.sum()), 6)
        (5.0, 1.0)
    """
    prep = prepare(data, unit, time, outcome, treated_unit, treatment_time, donors, None, None, "mean",
                   None, None, scale=False, outcome_only=True)
    Y = prep.Y
    pre = prep.pre
    if lambda_ is not None and not (np.isfinite(lambda_) and lambda_ > 0):
        raise ValueError(f"lambda_ must be a positive number; got {lambda_!r}")
    X0, x1 = centred(Y[pre, 1:], Y[pre, 0])
    cv = None
    if lambda_ is None:
        grid = lambda_grid(X0) if lambdas is None else np.asarray(lambdas, dtype=float)
        if grid.size == 0 or not (np.isfinite(grid).all() and (grid > 0).all()):
            raise ValueError(f"lambdas must be positive numbers; got {list(grid)}")
        cv = cross_validate(X0, x1, grid, holdout_length)
        lambda_ = best_lambda(cv, min_1se)
    w, adj = ridge_augmented_weights(X0, x1, lambda_)
    donors_ = pd.Index(prep.units[1:], name="donor")
    weights = w + adj
    return AscmResult(prep.units[0], treatment_time, outcome, pd.Series(weights, index=donors_, name="weight"),
                      pd.Series(w, index=donors_, name="scm_weight"), float(lambda_), cv, prep.times,
                      Y[:, 0].copy(), Y[:, 1:] @ weights,
                      {"holdout_length": holdout_length, "min_1se": min_1se})


def centred(Y0: np.ndarray, y1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pre-period outcomes centred at the donors' mean in each period (augsynth's ``X_c``)."""
    mean = Y0.mean(axis=1)
    return Y0 - mean[:, None], y1 - mean


def scm_weights(X0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Simplex weights minimising ||x1 - X0 w|| (the synthetic control with V = identity)."""
    return simplex_min_norm(X0 - x1[:, None])


def ridge_adjustment(X0: np.ndarray, x1: np.ndarray, w: np.ndarray, lambda_: float) -> np.ndarray:
    """``X0' (X0 X0' + lambda I)^-1 (x1 - X0 w)``: the ridge correction of the weights."""
    gram = X0 @ X0.T + lambda_ * np.eye(X0.shape[0])
    return X0.T @ np.linalg.solve(gram, x1 - X0 @ w)


def ridge_augmented_weights(X0: np.ndarray, x1: np.ndarray, lambda_: float) -> tuple[np.ndarray, np.ndarray]:
    """(synthetic control weights, ridge adjustment) on centred pre-period outcomes."""
    w = scm_weights(X0, x1)
    return w, ridge_adjustment(X0, x1, w, lambda_)


def lambda_grid(X0: np.ndarray, lambda_min_ratio: float = 1e-8, n_lambda: int = 20) -> np.ndarray:
    """pysyncon's grid: ``s_max^2 * r^(k - 1)`` for k = 0..n_lambda, ``r = ratio^(1/n_lambda)``."""
    s_max = np.linalg.svd(X0, compute_uv=False)[0]
    scaler = lambda_min_ratio ** (1 / n_lambda)
    return s_max ** 2 * scaler ** (np.arange(n_lambda + 1) - 1.0)


def cross_validate(X0: np.ndarray, x1: np.ndarray, lambdas: np.ndarray, holdout_length: int = 1) -> pd.DataFrame:
    """Leave-one-block-out errors over the pre-periods for each lambda (augsynth's ``cv_lambda``)."""
    t0 = X0.shape[0]
    if not (isinstance(holdout_length, (int, np.integer)) and 1 <= holdout_length < t0 and t0 >= 2):
        raise ValueError(f"holdout_length must be a whole number from 1 to the pre-periods less one ({t0 - 1}); "
                         f"got {holdout_length!r}")
    errors = np.empty((t0 - holdout_length, len(lambdas)))
    for i in range(t0 - holdout_length):
        out = np.zeros(t0, dtype=bool)
        out[i:i + holdout_length] = True
        Xt, xt = X0[~out], x1[~out]
        w = scm_weights(Xt, xt)
        for k, lam in enumerate(lambdas):
            w_aug = w + ridge_adjustment(Xt, xt, w, lam)
            errors[i, k] = float(np.sum((x1[out] - X0[out] @ w_aug) ** 2))
    n = errors.shape[0]
    se = errors.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros(len(lambdas))
    return pd.DataFrame({"lambda": lambdas, "error_mean": errors.mean(axis=0), "error_se": se})


def best_lambda(cv: pd.DataFrame, min_1se: bool = True) -> float:
    """The largest lambda within one SE of the smallest mean error (or the minimiser)."""
    i = int(np.argmin(cv["error_mean"].to_numpy()))
    if not min_1se:
        return float(cv["lambda"].iloc[i])
    limit = cv["error_mean"].iloc[i] + cv["error_se"].iloc[i]
    return float(cv.loc[cv["error_mean"] <= limit, "lambda"].max())
