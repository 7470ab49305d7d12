"""area_panel: the area x period panel from indicator outputs and the programme table.

Exact checks (integers, dates, identities such as y = log(numerator / population * multiplier))
on a hand-made table, and the Pioneer timing on the simulated small England.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.panel import area_panel, ramp_excluded


def _table(areas=("E1", "E2", "E3", "E4"), quarters=("2013-01-01", "2013-04-01", "2013-07-01", "2013-10-01"),
           numerator=10.0) -> pd.DataFrame:
    rows = []
    for a in areas:
        for q in quarters:
            start = pd.Timestamp(q)
            rows.append({"indicator": "emergency_admissions", "period": "quarter", "level": "area", "unit": a,
                         "area_code": a, "period_start": start.date(),
                         "period_end": (start + pd.offsets.QuarterEnd(0)).date(),
                         "numerator": numerator, "denominator": 1000.0, "value": np.nan})
    rows.append({**rows[0], "level": "england", "unit": "england", "area_code": None})
    return pd.DataFrame(rows)


PROGS = pd.DataFrame({
    "programme": ["pioneer", "pioneer", "vanguard"], "site": ["A", "B", "V"], "area_code": ["E1", "E2", "E4"],
    "wave": [1, 2, 1], "start_date": pd.to_datetime(["2013-05-15", "2014-01-01", "2013-01-01"]).date})


def test_panel_columns_and_timing():
    panel = area_panel(_table(), PROGS, "emergency_admissions", scale="log")
    assert panel.columns[:8].tolist() == ["area_code", "period_start", "t", "y", "numerator", "population",
                                          "weight", "first_treated"]
    assert sorted(panel["area_code"].unique()) == ["E1", "E2", "E3"]   # E4 (Vanguard) excluded
    by_area = panel.drop_duplicates("area_code").set_index("area_code")
    # E1 starts 15 May 2013: inside the quarter starting 1 April (t = 2); E2 after the panel: never (0)
    assert by_area["first_treated"].to_dict() == {"E1": 2, "E2": 0, "E3": 0}
    assert by_area.loc["E1", "first_treated_start"] == pd.Timestamp("2013-04-01")
    assert by_area["programme_area"].to_dict() == {"E1": True, "E2": True, "E3": False}
    assert panel.loc[panel.area_code == "E1", "treated_post"].tolist() == [0, 1, 1, 1]
    assert panel["t"].tolist() == [1, 2, 3, 4] * 3
    assert np.allclose(panel["y"], np.log(10 / 1000 * 100_000))
    assert (panel["weight"] == panel["population"]).all()
    assert panel.attrs["scale"] == "log" and panel.attrs["exclude"] == ("vanguard",)


def test_keep_co_intervention_areas_flagged():
    panel = area_panel(_table(), PROGS, "emergency_admissions", exclude=())
    flags = panel.drop_duplicates("area_code").set_index("area_code")["in_vanguard"]
    assert flags.to_dict() == {"E1": False, "E2": False, "E3": False, "E4": True}
    assert np.allclose(panel["y"], 1000.0)  # rate scale: per 100,000


def test_ramp_excluded():
    panel = area_panel(_table(), PROGS, "emergency_admissions")
    out = ramp_excluded(panel, 2)
    assert out.loc[out.area_code == "E1", "t"].tolist() == [1, 4]
    assert len(out) == len(panel) - 2 and out.attrs["ramp_excluded"] == 2


def test_errors_name_what_is_missing():
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['numerator'\]"):
        area_panel(_table().drop(columns="numerator"), PROGS, "emergency_admissions")
    with pytest.raises(ValueError, match="no area rows for indicator 'other'"):
        area_panel(_table(), PROGS, "other")
    with pytest.raises(ValueError, match="programmes table lacks column"):
        area_panel(_table(), PROGS.drop(columns="start_date"), "emergency_admissions")
    with pytest.raises(ValueError, match="programme 'ics' is not in the programmes table"):
        area_panel(_table(), PROGS, "emergency_admissions", programme="ics")
    late = PROGS.assign(start_date=pd.Timestamp("2020-01-01").date())
    with pytest.raises(ValueError, match="no pioneer areas treated"):
        area_panel(_table(), late, "emergency_admissions")
    all_vanguard = pd.concat([PROGS, PROGS.iloc[[2]].assign(area_code="E3"), PROGS.iloc[[2]].assign(area_code="E2")])
    with pytest.raises(ValueError, match="no comparison"):
        area_panel(_table(), all_vanguard, "emergency_admissions")
    with pytest.raises(ValueError, match="scale must be one of"):
        area_panel(_table(), PROGS, "emergency_admissions", scale="probit")
    with pytest.raises(ValueError, match="scale='logit' needs a proportion; indicator 'emergency_admissions'"):
        area_panel(_table(), PROGS, "emergency_admissions", scale="logit")
    with pytest.raises(ValueError, match="needs positive rates.*'E1'"):
        area_panel(_table(numerator=0.0), PROGS, "emergency_admissions", scale="log")
    with pytest.raises(ValueError, match="no rate.*'E1'"):
        area_panel(_table(), PROGS, "emergency_admissions", outcome="value")


def test_small_england_pioneer_timing(small_england):
    from joinedup.data import open_dataset
    from joinedup.indicators import compute_indicators

    ds = open_dataset(small_england)
    table = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    panel = area_panel(table, ds, "emergency_admissions")   # rate scale: zero-event quarters are fine
    assert panel["t"].max() == 20 and panel.groupby("area_code").size().eq(20).all()
    waves = panel.drop_duplicates("area_code").groupby("wave")["first_treated"].unique()
    # 2012Q1 is t = 1: wave 1 (1 Nov 2013) is first treated in 2013Q4 (t = 8), wave 2 (1 Jan 2015) t = 13
    assert [list(waves[w]) for w in (0, 1, 2)] == [[0], [8], [13]]
    assert not panel["in_vanguard"].any()
    with pytest.raises(ValueError, match="zeros='drop_area'"):
        area_panel(table, ds, "emergency_admissions", scale="log")
