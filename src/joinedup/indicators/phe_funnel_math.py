"""The arithmetic behind PHE's funnel plots (PHEindicatormethods 2.1, R/utils.R and R/Funnels.R).

- ``sigma_adjustment``: the proportion at population N whose Wilson score limit at qnorm(p) equals
  the average proportion (a closed-form root of the Wilson quadratic);
- ``poisson_funnel``: the Poisson mean at which O events are on the edge of the exact test;
  PHE bisects on v = mean/(1 + O + mean) down to steps of 6e-8 with a Poisson series truncated at
  1e-10 of its running total. We solve the tail exactly (scipy's inverse regularised incomplete
  gamma), shift the root by the bias of PHE's truncated series (one Newton step), and replay PHE's
  bisection against it, which reproduces PHE's limits to the last stored digit;
- ``ratio_limit``: exact Poisson (below 10 events) or Byar's limit for O, divided by E, used to
  place points;
- ``axis_points``: PHE's 100 x values, from the smallest denominator rounded down (R's
  ``nchar`` quirk included: 100000 prints as 1e+05) to the largest rounded up.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammainc, gammaincc, gammainccinv, gammaincinv, gammaln
from scipy.stats import chi2, norm

_BISECTION_STOP = 1e-7  # PHE's bisection halves its step while the step exceeds this
_SERIES_STOP = 1e-10  # PHE's Poisson series stops at terms below this share of the total
_GRID_POINTS = 100


def sigma_adjustment(p, population, average_proportion, side: str, multiplier=1.0) -> np.ndarray:
    """Proportion at ``population`` whose Wilson limit at qnorm(p) equals the average (x multiplier)."""
    pop = np.asarray(population, dtype="float64")
    z2 = float(norm.ppf(p)) ** 2
    avg = average_proportion
    first = avg * (pop / z2 + 1)
    with np.errstate(invalid="ignore"):
        adj = np.sqrt((-8 * avg * (pop / z2 + 1)) ** 2 - 64 * (1 / z2 + 1 / pop) * avg
                      * (pop * (avg * (pop / z2 + 2) - 1) + z2 * (avg - 1)))
    last = 1 / z2 + 1 / pop
    limit = (first - adj / 8) / last if side == "low" else (first + adj / 8) / last
    return limit / pop * multiplier


def poisson_funnel(observed, p: float, side: str) -> np.ndarray:
    """Expected count at which ``observed`` events sit on PHE's exact Poisson funnel.

    side 'low': P(K >= O | mean) = p; side 'high': P(K <= O | mean) = p. The exact root is replayed
    through PHE's bisection on v = mean / (1 + O + mean) so the result matches PHE to the digit.
    """
    obs = np.asarray(observed, dtype="float64")
    if side == "low":
        root = gammaincinv(obs, p)  # P(K >= O) = P(O, mean), the lower regularised gamma
    else:
        root = gammainccinv(obs + 1, p)  # P(K <= O) = Q(O + 1, mean)
    root = root + _truncation_shift(obs, root, side)
    v_root = root / (1 + obs + root)
    v, dv = np.full_like(obs, 0.5), 0.5
    while dv > _BISECTION_STOP:  # about 23 halvings, each over the whole array
        dv /= 2
        v = np.where(v > v_root, v - dv, v + dv)
    return (1 + obs) * v / (1 - v)


def _truncation_shift(obs: np.ndarray, mean: np.ndarray, side: str) -> np.ndarray:
    """Shift of the root caused by PHE's Poisson series, which stops at the first term k > mean
    below 1e-10 of the running total; the tail P(K >= k) it leaves out biases its tail
    probability by about 1e-10 (enough to flip a bisection step now and then), so we solve for
    the root of PHE's truncated probability: one Newton step from the exact root."""
    first = np.floor(mean) + 1
    lo, hi = first, first + np.ceil(12 * np.sqrt(mean) + 40)
    log_mean = np.log(mean)
    while np.any(lo < hi):  # smallest k > mean with pmf(k) <= 1e-10 P(K <= k - 1): bisection
        mid = np.floor((lo + hi) / 2)
        log_pmf = mid * log_mean - mean - gammaln(mid + 1)
        stop = log_pmf <= np.log(_SERIES_STOP) + np.log(gammaincc(mid, mean))
        hi = np.where(stop, mid, hi)
        lo = np.where(stop, lo, mid + 1)
    left_out = gammainc(lo, mean)  # P(K >= k_stop)
    if side == "low":  # PHE computes 1 - F(O - 1) / (1 - T) instead of 1 - F(O - 1)
        bias = gammaincc(obs, mean) * left_out / (1 - left_out)
        slope = np.exp((obs - 1) * log_mean - mean - gammaln(obs))
    else:  # F(O) / (1 - T) instead of F(O)
        bias = -gammaincc(obs + 1, mean) * left_out / (1 - left_out)
        slope = -np.exp(obs * log_mean - mean - gammaln(obs + 1))
    return bias / slope


