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


def _panel_files(tmp_path, with_roster: bool):
    """The evaluation's panel (140 + 57 completed) with a declined invitation, 3 roster links and a bad row."""
    rng = np.random.default_rng(9)
    rows = []
    for rnd, n in (("1", 140), ("2", 57)):
        for k in range(n):
            rows.append(_iv(interviewee_id=f"{rnd}-{k}", site=f"S{rng.integers(0, 25):02d}", panelist_id="",
                            role=str(rng.choice(["manager", "frontline", "lead"])), round=rnd,
                            topic_guide=f"TG-{2015 if rnd == '1' else 2017}",
                            interview_date=f"{2015 if rnd == '1' else 2017}-06-01", transcript_source=""))
    for k, row in enumerate(rows[:3]):  # three round-1 interviewees are on the survey's roster
        row.update(panelist_id=f"k{k + 1}", site="A" if k == 0 else "B")
    rows.append(_iv(interviewee_id="x", status="declined", consent="no", transcript_source="", panelist_id=""))
    rows.append(_iv(interviewee_id="bad", interview_date="2019-01-01", panelist_id=""))  # outside its round
    pd.DataFrame(rows).to_csv(tmp_path / "interviews.csv", index=False)
    ROUNDS.to_excel(tmp_path / "rounds.xlsx", index=False)
    roster = pd.DataFrame({"panelist_id": ["k1", "k2", "k3"], "wave": 1, "pioneer": ["A", "B", "B"],
                           "org_type": "nhs", "is_lead": 0, "disposition": "complete"})
    roster.to_csv(tmp_path / "invitations.csv", index=False)
    extra = ('[survey]\ninvitations = "invitations.csv"\nresponses = "responses.csv"\n' if with_roster else "")
    path = tmp_path / "protocol.toml"
    path.write_text(f'[evaluation]\nname = "x"\n{extra}[process]\ninitiative_register = "simulate"\n'
                    'interviews = "interviews.csv"\ninterview_rounds = "rounds.xlsx"\n')
    from joinedup.protocol import load_protocol

    return load_protocol(path)


def test_panel_in_the_process_step_counts_rounds_exactly_and_controls_sites(tmp_path):
    from joinedup.process.interview_step import interview_tables, interviews_sentence

    protocol = _panel_files(tmp_path, with_roster=True)
    _, notes = interview_tables(protocol, tmp_path / "out", control=True)
    rejects = pd.read_csv(tmp_path / "out" / "interview_rejects.csv")
    assert rejects["line"].tolist() == [200] and "outside round 1" in rejects["reason"].iloc[0]
    assert "1 rejected" in notes[0] and "linked to the survey roster" in notes[0]
    written = pd.read_csv(tmp_path / "out" / "tables" / "process_interviews_by_round.csv", dtype={"round": str})
    assert written[["round", "topic_guide", "interviews", "interviewees_in_roster"]].to_dict("records") == [
        {"round": "1", "topic_guide": "TG-2015", "interviews": 140, "interviewees_in_roster": 3},
        {"round": "2", "topic_guide": "TG-2017", "interviews": 57, "interviewees_in_roster": 0}]
    assert interviews_sentence(written) == (
        "The interview panel completed 197 interviews: 140 in round 1 (topic guide TG-2015); 57 in round 2 "
        "(topic guide TG-2017); 3 of them with people on the key-informant survey's roster.")
    for name in ("process_interviews_by_site", "process_interviews_by_role"):
        shown = pd.read_csv(tmp_path / "out" / "tables" / f"{name}.csv")["interviews"]
        assert shown.isna().any() or (shown % 5 == 0).all()
        assert (shown.dropna() % 5 == 0).all() and not shown.between(1, 7).any()
    site = pd.read_csv(tmp_path / "out" / "tables" / "process_interviews_by_site.csv")["interviews"]
    assert site.isna().any()  # 25 sites, ~8 interviews each: some 1-7 counts were suppressed


def test_panel_input_problems_are_named(tmp_path):
    from joinedup.process.interview_step import interview_tables
    from joinedup.protocol import ProtocolError, load_protocol

    protocol = _panel_files(tmp_path, with_roster=False)
    (tmp_path / "interviews.csv").unlink()
    with pytest.raises(ValueError, match="\\[process\\] interviews file .*interviews.csv does not exist"):
        interview_tables(protocol, tmp_path / "out", control=True)
    ROUNDS.drop(columns="end_date").to_csv(tmp_path / "r.csv", index=False)
    path = tmp_path / "p.toml"
    path.write_text('[evaluation]\nname = "x"\n[process]\ninitiative_register = "simulate"\ninterviews = "i.csv"\n')
    with pytest.raises(ProtocolError, match="interviews and interview_rounds go together"):
        load_protocol(path)
