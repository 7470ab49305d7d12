"""Spec tests: the same definitions, run on DuckDB and on PySpark over simulated England, agree row
for row; validation passes on both. Tolerance: exact for counts and keys; 1e-12 relative for rates
(floating-point sums may associate differently across engines)."""

import pandas as pd
import pytest

from joinedup.data import open_dataset, validate_dataset
from joinedup.overview import DEFINITIONS, compute_overview


def test_simulated_england_validates_on_duckdb(small_england):
    report = validate_dataset(small_england)
    assert report.ok, report.summary()
    assert report.rows["admissions"] > 10_000


@pytest.mark.spark
def test_simulated_england_validates_on_spark(small_england, spark_backend):
    report = validate_dataset(small_england, engine="spark")
    assert report.ok, report.summary()
    assert report.rows == validate_dataset(small_england).rows


@pytest.mark.spark
def test_overview_definitions_agree_row_for_row(small_england, spark_backend):
    duck = compute_overview(open_dataset(small_england, "duckdb"))
    spark = compute_overview(open_dataset(small_england, "spark"))
    for name in DEFINITIONS:
        assert len(duck[name]) == len(spark[name]) > 0, name
        pd.testing.assert_frame_equal(duck[name], spark[name], check_dtype=False, rtol=1e-12, obj=name)
    monthly = duck["emergency_by_month"]
    assert monthly["month"].nunique() == 5 * 12
    assert set(monthly["group"]) == {"Pioneer wave 1", "Pioneer wave 2", "Vanguard only", "Neither programme"}
