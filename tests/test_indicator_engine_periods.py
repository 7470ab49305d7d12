"""The period and unit stage on the engine (engine_periods) against the pandas route it replaced
(period_counts then indicator_values), on every indicator and period.

Tolerance: numerators and denominators exact (counts and whole persons); values and limits 1e-11
relative: the engine route adds the DSR strata in another order (last-bit differences, amplified
where a lower limit nearly cancels to zero).
"""

import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.indicators import CATALOGUE, compute_indicators
from joinedup.indicators.compute import monthly_counts, period_counts, reporting_units
from joinedup.indicators.engine_periods import calendar
from joinedup.indicators.methods import indicator_values

PERIODS = ["month", "quarter", "financial_year"]


@pytest.fixture(scope="module")
def ds(small_england):
    return open_dataset(small_england)


def test_engine_route_gives_the_pandas_route_table(ds):
    engine = compute_indicators(ds, None, PERIODS)
    units, cache, parts = reporting_units(ds), {}, []
    for indicator in CATALOGUE.values():
        monthly = monthly_counts(ds, indicator, cache)
        for period in PERIODS:
            parts.append(indicator_values(period_counts(monthly, period, units), indicator).assign(period=period))
    ref = pd.concat(parts, ignore_index=True)
    keys = ["indicator", "period", "level", "unit", "period_start"]
    engine = engine.sort_values(keys).reset_index(drop=True)
    ref = ref.assign(period_start=pd.to_datetime(ref["period_start"]).dt.date,
                     period_end=pd.to_datetime(ref["period_end"]).dt.date).sort_values(keys).reset_index(drop=True)
    assert len(engine) == len(ref) > 0
    for col in ["indicator", "period", "level", "unit", "unit_name", "period_start", "period_end", "method"]:
        assert engine[col].tolist() == ref[col].tolist(), col
    for col in ["numerator", "denominator"]:
        pd.testing.assert_series_equal(engine[col], ref[col], check_dtype=False, rtol=0, atol=0)
    for col in ["value", "lower", "upper", "lower_998", "upper_998"]:
        pd.testing.assert_series_equal(engine[col], ref[col], check_dtype=False, rtol=1e-11)


def test_calendar_keeps_whole_periods_only(ds):
    monthly = monthly_counts(ds, CATALOGUE["ae_attendances"])
    cal = calendar(monthly, ["quarter", "financial_year"])
    per = cal.groupby(["period", "period_start"]).size()
    assert set(per.loc["quarter"]) == {3} and set(per.loc["financial_year"]) == {12}
    assert (cal["period_start"].dt.month[cal["period"] == "financial_year"] == 4).all()
