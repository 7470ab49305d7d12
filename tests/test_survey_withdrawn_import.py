"""A withdrawn respondent stays withdrawn (issue 15, consent and withdrawal), on a SQLite file and a real
PostgreSQL server: a response import run after the withdrawal stores none of their answers, keeps
their invitations' ``withdrawn`` mark, makes no new invitation for them in a later wave and lists each
of their rows in the rejects with its line and reason (without the answers); the other rows are
stored. An admin cannot reset a withdrawn invitation's disposition. A withdrawal racing an import
leaves none of the person's answers, whichever runs first. In a database where the old import stored a
withdrawn person's answers again, exports and analysis leave them out and `joinedup survey
repair-withdrawals` deletes them.
"""

import json
import threading

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.survey.exchange import analysis_frames
from joinedup.survey.instrument import load_form
from joinedup.survey.pioneer_instrument import pioneer_instrument_path
from joinedup.survey.retention import repair_withdrawals, withdraw
from joinedup.survey.roster import read_roster
from joinedup.survey.store import INVITATIONS, RESPONSES, SurveyError, SurveyStore, now

N = 12
ROSTER = pd.DataFrame({
    "panelist_id": [f"p{i:02d}" for i in range(N)], "name": [f"Name {i}" for i in range(N)],
    "email": [f"p{i}@example.org" for i in range(N)], "pioneer": "Leeds", "org_type": "la", "role": "Lead",
    "is_lead": "no"})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"w_{tmp_path.name.lower().replace('-', '_')[:40]}")
    s = _new_store(url)
    yield s
    s.engine.dispose()


def _new_store(url: str) -> SurveyStore:
    """A store with the roster and an open wave 1."""
    s = SurveyStore(url)
    s.create()
    s.upsert_panelists(read_roster(ROSTER))
    s.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2099-07-31")
    s.set_wave_status(1, "open")
    return s


def _race(*calls) -> list[str]:
    """Run ``calls`` in threads released together; the repr of every exception they raised."""
    start, errors = threading.Barrier(len(calls)), []

    def run(fn):
        start.wait()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(fn,)) for fn in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def _invitations(store) -> dict:
    with store.engine.connect() as c:
        return {(r.panelist_id, r.wave): (r.disposition, r.reason)
                for r in c.execute(sa.select(INVITATIONS.c.panelist_id, INVITATIONS.c.wave, INVITATIONS.c.disposition,
                                             INVITATIONS.c.reason))}


def test_import_after_withdrawal_rejects_the_rows_and_keeps_the_mark(store):
    tokens = store.issue_tokens(1)
    store.save_response(tokens["p01"], {"achievements": "my own words"}, final=True)
    assert withdraw(store, tokens["p01"]) == 1
    frame = pd.DataFrame([{"panelist_id": "p02", "wave": 1, "achievements": "paper form"},
                          {"panelist_id": "p01", "wave": 1, "achievements": "imported again after withdrawal"},
                          {"panelist_id": "p03", "wave": 1, "achievements": "another paper form"}])
    outcome = store.import_responses(frame, 1)
    assert outcome.stored == 2
    assert outcome.rejects.to_dict("records") == [
        {"line": 3, "panelist_id": "p01", "wave": 1,
         "reason": "panelist p01 has withdrawn from the survey: their answers are not stored"}]
    assert "imported again" not in outcome.rejects.to_csv()  # the rejects carry no answers
    assert sorted(r["panelist_id"] for r in store.responses()) == ["p02", "p03"]
    inv = _invitations(store)
    assert inv[("p01", 1)] == ("refusal", "withdrawn")
    assert inv[("p02", 1)] == inv[("p03", 1)] == ("complete", "imported")

    # a wave made after the withdrawal: the import makes no invitation for the person, stores nothing
    store.create_wave(2, "pioneer_ki_survey", "2016-06-01", "2099-07-31")
    outcome = store.import_responses(pd.DataFrame([{"panelist_id": "p01", "wave": 2, "achievements": "wave 2"},
                                                   {"panelist_id": "p04", "wave": 2, "achievements": "ok"}]), 2)
    assert outcome.stored == 1 and outcome.rejects[["line", "panelist_id", "wave"]].values.tolist() == [[2, "p01", 2]]
    assert ("p01", 2) not in _invitations(store)
    assert [r["panelist_id"] for r in store.responses(2)] == ["p04"]

    with pytest.raises(SurveyError, match="p01 has withdrawn"):
        store.set_disposition("p01", 1, "non_contact")
    assert _invitations(store)[("p01", 1)] == ("refusal", "withdrawn")
    store.set_disposition("p05", 1, "ineligible", "left post")  # others still can be set
    assert _invitations(store)[("p05", 1)] == ("ineligible", "left post")


