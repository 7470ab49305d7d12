"""Bootstrap confidence intervals: percentile and BCa (bias-corrected and accelerated).

BCa follows Efron & Tibshirani (1993, ch. 14) and Davison & Hinkley (1997, §5.3): the bias
correction ``z0`` comes from the share of replicates below the estimate (ties count half, as
scipy does; R boot counts only strictly smaller ones, the same whenever no replicate ties), and the
acceleration ``a`` from jackknife influence values, stratum by stratum:

    a = sum_s sum_i U_si^3 / n_s^3  /  (6 * (sum_s sum_i U_si^2 / n_s^2) ^ 1.5),
    U_si = (n_s - 1) * (mean_i t_(-si) - t_(-si)).

With one stratum (the clustered bootstrap: one "observation" per matched set) this is R boot's
``sum(L^3) / (6 * sum(L^2)^1.5)`` with ``L = empinf(type = "jack")``. The endpoints are read off the
replicates by linear interpolation (R type 7, as scipy.stats.bootstrap does); R boot's ``norm.inter``
interpolates on the normal scale instead, which moves them by less than the gap between adjacent
order statistics.

Example:
    >>> import numpy as np
    >>> t = np.random.default_rng(0).normal(size=4000)
    >>> lo, hi = percentile_interval(t, 0.95)
    >>> round(lo, 1), round(hi, 1)
    (-1.9, 2.0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtr, ndtri


def percentile_interval(draws: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Equal-tailed percentile interval of the bootstrap replicates."""
    alpha = (1 - level) / 2
    lo, hi = np.quantile(draws, [alpha, 1 - alpha])
    return float(lo), float(hi)


def jackknife_acceleration(leave_one_out: Sequence[np.ndarray]) -> float:
    """BCa acceleration from leave-one-out estimates, one array per stratum (see module notes)."""
    num = den = 0.0
    for t_minus in leave_one_out:
        n = len(t_minus)
        if n < 2:
            continue  # a single unit carries no jackknife information
        u = (n - 1) * (t_minus.mean() - t_minus)
        num += np.sum(u**3) / n**3
        den += np.sum(u**2) / n**2
    return float(num / (6 * den**1.5)) if den > 0 else 0.0


def bias_correction(draws: np.ndarray, estimate: float) -> float:
    """``z0``: the normal quantile of the share of replicates below the estimate (ties count half)."""
    share = (np.count_nonzero(draws < estimate) + np.count_nonzero(draws <= estimate)) / (2 * len(draws))
    return float(ndtri(share))


def bca_interval(draws: np.ndarray, estimate: float, acceleration: float,
                 level: float = 0.95) -> tuple[float, float]:
    """BCa interval: percentile interval at adjusted levels ``Phi(z0 + (z0 + z)/(1 - a (z0 + z)))``."""
    z0 = bias_correction(draws, estimate)
    if not np.isfinite(z0):
        raise ValueError("BCa bias correction is infinite: every replicate lies on one side of the estimate")
    z = ndtri(np.array([(1 - level) / 2, (1 + level) / 2]))
    adjusted = ndtr(z0 + (z0 + z) / (1 - acceleration * (z0 + z)))
    lo, hi = np.quantile(draws, adjusted)
    return float(lo), float(hi)
