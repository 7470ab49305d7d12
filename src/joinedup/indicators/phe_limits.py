"""Confidence limits for counts and proportions: Byar's, exact Poisson, Wilson score.

- Byar's (Breslow & Day 1987): lower = x (1 - 1/(9x) - z/(3 sqrt x))^3,
  upper = (x+1) (1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3, z = qnorm(1 - alpha/2); a negative lower
  limit is returned as NaN, as PHE does.
- Exact Poisson: lower = qchisq(alpha/2, 2x)/2, upper = qchisq(1 - alpha/2, 2x + 2)/2.
  ``poisson_limits`` uses exact below 10 events and Byar's from 10, the switch PHE makes in
  phe_rate and calculate_ISRatio/ISRate.
- Wilson score (Wilson 1927; Newcombe & Altman 2000):
  (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2 (n + z^2)); confidence 1 gives 0 and 1.

Missing values pass through as NaN. Invalid values raise ValueError naming the argument and the
offending positions.

Example:
    >>> [round(float(v), 6) for v in byars_lower([65, 1045])]
    [50.163188, 982.593202]
    >>> round(float(wilson_upper(65, 100)), 6)
    0.736358
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2, norm

from joinedup.indicators.phe_common import as_float, parse_confidence, require

EXACT_BELOW = 10  # PHE uses exact Poisson limits below 10 events, Byar's from 10


def _single_level(confidence) -> float:
    levels = parse_confidence(confidence)
    if len(levels) != 1:
        raise ValueError("confidence: give one level here; got two")
    return levels[0]


def _z(level: float) -> float:
    return float(norm.ppf(level + (1 - level) / 2))


def _counts(x, name: str = "x") -> np.ndarray:
    arr = as_float(x, name)
    require(arr < 0, name, "observed events must all be greater than or equal to zero")
    return arr


def byars_lower(x, confidence=0.95) -> np.ndarray:
    """Byar's lower limit for observed counts ``x`` (NaN where it would be negative)."""
    x = _counts(x)
    z = _z(_single_level(confidence))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
    return np.where(out < 0, np.nan, out)


def byars_upper(x, confidence=0.95) -> np.ndarray:
    """Byar's upper limit for observed counts ``x``."""
    x = _counts(x)
    z = _z(_single_level(confidence))
    return (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3


def exact_lower(x, confidence=0.95) -> np.ndarray:
    """Exact Poisson lower limit: qchisq(alpha/2, 2x)/2 (0 for x = 0)."""
    x = _counts(x)
    level = _single_level(confidence)
    # scipy's chi-square needs df > 0; R's qchisq(p, 0) is 0, the degenerate distribution
    return np.where(x == 0, 0.0, chi2.ppf((1 - level) / 2, 2 * x) / 2)


def exact_upper(x, confidence=0.95) -> np.ndarray:
    """Exact Poisson upper limit: qchisq(1 - alpha/2, 2x + 2)/2."""
    x = _counts(x)
    level = _single_level(confidence)
    return chi2.ppf(level + (1 - level) / 2, 2 * x + 2) / 2


def poisson_limits(x, confidence=0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, method) for counts: exact below 10, Byar's from 10 (method 'Exact'/'Byars')."""
    x = _counts(x)
    exact = x < EXACT_BELOW
    lower = byars_lower(np.where(exact, EXACT_BELOW, x), confidence)
    upper = byars_upper(np.where(exact, EXACT_BELOW, x), confidence)
    if exact.any():  # quantiles once per distinct small count, then spread back
        distinct, where = np.unique(x[exact], return_inverse=True)
        lower[exact] = exact_lower(distinct, confidence)[where]
        upper[exact] = exact_upper(distinct, confidence)[where]
    nan = np.isnan(x)
    method = np.where(nan, None, np.where(exact, "Exact", "Byars")).astype(object)
    return np.where(nan, np.nan, lower), np.where(nan, np.nan, upper), method


def _wilson_inputs(x, n, confidence):
    x, n = as_float(x, "x"), as_float(n, "n")
    require(x < 0, "x", "observed events must all be greater than or equal to zero")
    require(n < 0, "n", "sample sizes must all be greater than zero")
    require(x > n, "x", "numerators must be less than or equal to denominator for a Wilson score "
            "to be calculated")
    return x, n, _single_level(confidence)


def wilson_lower(x, n, confidence=0.95) -> np.ndarray:
    """Wilson score lower limit for proportion x/n."""
    x, n, level = _wilson_inputs(x, n, confidence)
    if level == 1:
        return np.zeros(np.broadcast(x, n).shape)
    z = _z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 * x + z ** 2 - z * np.sqrt(z ** 2 + 4 * x * (1 - x / n))) / 2 / (n + z ** 2)


def wilson_upper(x, n, confidence=0.95) -> np.ndarray:
    """Wilson score upper limit for proportion x/n."""
    x, n, level = _wilson_inputs(x, n, confidence)
    if level == 1:
        return np.ones(np.broadcast(x, n).shape)
    z = _z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (2 * x + z ** 2 + z * np.sqrt(z ** 2 + 4 * x * (1 - x / n))) / 2 / (n + z ** 2)
