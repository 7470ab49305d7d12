"""Dates as whole days since 1970-01-01 (Arrow's ``date32``), and the simulated period's calendar.

Everything inside the simulator is integer days so that dates are numpy arrays; they become Arrow
``date32`` columns only when written.

Example:
    >>> p = Period.of(2010, 2019)
    >>> p.n_years, len(p.month_starts)
    (10, 121)
    >>> to_iso(p.start)
    '2010-01-01'
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def day(year: int, month: int = 1, dom: int = 1) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (dt.date(year, month, dom) - EPOCH).days


def from_iso(text: str) -> int:
    return (dt.date.fromisoformat(text) - EPOCH).days


def to_iso(days: int) -> str:
    return (EPOCH + dt.timedelta(days=int(days))).isoformat()


@dataclass(frozen=True)
class Period:
    """The simulated years: boundaries of years and months, and day -> (year, day-of-year) lookups."""

    first_year: int
    last_year: int
    start: int  # 1 January of the first year
    end: int  # 1 January after the last year (exclusive)
    year_starts: np.ndarray  # n_years + 1 boundaries
    month_starts: np.ndarray  # 12 * n_years + 1 boundaries
    lookup_origin: int
    year_of: np.ndarray  # calendar year of day (d - lookup_origin)
    doy_of: np.ndarray  # day of year (0-based) of day (d - lookup_origin)

    @classmethod
    def of(cls, first_year: int, last_year: int) -> Period:
        if last_year < first_year:
            raise ValueError(f"years must be (first, last) with first <= last, got {first_year}, {last_year}")
        years = np.arange(first_year, last_year + 2)
        year_starts = np.array([day(int(y)) for y in years], dtype=np.int64)
        month_starts = np.array(
            [day(int(y), m) for y in years[:-1] for m in range(1, 13)] + [day(last_year + 1)], dtype=np.int64
        )
        # Lookups cover ten years either side: admissions may end after the period, births before it.
        origin = day(first_year - 130)
        span_years = np.arange(first_year - 130, last_year + 12)
        starts = np.array([day(int(y)) for y in span_years] + [day(last_year + 12)], dtype=np.int64)
        lengths = np.diff(starts)
        year_of = np.repeat(span_years, lengths).astype(np.int32)
        doy_of = (np.arange(starts[-1] - origin) - np.repeat(starts[:-1] - origin, lengths)).astype(np.int32)
        return cls(first_year, last_year, int(year_starts[0]), int(year_starts[-1]), year_starts,
                   month_starts, int(origin), year_of, doy_of)

    @property
    def n_years(self) -> int:
        return self.last_year - self.first_year + 1

    @property
    def years(self) -> np.ndarray:
        return np.arange(self.first_year, self.last_year + 1)

    def year(self, days: np.ndarray) -> np.ndarray:
        return self.year_of[np.asarray(days) - self.lookup_origin]

    def doy(self, days: np.ndarray) -> np.ndarray:
        return self.doy_of[np.asarray(days) - self.lookup_origin]

    def age_at(self, days: np.ndarray, birth_year: np.ndarray, birth_doy: np.ndarray) -> np.ndarray:
        """Age in whole years on a date, given year and day-of-year of birth."""
        days = np.asarray(days)
        return (self.year(days) - birth_year - (self.doy(days) < birth_doy)).astype(np.int32)

    def month_index(self, days: np.ndarray) -> np.ndarray:
        """0-based month of the period a day falls in."""
        return np.searchsorted(self.month_starts, days, side="right") - 1
