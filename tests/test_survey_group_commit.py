"""Group commit (survey/group_commit.py) on real SQLite files: saves queued meanwhile share one
transaction, each acknowledged only after that transaction commits; a failing save is rolled back
to its savepoint alone; a failing transaction fails every save of its batch; and the store's saves
through it keep "a submission is final" and lose no field when one respondent's saves race.
"""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest
import sqlalchemy as sa

from joinedup.survey.group_commit import GroupCommit
from joinedup.survey.roster import read_roster
from joinedup.survey.store import AlreadySubmitted, SurveyStore


@pytest.fixture
def table(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'g.db'}", connect_args={"check_same_thread": False})
    meta = sa.MetaData()
    t = sa.Table("t", meta, sa.Column("k", sa.Integer, primary_key=True))
    meta.create_all(engine)
    yield engine, t
    engine.dispose()


def _transaction(engine, log, gate=None, fail_commit=False):
    @contextlib.contextmanager
    def transaction():
        with engine.connect() as c:
            c.exec_driver_sql("BEGIN IMMEDIATE")
            yield c
            if gate is not None:
                log.append("waiting")
                gate.wait(30)
            if fail_commit:
                c.rollback()
                raise sa.exc.OperationalError("COMMIT", {}, Exception("disk I/O error"))
            c.commit()
            log.append("committed")
    return transaction


def _insert(t, k, fail=False):
    def work(c):
        c.execute(sa.insert(t).values(k=k))
        if fail:
            raise ValueError(f"save {k} refused after writing")
        return k
    return work


def _keys(engine, t):
    with engine.connect() as c:
        return set(c.execute(sa.select(t.c.k)).scalars())


def test_batches_share_a_commit_and_are_acknowledged_only_after_it(table):
    engine, t = table
    log, gate = [], threading.Event()
    writer = GroupCommit(_transaction(engine, log, gate))
    first = writer.submit(_insert(t, 0))
    while "waiting" not in log:  # the first batch (one save) is about to commit, held at the gate
        threading.Event().wait(0.01)
    rest = [writer.submit(_insert(t, k)) for k in range(1, 51)]
    assert not first.done() and not any(f.done() for f in rest)  # nothing acknowledged before a commit
    gate.set()
    assert [f.result(timeout=30) for f in rest] == list(range(1, 51))
    assert first.result() == 0
    writer.close()
    assert log.count("committed") == 2  # the 50 saves queued meanwhile went into one transaction
    assert _keys(engine, t) == set(range(51))


def test_a_failing_save_is_rolled_back_alone(table):
    engine, t = table
    log, gate = [], threading.Event()
    writer = GroupCommit(_transaction(engine, log, gate))
    held = writer.submit(_insert(t, 100))
    while "waiting" not in log:
        threading.Event().wait(0.01)
    futures = [writer.submit(_insert(t, k, fail=k % 3 == 0)) for k in range(30)]
    gate.set()
    held.result(timeout=30)
    for k, f in enumerate(futures):
        if k % 3 == 0:
            with pytest.raises(ValueError, match=f"save {k} refused"):
                f.result(timeout=30)
        else:
            assert f.result(timeout=30) == k
    writer.close()
    assert _keys(engine, t) == {100} | {k for k in range(30) if k % 3}  # its own insert undone, no other


def test_a_failing_commit_fails_every_save_of_its_batch(table):
    engine, t = table
    writer = GroupCommit(_transaction(engine, [], fail_commit=True))
    futures = [writer.submit(_insert(t, k)) for k in range(20)]
    for f in futures:
        with pytest.raises(sa.exc.OperationalError):
            f.result(timeout=30)
    writer.close()
    assert _keys(engine, t) == set()


@pytest.fixture
def store(tmp_path):
    s = SurveyStore(f"sqlite:///{tmp_path / 'survey.db'}")
    s.create()
    roster = pd.DataFrame({"panelist_id": [f"p{i}" for i in range(20)], "name": "x",
                           "email": [f"p{i}@example.org" for i in range(20)], "pioneer": "Barnsley",
                           "org_type": "la", "role": "", "is_lead": "no"})
    s.upsert_panelists(read_roster(roster))
    s.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    s.set_wave_status(1, "open")
    yield s, s.issue_tokens(1)
    s.engine.dispose()


def test_store_saves_through_the_group_commit_merge_and_a_submission_stays_final(store):
    s, tokens = store
    fields = ["achievements", "challenges", "prog_quality", "bar_financial"]
    with ThreadPoolExecutor(16) as pool:  # every respondent saves four fields at once
        futures = [pool.submit(lambda tok=tok, f=f: s.submit_save(tok, {f: f"{f} {tok[:4]}"}, final=False).result())
                   for tok in tokens.values() for f in fields]
        [f.result(timeout=60) for f in futures]
    for pid, tok in tokens.items():
        assert s.answers(pid, 1) == {f: f"{f} {tok[:4]}" for f in fields}  # no field lost
    pid, tok = next(iter(tokens.items()))
    s.save_response(tok, {"achievements": "final"}, final=True)  # goes through the writer thread too
    late = [s.submit_save(tok, {"achievements": f"late {i}"}, final=False) for i in range(10)]
    for f in late:
        with pytest.raises(AlreadySubmitted):
            f.result(timeout=30)
    assert s.answers(pid, 1) == {"achievements": "final"}
    assert s.invitations_frame(1).set_index("panelist_id").loc[pid, "disposition"] == "complete"


def test_clean_sees_the_invitation_read_under_the_lock(store):
    s, tokens = store
    pid, tok = next(iter(tokens.items()))
    seen = []

    def clean(inv):
        seen.append((inv["panelist_id"], inv["instrument"]))
        return {"achievements": "cleaned"}

    assert s.submit_save(tok, None, final=False, clean=clean).result(timeout=30) == {"achievements": "cleaned"}
    assert seen == [(pid, "pioneer_ki_survey")]
    assert s.answers(pid, 1) == {"achievements": "cleaned"}
