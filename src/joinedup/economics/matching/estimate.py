"""The effect in the matched sample: weighted difference in means with robust standard errors.

As MatchIt's vignette "Estimating Effects": ``lm(outcome ~ treat, data = md, weights = weights)``;
without replacement the SE is cluster-robust by pair subclass (``sandwich::vcovCL``, type HC1:
G/(G-1) x (n-1)/(n-k)); with replacement (no subclasses) it is heteroskedasticity-robust HC3
(``sandwich::vcovHC`` default). The estimate is the ATT (the ATC when matching targeted it).

Example:
    >>> est = att(m, "re78")                                                   # doctest: +SKIP
    >>> round(est.estimate, 1), est.se_type                                    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class AttEstimate:
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    clusters: int | None
    se_type: str
    estimand: str

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([self.__dict__])


def att(result, outcome: str, level: float = 0.95) -> AttEstimate:
    """Weighted difference in means of ``outcome`` in the matched sample (see module docstring)."""
    return att_frame(result.match_data(), outcome, result.treat_name, result.estimand, level)


def att_frame(md: pd.DataFrame, outcome: str, treat: str = "treated", estimand: str = "ATT",
              level: float = 0.95) -> AttEstimate:
    """:func:`att` on matched rows with ``weights`` (and ``subclass`` when matched without replacement).

    Example:
        >>> md = pd.DataFrame({"t": [1, 0, 1, 0], "weights": 1.0, "subclass": [1, 1, 2, 2], "y": [3., 1, 4, 1]})
        >>> att_frame(md, "y", "t").estimate
        2.5
    """
    if outcome not in md.columns:
        raise KeyError(f"outcome {outcome!r} is not a column of the data")
    y = md[outcome].to_numpy(dtype=float)
    if np.isnan(y).any():
        raise ValueError(f"outcome {outcome!r} has {int(np.isnan(y).sum())} missing value(s) in the matched sample")
    t = md[treat].to_numpy(dtype=float)
    w = md["weights"].to_numpy(dtype=float)
    x = np.column_stack([np.ones_like(t), t])
    xtwx_inv = np.linalg.inv(x.T @ (x * w[:, None]))
    beta = xtwx_inv @ (x.T @ (w * y))
    resid = y - x @ beta
    score = x * (w * resid)[:, None]  # estfun of a weighted lm
    n, k = x.shape
    if "subclass" in md.columns:
        groups = md["subclass"].to_numpy()
        codes, uniq = pd.factorize(groups)
        g = len(uniq)
        summed = np.zeros((g, k))
        np.add.at(summed, codes, score)
        meat = summed.T @ summed * (g / (g - 1)) * ((n - 1) / (n - k))
        se_type, clusters, df = "cluster-robust by subclass (CR1, as sandwich::vcovCL)", g, n - k
    else:
        h = np.einsum("ij,jk,ik->i", x, xtwx_inv, x) * w
        adj = score / (1 - h)[:, None]
        meat = adj.T @ adj
        se_type, clusters, df = "HC3 (as sandwich::vcovHC)", None, n - k
    vcov = xtwx_inv @ meat @ xtwx_inv
    est, se = float(beta[1]), float(np.sqrt(vcov[1, 1]))
    q = stats.t.ppf(0.5 + level / 2, df)
    p = float(2 * stats.t.sf(abs(est / se), df))
    return AttEstimate(est, se, est - q * se, est + q * se, p, n, clusters, se_type, estimand)
