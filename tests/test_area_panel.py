"""area_panel.csv: the impact designs from published aggregates. Fed the panel a full run wrote (with
disclosure control off, so its counts are the unrounded internal ones), `joinedup impact --panel` gives
the same estimates; with control on the written counts are controlled; bad rows are rejected with file,
row, field and reason."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.data import load_dataset
from joinedup.impact.panel_file import PanelFileError, read_area_panel
from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol

ESTIMATES = ["design", "estimator", "estimand", "estimate", "std_error", "ci_low", "ci_high", "p_value",
             "n_treated_areas", "n_comparison_areas"]


def _protocol(folder, data, control: bool, out: str, matched: bool) -> object:
    ds = load_dataset(data)
    prog = ds.execute(ds.table("programmes")).rename(columns={"area_code": "unit_code"})
    prog["start_date"] = pd.to_datetime(prog["start_date"]).dt.strftime("%Y-%m-%d")
    for name, key in (("sites.csv", "pioneer"), ("vanguards.csv", "vanguard")):
        prog[prog["programme"] == key][["site", "unit_code", "start_date", "wave"]].to_csv(folder / name, index=False)
    text = f"""
[evaluation]
name = "panel round trip"
[data]
source = "{data}"
[programme]
name = "Frailty MDTs"
sites = "sites.csv"
exclude = ["vanguards.csv"]
[impact]
baseline = ["2012-01-01", "2013-09-30"]
biters = 99
seed = 7
{"matched_controls = 2" if matched else ""}
[output]
folder = "{out}"
disclosure_control = {"true" if control else "false"}
"""
    path = folder / f"protocol_{out}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full_run(small_england, tmp_path_factory):
    folder = tmp_path_factory.mktemp("panel")
    path = _protocol(folder, small_england, control=False, out="full", matched=True)
    run = run_protocol(load_protocol(path), out=folder / "full")
    return folder, path, run


def test_the_panel_a_full_run_wrote_gives_the_same_estimates(full_run):
    folder, path, run = full_run
    written = run.out_dir / "tables" / "impact_panel.csv"
    panel = pd.read_csv(written)
    assert list(panel.columns[:6]) == ["unit_code", "period_start", "period_end", "indicator", "numerator",
                                       "denominator"]
    assert {"imd_score", "share_65plus", "share_85plus"} <= set(panel.columns)
    result = CliRunner().invoke(app, ["impact", str(path), "--panel", str(written), "--out", str(folder / "again")])
    assert result.exit_code == 0, result.output
    full = pd.read_csv(run.out_dir / "tables" / "impact_estimates.csv")[ESTIMATES]
    again = pd.read_csv(folder / "again" / "tables" / "impact_estimates.csv")[ESTIMATES]
    assert len(full) >= 9 and full["design"].str.contains("synthetic|four groups", case=False).any()
    pd.testing.assert_frame_equal(full, again, check_exact=False, rtol=1e-9, atol=1e-12)
    assert (folder / "again" / "impact.html").exists() and "rejected 0" in result.output


def test_with_disclosure_control_the_written_counts_are_controlled(full_run, small_england):
    folder, _, _ = full_run
    path = _protocol(folder, small_england, control=True, out="controlled", matched=False)
    protocol = load_protocol(path)
    protocol = protocol.model_copy(update={"impact": protocol.impact.model_copy(
        update={"synthetic_control": False, "four_groups": False})})
    run = run_protocol(protocol, out=folder / "controlled")
    panel = pd.read_csv(run.out_dir / "tables" / "impact_panel.csv")
    known = panel["numerator"].dropna()
    assert ((known % 5) == 0).all() and "suppressed" in panel.columns


def test_bad_rows_are_rejected_with_file_row_field_and_reason():
    text = ("unit_code,period_start,period_end,indicator,numerator,denominator,imd_score\n"
            "E06000001,2014-04-01,2014-06-30,emergency_admissions,120,93000,20.1\n"   # row 1: fine
            "E06000001,2014-07-01,2014-09-30,emergency_admissions,,93000,20.1\n"      # 2: suppressed
            "E06000001,2014-13-01,2014-09-30,emergency_admissions,5,93000,20.1\n"     # 3: bad date
            "E06000002,2014-04-01,2014-04-30,emergency_admissions,5,93000,3\n"        # 4: a month, not a quarter
            "E06000002,2014-07-01,2014-09-30,emergency_admissions,5,0,3\n"            # 5: no population
            "E06000001,2014-04-01,2014-06-30,emergency_admissions,121,93000,20.1\n"   # 6: duplicate of 1
            "E06000002,2014-10-01,2014-12-31,emergency_admissions,-1,93000,x\n"       # 7: negative, bad covariate
            "E06000002,2014-10-01,2014-12-31,delayed_transfers,10,93000,3\n")         # 8: another indicator
    buffer = io.StringIO(text)
    buffer.name = "mine.csv"
    read = read_area_panel(buffer, "emergency_admissions", "quarter")
    assert read.read == 8 and len(read.table) == 1 and read.table["numerator"].tolist() == [120.0]
    got = sorted(zip(read.rejects["row"], read.rejects["field"]))
    assert got == [(2, "numerator"), (3, "period_start"), (4, "period_end"), (5, "denominator"),
                   (6, "period_start"), (7, "imd_score"), (7, "numerator")]
    assert set(read.rejects["source_file"]) == {"mine.csv"}
    assert "duplicate" in read.rejects.loc[read.rejects["row"] == 6, "reason"].iloc[0]
    assert read.skipped["rows of indicators other than 'emergency_admissions'"] == 1
    assert "used 1, rejected 6" in read.summary()


def test_a_missing_column_or_varying_covariate_is_named():
    with pytest.raises(PanelFileError, match=r"column\(s\) denominator missing"):
        read_area_panel(io.StringIO("unit_code,period_start,period_end,indicator,numerator\n"), "x", "quarter")
    text = ("unit_code,period_start,period_end,indicator,numerator,denominator,imd_score\n"
            "E1,2014-04-01,2014-06-30,x,1,10,1\nE1,2014-07-01,2014-09-30,x,1,10,2\n")
    with pytest.raises(PanelFileError, match="imd_score must be one value per unit; unit 'E1'"):
        read_area_panel(io.StringIO(text), "x", "quarter")


def test_unknown_site_unit_is_named_by_the_programme_check(full_run, tmp_path):
    folder, path, run = full_run
    (folder / "sites_bad.csv").write_text("site,unit_code,start_date,wave\nX,E99999999,2014-01-01,1\n")
    bad = path.read_text().replace('sites = "sites.csv"', 'sites = "sites_bad.csv"')
    (folder / "bad.toml").write_text(bad)
    result = CliRunner().invoke(app, ["impact", str(folder / "bad.toml"), "--panel",
                                      str(run.out_dir / "tables" / "impact_panel.csv"), "--out", str(tmp_path)])
    assert result.exit_code == 1 and "E99999999" in result.output and "sites_bad.csv" in result.output
