"""Key-informant survey analysis on a tiny hand-made panel: every output checked by hand."""

import math

import pandas as pd
import pytest

from joinedup.survey.analysis import analyse
from joinedup.survey.analysis.charts import barrier_rank_chart, progress_chart, report_section
from joinedup.survey.analysis.inputs import CLOSED_QUESTIONS

INVITATIONS = pd.DataFrame(
    [("p1", 1, "A", "ccg", "yes", "complete"), ("p2", 1, "A", "la", "no", "complete"),
     ("p3", 1, "B", "nhs_provider", "yes", "complete"), ("p4", 1, "B", "other", "no", "partial"),
     ("p5", 1, "B", "la", "no", "refusal"), ("p6", 1, "A", "ccg", "no", "ineligible"),
     ("p1", 2, "A", "ccg", "yes", "complete"), ("p2", 2, "A", "la", "no", "non_contact"),
     ("p3", 2, "B", "nhs_provider", "yes", "complete"), ("p4", 2, "B", "other", "no", "complete"),
     ("p5", 2, "B", "la", "no", "refusal")],
    columns=["panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition"])
ANSWERS = {  # (panelist, wave): prog_joined_up, bar_financial, bar_it_ig, help_bcf, inv_gps
    ("p1", 1): ("substantial", "significant", "significant", "very", "very"),
    ("p2", 1): ("dont_know", "significant", "minor", "not_very", "fairly"),
    ("p3", 1): ("some", "minor", "dont_know", "fairly", "very"),
    ("p4", 1): ("substantial", "significant", "significant", "very", "very"),  # partial: not a respondent
    ("p1", 2): ("too_early", "significant", "minor", "very", "not_at_all"),
    ("p3", 2): ("substantial", "not_barrier", "significant", "dont_know", "very"),
    ("p4", 2): (None, "significant", "significant", "fairly", "very"),
}
ITEMS = ("prog_joined_up", "bar_financial", "bar_it_ig", "help_bcf", "inv_gps")


def responses() -> pd.DataFrame:
    rows = []
    for (pid, wave), answers in ANSWERS.items():
        row = {"panelist_id": pid, "wave": wave, **dict.fromkeys(CLOSED_QUESTIONS), **dict(zip(ITEMS, answers))}
        rows.append({**row, "achievements": "", "challenge": "some text"})
    return pd.DataFrame(rows)


CODEBOOK = pd.DataFrame({"code": ["IT", "IT_REC", "IT_IG", "FIN"], "label": ["IT", "Records", "IG", "Money"],
                         "parent": [None, "IT", "IT", None], "description": ["", "", "", ""]})
CODES = pd.DataFrame([("p1", 1, "challenge", "IT_REC", "A"), ("p1", 1, "challenge", "IT_REC", "B"),
                      ("p1", 1, "challenge", "IT_IG", "B"), ("p2", 1, "challenge", "FIN", "A"),
                      ("p4", 1, "challenge", "IT_REC", "A"), ("p3", 2, "challenge", "IT_IG", "A")],
                     columns=["panelist_id", "wave", "question", "code", "coder"])


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ki")
    INVITATIONS.to_csv(folder / "invitations.csv", index=False)
    responses().to_csv(folder / "responses.csv", index=False)
    CODES.to_csv(folder / "codes.csv", index=False)
    CODEBOOK.to_csv(folder / "codebook.csv", index=False)
    out = folder / "out"
    analyse(folder / "invitations.csv", folder / "responses.csv", folder / "codes.csv", folder / "codebook.csv",
            out_dir=out)
    # read back what was written, so the CSVs themselves are what is checked
    return {p.stem: pd.read_csv(p) for p in out.glob("*.csv")}


def records(frame, **where):
    for k, v in where.items():
        frame = frame[frame[k] == v]
    return frame


def test_response_rates(tables):
    t = tables["response_rates"]
    assert list(t.columns) == ["wave", "invited", "eligible", "complete", "partial", "rr1", "rr2",
                               "pioneers_responding"]
    assert t.values.tolist() == [[1, 6, 5, 3, 1, 60.0, 80.0, 2], [2, 5, 5, 3, 0, 60.0, 60.0, 2]]


def test_respondents_by_org_and_pioneer_and_participation(tables):
    org = tables["respondents_by_org"]
    assert list(org.columns) == ["wave", "org_type", "n"]
    assert org.values.tolist() == [[1, "ccg", 1], [1, "la", 1], [1, "nhs_provider", 1], [1, "other", 0],
                                   [2, "ccg", 1], [2, "la", 0], [2, "nhs_provider", 1], [2, "other", 1]]
    pio = tables["respondents_by_pioneer"]
    assert list(pio.columns) == ["wave", "pioneer", "n"]
    assert pio.values.tolist() == [[1, "A", 2], [1, "B", 1], [2, "A", 1], [2, "B", 2]]
    part = tables["panel_participation"]
    assert list(part.columns) == ["waves_answered", "panelists"]
    assert part.values.tolist() == [[2, 2], [1, 2]]


def test_progress_groups_and_denominators(tables):
    t = tables["progress"]
    assert list(t.columns) == ["wave", "group", "item", "n", "pct_substantial_or_some"]
    got = records(t, item="prog_joined_up").set_index(["wave", "group"])
    expected = {(1, "all"): (3, 66.7), (1, "lead"): (2, 100.0), (1, "non_lead"): (1, 0.0),
                (1, "ccg"): (1, 100.0), (1, "la"): (1, 0.0), (1, "nhs_provider"): (1, 100.0),
                (2, "all"): (2, 50.0), (2, "lead"): (2, 50.0), (2, "other"): (0, None)}
    for key, (n, p) in expected.items():
        assert got.loc[key, "n"] == n, key
        assert (math.isnan(got.loc[key, "pct_substantial_or_some"]) if p is None
                else got.loc[key, "pct_substantial_or_some"] == p), key
    assert len(t) == 2 * 7 * 15
    assert (records(t, item="prog_costs")["n"] == 0).all()


