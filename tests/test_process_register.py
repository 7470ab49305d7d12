"""The initiative register: rules, rejects file, CSV/Excel round trip, go-live and dose, and the
[programme] register key that sets the impact designs' treatment timing."""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.process.register import REGISTER_COLUMNS, RegisterError, validate_register
from joinedup.process.register_io import read_register, write_register
from joinedup.process.treatment import apply_register, dose, go_live
from joinedup.programme import programme_from_frames


def _row(**kw) -> dict:
    base = {"site": "A", "initiative_id": "a1", "initiative": "Frailty MDT", "initiative_type": "community_mdt",
            "target_groups": "older_people;carers", "model": "medical", "prevention": "no",
            "personalisation": "yes", "start_date": "2014-01-01", "end_date": "", "period": "2014-01-01",
            "stage": "planned", "scale": "", "scale_unit": "", "source": "document", "source_ref": "plan p3"}
    return {**base, **kw}


def _frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(REGISTER_COLUMNS))


def test_good_rows_are_typed_and_site_submissions_unverified():
    reg = validate_register(_frame(_row(), _row(period="2015-04-01", stage="implemented", scale="300",
                                            scale_unit="people", source="site_submission")))
    assert len(reg.rows) == 2 and reg.rejects.empty
    assert reg.rows["verified"].tolist() == [True, False]
    ini = reg.initiatives()
    assert ini.loc[0, "go_live"] == pd.Timestamp("2015-04-01") and ini.loc[0, "delay_months"] == 15
    assert ini.loc[0, "target_groups"] == "carers;older_people"


@pytest.mark.parametrize("change, reason", [
    ({"stage": "live"}, "stage 'live' is not one of"),
    ({"model": "clinical"}, "model 'clinical' is not one of"),
    ({"source": "rumour"}, "source 'rumour' is not one of"),
    ({"target_groups": "older_people;pets"}, "target_groups 'pets' not in"),
    ({"start_date": "01/02/2014"}, "start_date '01/02/2014' is not a date"),
    ({"end_date": "2013-01-01"}, "end_date 2013-01-01 is before start_date"),
    ({"scale": "12.5", "scale_unit": "people"}, "scale '12.5' is not a whole number"),
    ({"scale": "40"}, "scale_unit '' is not one of"),
    ({"prevention": "maybe"}, "prevention 'maybe' is not yes or no"),
    ({"site": ""}, "site is empty"),
    ({"period": "2013-01-01", "stage": "implemented"}, "before the start_date"),
])
def test_bad_rows_go_to_rejects_with_line_and_reason(change, reason):
    reg = validate_register(_frame(_row(period="2014-04-01"), _row(**change)))
    assert len(reg.rows) == 1
    assert reg.rejects["line"].tolist() == [3]
    assert reason in reg.rejects["reason"].iloc[0]


def test_conflicting_initiative_attributes_and_duplicate_periods_are_rejected():
    reg = validate_register(_frame(_row(), _row(period="2014-04-01", model="social"), _row()))
    assert len(reg.rows) == 1
    reasons = reg.rejects.set_index("line")["reason"]
    assert "model differ(s) from the initiative's row at line 2" in reasons[3]
    assert "already has a row for period 2014-01-01" in reasons[4]


def test_missing_columns_stop_with_their_names():
    with pytest.raises(RegisterError, match="missing column\\(s\\) stage, scale"):
        validate_register(_frame(_row()).drop(columns=["stage", "scale"]))


def test_csv_and_excel_round_trip_and_rejects_file(tmp_path):
    good = validate_register(_frame(_row(), _row(period="2015-01-01", stage="at_scale", scale="900",
                                                 scale_unit="people"))).rows
    for name in ("reg.csv", "reg.xlsx"):
        write_register(good, tmp_path / name)
        back = read_register(tmp_path / name, rejects=tmp_path / "rejects.csv")
        pd.testing.assert_frame_equal(back.rows.astype(str), good.astype(str))
    bad = _frame(_row(), _row(stage="??"))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    reg = read_register(tmp_path / "bad.csv", rejects=tmp_path / "rejects.csv")
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert len(reg.rows) + len(rejects) == 2 and rejects["line"].tolist() == [3]
    with pytest.raises(RegisterError, match="does not exist"):
        read_register(tmp_path / "none.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(RegisterError, match="a register is a .csv or .xlsx"):
        read_register(tmp_path / "x.txt")


def test_go_live_dose_and_programme_timing():
    rows = validate_register(_frame(
        _row(), _row(period="2015-04-01", stage="implemented", scale="300", scale_unit="people"),
        _row(initiative_id="a2", initiative_type="reablement", model="social", period="2014-07-01",
             stage="implemented", scale="20", scale_unit="practices"),
        _row(site="B", initiative_id="b1", period="2014-01-01"))).rows
    assert go_live(rows).set_index("site")["go_live"].to_dict() == {"A": pd.Timestamp("2014-07-01")}
    assert go_live(rows, ["community_mdt"])["go_live"].tolist() == [pd.Timestamp("2015-04-01")]
    d = dose(rows, population=pd.Series({"A": 100_000}))
    assert d["people_covered"].tolist() == [0.0, 300.0]  # practices are not people
    assert d["coverage_per_1000"].tolist() == [0.0, 3.0]
    sites = pd.DataFrame({"site": ["A", "B"], "unit_code": ["E1", "E2"], "start_date": ["2013-11-01"] * 2})
    prog = programme_from_frames("P", sites)
    moved, kept = apply_register(prog, rows, ["community_mdt"])
    assert moved.sites.set_index("site")["start_date"].to_dict() == {
        "A": pd.Timestamp("2015-04-01"), "B": pd.Timestamp("2013-11-01")}
    assert kept == ["B"]
    with pytest.raises(ValueError, match="not among"):
        go_live(rows, ["teleporting"])
