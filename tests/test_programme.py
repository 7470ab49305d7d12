"""Programmes from files ([programme]): the sites-file Pioneers equal the built-in Pioneers exactly,
and bad sites files stop with errors naming file, row and value."""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.impact.evaluate import run_impact
from joinedup.indicators import compute_indicators
from joinedup.pipeline import run_protocol
from joinedup.programme import ProgrammeError, load_programme, programme_of
from joinedup.protocol import Impact, ProgrammeSpec, load_protocol

SPEC = Impact(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7)


def _write_sites(folder, ds):
    """The dataset's Pioneers and Vanguards written as a user would: sites.csv and vanguards.csv."""
    prog = ds.execute(ds.table("programmes"))
    cols = {"area_code": "unit_code"}
    for name, key in (("sites.csv", "pioneer"), ("vanguards.csv", "vanguard")):
        rows = prog[prog["programme"] == key].rename(columns=cols)
        rows["start_date"] = pd.to_datetime(rows["start_date"]).dt.strftime("%Y-%m-%d")
        rows[["site", "unit_code", "start_date", "wave"]].to_csv(folder / name, index=False)
    return folder / "sites.csv", folder / "vanguards.csv"


@pytest.fixture(scope="module")
def world(small_england, tmp_path_factory):
    folder = tmp_path_factory.mktemp("programme")
    ds = load_dataset(small_england)
    sites, vanguards = _write_sites(folder, ds)
    indicators = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    return {"ds": ds, "folder": folder, "sites": sites, "vanguards": vanguards, "indicators": indicators}


def _load(world, sites="sites.csv", exclude=("vanguards.csv",), unit="area"):
    spec = ProgrammeSpec(name="Pioneers from a file", sites=sites, unit=unit, exclude=list(exclude))
    return load_programme(spec, lambda f: str(world["folder"] / f), world["ds"])


def test_sites_file_pioneers_give_exactly_the_built_in_estimates(world):
    ds, ind = world["ds"], world["indicators"]
    built_in = run_impact(ds, ind, SPEC)
    from_file = run_impact(ds, ind, SPEC, programme=_load(world))
    a, b = built_in.tables, from_file.tables
    assert set(a) == set(b)
    for name in a:
        left, right = a[name], b[name]
        if name == "impact_estimates":  # the four-group rows are named after the programmes
            assert (left["design"].str.replace("pioneer", "programme").str.replace("vanguard only", "vanguards only")
                    == right["design"]).all()
            left, right = left.drop(columns="design"), right.drop(columns="design")
        pd.testing.assert_frame_equal(left, right, check_exact=True)
    assert len(a["impact_estimates"]) >= 9 and a["impact_estimates"]["estimate"].notna().all()
    assert "Pioneers from a file sites" in from_file.notes[-1] or any(
        "Pioneers from a file" in n for n in from_file.notes)


def test_without_the_exclusion_the_comparison_pool_changes(world):
    ds, ind = world["ds"], world["indicators"]
    spec = SPEC.model_copy(update={"synthetic_control": False, "four_groups": False})
    kept = run_impact(ds, ind, spec, programme=_load(world, exclude=()))
    excluded = run_impact(ds, ind, spec, programme=_load(world))
    n_kept = kept.tables["impact_estimates"]["n_comparison_areas"].iloc[0]
    n_excl = excluded.tables["impact_estimates"]["n_comparison_areas"].iloc[0]
    assert n_kept > n_excl  # the Vanguard areas are back in the pool


def _bad(world, name, rows):
    path = world["folder"] / name
    pd.DataFrame(rows, columns=["site", "unit_code", "start_date"]).to_csv(path, index=False)
    with pytest.raises(ProgrammeError) as err:
        _load(world, sites=name, exclude=())
    return str(err.value)


def test_clear_errors_name_file_row_and_value(world):
    areas = world["ds"].execute(world["ds"].table("areas"))["area_code"].tolist()
    a, b = areas[0], areas[1]
    msg = _bad(world, "unknown.csv", [["S1", a, "2014-01-01"], ["S2", "E99999999", "2014-01-01"]])
    assert "unknown.csv" in msg and "row 3" in msg and "E99999999" in msg
    msg = _bad(world, "overlap.csv", [["S1", a, "2014-01-01"], ["S2", b, "2014-01-01"], ["S3", a, "2015-01-01"]])
    assert "overlap.csv" in msg and "overlapping sites" in msg and a in msg and "rows 2, 4" in msg
    msg = _bad(world, "late.csv", [["S1", a, "2014-01-01"], ["S2", b, "2019-06-01"]])
    assert "late.csv" in msg and "row 3" in msg and "2019-06-01" in msg and "outside the data" in msg
    msg = _bad(world, "early.csv", [["S1", a, "2011-01-01"]])
    assert "row 2" in msg and "2011-01-01" in msg
    msg = _bad(world, "baddate.csv", [["S1", a, "1/11/2013"]])
    assert "row 2" in msg and "'1/11/2013'" in msg
    (world["folder"] / "nocols.csv").write_text("site,area\nS1,E1\n", encoding="utf-8")
    with pytest.raises(ProgrammeError, match=r"nocols.csv: missing column\(s\) \['unit_code', 'start_date'\]"):
        _load(world, sites="nocols.csv", exclude=())


def test_a_site_with_no_registered_patients_is_named(world):
    ds = world["ds"]
    pp = ds.execute(ds.table("practice_population"))
    practices = ds.execute(ds.table("practices"))["practice_code"].tolist()
    listed = set(pp["practice_code"])
    assert set(practices) <= listed  # every simulated practice has patients...
    from joinedup.programme import programme_from_frames
    sites = pd.DataFrame({"site": ["S1", "S2"], "unit_code": [practices[0], practices[1]],
                          "start_date": ["2014-01-01", "2014-01-01"]})
    residents = pp.groupby("practice_code")["persons"].sum()
    residents[practices[1]] = 0  # ...so empty one, as a closed practice's list would be
    sites.attrs["path"] = "practices.csv"
    with pytest.raises(ProgrammeError, match=rf"practices.csv: row 3: site 'S2' has no registered patients"):
        programme_from_frames("P", sites, "practice", known_units=set(practices), residents=residents)


def test_a_protocol_with_a_programme_runs_and_the_report_names_it(world, small_england):
    text = f"""
[evaluation]
name = "file programme"
[data]
source = "{small_england}"
[programme]
name = "Frailty MDTs"
sites = "sites.csv"
exclude = ["vanguards.csv"]
[indicators]
ids = ["emergency_admissions"]
periods = ["quarter"]
[impact]
baseline = ["2012-01-01", "2013-09-30"]
biters = 99
seed = 7
synthetic_control = false
"""
    path = world["folder"] / "protocol.toml"
    path.write_text(text, encoding="utf-8")
    protocol = load_protocol(path)
    assert programme_of(protocol, world["ds"]).name == "Frailty MDTs"
    run = run_protocol(protocol, out=world["folder"] / "out")
    est = pd.read_csv(run.out_dir / "tables" / "impact_estimates.csv")
    direct = run_impact(world["ds"], world["indicators"], protocol.impact).tables["impact_estimates"]
    assert (est["estimate"] - direct["estimate"]).abs().max() < 1e-12  # csv round trip only
    html = run.report.read_text(encoding="utf-8")
    assert "Impact: Frailty MDTs areas against comparison areas" in html
    assert "Treated: Frailty MDTs areas" in html
    ind = pd.read_parquet(run.out_dir / "tables" / "indicators.parquet")
    assert "All Frailty MDTs" in set(ind["unit_name"])
