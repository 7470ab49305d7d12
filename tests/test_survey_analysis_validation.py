"""Validation of the survey files: every problem is named by file, line and column."""

import pandas as pd
import pytest

from joinedup.survey.analysis import SurveyInputError, analyse, read_inputs
from test_survey_analysis import CODEBOOK, CODES, INVITATIONS, responses


def write(folder, inv=INVITATIONS, resp=None, codes=None, codebook=None):
    paths = {"invitations": folder / "invitations.csv", "responses": folder / "responses.csv"}
    inv.to_csv(paths["invitations"], index=False)
    (responses() if resp is None else resp).to_csv(paths["responses"], index=False)
    for name, frame in (("codes", codes), ("codebook", codebook)):
        if frame is not None:
            paths[name] = folder / f"{name}.csv"
            frame.to_csv(paths[name], index=False)
    return paths


def problems(paths) -> list[str]:
    with pytest.raises(SurveyInputError) as err:
        analyse(**paths, change=False)
    return err.value.problems


def test_valid_files_pass(tmp_path):
    data = read_inputs(**write(tmp_path, codes=CODES, codebook=CODEBOOK))
    assert len(data.respondents) == 6 and len(data.responses) == 7


def test_missing_file_and_missing_columns(tmp_path):
    paths = write(tmp_path)
    assert problems({**paths, "invitations": tmp_path / "nope.csv"}) == [f"{tmp_path / 'nope.csv'}: file not found"]
    paths = write(tmp_path, resp=responses().drop(columns=["bar_culture", "inv_vcs"]))
    assert problems(paths) == [f"{paths['responses']}: missing column(s) bar_culture, inv_vcs"]


def test_unknown_disposition_org_type_and_is_lead(tmp_path):
    inv = INVITATIONS.copy()
    inv.loc[1, "org_type"] = "council"
    inv.loc[4, "disposition"] = "refused"
    inv.loc[5, "is_lead"] = "Y"
    paths = write(tmp_path, inv=inv)
    found = problems(paths)
    name = paths["invitations"]
    assert f"{name}, line 3, column 'org_type': 'council' is not one of ccg, la, nhs_provider, other" in found
    assert any(p.startswith(f"{name}, line 6, column 'disposition': 'refused' is not one of") for p in found)
    assert any(p.startswith(f"{name}, line 7, column 'is_lead': 'Y'") for p in found)
    assert len(found) == 3


def test_responses_must_match_interviews(tmp_path):
    resp = responses()
    extra = resp.iloc[[0]].assign(panelist_id="p9")  # no invitation at all
    refused = resp.iloc[[0]].assign(panelist_id="p5")  # invited, but refused
    resp = pd.concat([resp, extra, refused], ignore_index=True)
    resp = resp[~((resp["panelist_id"] == "p3") & (resp["wave"] == 2))].reset_index(drop=True)
    paths = write(tmp_path, resp=resp)
    found = problems(paths)
    r, i = paths["responses"], paths["invitations"]
    assert f"{r}, line 8, column 'panelist_id': ('p9', wave 1) has no invitation in {i}" in found
    assert any(p.startswith(f"{r}, line 9, column 'panelist_id': ('p5', wave 1) is 'refusal'") for p in found)
    # p3's complete in wave 2 (invitations line 10) has lost its response row: not dropped silently
    assert f"{i}, line 10, column 'disposition': 'complete' but ('p3', wave 2) has no row in {r}" in found
    assert len(found) == 3


def test_answers_outside_the_choices_and_disagreeing_attributes(tmp_path):
    resp = responses()
    resp.loc[2, "prog_joined_up"] = "Substantial"
    resp.loc[5, "inv_gps"] = "significant"
    resp["org_type"] = ["ccg", "la", "nhs_provider", "other", "ccg", "la", "other"]  # line 7 disagrees
    paths = write(tmp_path, resp=resp)
    found = problems(paths)
    r = paths["responses"]
    assert f"{r}, line 4, column 'prog_joined_up': 'Substantial' is not one of substantial, some, little, " \
           "none, too_early, dont_know" in found
    assert any(p.startswith(f"{r}, line 7, column 'inv_gps': 'significant'") for p in found)
    assert any(p.startswith(f"{r}, line 7, column 'org_type': 'la' differs from 'nhs_provider'") for p in found)
    assert len(found) == 3


def test_codes_and_codebook_problems(tmp_path):
    codes = CODES.copy()
    codes.loc[0, "code"] = "MISSING"
    codes.loc[1, "question"] = "comments"
    codes.loc[2, "panelist_id"] = "p9"
    book = CODEBOOK.copy()
    book.loc[3, "parent"] = "NOPE"
    paths = write(tmp_path, codes=codes, codebook=book)
    found = problems(paths)
    c, b = paths["codes"], paths["codebook"]
    assert f"{c}, line 2, column 'code': 'MISSING' is not in codebook.csv" in found
    assert any(p.startswith(f"{c}, line 3, column 'question': 'comments' is not one of") for p in found)
    assert f"{c}, line 4, column 'panelist_id': ('p9', wave 1) has no row in responses.csv" in found
    assert f"{b}, line 5, column 'parent': 'NOPE' is not a code in {b}" in found
    assert len(found) == 4


def test_dataframe_inputs_are_named_and_duplicates_caught():
    inv = pd.concat([INVITATIONS, INVITATIONS.iloc[[0]]], ignore_index=True)
    with pytest.raises(SurveyInputError, match=r"invitations.csv, line 13: duplicate panelist_id, wave"):
        read_inputs(inv, responses())
