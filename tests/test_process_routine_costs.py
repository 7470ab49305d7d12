"""The routine cost indicator set against reported progress on costs (issue 20, triangulation):
emergency admission cost per head per site and financial year equals a plain pandas computation from
the raw tables; the triangulation gets a "costs" row per site; bad unit costs are named; the
wording is written from the table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.process.routine_costs import (
    cost_change,
    emergency_cost_per_head,
    emergency_unit_costs,
    routine_costs_figure,
)
from joinedup.process.wording import costs_by_year, costs_sentence
from joinedup.programme import builtin_programme


def _reference(data, programme) -> pd.DataFrame:
    """The indicator by hand from the raw parquet files (no engine, no shared code)."""
    adm = pd.read_parquet(data / "admissions")
    uc = pd.read_parquet(data / "unit_costs.parquet")
    year = int(uc["year"].min())
    price = uc[uc["year"] == year].set_index("item")["cost"]
    em = adm[adm["admission_method"] == "emergency"].copy()
    adm_date = pd.to_datetime(em["admission_date"])
    em["fy"] = np.where(adm_date.dt.month >= 4, adm_date.dt.year, adm_date.dt.year - 1)
    los = (pd.to_datetime(em["discharge_date"]) - adm_date).dt.days
    em["excess"] = (los - 14).clip(lower=0).fillna(0)
    pop = pd.read_parquet(data / "population.parquet").groupby(["area_code", "year"])["persons"].sum()
    first, last = adm_date.min(), adm_date.max()
    rows = []
    for site, areas in programme.sites.groupby("site")["area_code"]:
        mine = em[em["area_code"].isin(set(areas))]
        for fy in sorted(mine["fy"].unique()):
            start, end = pd.Timestamp(f"{fy}-04-01"), pd.Timestamp(f"{fy + 1}-03-31")
            if start < first.replace(day=1) or end > last:
                continue
            part = mine[mine["fy"] == fy]
            residents = sum(pop.get((a, fy), 0) for a in set(areas))
            cost = len(part) * price["emergency_spell"] + part["excess"].sum() * price["excess_bed_day"]
            rows.append({"site": site, "financial_year": fy, "emergency_spells": len(part),
                         "cost_per_head": cost / residents})
    return pd.DataFrame(rows)


def test_cost_per_head_equals_a_computation_by_hand(small_england):
    ds = load_dataset(small_england)
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    got = emergency_cost_per_head(ds, programme)
    ref = _reference(small_england, programme)
    assert len(got) == len(ref) and len(got) >= 2 * got["site"].nunique()
    merged = got.merge(ref, on=["site", "financial_year"], suffixes=("", "_ref"))
    assert len(merged) == len(ref)
    assert (merged["emergency_spells"] == merged["emergency_spells_ref"]).all()
    np.testing.assert_allclose(merged["cost_per_head"], merged["cost_per_head_ref"], rtol=1e-12)
    assert got["financial_year"].min() >= 2012 and (pd.to_datetime(got["period_end"]).dt.month == 3).all()
    # the triangulation's costs row: % change from the years before the site's start to its last year
    starts = programme.sites.drop_duplicates("site").set_index("site")["start_date"]
    change = cost_change(got, starts).set_index("site")
    site = change.index[0]
    mine = got[got["site"] == site]
    before = mine[pd.to_datetime(mine["period_end"]) < starts[site]]["cost_per_head"].mean()
    assert change.at[site, "measure"] == "costs"
    assert change.at[site, "routine_change"] == pytest.approx(100 * (mine["cost_per_head"].iloc[-1] / before - 1))
    fig = routine_costs_figure(got)
    assert fig.svg.startswith("<svg") and "cost per head" in fig.alt_text


def test_unit_costs_problems_are_named(small_england, tmp_path):
    import shutil

    from joinedup.economics.costs import unit_costs  # noqa: F401  (same table, same checks of units)

    data = tmp_path / "data"
    shutil.copytree(small_england, data)
    uc = pd.read_parquet(data / "unit_costs.parquet")
    year = int(uc["year"].min())
    assert emergency_unit_costs(load_dataset(small_england))[0] == year
    with pytest.raises(ValueError, match="unit_costs has no price year|no item 'emergency_spell' for price year 1999"):
        emergency_unit_costs(load_dataset(small_england), price_year=1999)
    uc.loc[uc["item"] == "excess_bed_day", "unit"] = "per_spell"
    uc.to_parquet(data / "unit_costs.parquet", index=False)
    with pytest.raises(ValueError, match="item 'excess_bed_day' is 'per_spell', expected 'per_bed_day'"):
        emergency_unit_costs(load_dataset(data))


def test_costs_wording_follows_the_table():
    table = pd.DataFrame({"site": ["A", "B", "A", "B"], "financial_year": [2013, 2013, 2015, 2015],
                          "cost_per_head": [100.0, 120.0, 90.0, np.nan], "price_year": 2015})
    by = costs_by_year(table)
    assert by.to_dict("records") == [{"financial_year": "2013/14", "sites": 2, "mean_cost_per_head": 110.0},
                                     {"financial_year": "2015/16", "sites": 1, "mean_cost_per_head": 90.0}]
    assert costs_sentence(table) == ("Emergency admission cost per head (routine data, 2015/16 unit costs) averaged "
                                     "£110.00 over 2 sites in 2013/14 and £90.00 over 1 sites in 2015/16.")
    assert "no value to show" in costs_sentence(table.assign(cost_per_head=np.nan))


def test_practice_programme_costs_use_registered_practice_and_list_sizes(small_england, tmp_path):
    from joinedup.programme import load_programme
    from joinedup.protocol import ProgrammeSpec

    ds = load_dataset(small_england)
    practices = pd.read_parquet(small_england / "practices.parquet")["practice_code"].tolist()
    sites = pd.DataFrame({"site": ["P1"] * 3 + ["P2"] * 2, "unit_code": practices[:5], "start_date": "2014-04-01"})
    sites.to_csv(tmp_path / "sites.csv", index=False)
    programme = load_programme(ProgrammeSpec(name="P", sites="sites.csv", unit="practice"),
                               lambda f: str(tmp_path / f), ds)
    got = emergency_cost_per_head(ds, programme).set_index(["site", "financial_year"])
    # by hand: spells by registered practice; residents the mean over the year's registration extracts
    adm = pd.read_parquet(small_england / "admissions")
    em = adm[(adm["admission_method"] == "emergency") & adm["practice_code"].isin(practices[:2] + [practices[2]])]
    d = pd.to_datetime(em["admission_date"])
    fy = 2013
    part = em[(d >= "2013-04-01") & (d <= "2014-03-31")]
    los = (pd.to_datetime(part["discharge_date"]) - pd.to_datetime(part["admission_date"])).dt.days
    pp = pd.read_parquet(small_england / "practice_population.parquet")
    pp = pp[pp["practice_code"].isin(practices[:3])]
    e = pd.to_datetime(pp["extract_date"])
    pp = pp[(e >= "2013-04-01") & (e <= "2014-03-31")]
    residents = pp.groupby(["practice_code", "extract_date"])["persons"].sum().groupby("practice_code").mean().sum()
    uc = pd.read_parquet(small_england / "unit_costs.parquet")
    price = uc[uc["year"] == uc["year"].min()].set_index("item")["cost"]
    cost = len(part) * price["emergency_spell"] + (los - 14).clip(lower=0).fillna(0).sum() * price["excess_bed_day"]
    assert got.at[("P1", fy), "emergency_spells"] == len(part)
    assert got.at[("P1", fy), "residents"] == pytest.approx(residents)
    assert got.at[("P1", fy), "cost_per_head"] == pytest.approx(cost / residents, rel=1e-12)
