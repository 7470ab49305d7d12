"""The process items of the committed key-informant instrument (version 2017.1, issue 20) in the survey
analysis: the tables for the new items are reproduced from the microdata (simulated answers, and
answers stored by the survey service through the committed instrument); bad answers are named with
file, line and column; a responses file from before 2017.1 (no process columns) still reads and makes
no process tables.
"""

import pytest

from joinedup.process.ki_items import FAMILIES, POSITIVE
from joinedup.process.ki_sim import simulate_process_answers
from joinedup.survey.analysis.inputs import CLOSED_QUESTIONS, SurveyInputError
from joinedup.survey.analysis.process_items import PROCESS_CLOSED
from joinedup.survey.analysis.run import analyse

ORGS = ("ccg", "la", "nhs_provider", "other")


def _files(seed=3):
    answers, _ = simulate_process_answers(seed=seed, per_site=4, sites=8)
    answers["org_type"] = [ORGS[i % 4] for i in range(len(answers))]
    # one in nine interviews is partial: out of the respondents, so out of the tables
    answers["disposition"] = ["partial" if i % 9 == 4 else "complete" for i in range(len(answers))]
    inv = answers.rename(columns={"respondent_id": "panelist_id"})[
        ["panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition"]]
    process = [q for q in answers.columns if q in PROCESS_CLOSED or q.endswith(("_name", "_text"))]
    resp = answers.rename(columns={"respondent_id": "panelist_id"})[["panelist_id", "wave", *process]].copy()
    for q in CLOSED_QUESTIONS:
        resp[q] = None
    return answers, inv, resp


def test_process_tables_are_reproduced_from_the_microdata():
    answers, inv, resp = _files()
    tables = analyse(inv, resp, change=False)
    done = answers[answers["disposition"] == "complete"]
    items = tables["process_items"].set_index(["wave", "group", "item"])
    for family, names in FAMILIES.items():
        for item in names:
            for wave in (1, 3):
                for group, part in (("all", done), ("lead", done[done["is_lead"] == "yes"]),
                                    ("non_lead", done[done["is_lead"] == "no"]), ("la", done[done["org_type"] == "la"])):
                    got = part[part["wave"] == wave][item].dropna()
                    row = items.loc[(wave, group, item)]
                    assert row["n"] == len(got), (item, wave, group)
                    assert row["pct_positive"] == round(100 * got.isin(POSITIVE[family]).mean(), 1), (item, wave, group)
    counts = tables["process_answers"].set_index(["wave", "item", "answer"])["n"]
    for item in ("init_2_stage", "nb_ft_pipeline_origin", "fac_co_location", "obj_3_progress"):
        for wave in (1, 2, 3):
            direct = done[done["wave"] == wave][item].value_counts()
            for answer in PROCESS_CLOSED[item]:
                assert counts.loc[(wave, item, answer)] == int(direct.get(answer, 0)), (item, wave, answer)
    assert set(tables["process_answers"]["item"]) == set(PROCESS_CLOSED)


def test_a_bad_process_answer_is_named_and_old_files_still_read():
    _, inv, resp = _files()
    bad = resp.copy()
    bad.loc[5, "init_1_stage"] = "teleported"
    with pytest.raises(SurveyInputError, match=r"line 7, column 'init_1_stage': 'teleported' is not one of planned"):
        analyse(inv, bad, change=False)
    old = resp[["panelist_id", "wave", *CLOSED_QUESTIONS]]
    tables = analyse(inv, old, change=False)
    assert "process_items" not in tables and "progress" in tables


def test_answers_stored_by_the_service_through_the_committed_instrument(tmp_path):
    from tests.test_survey_store import ROSTER

    from joinedup.survey.exchange import analysis_frames
    from joinedup.survey.instrument import load_form, validate_answers
    from joinedup.survey.pioneer_instrument import pioneer_instrument_path
    from joinedup.survey.roster import read_roster
    from joinedup.survey.store import SurveyStore

    form = load_form(pioneer_instrument_path())
    store = SurveyStore(f"sqlite:///{tmp_path / 's.db'}")
    store.create()
    store.upsert_panelists(read_roster(ROSTER))
    store.create_wave(1, "pioneer_ki_survey", "2017-06-01", "2017-07-31")
    store.set_wave_status(1, "open")
    tokens = store.issue_tokens(1)
    lead = {"pioneer": "barnsley", "org_type": "ccg", "is_lead": "yes", "init_1_name": "Frailty MDT",
            "init_1_stage": "at_scale", "obj_1_text": "Fewer admissions", "obj_1_progress": "some",
            "fac_leadership": "major", "sys_ics_governance": "very", "nb_ft_pipeline": "significant",
            "nb_ft_pipeline_origin": "national"}
    other = {"pioneer": "barnsley", "org_type": "la", "is_lead": "no", "init_1_name": "Frailty MDT",
             "init_1_stage": "piloting", "obj_1_text": "Fewer admissions", "obj_1_progress": "little",
             "fac_leadership": "minor", "sys_ics_governance": "not_very", "nb_ft_pipeline": "significant",
             "nb_ft_pipeline_origin": "local"}
    for answers in (lead, other):  # the instrument accepts them as a final submission
        assert validate_answers(form, answers, final=True)[1] == {}
    store.save_response(tokens["p1"], lead, final=True)
    store.save_response(tokens["p2"], other, final=True)
    tables = analyse(*analysis_frames(store, form), change=False)
    items = tables["process_items"].set_index(["group", "item"])
    assert items.loc[("all", "obj_1_progress"), ["n", "pct_positive"]].tolist() == [2, 50.0]
    assert items.loc[("lead", "fac_leadership"), "pct_positive"] == 100.0
    assert items.loc[("non_lead", "sys_ics_governance"), "pct_positive"] == 0.0
    assert items.loc[("all", "pers_care_planning"), "n"] == 0  # asked, not answered
    answers = tables["process_answers"].set_index(["item", "answer"])["n"]
    assert answers.loc[("init_1_stage", "at_scale")] == 1 and answers.loc[("init_1_stage", "piloting")] == 1
    assert answers.loc[("nb_ft_pipeline_origin", "national")] == 1 and answers.loc[("nb_ft_pipeline_origin", "both")] == 0
    store.engine.dispose()
