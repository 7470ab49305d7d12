"""Simulated England's GPPS-like and ASCOF-like files, written in the published layouts, read back by
the importers and analysed by the experience design: the programmed effect is recovered, and the null
scenario finds nothing (docs/person-centred.md). Scale 0.005 (the shared small_england fixture)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from joinedup.experience.collect import read_published_folder, write_experience_tables
from joinedup.experience.design import QuestionnaireBreakError, experience_did
from joinedup.simulate.published_surveys import write_published_surveys

EFFECT = 0.05


@pytest.fixture(scope="module", params=[EFFECT, 0.0], ids=["effect", "null"])
def published(request, small_england, tmp_path_factory):
    out = tmp_path_factory.mktemp("published")
    paths = write_published_surveys(small_england, out, seed=7, effect=request.param)
    return {"effect": request.param, "paths": paths, "read": read_published_folder(out),
            "starts": pd.read_csv(paths["starts"])}


def test_the_files_are_in_the_published_layouts(published):
    gpps = pd.read_csv(published["paths"]["gpps"][0], dtype=str)
    assert gpps.columns.tolist()[:7] == ["Practice_Code", "Practice_Name", "CCG_Code", "distributed", "received",
                                         "resprate", "Q9base"]
    assert {p.name for p in published["paths"]["gpps"]} >= {"GPPS_2012_Practice_data_(weighted)_(csv)_PUBLIC.csv",
                                                            "GPPS_2021_Practice_data_(weighted)_(csv)_PUBLIC.csv"}
    ascof = pd.read_csv(published["paths"]["ascof"][0], dtype=str)
    assert ascof.columns.tolist() == ["Geographical code", "Geographical description", "Geographical level", "ONS code",
                                      "ASCOF measure code", "Disaggregation level", "Measure type", "Measure value"]
    assert json.loads(published["paths"]["truth"].read_text())["effect"] == published["effect"]


def test_the_importers_read_them_and_reject_the_suppressed_cells(published):
    read = published["read"]
    assert set(read.table["measure"]) == {"preferred_gp", "satisfaction", "easy_information", "care_quality_of_life"}
    assert set(read.table.loc[read.table["source"] == "GPPS", "era"]) == {"2012-2017", "2018-2023"}
    reasons = read.rejects["reason"].value_counts()
    # about 2% of practice-years and council values are suppressed, as published files suppress small bases
    assert 0 < reasons["suppressed or not a number (negative or * in the published file)"] < 0.05 * read.read
    assert reasons.get("value is suppressed or not a number", 0) > 0


def test_the_gpps_base_is_the_share_s_own_base_from_2018_and_everyone_who_answered_before(published):
    files = {int(p.name[5:9]): pd.read_csv(p, dtype=str) for p in published["paths"]["gpps"]}
    late = files[2019][files[2019]["Q9base"] != "*"]
    tried, answered = late["Q9_1234base"].astype(int), late["Q9base"].astype(int)
    assert (tried <= answered).all() and (tried < answered).mean() > 0.5  # 'I have not tried' is left out
    table = published["read"].table.set_index(["year", "unit_code"])["base"]
    assert table.loc[2019].loc[late["Practice_Code"]].tolist() == tried.astype(float).tolist()
    assert "Q9_1234base" not in files[2017].columns
    assert sum("no q9_1234base column" in n for n in published["read"].notes) == 6  # 2012-2017, said


@pytest.mark.parametrize("measure,era", [("preferred_gp", "2012-2017"), ("satisfaction", None),
                                         ("easy_information", None)])
def test_the_design_recovers_the_programmed_effect_and_finds_nothing_in_the_null(published, measure, era):
    res = experience_did(published["read"].table, measure, published["starts"], era=era)
    lo, hi = res.estimate - 1.96 * res.std_error, res.estimate + 1.96 * res.std_error
    truth = published["effect"]
    assert lo <= truth <= hi, (measure, res.estimate, res.std_error)
    assert res.std_error < EFFECT / 3, res.std_error  # informative: the effect is 3 SEs or more
    if truth:
        assert lo > 0  # the effect is found
    assert res.n_treated_units >= 20


def test_ascof_1a_quality_of_life_is_recovered_in_points(published):
    # 1A is a mean ASCOT score (0-24); its programmed effect is 10 x the share effect: +0.5 points
    table = published["read"].table
    one_a = table[table["measure"] == "care_quality_of_life"]
    assert one_a["value"].between(15, 23).all() and len(one_a) > 100
    res = experience_did(table, "care_quality_of_life", published["starts"])
    lo, hi = res.estimate - 1.96 * res.std_error, res.estimate + 1.96 * res.std_error
    truth = 10 * published["effect"]
    assert lo <= truth <= hi, (res.estimate, res.std_error)
    assert res.std_error < 0.5 / 3, res.std_error
    if truth:
        assert lo > 0


def test_the_gpps_outcome_is_never_compared_across_the_2018_break(published):
    with pytest.raises(QuestionnaireBreakError, match="not comparable across the GPPS 2018 redevelopment"):
        experience_did(published["read"].table, "preferred_gp", published["starts"])
    with pytest.raises(ValueError, match="no programme unit has a year before its start"):
        experience_did(published["read"].table, "preferred_gp", published["starts"], era="2018-2023")


def test_the_measures_table_leaves_through_disclosure_control(published, tmp_path):
    written = write_experience_tables(published["read"], tmp_path)
    assert (tmp_path / "rejects" / "experience_measures.csv").is_file()
    counts = written["base"].dropna()
    assert len(counts) and (counts % 5 == 0).all()  # rounded to 5; 1-7 suppressed
    raw = published["read"].table["base"]
    assert not written["base"].isin(range(1, 8)).any() and len(written) == len(raw)
