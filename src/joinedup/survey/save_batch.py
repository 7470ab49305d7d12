"""The read-merge-write of respondents' saves, a batch at a time, on one connection that holds the
write lock (the group commit's transaction, or one save's own).

Why a batch: the group commit (:mod:`joinedup.survey.group_commit`) puts every save that arrived while
the previous transaction committed into one transaction. Done one save at a time, each cost seven
round trips to the database on the single writer thread (savepoint, lock and read the invitation, read
the answers, write the response, the disposition, the audit row, release), and on PostgreSQL each
save's savepoint was a subtransaction; 1,000 respondents autosaving every 10 s queued behind those
round trips (p95 0.65-1.15 s on the shared 2-core machine). Here a batch of any size is:

1. lock the batch's invitations, one statement (``SELECT ... FOR UPDATE OF invitations``, rows locked
   in (panelist, wave) order so two lockers of the same rows cannot deadlock; SQLite's ``BEGIN
   IMMEDIATE`` already holds the database);
2. read their stored answers, after the locks (a fresh snapshot on PostgreSQL: nothing committed
   before the locks were granted is missed, so no field is lost);
3. decide each save in arrival order in Python, from the state the earlier saves of the batch left
   (a save of a respondent whose submission came earlier in the batch is refused, as it would be in a
   later transaction; two autosaves of one respondent merge one after the other);
4. write the final state of each respondent touched (insert or update the response, the disposition)
   and one audit row per save, each as one executemany;
5. commit (here with ``commit=True``, else by the caller).

On PostgreSQL steps 1-2 go to the server in one round trip and steps 4-5 in another (psycopg's
pipeline mode, the BEGIN going with the first): two round trips per batch instead of seven per save.

A save refused in step 3 (unknown or replaced link, closed wave, submitted response, answer too long,
``clean`` raising) writes nothing and fails alone, as before. If a write in step 4 fails, the caller
(:class:`~joinedup.survey.group_commit.GroupCommit`) rolls back and runs each save of the batch alone.

Example:
    >>> with store.write_transaction() as conn:                                   # doctest: +SKIP
    ...     [(merged, error)] = save_batch(conn, [Save(token, {"org_type": "la"}, final=False)])
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from joinedup.survey import store as st

# statements built once (SQLAlchemy's statement construction cost more CPU than SQLite's work)
_ORDER = (st.INVITATIONS.c.panelist_id, st.INVITATIONS.c.wave)
_LOCK_INVITATIONS = (st._INVITATION_BASE.where(st.INVITATIONS.c.token_hash.in_(sa.bindparam("b_hashes", expanding=True)))
                     .order_by(*_ORDER).with_for_update(of=st.INVITATIONS))
_READ_ANSWERS = (sa.select(st.RESPONSES.c.panelist_id, st.RESPONSES.c.wave, st.RESPONSES.c.answers)
                 .where(st.RESPONSES.c.panelist_id.in_(sa.bindparam("b_pids", expanding=True)),
                        st.RESPONSES.c.wave.in_(sa.bindparam("b_waves", expanding=True))))


@dataclass
class Save:
    """One save: ``answers`` (or ``clean(invitation) -> answers``, run on the invitation read under the
    lock), ``final`` to submit."""
    token: str
    answers: dict | None
    final: bool
    clean: Callable | None = None


@dataclass
class _Respondent:
    """One invitation's state while its batch is decided: what is stored, then what will be."""
    invitation: dict
    answers: dict
    stored: bool                    # a response row exists (update) or not (insert)
    changed: bool = False
    values: dict = field(default_factory=dict)  # the response's new columns


def save_batch(conn, saves: list[Save], commit: bool = False) -> list[tuple[object, Exception | None]]:
    """Decide and write ``saves`` on ``conn`` (see the module docstring); one ``(merged answers,
    None)`` or ``(None, exception)`` per save, in order. With ``commit`` the transaction is committed
    here (on PostgreSQL the COMMIT is sent with the writes, one round trip); else the caller commits."""
    io = _PipelinedIO(conn) if conn.dialect.name == "postgresql" else _CoreIO(conn)
    hashes = sorted({st.token_hash(s.token) for s in saves})
    invitations, stored = io.read(hashes)
    by_hash = {inv["token_hash"]: inv for inv in invitations}
    people: dict[tuple[str, int], _Respondent] = {}
    for inv in invitations:
        key = (inv["panelist_id"], inv["wave"])
        text = stored.get(key)
        people[key] = _Respondent(inv, json.loads(text) if text is not None else {}, text is not None)
    outcomes: list[tuple[object, Exception | None]] = []
    audit: list[dict] = []
    for save in saves:
        try:
            outcomes.append((_decide(save, by_hash, people, audit), None))
        except Exception as exc:  # noqa: BLE001 - this save's own refusal, passed to its caller
            outcomes.append((None, exc))
    io.write(*_rows([p for p in people.values() if p.changed]), audit, commit=commit)
    return outcomes


