"""Monthly histories of every person, counted on the engine: the raw material of risk-set matching.

One Ibis aggregation per activity table (emergency admissions with their bed days and cost, A&E
attendances) grouped by person and calendar month; the same expression runs on DuckDB and Spark.
Only the sparse (person, month, count) rows come back, and they are scattered into dense
person x month arrays in numpy (no per-person loop). Bed days are counted in the month of admission,
as :mod:`joinedup.economics.outcomes` does for its windows.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/sim")                                              # doctest: +SKIP
    >>> panel = monthly_panel(ds)                                                 # doctest: +SKIP
    >>> panel.admissions.shape                                                    # doctest: +SKIP
    (281345, 60)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.data import Dataset

NEVER_MONTH = 10**6  # month index of people who do not die in the data


def month_index(dates, first: pd.Timestamp) -> np.ndarray:
    """Months since ``first``'s month (0 for the same calendar month).

    Example:
        >>> month_index(pd.to_datetime(["2013-01-31", "2013-03-01"]), pd.Timestamp("2013-01-01")).tolist()
        [0, 2]
    """
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    return ((d.year - first.year) * 12 + (d.month - first.month)).to_numpy(dtype=np.int64)


@dataclass
class Panel:
    """Dense monthly arrays (people x months) and the people's fixed attributes, sorted by person_id."""

    first_month: pd.Timestamp
    person_id: np.ndarray
    admissions: np.ndarray  # emergency admissions by month of admission
    bed_days: np.ndarray
    cost: np.ndarray  # cost of emergency spells (pounds), by month of admission
    ae: np.ndarray  # A&E attendances
    persons: pd.DataFrame  # sex, birth_year, ltc_count, practice_code, area_code, imd_decile, death_month

    @property
    def n_months(self) -> int:
        return self.admissions.shape[1]

    def month_start(self, m: int) -> pd.Timestamp:
        return self.first_month + pd.DateOffset(months=int(m))

    def rows_of(self, person_ids) -> np.ndarray:
        """Row positions of ``person_ids``; -1 for unknown people."""
        ids = np.asarray(person_ids, dtype=np.int64)
        pos = np.searchsorted(self.person_id, ids)
        pos = np.clip(pos, 0, len(self.person_id) - 1)
        return np.where(self.person_id[pos] == ids, pos, -1) if len(self.person_id) else np.full(len(ids), -1)

    def window_sum(self, values: np.ndarray, rows: np.ndarray, start: np.ndarray, length: int) -> np.ndarray:
        """Sum of ``values[row, start : start + length]`` for each row (months outside the data count 0)."""
        cum = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1, dtype=float)], axis=1)
        lo = np.clip(start, 0, self.n_months)
        hi = np.clip(start + length, 0, self.n_months)
        return cum[rows, hi] - cum[rows, lo]


def _counts(ds: Dataset, expr, first: pd.Timestamp, n_people_ids: np.ndarray, n_months: int, columns):
    df = ds.execute(expr)
    out = {c: np.zeros((len(n_people_ids), n_months), dtype=float) for c in columns}
    if df.empty:
        return out
    rows = np.searchsorted(n_people_ids, df["person_id"].to_numpy(dtype=np.int64))
    month = ((df["y"].to_numpy(dtype=np.int64) - first.year) * 12 + df["m"].to_numpy(dtype=np.int64) - first.month)
    ok = (month >= 0) & (month < n_months) & (rows < len(n_people_ids))
    for c in columns:
        np.add.at(out[c], (rows[ok], month[ok]), df[c].to_numpy(dtype=float)[ok])
    return out


def monthly_panel(ds: Dataset, first_month=None, last_month=None) -> Panel:
    """Everyone in ``persons`` with monthly emergency admissions, bed days, cost and A&E attendances.

    ``first_month``/``last_month`` default to the months of the first and last activity in the data.
    """
    from joinedup.economics.cohort import data_period

    lo, hi = data_period(ds)
    first = pd.Timestamp(first_month or lo).to_period("M").to_timestamp()
    last = pd.Timestamp(last_month or (hi - pd.Timedelta(days=1))).to_period("M").to_timestamp()
    n_months = (last.year - first.year) * 12 + last.month - first.month + 1
    p = ds.table("persons")
    cols = [p.person_id, p.sex, p.birth_year, p.ltc_count, p.practice_code, p.area_code]
    if ds.has("areas"):  # imported data may have none: everyone then gets decile 5 (cohort/tables.py says so)
        areas = ds.table("areas").select("area_code", "imd_decile")
        people = ds.execute(p.left_join(areas, "area_code").select(*cols, "imd_decile", p.death_date))
    else:
        people = ds.execute(p.select(*cols, p.death_date)).assign(imd_decile=None)
        people = people[["person_id", "sex", "birth_year", "ltc_count", "practice_code", "area_code",
                         "imd_decile", "death_date"]]
    people = people.sort_values("person_id", ignore_index=True)
    ids = people["person_id"].to_numpy(dtype=np.int64)
    death = pd.to_datetime(people.pop("death_date"))
    people["death_month"] = np.where(death.isna(), NEVER_MONTH, month_index(death.fillna(first), first))
    people["imd_decile"] = people["imd_decile"].fillna(5).astype("int64")

    a = ds.table("admissions")
    a = a.filter(a.admission_method == "emergency")
    a = a.mutate(y=a.admission_date.year(), m=a.admission_date.month(),
                 los=a.discharge_date.delta(a.admission_date, unit="day"))
    adm = a.group_by(["person_id", "y", "m"]).aggregate(n=a.count(), los=a.los.sum(), cost=a.cost.sum())
    got = _counts(ds, adm, first, ids, n_months, ("n", "los", "cost"))
    e = ds.table("ae_attendances")
    e = e.mutate(y=e.arrival_date.year(), m=e.arrival_date.month())
    ae = _counts(ds, e.group_by(["person_id", "y", "m"]).aggregate(n=e.count()), first, ids, n_months, ("n",))
    return Panel(first, ids, got["n"].astype(np.int16), got["los"].astype(np.int32), got["cost"],
                 ae["n"].astype(np.int16), people)
