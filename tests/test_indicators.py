"""Indicator definitions against the plain-pandas oracle, and the period/unit aggregation.

Tolerance: exact for counts (both sides count the same rows); 1e-9 relative for sums of amounts.
"""

import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.indicators import CATALOGUE, compute_indicators
from joinedup.indicators.compute import monthly_counts, period_counts, reporting_units
from joinedup.indicators.oracle import load_tables, oracle_monthly


@pytest.fixture(scope="module")
def ds(small_england):
    return open_dataset(small_england)


@pytest.fixture(scope="module")
def oracle_tables(small_england):
    return load_tables(small_england)


@pytest.mark.parametrize("indicator_id", sorted(CATALOGUE))
def test_engine_counts_equal_the_pandas_oracle(ds, oracle_tables, indicator_id):
    engine = monthly_counts(ds, CATALOGUE[indicator_id]).events
    oracle = oracle_monthly(oracle_tables, indicator_id)
    keys = [c for c in oracle.columns if c not in ("numerator", "denominator", "n")]
    engine = engine.sort_values(keys).reset_index(drop=True)
    oracle = oracle.sort_values(keys).reset_index(drop=True)
    assert len(engine) == len(oracle) > 0
    pd.testing.assert_frame_equal(engine[oracle.columns], oracle, check_dtype=False, rtol=1e-9)


def test_quarters_sum_their_months_and_sites_sum_their_areas(ds):
    monthly = monthly_counts(ds, CATALOGUE["ae_attendances"])
    units = reporting_units(ds)
    months = period_counts(monthly, "month", units)
    quarters = period_counts(monthly, "quarter", units)
    eng_m = months[months.level == "england"].set_index("period_start")["numerator"]
    eng_q = quarters[quarters.level == "england"].set_index("period_start")["numerator"]
    first_q = eng_q.index[0]
    assert eng_q.loc[first_q] == eng_m.loc[first_q:].iloc[:3].sum()
    site = quarters[(quarters.level == "pioneer_site") & (quarters.unit == "Greater Manchester")]
    gm_areas = units[(units.level == "pioneer_site") & (units.unit == "Greater Manchester")].area_code
    assert len(gm_areas) == 10
    areas = quarters[(quarters.level == "area") & quarters.unit.isin(gm_areas)]
    assert site["numerator"].sum() == areas["numerator"].sum()
    assert site["denominator"].sum() == areas["denominator"].sum()


def test_denominator_is_population_of_the_year_the_period_starts(ds):
    monthly = monthly_counts(ds, CATALOGUE["ae_attendances"])
    fy = period_counts(monthly, "financial_year", reporting_units(ds))
    eng = fy[fy.level == "england"].set_index("period_start")
    pop = ds.execute(ds.table("population").group_by("year").aggregate(p=ds.table("population").persons.sum()))
    pop = pop.set_index("year")["p"]
    for start, row in eng.iterrows():
        assert row["denominator"] == pop.loc[start.year]
        assert start.month == 4 and row["period_end"].month == 3


def test_whole_catalogue_table_shape_and_values(ds):
    table = compute_indicators(ds, None, ["financial_year"])
    assert set(table["indicator"]) == set(CATALOGUE)
    assert set(table["level"]) == {"area", "pioneer_site", "pioneer_wave", "programme", "england"}
    assert table.loc[table.level == "area", "area_code"].notna().all()
    assert table.loc[table.level != "area", "area_code"].isna().all()
    eng = table[(table.level == "england") & (table.indicator == "emergency_admissions")]
    # ESP-2013 standardised emergency admissions in simulated England: about 9,000-11,000 per 100,000 a year
    assert eng["value"].between(8_000, 12_000).all()
    ci = table.dropna(subset=["lower", "upper"])
    assert (ci["lower"] <= ci["value"]).all() and (ci["value"] <= ci["upper"]).all()
    assert (ci["lower_998"] <= ci["lower"] + 1e-9).all()
    with pytest.raises(ValueError, match="unknown indicator id"):
        compute_indicators(ds, ["emergency_admisions"])
    with pytest.raises(ValueError, match="period must be one of"):
        compute_indicators(ds, ["ae_attendances"], ["week"])


@pytest.mark.spark
def test_the_same_definitions_on_spark_give_the_same_table(small_england, ds, spark_backend):
    duck = compute_indicators(ds, None, ["quarter"])
    spark = compute_indicators(open_dataset(small_england, "spark"), None, ["quarter"])
    keys = ["indicator", "level", "unit", "period_start"]
    duck = duck.sort_values(keys).reset_index(drop=True)
    spark = spark.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(duck, spark, check_dtype=False, rtol=1e-12)
