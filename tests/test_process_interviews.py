"""The interview panel register: rules with rejects, roster links, counts under disclosure control
(the evaluation's two rounds of 140 and 57 interviews reproduced as round totals)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.process.interviews import interview_counts, validate_interviews

ROUNDS = pd.DataFrame({"round": ["1", "2"], "topic_guide": ["TG-2015", "TG-2017"],
                       "start_date": ["2015-01-01", "2017-01-01"], "end_date": ["2015-12-31", "2017-12-31"]})
ROSTER = pd.DataFrame({"panelist_id": ["k1", "k2"], "pioneer": ["A", "B"]})


def _iv(**kw):
    base = {"interviewee_id": "p1", "site": "A", "role": "manager", "panelist_id": "k1", "round": "1",
            "topic_guide": "TG-2015", "consent": "yes", "status": "completed", "interview_date": "2015-05-01",
            "transcript_source": "src-1"}
    return {**base, **kw}


@pytest.mark.parametrize("change, reason", [
    ({"round": "3"}, "round '3' is not one of 1, 2"),
    ({"topic_guide": "TG-2017"}, "is not round 1's (TG-2015)"),
    ({"consent": "no"}, "a completed interview needs consent 'yes'"),
    ({"interview_date": "2016-02-01"}, "outside round 1"),
    ({"interview_date": "tomorrow"}, "is not a date"),
    ({"status": "scheduled", "consent": "yes"}, "a transcript is attached only to a completed"),
    ({"panelist_id": "zz"}, "not in the survey roster"),
    ({"panelist_id": "k2"}, "in the roster for 'B', not 'A'"),
    ({"status": "done"}, "status 'done' is not one of"),
])
def test_bad_rows_are_rejected_with_reasons(change, reason):
    ok, rejects = validate_interviews(pd.DataFrame([_iv(interviewee_id="p0"), _iv(**change)]), ROUNDS, ROSTER)
    assert len(ok) == 1 and rejects["line"].tolist() == [3]
    assert reason in rejects["reason"].iloc[0]


def test_duplicates_and_missing_columns():
    ok, rejects = validate_interviews(pd.DataFrame([_iv(), _iv()]), ROUNDS, ROSTER)
    assert len(ok) == 1 and "already has a row for round 1" in rejects["reason"].iloc[0]
    with pytest.raises(ValueError, match="missing column\\(s\\) consent"):
        validate_interviews(pd.DataFrame([_iv()]).drop(columns="consent"), ROUNDS)


def test_counts_by_round_site_role_with_disclosure_control():
    rng = np.random.default_rng(5)
    rows = []
    for rnd, n in (("1", 140), ("2", 57)):
        for k in range(n):
            rows.append(_iv(interviewee_id=f"{rnd}-{k}", site=f"S{rng.integers(0, 25):02d}", panelist_id="",
                            role=str(rng.choice(["manager", "frontline", "lead"])), round=rnd,
                            topic_guide=f"TG-{2015 if rnd == '1' else 2017}",
                            interview_date=f"{2015 if rnd == '1' else 2017}-06-01", transcript_source=""))
    rows.append(_iv(interviewee_id="x", status="declined", consent="no", transcript_source="", panelist_id=""))
    ok, rejects = validate_interviews(pd.DataFrame(rows), ROUNDS, ROSTER)
    assert rejects.empty
    by_round = interview_counts(ok, "round")
    assert by_round.set_index("round")["interviews"].to_dict() == {"1": 140, "2": 57}
    raw = interview_counts(ok, "site_round", disclosure=False)
    shown = interview_counts(ok, "site_round")
    assert raw["interviews"].sum() == 197
    small = raw["interviews"].between(1, 7)
    assert small.any() and shown.loc[small, "interviews"].isna().all()
    assert (shown.loc[~small, "interviews"] % 5 == 0).all()
    assert interview_counts(ok, "role", disclosure=False)["interviews"].sum() == 197
    with pytest.raises(ValueError, match="by must be one of"):
        interview_counts(ok, "colour")