def test_barriers_rank_min_on_ties(tables):
    t = tables["barriers"]
    assert list(t.columns) == ["wave", "item", "n", "pct_significant", "rank"]
    got = t.set_index(["wave", "item"])
    assert got.loc[(1, "bar_financial")].tolist() == [3, 66.7, 1]
    assert got.loc[(1, "bar_it_ig")].tolist() == [3, 33.3, 2]
    assert got.loc[(2, "bar_financial")].tolist() == [3, 66.7, 1]
    assert got.loc[(2, "bar_it_ig")].tolist() == [3, 66.7, 1]  # tie: both 1 ('min')
    assert got.loc[(2, "bar_culture"), "rank"] != got.loc[(2, "bar_culture"), "rank"]  # unanswered: NaN


def test_helpfulness_and_involvement(tables):
    h = tables["helpfulness"]
    assert list(h.columns) == ["wave", "item", "n", "pct_very_or_fairly"]
    assert records(h, item="help_bcf")[["wave", "n", "pct_very_or_fairly"]].values.tolist() == [
        [1, 3, 66.7], [2, 3, 66.7]]  # "don't know" stays in the denominator
    v = tables["involvement"]
    assert list(v.columns) == ["wave", "org_type", "item", "n", "pct_very"]
    got = records(v, item="inv_gps").set_index(["wave", "org_type"])[["n", "pct_very"]]
    assert got.loc[(1, "all")].tolist() == [3, 66.7]
    assert got.loc[(1, "la")].tolist() == [1, 0.0]
    assert got.loc[(2, "ccg")].tolist() == [1, 0.0]
    assert got.loc[(2, "other")].tolist() == [1, 100.0]
    assert got.loc[(2, "la"), "n"] == 0


def test_codes_by_org_counts_respondents_once_and_rolls_up(tables):
    t = tables["codes_by_org"]
    assert list(t.columns) == ["wave", "question", "code", "org_type", "n_respondents", "n_coded", "pct"]
    got = t.set_index(["wave", "question", "code", "org_type"])
    # p1 has IT_REC from two coders and IT_IG: once under each, and once under the parent IT
    assert got.loc[(1, "challenge", "IT_REC", "all")].tolist() == [3, 1, 33.3]
    assert got.loc[(1, "challenge", "IT", "all")].tolist() == [3, 1, 33.3]
    assert got.loc[(1, "challenge", "IT", "ccg")].tolist() == [1, 1, 100.0]
    assert got.loc[(1, "challenge", "FIN", "la")].tolist() == [1, 1, 100.0]
    # p4's code is on a partial interview, so it is not among respondents
    assert got.loc[(1, "challenge", "IT_REC", "other"), "n_coded"] == 0
    assert got.loc[(2, "challenge", "IT", "nhs_provider")].tolist() == [1, 1, 100.0]
    assert got.loc[(2, "challenge", "IT_REC", "all")].tolist() == [3, 0, 0.0]
    assert len(t) == 2 * 1 * 4 * 5


def test_change_columns_and_paired_counts(tables):
    t = tables["change"]
    assert list(t.columns[:5]) == ["item", "domain", "wave_from", "wave_to", "outcome"]
    assert {"estimate", "ci_low", "ci_high", "p_value", "method", "n_paired", "paired_method",
            "paired_statistic", "paired_p_value"} <= set(t.columns)
    assert len(t) == 37  # two waves: one pair per item
    row = t.set_index("item").loc["prog_joined_up"]
    assert (row.n_from, row.n_to, row.pct_from, row.pct_to, row.n_paired) == (3, 2, 66.7, 50.0, 2)
    # p1 substantial -> too_early (discordant), p3 some -> substantial: b=1, c=0, exact p=1
    assert (row.paired_method, row.paired_statistic, row.paired_p_value) == ("mcnemar_exact", 0.0, 1.0)
    bar = t.set_index("item").loc["bar_it_ig"]
    assert bar.outcome == "significant" and bar.n_paired == 2 and bar.pct_to == 66.7
    assert t.set_index("item").loc["bar_culture", "n_paired"] == 0


def test_dataframe_inputs_give_the_same_tables(tables):
    again = analyse(INVITATIONS, responses(), CODES, CODEBOOK, change=False)
    for name in ("response_rates", "progress", "barriers", "codes_by_org"):
        pd.testing.assert_frame_equal(again[name].reset_index(drop=True), tables[name],
                                      check_dtype=False)


def test_charts_and_html_fragment(tables):
    html = report_section(tables)
    assert "<html" in html and "http://" not in html.replace("http://www.w3.org", "")  # opens offline
    assert "https://" not in html and html.count("<svg") == 3
    assert "Financial pressures" in html and "bar_financial" not in html  # labels, not codes (issue 16)
    assert html.count('role="img"') == 3  # every chart has a text alternative
    spec = progress_chart(tables["progress"]).to_dict()
    assert spec["title"] == "Progress reported, wave 2"
    assert barrier_rank_chart(tables["barriers"]).to_dict()["encoding"]["y"]["scale"]["reverse"] is True
