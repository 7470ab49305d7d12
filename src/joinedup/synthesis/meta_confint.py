"""Confidence intervals for tau2, tau, I^2 and H^2 by the Q-profile method (metafor's ``confint.rma.uni``).

The generalised Q statistic Q(tau2) = y'P(tau2)y, P the weighted residual-maker with weights 1/(vi + tau2),
follows a chi-square with k - p df at the true tau2 and decreases in tau2 (Viechtbauer 2007, Stat Med
26:37-52). The interval is the set of tau2 >= 0 whose Q lies between the chi-square quantiles:

* lower bound: Q(tau2) = chi2_{k-p}(1 - alpha/2) (0 when Q(0) is already below it);
* upper bound: Q(tau2) = chi2_{k-p}(alpha/2) (0 when Q(0) is below it: the interval is then {0}).

As metafor, the search runs over [min(0, tau2), max(100, 10 tau2)] and a bound that would lie beyond
the upper end is reported as that end. metafor's ``uniroot`` stops at a tolerance of about 1.2e-4 in
tau2; here Brent's method runs to ``xtol`` 1e-12, so the bounds are the roots to machine precision.
tau is the square root of each value; I^2 = 100 tau2 / (tau2 + s2) and H^2 = (tau2 + s2) / s2 are
monotone in tau2, so their bounds are the transformed tau2 bounds (s2 the "typical" within-study
variance); the ``estimate`` column is the fitted model's tau2, tau, I^2 and H^2.

Example:
    >>> ci = q_profile(np.array([0.1, 0.5, 0.9, 0.2]), np.array([0.01, 0.02, 0.01, 0.03]), np.ones((4, 1)),
    ...                0.1, 95.0, 20.0, 0.95)
    >>> list(ci.index), list(ci.columns)
    (['tau2', 'tau', 'I2', 'H2'], ['estimate', 'ci_low', 'ci_high'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from joinedup.synthesis.meta_fit import typical_variance


def generalised_q(tau2: float, y: np.ndarray, v: np.ndarray, x: np.ndarray) -> float:
    """y'P y with weights 1/(vi + tau2): Cochran's Q at tau2 = 0 (metafor's ``.QE.func``)."""
    w = 1 / (v + tau2)
    b = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (w * y))
    return float(np.sum(w * (y - x @ b) ** 2))


def _root(target: float, lo: float, hi: float, y, v, x) -> float:
    return float(optimize.brentq(lambda t: generalised_q(t, y, v, x) - target, lo, hi, xtol=1e-12,
                                 rtol=4 * np.finfo(float).eps, maxiter=1000))


def q_profile_tau2(y, v, x, tau2: float, level: float) -> tuple[float, float]:
    """The Q-profile bounds of tau2, following metafor's branches for bounds at the ends of the search."""
    k, p = x.shape
    alpha = 1 - level
    crit_u = stats.chi2.isf(alpha / 2, k - p)  # Q at the lower bound
    crit_l = stats.chi2.ppf(alpha / 2, k - p)  # Q at the upper bound
    lo, hi = min(0.0, tau2), max(100.0, 10 * tau2)
    q_lo, q_hi = generalised_q(lo, y, v, x), generalised_q(hi, y, v, x)
    if q_lo < crit_l:  # even tau2 = 0 gives a Q below the lower quantile: the interval is {0}
        return lo, lo
    if q_hi > crit_u:  # both bounds beyond the search range (metafor prints ">" for both)
        return hi, hi
    upper = hi if q_hi > crit_l else _root(crit_l, lo, hi, y, v, x)
    lower = lo if q_lo < crit_u else _root(crit_u, lo, hi, y, v, x)
    return lower, upper


def q_profile(y, v, x, tau2: float, i2: float, h2: float, level: float) -> pd.DataFrame:
    """The table of ``confint()``: rows tau2, tau, I2 (percent), H2; columns estimate, ci_low, ci_high."""
    lower, upper = q_profile_tau2(y, v, x, tau2, level)
    s2 = typical_variance(v, x)
    bounds = np.array([lower, upper])
    rows = {"tau2": [tau2, lower, upper],
            "tau": np.sqrt([tau2, lower, upper]).tolist(),
            "I2": [i2, *(100 * bounds / (bounds + s2))],
            "H2": [h2, *(bounds / s2 + 1)]}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["estimate", "ci_low", "ci_high"])


def check_confint(method: str, level) -> None:
    """Errors for a model without tau2 and for a bad ``level``."""
    if method == "FE":
        raise ValueError("confint() needs a random-effects model: method='FE' has no between-study variance "
                         "tau2 (fit with method='REML', 'DL', 'PM', 'ML', 'HE', 'SJ' or 'EB')")
    if not isinstance(level, (int, float)) or isinstance(level, bool) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1 (e.g. 0.95); got {level!r}")