def test_withdrawal_racing_an_import_leaves_none_of_the_answers(store):
    tokens = store.issue_tokens(1)
    racers = sorted(tokens)[:8]
    for pid in racers:
        store.save_response(tokens[pid], {"achievements": "typed online"}, final=False)
    errors = []
    for pid in racers:  # one race per person: the withdrawal and an import of their row, started together
        frame = pd.DataFrame([{"panelist_id": pid, "wave": 1, "achievements": "from the paper form"}])
        errors += _race(lambda t=tokens[pid]: withdraw(store, t), lambda f=frame: store.import_responses(f, 1))
    assert errors == []
    assert [r for r in store.responses() if r["panelist_id"] in racers] == []
    inv = _invitations(store)
    assert {inv[(pid, 1)] for pid in racers} == {("refusal", "withdrawn")}


def test_a_withdrawal_the_old_import_overwrote_is_still_honoured(store):
    """Before the store kept the mark, an import after a withdrawal overwrote the invitation's reason
    (to "imported") and stored the answers again; only the audit row of the withdrawal remained. Such a
    database is made here by hand as the old code left it: the store still counts the person as
    withdrawn, so a later import refuses their rows."""
    tokens = store.issue_tokens(1)
    assert withdraw(store, tokens["p06"]) == 0
    with store.engine.begin() as c:  # what the old import_responses did to the invitation
        c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == "p06")
                  .values(disposition="complete", reason="imported"))
    outcome = store.import_responses(pd.DataFrame([{"panelist_id": "p06", "wave": 1, "achievements": "again"},
                                                   {"panelist_id": "p07", "wave": 1, "achievements": "ok"}]), 1)
    assert outcome.stored == 1
    assert outcome.rejects[["panelist_id", "wave"]].values.tolist() == [["p06", 1]]
    assert [r["panelist_id"] for r in store.responses()] == ["p07"]


def _old_import_after_withdrawal(store, pid: str, answers: dict) -> None:
    """What the old import_responses did for a withdrawn person: their answers stored again and the
    invitation marked complete (the link stayed dead; only the withdrawal's audit row remembers)."""
    with store.engine.begin() as c:
        c.execute(sa.insert(RESPONSES).values(panelist_id=pid, wave=1, answers=json.dumps(answers), status="complete",
                                              started_at=now(), updated_at=now(), submitted_at=now()))
        c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == pid)
                  .values(disposition="complete", reason="imported", completed_at=now()))


def _held(store) -> list[str]:
    """Every stored response's panelist, read from the table itself (not through the store's filters)."""
    with store.engine.connect() as c:
        return sorted(c.execute(sa.select(RESPONSES.c.panelist_id)).scalars())