def ratio_limit(observed, expected, p: float, side: str) -> np.ndarray:
    """PHE's significance limit for O/E: exact Poisson below 10 events, Byar's from 10."""
    obs = np.asarray(observed, dtype="float64")
    exp = np.asarray(expected, dtype="float64")
    z = float(norm.ppf(0.5 + p / 2))
    small = obs < 10
    o_small = np.where(small, obs, 0.0)
    if side == "low":
        exact = chi2.isf(0.5 + p / 2, 2 * o_small) / 2  # NaN at o_small = 0, replaced below
        o = np.where(small, 10.0, obs)
        byars = o * (1 - 1 / (9 * o) - z / 3 / np.sqrt(o)) ** 3
        stat = np.where(obs == 0, 0.0, np.where(small, exact, byars))
    else:
        exact = chi2.ppf(0.5 + p / 2, 2 * o_small + 2) / 2
        o = np.where(small, 10.0, obs) + 1
        byars = o * (1 - 1 / (9 * o) + z / 3 / np.sqrt(o)) ** 3
        stat = np.where(small, exact, byars)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isnan(obs), np.nan, stat / exp)


def derived_denominator(num, den, rt, rate_type, multiplier) -> np.ndarray:
    """Denominator behind each rate: multiplier x events / rate (DSR: none for 0 events;
    crude: the given denominator for 0 events)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        from_rate = multiplier * num / rt
    if rate_type == "dsr":
        return np.where(num == 0, np.nan, from_rate)
    if den is None:
        return from_rate
    return np.where(num == 0, den, from_rate)


def _r_nchar(value: float) -> int:
    """Characters R's as.character uses for a whole number (it picks 1e+05 over 100000)."""
    if value == 0:
        return 1
    digits = f"{abs(value):.0f}"
    fixed = len(digits) + (value < 0)
    significant = len(digits.rstrip("0"))
    exponent = len(digits) - 1
    sci = (significant + (1 if significant > 1 else 0) + 2 + max(2, len(str(exponent)))
           + (value < 0))
    return min(fixed, sci)


def _signif_floor(x: float, down: float = 0.95) -> float:
    if x == 0:
        return 0.0
    n = _r_nchar(np.floor(x * down)) - 1
    return float(np.floor(x * down / 10 ** n) * 10 ** n)


def _signif_ceiling(x: float, up: float = 1.05) -> float:
    if x == 0:
        return 0.0
    n = _r_nchar(np.ceil(x * up)) - 2
    return float(np.ceil(x * up / 10.0 ** n) * 10.0 ** n)


def axis_points(statistic, den, av, years_of_data) -> np.ndarray:
    """The 100 x values PHE plots the funnel at (events for rates, from the average rate)."""
    lo, hi = np.nanmin(den), np.nanmax(den)
    per_year = years_of_data if statistic == "rate" else 1
    axis_min = 0.0 if hi > 2 * lo else _signif_floor(lo / per_year) * per_year
    axis_max = _signif_ceiling(hi / per_year) * per_year
    if statistic == "rate":
        axis_min, axis_max = np.floor(axis_min * av), np.ceil(axis_max * av)
    offset = 1 if statistic == "ratio" else 0
    grid = [max(1.0, axis_min)]
    for j in range(2, _GRID_POINTS + 1):  # 99 grid points, each from the previous one
        prev = grid[-1]
        step = np.round((axis_max / prev) ** (1 / (101 - (j - offset))) * prev)
        grid.append(max(step, prev + 1))
    return np.array(grid)
