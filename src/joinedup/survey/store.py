"""The survey store: panelists, waves, invitations with hashed tokens, responses, mail log, admins.

SQLAlchemy Core on SQLite (default: a file) or PostgreSQL (``postgresql+psycopg://...``). Every change
runs in one transaction, after its input has been checked, so a bad input changes nothing.

* A panelist has a stable ``panelist_id`` across waves; re-importing the roster updates contact
  details and keeps history.
* Each panelist gets one token per wave: ``secrets.token_urlsafe(32)`` (256 bits). Only its SHA-256 is
  stored; the token itself is returned once, to be mailed. A reminder re-issues a fresh token and the
  old one stops working (the store cannot recover a token it never kept); the reminder's link carries
  the new one, and the answers saved so far stay with the invitation.
* Dispositions follow :mod:`joinedup.survey.aapor`: ``non_contact`` when invited, ``partial`` once
  answers are saved, ``complete`` on submission, ``refusal`` on an unsubscribe or a refusal,
  ``ineligible`` (left post, bounced) set by the admin or the mailer.

Example:
    >>> store = SurveyStore("sqlite:///:memory:"); store.create()
    >>> store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    >>> store.list_waves()[0]["status"]
    'draft'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from joinedup.survey.passwords import hash_password, verify_password

META = sa.MetaData()
PANELISTS = sa.Table(
    "panelists", META,
    sa.Column("panelist_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False), sa.Column("email", sa.String(320), nullable=False),
    sa.Column("pioneer", sa.String(100), nullable=False), sa.Column("org_type", sa.String(20), nullable=False),
    sa.Column("role", sa.String(200), nullable=False, default=""), sa.Column("is_lead", sa.Boolean, default=False),
    sa.Column("active", sa.Boolean, default=True), sa.Column("unsubscribed_at", sa.DateTime, nullable=True))
WAVES = sa.Table(
    "waves", META, sa.Column("wave", sa.Integer, primary_key=True),
    sa.Column("instrument", sa.String(100), nullable=False),
    sa.Column("opens_on", sa.Date, nullable=False), sa.Column("closes_on", sa.Date, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, default="draft"),  # draft, open, closed
    # identifiable panel data of the wave are erased this many days after it closes (survey/retention.py)
    sa.Column("retention_days", sa.Integer, nullable=True, default=730))
INVITATIONS = sa.Table(
    "invitations", META,
    sa.Column("panelist_id", sa.String(64), sa.ForeignKey("panelists.panelist_id"), primary_key=True),
    sa.Column("wave", sa.Integer, sa.ForeignKey("waves.wave"), primary_key=True),
    sa.Column("token_hash", sa.String(64), unique=True, nullable=False),
    sa.Column("disposition", sa.String(20), nullable=False, default="non_contact"),
    sa.Column("reason", sa.String(200), default=""),
    sa.Column("invited_at", sa.DateTime), sa.Column("reminders_sent", sa.Integer, default=0),
    sa.Column("last_mail_at", sa.DateTime), sa.Column("completed_at", sa.DateTime))
RESPONSES = sa.Table(
    "responses", META,
    sa.Column("panelist_id", sa.String(64), primary_key=True), sa.Column("wave", sa.Integer, primary_key=True),
    sa.Column("answers", sa.Text, nullable=False), sa.Column("status", sa.String(10), nullable=False),
    sa.Column("started_at", sa.DateTime), sa.Column("updated_at", sa.DateTime), sa.Column("submitted_at", sa.DateTime),
    sa.ForeignKeyConstraint(["panelist_id", "wave"], ["invitations.panelist_id", "invitations.wave"]))
MAIL_LOG = sa.Table(
    "mail_log", META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("panelist_id", sa.String(64)), sa.Column("wave", sa.Integer), sa.Column("kind", sa.String(20)),
    sa.Column("sent_at", sa.DateTime), sa.Column("outcome", sa.String(20)), sa.Column("detail", sa.Text, default=""))
ADMINS = sa.Table(  # every login: survey admins, programme/evaluation staff, and site users (one site each)
    "admins", META, sa.Column("username", sa.String(100), primary_key=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("role", sa.String(20), nullable=False, default="admin"),  # admin, programme, site, coder, lead
    sa.Column("site", sa.String(100), nullable=True))
ROLES = ("admin", "programme", "site", "coder", "lead")  # coder, lead: the qualitative workbench (joinedup.qual)
AUDIT = sa.Table(
    "audit_log", META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False), sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(60), nullable=False), sa.Column("detail", sa.Text, default=""))
SESSIONS = sa.Table(  # server-side sessions (web/security.py): a cookie is valid only while its row is here
    "sessions", META, sa.Column("sid_hash", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False), sa.Column("last_seen", sa.DateTime, nullable=False))
LOGIN_FAILURES = sa.Table(  # failed sign-ins per account and per client address (survey/accounts.py)
    "login_failures", META, sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False), sa.Column("window_start", sa.DateTime, nullable=False),
    sa.Column("locked_until", sa.DateTime, nullable=True))
SCHEMA = sa.Table("schema_version", META, sa.Column("version", sa.Integer, primary_key=True))
SCHEMA_VERSION = 5
MAX_ANSWER_CHARS = 20_000  # a free-text answer longer than this is refused with a message, not truncated

ORG_TYPES = ("ccg", "la", "nhs_provider", "other")


# The statements of a save, built once: every autosave runs them, and building a SQLAlchemy statement
# (and its cache key) cost more CPU than SQLite took to run it (cProfile of the group commit's writer,
# 2026-12-06). Parameters are bound by name (b_...: SQLAlchemy reserves the column names for SET values).
def _key(table: sa.Table):
    return (table.c.panelist_id == sa.bindparam("b_panelist_id")) & (table.c.wave == sa.bindparam("b_wave"))


_INVITATION_BASE = (sa.select(INVITATIONS, PANELISTS.c.name, PANELISTS.c.email, PANELISTS.c.pioneer,
                              PANELISTS.c.org_type, PANELISTS.c.is_lead, WAVES.c.instrument, WAVES.c.status,
                              WAVES.c.closes_on)
                    .join(PANELISTS, PANELISTS.c.panelist_id == INVITATIONS.c.panelist_id)
                    .join(WAVES, WAVES.c.wave == INVITATIONS.c.wave))
_INVITATION = _INVITATION_BASE.where(INVITATIONS.c.token_hash == sa.bindparam("b_token_hash"))
_INVITATION_LOCKED = _INVITATION.with_for_update(of=INVITATIONS)  # SELECT ... FOR UPDATE OF invitations (PostgreSQL)
_INSERT_RESPONSE = sa.insert(RESPONSES)
_UPDATE_RESPONSE = sa.update(RESPONSES).where(_key(RESPONSES)).values(
    {col: sa.bindparam(f"b_{col}") for col in ("answers", "status", "updated_at", "submitted_at")})
_UPDATE_DISPOSITION = sa.update(INVITATIONS).where(_key(INVITATIONS)).values(
    disposition=sa.bindparam("b_disposition"), completed_at=sa.bindparam("b_completed_at"))
_INSERT_AUDIT = sa.insert(AUDIT)


WITHDRAWN = "withdrawn"  # the reason of every invitation of a respondent who withdrew (survey/retention.py)


WITHDRAW_AUDIT_ACTOR = "respondent "  # the audit actor of a withdrawal: "respondent <panelist id>"


def withdrawn_panelists() -> sa.Select:
    """The ids of respondents who have withdrawn: a withdrawal marks every invitation of theirs with
    reason ``withdrawn`` (nothing in the store changes that mark afterwards) and writes an audit row.

    The audit row counts too: before the store kept the mark, an ``import_responses`` after a
    withdrawal overwrote the invitation's reason, so in such databases only the audit log remembers.

    Example:
        >>> with store.engine.connect() as c:                                        # doctest: +SKIP
        ...     gone = set(c.execute(withdrawn_panelists()).scalars())
    """
    marked = sa.select(INVITATIONS.c.panelist_id).where(INVITATIONS.c.reason == WITHDRAWN)
    audited = sa.select(sa.func.substr(AUDIT.c.actor, len(WITHDRAW_AUDIT_ACTOR) + 1)).where(
        (AUDIT.c.action == "withdraw") & AUDIT.c.actor.startswith(WITHDRAW_AUDIT_ACTOR))
    return sa.union(marked, audited)


@dataclass(frozen=True)
class ResponseImport:
    """What :meth:`SurveyStore.import_responses` did: responses stored, and the rows it refused."""
    stored: int
    rejects: pd.DataFrame  # line, panelist_id, wave, reason (never the answers)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SurveyError(ValueError):
    """A request the store refuses (unknown token, closed wave, ...), with the reason."""


class WaveClosed(SurveyError):
    """A save in a wave that is not open (closed, or still a draft)."""


class AlreadySubmitted(SurveyError):
    """A save of a response that was submitted: the submission is final, the save is refused."""


class SurveyStore:
    """The survey's database (see the module docstring)."""

    def __init__(self, url: str):
        self.url = url
        self._group_commit = None  # the writer thread of submit_save, started on first use
        self._group_commit_lock = threading.Lock()
        kwargs = {"poolclass": sa.pool.StaticPool} if url in ("sqlite://", "sqlite:///:memory:") else {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        try:
            self.engine = sa.create_engine(url, future=True, **kwargs)
        except ModuleNotFoundError as exc:  # PostgreSQL's driver is the postgres extra
            from joinedup.connection import missing_extra

            if not missing_extra(exc):
                raise
            raise SurveyError(f"survey store {url.split('://')[0]}: {missing_extra(exc)}") from None
        if url.startswith("sqlite"):
            @sa.event.listens_for(self.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, _record):
                # WAL: readers do not block the writer; synchronous=FULL: a committed (acknowledged) save
                # survives a crash or a killed server; busy_timeout: concurrent respondents wait, not fail
                cur = dbapi_connection.cursor()
                if url not in ("sqlite://", "sqlite:///:memory:"):
                    cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=FULL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        self._check_reachable()

    def _check_reachable(self) -> None:
        # a store that is down, refuses the login or names a missing folder fails here, in one line
        from joinedup.connection import is_connection_failure, unreachable_message

        try:
            with self.engine.connect():
                pass
        except sa.exc.DBAPIError as exc:
            if not is_connection_failure(exc):
                raise
            raise SurveyError(unreachable_message("survey store", self.url, exc)) from None

    def create(self) -> None:
        """Create missing tables and bring an older database up to :data:`SCHEMA_VERSION` (migrations)."""
        META.create_all(self.engine)
        from joinedup.survey.migrations import migrate

        migrate(self.engine)

    def audit(self, actor: str, action: str, detail: str = "", conn=None) -> None:
        """Record an admin action or a response edit (who, what, when)."""
        stmt = sa.insert(AUDIT).values(at=now(), actor=actor, action=action, detail=detail)
        if conn is not None:
            conn.execute(stmt)
        else:
            with self.engine.begin() as c:
                c.execute(stmt)

    def audit_log(self) -> pd.DataFrame:
        with self.engine.connect() as c:
            return pd.DataFrame(c.execute(sa.select(AUDIT).order_by(AUDIT.c.id)).mappings().all(),
                                columns=[col.name for col in AUDIT.columns])

    # -- admins -------------------------------------------------------------------------------------
    def add_admin(self, username: str, password: str) -> None:
        self.add_user(username, password, "admin")

    def add_user(self, username: str, password: str, role: str, site: str | None = None) -> None:
        """A login: ``admin`` (survey admin pages and every site), ``programme`` (every site's
        dashboard), ``site`` (its own site's dashboard only, so ``site`` is required), or ``coder`` and
        ``lead`` (the qualitative workbench: only the projects they are members of)."""
        if role not in ROLES:
            raise SurveyError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
        if (role == "site") != bool(site):
            raise SurveyError("a site user needs exactly one site; other roles have none")
        if len(password) < 12:
            raise SurveyError("passwords need at least 12 characters")
        with self.engine.begin() as c:
            c.execute(sa.delete(ADMINS).where(ADMINS.c.username == username))
            # a new password (or role) ends every session of the user, on the server (see accounts.py)
            c.execute(sa.delete(SESSIONS).where(SESSIONS.c.username == username))
            c.execute(sa.insert(ADMINS).values(username=username, password_hash=hash_password(password), role=role,
                                               site=site))

    def user(self, username: str) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(ADMINS.c.username, ADMINS.c.role, ADMINS.c.site)
                            .where(ADMINS.c.username == username)).mappings().first()
        return dict(row) if row else None

    def check_login(self, username: str, password: str) -> dict | None:
        """The user's role and site if the password is right, else None."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(ADMINS.c.password_hash).where(ADMINS.c.username == username)).first()
        return self.user(username) if verify_password(password, row[0] if row else None) else None

    def check_admin(self, username: str, password: str) -> bool:
        u = self.check_login(username, password)
        return bool(u) and u["role"] == "admin"

    # -- panel --------------------------------------------------------------------------------------
    def upsert_panelists(self, frame: pd.DataFrame) -> tuple[int, int]:
        """Add or update panelists from a checked roster (see :mod:`joinedup.survey.roster`)."""
        added = updated = 0
        with self.engine.begin() as c:
            have = set(c.execute(sa.select(PANELISTS.c.panelist_id)).scalars())
            for r in frame.to_dict("records"):
                values = {k: r[k] for k in ("name", "email", "pioneer", "org_type", "role")}
                values["is_lead"] = r["is_lead"] == "yes"
                if r["panelist_id"] in have:
                    c.execute(sa.update(PANELISTS).where(PANELISTS.c.panelist_id == r["panelist_id"]).values(**values))
                    updated += 1
                else:
                    c.execute(sa.insert(PANELISTS).values(panelist_id=r["panelist_id"], active=True, **values))
                    added += 1
        return added, updated

    def panelists(self) -> pd.DataFrame:
        with self.engine.connect() as c:
            return pd.DataFrame(c.execute(sa.select(PANELISTS).order_by(PANELISTS.c.panelist_id)).mappings().all(),
                                columns=[col.name for col in PANELISTS.columns])

    # -- waves --------------------------------------------------------------------------------------
    def create_wave(self, wave: int, instrument: str, opens_on, closes_on, retention_days: int | None = 730) -> None:
        """A draft wave; its identifiable panel data are erased ``retention_days`` after it closes
        (``joinedup survey erase-expired``; None keeps them until erased by hand)."""
        opens, closes = pd.Timestamp(opens_on).date(), pd.Timestamp(closes_on).date()
        if retention_days is not None and retention_days < 0:
            raise SurveyError(f"wave {wave}: the retention period cannot be negative ({retention_days} days)")
        if closes < opens:
            raise SurveyError(f"wave {wave} closes ({closes}) before it opens ({opens})")
        with self.engine.begin() as c:
            if c.execute(sa.select(WAVES.c.wave).where(WAVES.c.wave == wave)).first():
                raise SurveyError(f"wave {wave} already exists")
            c.execute(sa.insert(WAVES).values(wave=wave, instrument=instrument, opens_on=opens, closes_on=closes,
                                              status="draft", retention_days=retention_days))

    def set_wave_status(self, wave: int, status: str) -> None:
        if status not in ("draft", "open", "closed"):
            raise SurveyError(f"status must be draft, open or closed; got {status!r}")
        with self.engine.begin() as c:
            if c.execute(sa.update(WAVES).where(WAVES.c.wave == wave).values(status=status)).rowcount == 0:
                raise SurveyError(f"no wave {wave}")

    def list_waves(self) -> list[dict]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(sa.select(WAVES).order_by(WAVES.c.wave)).mappings()]

    def wave(self, wave: int) -> dict:
        found = [w for w in self.list_waves() if w["wave"] == wave]
        if not found:
            raise SurveyError(f"no wave {wave}")
        return found[0]

    # -- invitations and tokens ----------------------------------------------------------------------
    def issue_tokens(self, wave: int, panelist_ids=None) -> dict[str, str]:
        """A fresh token for each active, subscribed panelist (or those given) still to answer in ``wave``.

        New invitations start as ``non_contact``; an existing one keeps its disposition and answers but
        its old token stops working. Completed, refused and ineligible invitations get no token.
        """
        self.wave(wave)
        tokens: dict[str, str] = {}
        with self.engine.begin() as c:
            q = sa.select(PANELISTS.c.panelist_id).where(PANELISTS.c.active, PANELISTS.c.unsubscribed_at.is_(None))
            if panelist_ids is not None:
                q = q.where(PANELISTS.c.panelist_id.in_(list(panelist_ids)))
            invited = {r.panelist_id: r for r in c.execute(
                sa.select(INVITATIONS).where(INVITATIONS.c.wave == wave))}
            for pid in c.execute(q).scalars():
                old = invited.get(pid)
                if old is not None and old.disposition in ("complete", "refusal", "ineligible"):
                    continue
                token = secrets.token_urlsafe(32)
                tokens[pid] = token
                if old is None:
                    c.execute(sa.insert(INVITATIONS).values(panelist_id=pid, wave=wave, token_hash=token_hash(token),
                                                            disposition="non_contact", reminders_sent=0))
                else:
                    c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == pid,
                                                           INVITATIONS.c.wave == wave)
                              .values(token_hash=token_hash(token)))
        return tokens

    def invitation(self, token: str) -> dict:
        """The invitation of a token with its panelist and wave; SurveyError says why it cannot be used."""
        with self.engine.connect() as c:
            return self._invitation(c, token)

    @staticmethod
    def _invitation(c, token: str, lock: bool = False) -> dict:
        # PostgreSQL: with lock, the invitation row stays locked until this transaction ends
        row = c.execute(_INVITATION_LOCKED if lock else _INVITATION, {"b_token_hash": token_hash(token)}).mappings().first()
        if row is None:
            raise SurveyError("this link is not valid (it may have been replaced by a newer e-mail)")
        return dict(row)

    def answers(self, panelist_id: str, wave: int) -> dict:
        with self.engine.connect() as c:
            row = c.execute(sa.select(RESPONSES.c.answers).where(RESPONSES.c.panelist_id == panelist_id,
                                                                 RESPONSES.c.wave == wave)).first()
        return json.loads(row[0]) if row else {}

    def save_response(self, token: str, answers: dict, final: bool) -> dict:
        """Save answers (merged over those saved before); ``final`` submits. Refused when the wave is
        not open or the response was already submitted (:class:`AlreadySubmitted`).

        One transaction reads the invitation and the stored answers, merges and writes, holding the
        write lock from before the first read (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE``
        of the invitation row on PostgreSQL): two saves of one respondent run one after the other, so
        neither loses the other's fields, only one inserts the response, and a submission is final.
        Once :meth:`submit_save` has been used (the web service), saves go through its group commit.

        Example:
            >>> store = SurveyStore("sqlite:///:memory:"); store.create()             # doctest: +SKIP
            >>> store.save_response(token, {"org_type": "la"}, final=False)           # doctest: +SKIP
            {'org_type': 'la'}
        """
        if self._group_commit is not None:
            return self.submit_save(token, answers, final).result()
        from joinedup.survey.save_batch import Save, save_batch

        with self.write_transaction() as c:
            [(merged, error)] = save_batch(c, [Save(token, answers, final)], commit=True)
            if error is not None:
                raise error
        return merged

    def submit_save(self, token: str, answers: dict | None, final: bool, clean=None):
        """Queue a save for the store's group commit (:mod:`joinedup.survey.group_commit`, one writer
        thread, started on first use, deciding and writing each batch with
        :func:`joinedup.survey.save_batch.save_batch`) and return its ``concurrent.futures.Future``: the
        merged answers once committed, or the save's exception. ``clean(invitation) -> answers``, if
        given, makes the answers from the invitation read under the lock (the web service validates
        them against the wave's instrument there, so the invitation is read once per save).

        Example:
            >>> merged = store.submit_save(token, {"org_type": "la"}, final=False).result()  # doctest: +SKIP
        """
        from joinedup.survey.save_batch import Save, save_batch

        if self._group_commit is None:
            from joinedup.survey.group_commit import GroupCommit

            with self._group_commit_lock:
                if self._group_commit is None:
                    # the batch's COMMIT goes with its writes (one round trip less on PostgreSQL)
                    self._group_commit = GroupCommit(self.write_transaction,
                                                     run_batch=functools.partial(save_batch, commit=True))
        return self._group_commit.submit(Save(token, answers, final, clean))

    @staticmethod
    def _check_lengths(answers: dict) -> None:
        too_long = [k for k, v in answers.items() if isinstance(v, str) and len(v) > MAX_ANSWER_CHARS]
        if too_long:
            raise SurveyError(f"answer(s) to {', '.join(too_long)} are longer than {MAX_ANSWER_CHARS:,} characters")

    @contextlib.contextmanager
    def write_transaction(self):
        """A transaction that holds the database's write lock before its first read and commits at the
        end (rolls back on an exception). On SQLite ``BEGIN IMMEDIATE`` takes the lock (a deferred
        transaction would read a snapshot, then fail or overwrite when it writes); on PostgreSQL the
        caller locks the rows it reads (``with_for_update``), which SQLite ignores."""
        with self.engine.connect() as c:
            if self.engine.dialect.name == "sqlite":
                # pysqlite opens no transaction before a SELECT, so this is the transaction's start
                c.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield c
            except BaseException:
                c.rollback()
                raise
            c.commit()

    def import_responses(self, frame: pd.DataFrame, wave: int) -> ResponseImport:
        """Store complete responses imported from another tool (wide: panelist_id, wave, questions);
        return how many were stored and the rejected rows.

        Every panelist must be on the roster; an invitation is made for those not invited (with a
        random, never-mailed token) and marked complete. All or nothing: one unknown id stores none.
        A respondent who has withdrawn (:func:`joinedup.survey.retention.withdraw`) stays withdrawn:
        their rows are not stored, and each goes to ``rejects`` (``line``, ``panelist_id``, ``wave``,
        ``reason``; line = row position + 2, the line of the CSV the frame was read from) without its
        answers. The import holds the write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL locks the
        invitations table, as a withdrawal locks an invitation row first), so a withdrawal racing it
        runs wholly before it (and its rows are rejected) or after it (and deletes them).

        Example:
            >>> outcome = store.import_responses(result.frame, wave=1)                # doctest: +SKIP
            >>> outcome.stored, outcome.rejects["reason"].tolist()                    # doctest: +SKIP
            (41, ['panelist P006 has withdrawn from the survey: their answers are not stored'])
        """
        self.wave(wave)
        known = set(self.panelists()["panelist_id"])
        unknown = sorted(set(frame["panelist_id"]) - known)
        if unknown:
            raise SurveyError(f"{len(unknown)} panelist id(s) not on the roster: {', '.join(unknown[:10])}")
        t = now()
        stored, rejects = 0, []
        with self.write_transaction() as c:
            if self.engine.dialect.name == "postgresql":
                c.exec_driver_sql("LOCK TABLE invitations IN EXCLUSIVE MODE")
            withdrawn = set(c.execute(withdrawn_panelists()).scalars())
            invited = set(c.execute(sa.select(INVITATIONS.c.panelist_id).where(INVITATIONS.c.wave == wave)).scalars())
            have = set(c.execute(sa.select(RESPONSES.c.panelist_id).where(RESPONSES.c.wave == wave)).scalars())
            for line, r in enumerate(frame.to_dict("records"), start=2):
                pid = r["panelist_id"]
                if pid in withdrawn:
                    rejects.append({"line": line, "panelist_id": pid, "wave": wave,
                                    "reason": f"panelist {pid} has withdrawn from the survey: their answers are not "
                                              "stored"})
                    continue
                answers = {k: (v.split() if isinstance(v, str) and k in self._multi(frame) else v)
                           for k, v in r.items() if k not in ("panelist_id", "wave") and v is not None and v == v}
                if pid not in invited:
                    c.execute(sa.insert(INVITATIONS).values(panelist_id=pid, wave=wave, reminders_sent=0,
                                                            token_hash=token_hash(secrets.token_urlsafe(32))))
                values = {"answers": json.dumps(answers, sort_keys=True), "status": "complete", "updated_at": t,
                          "submitted_at": t}
                if pid in have:
                    c.execute(sa.update(RESPONSES).where(RESPONSES.c.panelist_id == pid, RESPONSES.c.wave == wave)
                              .values(**values))
                else:
                    c.execute(sa.insert(RESPONSES).values(panelist_id=pid, wave=wave, started_at=t, **values))
                c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == pid, INVITATIONS.c.wave == wave)
                          .values(disposition="complete", completed_at=t, reason="imported"))
                stored += 1
        return ResponseImport(stored, pd.DataFrame(rejects, columns=["line", "panelist_id", "wave", "reason"]))

    @staticmethod
    def _multi(frame: pd.DataFrame) -> set[str]:
        return set(frame.attrs.get("select_multiple", ()))

    def set_disposition(self, panelist_id: str, wave: int, disposition: str, reason: str = "") -> None:
        """Record a refusal or ineligibility (left post, bounced) for one invitation."""
        if disposition not in ("refusal", "ineligible", "non_contact"):
            raise SurveyError(f"disposition can be set to refusal, ineligible or non_contact; got {disposition!r}")
        with self.engine.begin() as c:
            done = c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == panelist_id,
                                                          INVITATIONS.c.wave == wave,
                                                          sa.func.coalesce(INVITATIONS.c.reason, "") != WITHDRAWN)
                             .values(disposition=disposition, reason=reason)).rowcount
            gone = not done and panelist_id in set(c.execute(withdrawn_panelists()).scalars())
        if gone:
            raise SurveyError(f"{panelist_id} has withdrawn from the survey: their invitations stay withdrawn")
        if not done:
            raise SurveyError(f"{panelist_id} was not invited to wave {wave}")

    def unsubscribe(self, token: str) -> None:
        """No more mail for this panelist; open invitations not yet answered become refusals."""
        inv = self.invitation(token)
        with self.engine.begin() as c:
            c.execute(sa.update(PANELISTS).where(PANELISTS.c.panelist_id == inv["panelist_id"])
                      .values(unsubscribed_at=now()))
            c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == inv["panelist_id"],
                                                   INVITATIONS.c.disposition == "non_contact")
                      .values(disposition="refusal", reason="unsubscribed"))

    def log_mail(self, panelist_id: str, wave: int, kind: str, outcome: str, detail: str = "") -> None:
        with self.engine.begin() as c:
            c.execute(sa.insert(MAIL_LOG).values(panelist_id=panelist_id, wave=wave, kind=kind, sent_at=now(),
                                                 outcome=outcome, detail=detail))
            if outcome == "sent":
                extra = {"invited_at": now()} if kind == "invitation" else \
                    {"reminders_sent": INVITATIONS.c.reminders_sent + 1}
                c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == panelist_id,
                                                       INVITATIONS.c.wave == wave)
                          .values(last_mail_at=now(), **extra))

    def last_mail(self, wave: int) -> dict[str, dt.datetime]:
        """When each panelist of ``wave`` was last mailed (successfully)."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(INVITATIONS.c.panelist_id, INVITATIONS.c.last_mail_at)
                             .where(INVITATIONS.c.wave == wave, INVITATIONS.c.last_mail_at.is_not(None)))
            return {r.panelist_id: r.last_mail_at for r in rows}

    def mail_log(self) -> pd.DataFrame:
        with self.engine.connect() as c:
            return pd.DataFrame(c.execute(sa.select(MAIL_LOG).order_by(MAIL_LOG.c.id)).mappings().all(),
                                columns=[col.name for col in MAIL_LOG.columns])

    # -- frames for analysis and exports --------------------------------------------------------------
    def invitations_frame(self, wave: int | None = None) -> pd.DataFrame:
        """``panelist_id, wave, pioneer, org_type, is_lead, disposition`` (the analysis' invitations.csv).

        A withdrawn respondent's invitations are refusals (AAPOR), also where an older joinedup
        overwrote the mark when it imported their answers again."""
        disposition = sa.case((INVITATIONS.c.panelist_id.in_(withdrawn_panelists()), "refusal"),
                              else_=INVITATIONS.c.disposition)
        q = (sa.select(INVITATIONS.c.panelist_id, INVITATIONS.c.wave, PANELISTS.c.pioneer, PANELISTS.c.org_type,
                       PANELISTS.c.is_lead, disposition.label("disposition"), INVITATIONS.c.reminders_sent)
             .join(PANELISTS, PANELISTS.c.panelist_id == INVITATIONS.c.panelist_id)
             .order_by(INVITATIONS.c.wave, INVITATIONS.c.panelist_id))
        if wave is not None:
            q = q.where(INVITATIONS.c.wave == wave)
        with self.engine.connect() as c:
            f = pd.DataFrame(c.execute(q).mappings().all(),
                             columns=["panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition",
                                      "reminders_sent"])
        f["is_lead"] = f["is_lead"].map({True: "yes", False: "no"})
        return f

    def responses(self, wave: int | None = None) -> list[dict]:
        """Stored responses (``answers`` decoded), for exports and analysis. A withdrawn respondent's
        answers are never among them, even where an older joinedup stored them again after the
        withdrawal (``joinedup survey repair-withdrawals`` deletes those)."""
        q = (sa.select(RESPONSES).where(RESPONSES.c.panelist_id.not_in(withdrawn_panelists()))
             .order_by(RESPONSES.c.wave, RESPONSES.c.panelist_id))
        if wave is not None:
            q = q.where(RESPONSES.c.wave == wave)
        with self.engine.connect() as c:
            return [{**dict(r), "answers": json.loads(r["answers"])} for r in c.execute(q).mappings()]
