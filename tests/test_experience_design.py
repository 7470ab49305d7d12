"""The impact design on published experience measures never compares across the GPPS 2018
questionnaire break (a period restriction, docs/person-centred.md), and says why it cannot estimate
when an era holds no pre-programme year. Recovery of programmed effects on simulated England is in
tests/test_experience_simulated.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.experience.design import QuestionnaireBreakError, experience_did, experience_panel
from joinedup.experience.gpps import gpps_era


def _table(years, effect=0.0, seed=1, n_units=40):
    """Unit x year shares: unit level + year trend (+ effect once started); half the units start in 2015."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        level, start = rng.uniform(0.3, 0.6), (2015 if u % 2 else 0)
        for y in years:
            treated = start and y >= start
            rows.append({"source": "GPPS", "unit_code": f"A{81000 + u}", "year": y, "era": gpps_era(y),
                         "measure": "preferred_gp", "question": "Q9", "base": 100.0,
                         "value": level + 0.01 * (y - years[0]) + effect * treated + rng.normal(0, 0.01)})
    table = pd.DataFrame(rows)
    starts = pd.DataFrame({"unit_code": [f"A{81000 + u}" for u in range(n_units)],
                           "start_year": [2015 if u % 2 else 0 for u in range(n_units)]})
    return table, starts


def test_data_spanning_the_2018_break_are_refused_without_an_era():
    table, starts = _table(range(2013, 2021))
    with pytest.raises(QuestionnaireBreakError, match=r"2012-2017 \(years 2013-2017\).*2018-2023 \(years 2018-2020\)"):
        experience_did(table, "preferred_gp", starts)


def test_the_era_restriction_keeps_one_era_and_says_what_it_left_out():
    table, starts = _table(range(2013, 2021), effect=0.05)
    # a jump at the break for the programme units only: a naive comparison across it would be biased
    table.loc[(table["year"] >= 2018) & table["unit_code"].isin(starts.loc[starts["start_year"] > 0, "unit_code"]),
              "value"] += 0.10
    panel, notes = experience_panel(table, "preferred_gp", starts, era="2012-2017")
    assert set(panel["year"]) == {2013, 2014, 2015, 2016, 2017}
    assert notes == ["120 unit-years of era(s) 2018-2023 left out (no comparison across the questionnaire break)"]
    res = experience_did(table, "preferred_gp", starts, era="2012-2017")
    assert abs(res.estimate - 0.05) < 3 * res.std_error and res.std_error < 0.01
    assert res.tidy()["era"].item() == "2012-2017" and res.n_treated_units == 20


def test_an_era_with_no_pre_programme_year_gives_no_estimate_and_says_why():
    table, starts = _table(range(2013, 2021), effect=0.05)
    with pytest.raises(ValueError, match="no programme unit has a year before its start"):
        experience_did(table, "preferred_gp", starts, era="2018-2023")
    with pytest.raises(QuestionnaireBreakError, match="no rows of era '2024 on'"):
        experience_did(table, "preferred_gp", starts, era="2024 on")


def test_a_unit_missing_years_is_an_unbalanced_panel_and_unknown_units_are_named():
    table, starts = _table(range(2012, 2018), effect=0.05)
    table = table.drop(index=table.index[(table["unit_code"] == "A81003") & (table["year"] == 2013)])
    extra = table.iloc[[0]].assign(unit_code="Z99999")
    res = experience_did(pd.concat([table, extra]), "preferred_gp", starts)
    assert any("miss a year" in n for n in res.notes)
    assert any("not in the programme file" in n and "Z99999" in n for n in res.notes)
    assert abs(res.estimate - 0.05) < 3 * res.std_error