def _decide(save: Save, by_hash: dict, people: dict, audit: list) -> dict:
    """One save against the batch's state (the rules of :meth:`SurveyStore.save_response`)."""
    answers = save.answers
    if save.clean is None:
        st.SurveyStore._check_lengths(answers)
    inv = by_hash.get(st.token_hash(save.token))
    if inv is None:
        raise st.SurveyError("this link is not valid (it may have been replaced by a newer e-mail)")
    person = people[(inv["panelist_id"], inv["wave"])]
    inv = person.invitation  # as the earlier saves of this batch left it
    if save.clean is not None:
        answers = save.clean(dict(inv))
        st.SurveyStore._check_lengths(answers)
    old = person.answers
    if inv["disposition"] == "complete":
        if save.final and old == json.loads(json.dumps(answers)):
            return answers  # the same submission again (a double click, a retried request): nothing to do
        raise st.AlreadySubmitted("this response was already submitted")
    if inv["status"] != "open":
        raise st.WaveClosed(f"wave {inv['wave']} is {inv['status']}: answers can no longer be saved")
    if inv["disposition"] in ("refusal", "ineligible"):
        raise st.SurveyError(f"this invitation is closed ({inv['disposition']})")
    t = st.now()
    merged = answers if save.final else {**old, **answers}
    status = "complete" if save.final else "partial"
    text = json.dumps(merged, sort_keys=True)  # before any state changes: a value JSON cannot hold fails this save
    changed = sorted(k for k in merged if old.get(k) != merged.get(k))
    person.values = {"answers": text, "status": status, "updated_at": t, "submitted_at": t if save.final else None,
                     "started_at": person.values.get("started_at", t)}
    person.answers, person.changed = merged, True
    inv["disposition"], inv["completed_at"] = status, (t if save.final else None)
    audit.append({"at": t, "actor": f"respondent {inv['panelist_id']}", "action": "submit" if save.final else "save",
                  "detail": f"wave {inv['wave']}: {', '.join(changed) or 'no change'}"})
    return merged


def _rows(changed: list[_Respondent]) -> tuple[list[dict], list[dict], list[dict]]:
    """New responses, updated responses and dispositions of the respondents a batch changed."""
    inserts, updates, dispositions = [], [], []
    for p in changed:
        key = {"b_panelist_id": p.invitation["panelist_id"], "b_wave": p.invitation["wave"]}
        if p.stored:
            updates.append({**key, **{f"b_{k}": v for k, v in p.values.items() if k != "started_at"}})
        else:
            inserts.append({"panelist_id": p.invitation["panelist_id"], "wave": p.invitation["wave"], **p.values})
        dispositions.append({**key, "b_disposition": p.invitation["disposition"],
                             "b_completed_at": p.invitation["completed_at"]})
    return inserts, updates, dispositions


class _CoreIO:
    """Reads and writes through SQLAlchemy (SQLite: in-process, no round trips to save)."""

    def __init__(self, conn):
        self.conn = conn

    def read(self, hashes: list[str]) -> tuple[list[dict], dict]:
        invitations = [dict(r) for r in self.conn.execute(_LOCK_INVITATIONS, {"b_hashes": hashes}).mappings()]
        return invitations, _answers(invitations, lambda pids, waves: self.conn.execute(
            _READ_ANSWERS, {"b_pids": pids, "b_waves": waves}))

    def write(self, inserts, updates, dispositions, audit, commit: bool) -> None:
        for statement, rows in ((st._INSERT_RESPONSE, inserts), (st._UPDATE_RESPONSE, updates),
                                (st._UPDATE_DISPOSITION, dispositions), (st._INSERT_AUDIT, audit)):
            if rows:
                self.conn.execute(statement, rows)
        if commit:
            self.conn.commit()


