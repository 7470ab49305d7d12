"""[programme] register: go-live dates from an initiative register reach the impact panel as
treatment timing (first_treated), through the programme as any sites file does."""

from __future__ import annotations

import pandas as pd

from joinedup.data import load_dataset
from joinedup.impact.panel import area_panel
from joinedup.indicators import compute_indicators
from joinedup.process.register import validate_register
from joinedup.process.register_io import write_register
from joinedup.process.treatment import go_live
from joinedup.programme import load_programme
from joinedup.protocol import ProgrammeSpec
from joinedup.simulate.initiatives import simulate_register


def test_register_go_live_becomes_first_treated(small_england, tmp_path):
    ds = load_dataset(small_england)
    prog = ds.execute(ds.table("programmes"))
    pioneers = prog[prog["programme"] == "pioneer"].rename(columns={"area_code": "unit_code"})
    pioneers["start_date"] = pd.to_datetime(pioneers["start_date"]).dt.strftime("%Y-%m-%d")
    pioneers[["site", "unit_code", "start_date", "wave"]].to_csv(tmp_path / "sites.csv", index=False)
    sites = pioneers.drop_duplicates("site")[["site", "start_date"]]
    frame, _ = simulate_register(seed=4, scenario="narrowing", sites=sites, last_year=2016)
    rows = validate_register(frame).rows
    write_register(rows, tmp_path / "register.csv")
    spec = ProgrammeSpec(name="Pioneers", sites="sites.csv", initiative_register="register.csv",
                         initiative_types=["community_mdt"])
    programme = load_programme(spec, lambda f: str(tmp_path / f), ds)
    expected = go_live(rows, ["community_mdt"]).set_index("site")["go_live"]
    got = programme.sites.drop_duplicates("site").set_index("site")["start_date"]
    moved = got.index.intersection(expected.index)
    assert len(moved) >= 1
    assert (got[moved] == expected[moved]).all()
    assert (got[moved] > pd.to_datetime(sites.set_index("site")["start_date"])[moved]).all()  # delays
    assert "initiative register" in programme.source
    ind = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    panel = area_panel(ind, programme.table, "emergency_admissions", programme="programme", exclude=())
    area = programme.sites[programme.sites["site"] == moved[0]]["area_code"].iloc[0]
    first = panel.loc[panel["area_code"] == area, "first_treated_start"].iloc[0]
    assert pd.Timestamp(first) == expected[moved[0]]


def test_a_go_live_outside_the_data_is_named(small_england, tmp_path):
    import pytest

    from joinedup.process.register import RegisterError

    ds = load_dataset(small_england)
    prog = ds.execute(ds.table("programmes"))
    site = prog[prog["programme"] == "pioneer"].iloc[0]
    pd.DataFrame([{"site": site["site"], "unit_code": site["area_code"], "start_date": "2014-01-01"}]).to_csv(
        tmp_path / "sites.csv", index=False)
    frame, _ = simulate_register(seed=1, sites=pd.DataFrame({"site": [site["site"]], "start_date": ["2018-01-01"]}),
                                 last_year=2021)
    frame.to_csv(tmp_path / "register.csv", index=False)
    spec = ProgrammeSpec(name="P", sites="sites.csv", initiative_register="register.csv")
    with pytest.raises(RegisterError, match=f"site '{site['site']}' goes live on 20.*outside the data"):
        load_programme(spec, lambda f: str(tmp_path / f), ds)
    bad = frame.copy()
    bad.loc[3, "stage"] = "live"
    bad.to_csv(tmp_path / "register.csv", index=False)
    with pytest.raises(RegisterError, match="1 row\\(s\\) rejected: line 5: stage 'live'"):
        load_programme(spec, lambda f: str(tmp_path / f), ds)


def test_programmed_delays_are_recovered_as_treatment_timing(small_england, tmp_path):
    """Each site's treatment start is its first initiative's programmed go-live (start of design +
    the simulator's programmed delay), not the date it joined: the delay is recovered exactly, in
    the narrowing (18-month) and null (4.5-month) scenarios alike."""
    ds = load_dataset(small_england)
    prog = ds.execute(ds.table("programmes"))
    pioneers = prog[prog["programme"] == "pioneer"].rename(columns={"area_code": "unit_code"})
    pioneers["start_date"] = pd.to_datetime(pioneers["start_date"]).dt.strftime("%Y-%m-%d")
    pioneers[["site", "unit_code", "start_date", "wave"]].to_csv(tmp_path / "sites.csv", index=False)
    sites = pioneers.drop_duplicates("site")[["site", "start_date"]]
    joined = pd.to_datetime(sites.set_index("site")["start_date"])
    mean_shift = {}
    for scenario in ("narrowing", "null"):
        frame, truth = simulate_register(seed=8, scenario=scenario, sites=sites, last_year=2016)
        frame.to_csv(tmp_path / "register.csv", index=False)
        last_period = pd.to_datetime(frame["period"]).max()
        programmed = pd.DataFrame(truth["delays"])
        programmed["go_live"] = [pd.Timestamp(s) + pd.DateOffset(months=int(m))
                                 for s, m in zip(programmed["start_date"], programmed["delay_months"])]
        programmed = programmed[programmed["go_live"] <= last_period]  # live inside the register
        expected = programmed.groupby("site")["go_live"].min()
        spec = ProgrammeSpec(name="Pioneers", sites="sites.csv", initiative_register="register.csv")
        got = load_programme(spec, lambda f: str(tmp_path / f), ds).sites.drop_duplicates("site").set_index(
            "site")["start_date"]
        assert len(expected) >= 10
        pd.testing.assert_series_equal(got[expected.index], expected, check_names=False)
        kept = got.index.difference(expected.index)  # no initiative live in the register: the joining date
        assert (got[kept] == joined[kept]).all()
        mean_shift[scenario] = float(((got[expected.index] - joined[expected.index]).dt.days / 30.44).mean())
    # the programmed difference between the scenarios' delays shows in the timing
    assert mean_shift["narrowing"] > mean_shift["null"] + 6, mean_shift
