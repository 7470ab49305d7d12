"""Indicators by deprivation quintile, age band, sex and ethnic group; SII/RII per unit; control.

Checks: the groups of every breakdown add up to the indicator the catalogue computes (numerators
exactly); a quintile's DSR equals an independent pandas recomputation with PHE's DSR to 1e-9; the
programmed deprivation gradient shows (England's SII negative, its 95% interval excluding zero);
ethnic groups, which carry no programmed gradient, differ by no more than 15% (their age-standardised
rates on about 1,000-20,000 events each); the written table is disclosure-controlled.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.indicators import compute_indicators
from joinedup.indicators.breakdown_step import breakdown_step
from joinedup.indicators.breakdowns import BREAKDOWNS, compute_breakdowns, sii_by_unit
from joinedup.indicators.methods import ESP2013
from joinedup.indicators.stats import dsr
from joinedup.protocol import Indicators

IDS = ["emergency_admissions", "readmissions_30d"]


@pytest.fixture(scope="module")
def ds(small_england):
    return open_dataset(small_england)


@pytest.fixture(scope="module")
def table(ds):
    return compute_breakdowns(ds, IDS, list(BREAKDOWNS))


def test_groups_add_up_to_the_catalogue_indicator(ds, table):
    whole = compute_indicators(ds, IDS, ["financial_year"])
    whole = whole.set_index(["indicator", "level", "unit", "period_start"])["numerator"]
    for (indicator, breakdown), part in table.groupby(["indicator", "breakdown"]):
        sums = part.groupby(["indicator", "level", "unit", "period_start"])["numerator"].sum()
        joined = sums.to_frame("groups").join(whole.rename("whole"), how="inner")
        assert len(joined) == len(sums), (indicator, breakdown)
        np.testing.assert_allclose(joined["groups"], joined["whole"], rtol=0, atol=1e-9,
                                   err_msg=f"{indicator} by {breakdown}")
    # the same people in every partition of the denominator
    em = table[(table["indicator"] == "emergency_admissions") & (table["level"] == "england")]
    per = em.groupby(["breakdown", "period_start"])["denominator"].sum().unstack("breakdown")
    assert (per.nunique(axis=1) == 1).all()


def test_quintile_dsr_matches_an_independent_computation(small_england, table):
    con = duckdb.connect()
    persons = con.sql(f"select * from '{small_england}/persons/*.parquet'").df()
    adm = con.sql(f"""select person_id, age, sex, admission_date from
                      '{small_england}/admissions/*.parquet'
                      where admission_method = 'emergency' and not transfer_in""").df()
    start, end = pd.Timestamp(2014, 4, 1), pd.Timestamp(2015, 3, 31)
    q1 = persons[(persons["lsoa_imd_decile"] <= 2)]
    events = adm[(adm["admission_date"] >= start) & (adm["admission_date"] <= end)
                 & adm["person_id"].isin(q1["person_id"])]
    events = events.assign(band=np.minimum(events["age"] // 5 * 5, 90))
    mid = pd.Timestamp(2014, 6, 30)
    alive = q1[q1["death_date"].isna() | (pd.to_datetime(q1["death_date"]) > mid)]
    age = 2014 - alive["birth_year"] - 1
    alive = alive[age >= 0].assign(band=np.minimum(age[age >= 0] // 5 * 5, 90))
    grid = pd.MultiIndex.from_product([["F", "M"], sorted(ESP2013)], names=["sex", "band"])
    frame = pd.DataFrame({
        "x": events.groupby(["sex", "band"]).size().reindex(grid, fill_value=0),
        "n": alive.groupby(["sex", "band"]).size().reindex(grid, fill_value=0)}).reset_index()
    frame["esp"] = frame["band"].map(ESP2013).astype(float)
    expected = dsr(frame[frame["n"] > 0], "x", "n", "esp", confidence=(0.95, 0.998))
    got = table[(table["indicator"] == "emergency_admissions") & (table["level"] == "england")
                & (table["breakdown"] == "imd_quintile") & (table["group"] == "1")
                & (table["period_start"].astype(str) == "2014-04-01")]
    assert len(got) == 1
    assert got["numerator"].iloc[0] == frame["x"].sum()
    assert got["value"].iloc[0] == pytest.approx(expected["value"].iloc[0], rel=1e-9)
    assert got["lower"].iloc[0] == pytest.approx(expected["lower95_0cl"].iloc[0], rel=1e-9)


def test_programmed_gradient_shows_and_ethnicity_carries_none(table):
    em = table[(table["indicator"] == "emergency_admissions") & (table["level"] == "england")]
    quint = em[em["breakdown"] == "imd_quintile"].pivot(index="period_start", columns="group",
                                                       values="value")
    assert (quint[["1", "2", "3", "4", "5"]].diff(axis=1).iloc[:, 1:] < 0).all(axis=None)
    ethnic = em[em["breakdown"] == "ethnicity"].pivot(index="period_start", columns="group",
                                                     values="value")
    assert (ethnic.max(axis=1) / ethnic.min(axis=1) < 1.15).all()
    sii = sii_by_unit(table)
    england = sii[(sii["indicator"] == "emergency_admissions") & (sii["level"] == "england")]
    assert len(england) == len(quint)
    assert (england["sii_upper95_0cl"] < 0).all() and (england["rii_upper95_0cl"] < 1).all()
    assert (england["sii_lower95_0cl"] < england["sii"]).all()


def test_written_tables_are_controlled(ds, tmp_path):
    controlled, sii, _ = breakdown_step(ds, ["readmissions_30d"], ["ethnicity", "imd_quintile"], None,
                                     tmp_path, True)
    written = pd.read_parquet(tmp_path / "tables" / "indicator_breakdowns.parquet")
    assert len(written) == len(controlled) and (tmp_path / "tables" /
                                                "indicator_inequalities.csv").exists()
    sub = written[written["level"] != "england"]
    counts = sub[["numerator", "denominator"]].to_numpy().ravel()
    shown = counts[~np.isnan(counts)]
    assert (shown % 5 == 0).all() and not ((shown >= 1) & (shown <= 7)).any()
    small = sub["numerator"].isna()
    assert small.any() and sub.loc[small, ["value", "lower", "upper"]].isna().all(axis=None)
    raw = compute_breakdowns(ds, ["readmissions_30d"], ["ethnicity", "imd_quintile"])
    england = written[written["level"] == "england"].reset_index(drop=True)
    np.testing.assert_array_equal(england["numerator"],
                                  raw[raw["level"] == "england"]["numerator"].to_numpy())
    assert set(sii["indicator"]) == {"readmissions_30d"}


def test_protocol_key_and_bad_input(ds):
    assert Indicators(breakdowns=["imd_quintile", "sex"]).breakdowns == ["imd_quintile", "sex"]
    assert Indicators().breakdowns == []
    with pytest.raises(ValueError, match="imd_quintile"):
        Indicators(breakdowns=["deprivation"])
    with pytest.raises(ValueError, match="unknown breakdown.*allowed: imd_quintile, age_band"):
        compute_breakdowns(ds, IDS, ["income"])