def _answers(invitations: list[dict], query) -> dict:
    """The stored answers (JSON text) of the invitations' responses, by (panelist, wave)."""
    keys = {(inv["panelist_id"], inv["wave"]) for inv in invitations}
    if not keys:
        return {}
    rows = query(sorted({k[0] for k in keys}), sorted({k[1] for k in keys}))
    return {(r[0], r[1]): r[2] for r in rows if (r[0], r[1]) in keys}


class _PipelinedIO:
    """Reads and writes on PostgreSQL in psycopg's pipeline mode: the lock and the read of the answers
    go in one round trip (executed in order by the server, the read after the locks are held), all
    the writes in a second; the commit is the third. The SQL is SQLAlchemy's, compiled once."""

    def __init__(self, conn):
        self.conn = conn
        if not conn.in_transaction():
            conn.begin()  # so that the caller's commit commits what is sent here on the driver's connection
        self.raw = conn.connection.driver_connection

    def read(self, hashes: list[str]) -> tuple[list[dict], dict]:
        sql = _pg_sql()
        with self._errors(sql["lock"]), self.raw.cursor(row_factory=_dict_row()) as lock, \
                self.raw.cursor() as answers:
            with self.raw.pipeline():  # both sent at once; leaving the block waits for both results
                lock.execute(sql["lock"], {"b_hashes": hashes})
                # the answers of the hashes' responses: run by the server after the lock above, with a
                # snapshot taken then (READ COMMITTED), so nothing committed before the locks is missed
                answers.execute(sql["answers"], {"b_hashes": hashes})
            invitations = lock.fetchall()
            stored = answers.fetchall()
        return invitations, {(r[0], r[1]): r[2] for r in stored}

    def write(self, inserts, updates, dispositions, audit, commit: bool) -> None:
        sql = _pg_sql()
        with self._errors(sql["update"]), self.raw.pipeline(), self.raw.cursor() as cur:
            for key, rows in (("insert", inserts), ("update", updates), ("disposition", dispositions),
                              ("audit", audit)):
                if rows:
                    cur.executemany(sql[key], rows)
            if commit:
                # sent in the same pipeline; the caller's commit then finds no transaction and sends nothing
                self.raw.commit()

    @contextlib.contextmanager
    def _errors(self, statement: str):
        """psycopg's errors as SQLAlchemy's (the web service answers 503 to an OperationalError)."""
        import psycopg

        try:
            yield
        except psycopg.Error as exc:
            disconnect = self.conn.dialect.is_disconnect(exc, self.raw, None)
            if disconnect:
                self.conn.invalidate()
            raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error,
                                             connection_invalidated=disconnect) from exc


def _dict_row():
    from psycopg.rows import dict_row

    return dict_row


@functools.cache
def _pg_sql() -> dict[str, str]:
    """The batch's statements in PostgreSQL's SQL with psycopg's named parameters."""
    from sqlalchemy.dialects.postgresql import ARRAY
    from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

    dialect = pg_dialect.dialect()
    hashes = sa.bindparam("b_hashes", type_=ARRAY(sa.String))
    lock = (st._INVITATION_BASE.where(st.INVITATIONS.c.token_hash == sa.any_(hashes))
            .order_by(*_ORDER).with_for_update(of=st.INVITATIONS))
    owners = sa.select(st.INVITATIONS.c.panelist_id, st.INVITATIONS.c.wave).where(
        st.INVITATIONS.c.token_hash == sa.any_(hashes))
    answers = (sa.select(st.RESPONSES.c.panelist_id, st.RESPONSES.c.wave, st.RESPONSES.c.answers)
               .where(sa.tuple_(st.RESPONSES.c.panelist_id, st.RESPONSES.c.wave).in_(owners)))
    insert = sa.insert(st.RESPONSES).values({c: sa.bindparam(c) for c in (
        "panelist_id", "wave", "answers", "status", "started_at", "updated_at", "submitted_at")})
    audit = sa.insert(st.AUDIT).inline().values({c: sa.bindparam(c) for c in ("at", "actor", "action", "detail")})
    statements = {"lock": lock, "answers": answers, "insert": insert, "update": st._UPDATE_RESPONSE,
                  "disposition": st._UPDATE_DISPOSITION, "audit": audit}
    return {k: str(v.compile(dialect=dialect)) for k, v in statements.items()}