def test_answers_the_old_import_stored_again_are_left_out_then_deleted(store):
    tokens = store.issue_tokens(1)
    store.save_response(tokens["p06"], {"achievements": "said before withdrawing"}, final=True)
    store.save_response(tokens["p07"], {"achievements": "stays"}, final=True)
    assert withdraw(store, tokens["p06"]) == 1
    _old_import_after_withdrawal(store, "p06", {"achievements": "stored again by the old import"})
    assert _held(store) == ["p06", "p07"]

    # before any repair, nothing that leaves the store carries them or counts them as complete
    assert [r["panelist_id"] for r in store.responses()] == ["p07"]
    inv, wide = analysis_frames(store, load_form(pioneer_instrument_path()))
    assert wide["panelist_id"].tolist() == ["p07"]
    assert inv.set_index("panelist_id").loc["p06", "disposition"] == "refusal"
    assert inv.set_index("panelist_id").loc["p07", "disposition"] == "complete"

    dry = repair_withdrawals(store, apply=False)
    assert (dry.panelists, dry.responses, dry.invitations, dry.applied) == (("p06",), 1, 1, False)
    assert "would delete 1 response(s)" in str(dry) and "nothing changed" in str(dry)
    assert _held(store) == ["p06", "p07"] and _invitations(store)[("p06", 1)] == ("complete", "imported")

    done = repair_withdrawals(store)
    assert (done.panelists, done.responses, done.invitations, done.applied) == (("p06",), 1, 1, True)
    assert _held(store) == ["p07"]
    assert _invitations(store)[("p06", 1)] == ("refusal", "withdrawn")
    assert _invitations(store)[("p07", 1)][0] == "complete"
    audit = store.audit_log()
    row = audit[audit["action"] == "withdraw repair"]
    assert len(row) == 1 and "p06" in row["detail"].iloc[0] and "stored again" not in row["detail"].iloc[0]
    again = repair_withdrawals(store)
    assert again.panelists == () and str(again).startswith("every withdrawal is in force")
    assert len(store.audit_log()) == len(audit)  # nothing to do, nothing logged


def test_repair_withdrawals_command(tmp_path):
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    s = _new_store(url)
    tokens = s.issue_tokens(1)
    withdraw(s, tokens["p02"])
    _old_import_after_withdrawal(s, "p02", {"achievements": "again"})
    runner = CliRunner()
    dry = runner.invoke(app, ["survey", "repair-withdrawals", "--store", url, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 (p02); would delete 1 response(s)" in dry.output and _held(s) == ["p02"]
    done = runner.invoke(app, ["survey", "repair-withdrawals", "--store", url])
    assert done.exit_code == 0 and "1 (p02); deleted 1 response(s); marked 1 invitation(s)" in done.output
    assert _held(s) == []
    bad = runner.invoke(app, ["survey", "repair-withdrawals", "--store", "postgresql://u:secret@127.0.0.1:1/x"])
    assert bad.exit_code != 0 and "secret" not in bad.output and "Traceback" not in bad.output
    s.engine.dispose()


def test_repair_racing_imports_and_withdrawals_loses_nothing_and_leaves_no_withdrawn_answers(store):
    """The repair, an import of other people's rows and a new withdrawal, started together, several
    rounds: no error, every import stored, and afterwards no withdrawn person's answers anywhere."""
    tokens = store.issue_tokens(1)
    for pid in ("p00", "p01", "p02"):  # withdrawn before; the old import stored their answers again
        withdraw(store, tokens[pid])
        _old_import_after_withdrawal(store, pid, {"achievements": f"{pid} again"})
    racers = [("p03", "p04"), ("p05", "p06"), ("p07", "p08")]
    errors = []
    for leaving, imported in racers:
        frame = pd.DataFrame([{"panelist_id": imported, "wave": 1, "achievements": "paper form"}])
        errors += _race(lambda: repair_withdrawals(store), lambda f=frame: store.import_responses(f, 1),
                        lambda t=tokens[leaving]: withdraw(store, t))
    assert errors == []
    assert _held(store) == ["p04", "p06", "p08"]
    inv = _invitations(store)
    assert {inv[(pid, 1)] for pid in ("p00", "p01", "p02", "p03", "p05", "p07")} == {("refusal", "withdrawn")}
    assert repair_withdrawals(store).panelists == ()
