"""Poisson events in time for many people at once.

For each year, a person's count is Poisson with their rate integrated over the days they are alive
and present, weighted by a monthly profile (season, trend). Each event is then placed in a month by
inverse CDF over that person's monthly weights (so nothing falls after death or before entry) and on
a uniform day of the month. People present the whole year share one set of weights (fast path).

Example:
    >>> import numpy as np
    >>> from joinedup.simulate.dates import Period
    >>> period = Period.of(2013, 2013)
    >>> rate = np.full((1000, 1), 2.0)
    >>> entry, death = np.full(1000, period.start), np.full(1000, 10**9)
    >>> exposure = Exposure(entry, death, period)
    >>> who, when = yearly_events(rate, exposure, np.ones((1, 12)), np.random.default_rng(0))
    >>> 1800 < len(who) < 2200, bool((when >= period.start).all() and (when < period.end).all())
    (True, True)
"""

from __future__ import annotations

import numpy as np

from joinedup.simulate import params
from joinedup.simulate.dates import Period

KEY_BASE = np.int64(1 << 22)  # > any day number used (year 13,000)


def seasonal_profile(period: Period, amplitude: float, trend: float, origin: float = params.TREND_ORIGIN) -> np.ndarray:
    """Years x 12 relative daily rate: 1 + amplitude*cos (peak January) times exp(trend*(t-origin))."""
    month = np.arange(12)
    season = 1.0 + amplitude * np.cos(2 * np.pi * month / 12)
    t = period.years[:, None] + (month[None, :] + 0.5) / 12
    return season[None, :] * np.exp(trend * (t - origin))


class Exposure:
    """Who is present when: whole-year person-years, and month windows of part-year ones.

    Computed once per chunk and shared by every kind of event.
    """

    def __init__(self, entry: np.ndarray, death: np.ndarray, period: Period):
        self.period = period
        ms = period.month_starts
        ys, ye = period.year_starts[:-1], period.year_starts[1:]
        present = (entry[:, None] < ye[None, :]) & (death[:, None] > ys[None, :])
        partial = present & ((entry[:, None] > ys[None, :]) | (death[:, None] < ye[None, :]))
        self.full_person, self.full_year = np.nonzero(present & ~partial)
        self.part_person, self.part_year = np.nonzero(partial)
        m = self.part_year[:, None] * 12 + np.arange(12)
        self.part_lo = np.maximum(entry[self.part_person, None], ms[m])
        self.part_hi = np.minimum(death[self.part_person, None], ms[m + 1])
        self.part_days = np.clip(self.part_hi - self.part_lo, 0, None)
        self.year_days = (ye - ys).astype(float)
        self.month_days = np.diff(ms).reshape(period.n_years, 12).astype(float)


def yearly_events(rate: np.ndarray, exposure: Exposure, profile: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Events of everyone: ``rate`` is people x years (per person-year at profile 1).

    Returns (person index, day) of each event, sorted by person then day. All years are drawn at
    once: person-years present the whole year use their year's weights; the few person-years cut by
    entry or death get weights from the days present in each month.
    """
    x, ms, n_years = exposure, exposure.period.month_starts, exposure.period.n_years
    weights = x.month_days * profile / x.year_days[:, None]  # years x 12
    # Whole-year person-years.
    pi, ti = x.full_person, x.full_year
    n_full = rng.poisson(rate[pi, ti] * weights.sum(axis=1)[ti])
    e_year = np.repeat(ti, n_full)
    cum = np.cumsum(weights, axis=1)
    step = float(cum[:, -1].max()) * 1.01 + 1.0  # keeps years apart in one sorted array
    flat = (cum + np.arange(n_years)[:, None] * step).reshape(-1)
    target = e_year * step + rng.random(len(e_year)) * cum[e_year, -1]
    month = np.clip(np.searchsorted(flat, target, side="right"), e_year * 12, e_year * 12 + 11)
    lo_f, hi_f = ms[month], ms[month + 1]
    # Part-year person-years.
    qi, qt = x.part_person, x.part_year
    cw = np.cumsum(x.part_days * (profile[qt] / x.year_days[qt, None]), axis=1)
    n_part = rng.poisson(rate[qi, qt] * cw[:, -1])
    rows = np.repeat(np.arange(len(qi)), n_part)
    target = rng.random(len(rows)) * cw[rows, -1]
    month_p = np.minimum((cw[rows] <= target[:, None]).sum(axis=1), 11)
    who = np.concatenate([np.repeat(pi, n_full), qi[rows]])
    lo = np.concatenate([lo_f, x.part_lo[rows, month_p]])
    hi = np.concatenate([hi_f, x.part_hi[rows, month_p]])
    when = lo + (rng.random(len(who)) * (hi - lo)).astype(np.int64)
    return sort_events(who, when)


def sort_events(who: np.ndarray, when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort (person, day) pairs by person then day (one integer key: faster than lexsort)."""
    key = np.sort(who.astype(np.int64) * KEY_BASE + when)
    return key // KEY_BASE, key % KEY_BASE
