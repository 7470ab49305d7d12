"""The simulator's practice_population table: list sizes by practice, extract date, sex and age band."""

from __future__ import annotations

import pandas as pd

from joinedup.data import load_dataset


def test_practice_lists_add_up_to_the_areas_population(small_england):
    pp = pd.read_parquet(small_england / "practice_population.parquet")
    pop = pd.read_parquet(small_england / "population.parquet")
    practices = pd.read_parquet(small_england / "practices.parquet")
    assert set(pp["practice_code"]) == set(practices["practice_code"])
    assert sorted(pd.to_datetime(pp["extract_date"]).dt.month.unique()) == [1, 4, 7, 10]
    # mid-year registered totals against the mid-year population of every area (within 5%)
    mid = pp[pd.to_datetime(pp["extract_date"]) == pd.Timestamp("2014-07-01")]
    by_area = mid.merge(practices[["practice_code", "area_code"]]).groupby("area_code")["persons"].sum()
    resident = pop[pop["year"] == 2014].groupby("area_code")["persons"].sum()
    ratio = (by_area / resident).dropna()
    assert len(ratio) == len(resident)
    assert ((ratio > 0.95) & (ratio < 1.05)).all(), ratio.describe()
    # the older bands are there too, and the table passes the schema
    assert {"0-4", "65-69", "90+"} <= set(pp["age_band"])
    load_dataset(small_england)
