"""Saves decided and written a batch at a time (survey/save_batch.py), on a SQLite file and a real
PostgreSQL server: in one batch, a respondent's autosaves merge one after the other (no field lost),
a submission earlier in the batch makes a later autosave of the same respondent refused (a submission
is final), a repeated submission is accepted without a write, refused saves (replaced link, answer too
long, ``clean`` raising, a value JSON cannot hold) fail alone and write nothing, each accepted save
has its audit row; and the group commit's batch mode runs each item of a batch whose write failed
again alone, so only the bad one fails.
"""

import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from joinedup.survey.group_commit import GroupCommit
from joinedup.survey.roster import read_roster
from joinedup.survey.save_batch import Save, save_batch
from joinedup.survey.store import AlreadySubmitted, SurveyError, SurveyStore

N = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"b_{tmp_path.name.lower().replace('-', '_')[:40]}")
    s = SurveyStore(url)
    s.create()
    s.upsert_panelists(read_roster(pd.DataFrame({
        "panelist_id": [f"p{i}" for i in range(N)], "name": "x", "email": [f"p{i}@example.org" for i in range(N)],
        "pioneer": "Leeds", "org_type": "la", "role": "", "is_lead": "no"})))
    s.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2099-07-31")
    s.set_wave_status(1, "open")
    yield s, s.issue_tokens(1)
    s.engine.dispose()


def _batch(s, saves):
    with s.write_transaction() as c:
        return save_batch(c, saves)


def test_one_batch_merges_refuses_after_submit_and_fails_bad_saves_alone(store):
    s, tok = store
    s.save_response(tok["p1"], {"achievements": "stored before"}, final=False)
    s.save_response(tok["p4"], {"achievements": "submitted before"}, final=True)

    def bad_clean(inv):
        raise ValueError(f"cannot clean for {inv['panelist_id']}")

    out = _batch(s, [
        Save(tok["p0"], {"achievements": "a"}, False),
        Save(tok["p0"], {"challenge": "b"}, False),                     # merged over the save before it
        Save(tok["p1"], {"challenge": "c"}, False),                     # merged over the stored answers
        Save(tok["p2"], {"achievements": "final answer"}, True),
        Save(tok["p2"], {"achievements": "late autosave"}, False),      # after the submit: refused
        Save(tok["p3"], {"achievements": "x" * 20_001}, False),         # too long
        Save("not-a-token", {"achievements": "y"}, False),
        Save(tok["p3"], None, False, clean=bad_clean),
        Save(tok["p3"], {"when": object()}, False),                     # JSON cannot hold it
        Save(tok["p4"], {"achievements": "submitted before"}, True),    # the same submission again
        Save(tok["p5"], None, False, clean=lambda inv: {"role_text": inv["instrument"]}),
    ])
    values = [v for v, _e in out]
    errors = [type(e).__name__ if e else None for _v, e in out]
    assert values[:4] == [{"achievements": "a"}, {"achievements": "a", "challenge": "b"},
                          {"achievements": "stored before", "challenge": "c"}, {"achievements": "final answer"}]
    assert errors == [None, None, None, None, "AlreadySubmitted", "SurveyError", "SurveyError", "ValueError",
                      "TypeError", None, None]
    assert isinstance(out[4][1], AlreadySubmitted) and "longer than" in str(out[5][1])
    assert values[9] == {"achievements": "submitted before"} and values[10] == {"role_text": "pioneer_ki_survey"}
    answers = {r["panelist_id"]: (r["status"], r["answers"]) for r in s.responses(1)}
    assert answers == {"p0": ("partial", {"achievements": "a", "challenge": "b"}),
                       "p1": ("partial", {"achievements": "stored before", "challenge": "c"}),
                       "p2": ("complete", {"achievements": "final answer"}),
                       "p4": ("complete", {"achievements": "submitted before"}),
                       "p5": ("partial", {"role_text": "pioneer_ki_survey"})}
    dispositions = s.invitations_frame(1).set_index("panelist_id")["disposition"].to_dict()
    assert dispositions == {"p0": "partial", "p1": "partial", "p2": "complete", "p3": "non_contact", "p4": "complete",
                            "p5": "partial"}
    with s.engine.connect() as c:
        completed = dict(c.execute(sa.text("select panelist_id, completed_at from invitations")).all())
    assert completed["p2"] is not None and completed["p0"] is None
    log = s.audit_log()
    batch_rows = log.iloc[2:][["actor", "action", "detail"]].values.tolist()  # after the two saves before
    assert batch_rows == [["respondent p0", "save", "wave 1: achievements"], ["respondent p0", "save", "wave 1: challenge"],
                          ["respondent p1", "save", "wave 1: challenge"], ["respondent p2", "submit", "wave 1: achievements"],
                          ["respondent p5", "save", "wave 1: role_text"]]


def test_a_failed_batch_write_runs_each_save_alone(store):
    s, tok = store
    gate, log = threading.Event(), []

    def run_batch(conn, items):
        log.append(len(items))
        if len(items) == 1 and items[0] == "first":
            gate.wait(30)  # hold the first batch so that the others queue into one
        if "poison" in items:
            conn.execute(sa.text("insert into audit_log (at, actor, action) values (null, 'x', 'y')"))  # NOT NULL
        return [(save_batch(conn, [item])[0] if isinstance(item, Save) else ("ok", None)) for item in items]

    writer = GroupCommit(s.write_transaction, run_batch=run_batch)
    first = writer.submit("first")
    while not log:
        threading.Event().wait(0.01)
    futures = [writer.submit(Save(tok[f"p{i}"], {"achievements": f"saved {i}"}, False)) for i in range(3)]
    poison = writer.submit("poison")
    futures += [writer.submit(Save(tok["p3"], {"challenge": "after the bad one"}, False))]
    gate.set()
    assert first.result(timeout=30) == "ok"
    with pytest.raises(sa.exc.IntegrityError):
        poison.result(timeout=30)
    assert [f.result(timeout=30) for f in futures] == [
        {"achievements": "saved 0"}, {"achievements": "saved 1"}, {"achievements": "saved 2"},
        {"challenge": "after the bad one"}]
    writer.close()
    assert log == [1, 5, 1, 1, 1, 1, 1]  # the batch of five failed, then each of its items alone
    assert {r["panelist_id"] for r in s.responses(1)} == {"p0", "p1", "p2", "p3"}


def test_save_response_refuses_an_unknown_link(store):
    s, _tok = store
    with pytest.raises(SurveyError, match="not valid"):
        s.save_response("no-such-token", {"achievements": "x"}, final=False)
