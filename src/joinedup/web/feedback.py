"""Two-way feedback from sites, kept in the survey store's database (SQLite or PostgreSQL through
SQLAlchemy Core): comments on each section of a site's dashboard, and corrections to its scheme
register.

* A comment records its site, section, author and time; an edit never overwrites: every version is
  a row of ``site_comment_versions`` (who, when, text) and the comment shows its latest, so two edits
  racing each other both survive in the history (nothing is lost) and the later one is shown.
* A scheme correction proposes a new value for one field of one scheme (or a scheme the register
  lacks, ``scheme_id = "new"``), with who and when; the evaluation team reads them beside the comments,
  and an admin accepts or rejects each one once (``scheme_correction_decisions``: who, when, and a
  reason for a rejection). Accepted corrections are layered over the run's register on the dashboards
  (:func:`joinedup.web.site_panels.scheme_rows`) and taken to the next run's register.
* Every write is one transaction holding the write lock from its first read
  (:meth:`SurveyStore.write_transaction`), so concurrent posts wait rather than fail.

One decision per correction is kept by the decision table's primary key (the correction's id): of two
admins deciding the same correction at once one wins and the other gets :class:`AlreadyDecided`.

These are new tables only (no existing table changes), so ``create_all`` makes them on an older
database and no migration step is needed; :func:`create` is called once when the app starts.

Text is stored as typed (HTML is escaped when shown, CSV cells are neutralised when exported);
NUL characters are refused (PostgreSQL cannot store them in text).

Example:
    >>> from joinedup.survey.store import SurveyStore
    >>> store = SurveyStore("sqlite:///:memory:"); store.create(); fb = Feedback(store); fb.create()
    >>> cid = fb.add_comment("Barnsley", "spine", "lead", "<b>Our</b> A&E figure looks low")
    >>> fb.edit_comment("Barnsley", cid, "lead", "A&E figure looks low")
    2
    >>> fb.comments("Barnsley")[["section", "body", "versions"]].values.tolist()
    [['spine', 'A&E figure looks low', 2]]
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from joinedup.survey.store import SurveyError, now

SECTIONS = {"spine": "Indicators at a glance", "spc": "Indicators over time", "impact": "What the evaluation found",
            "schemes": "Schemes and typology", "survey": "Key-informant survey", "general": "Anything else"}
MAX_COMMENT_CHARS = 4000
MAX_VALUE_CHARS = 500
SCHEME_FIELDS = ("scheme_type", "target_group", "start_date", "status", "description")

META = sa.MetaData()
COMMENTS = sa.Table(
    "site_comments", META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(100), nullable=False, index=True), sa.Column("section", sa.String(20), nullable=False),
    sa.Column("author", sa.String(100), nullable=False), sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False), sa.Column("body", sa.Text, nullable=False),
    sa.Column("versions", sa.Integer, nullable=False, default=1))
VERSIONS = sa.Table(
    "site_comment_versions", META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("comment_id", sa.Integer, sa.ForeignKey("site_comments.id"), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False), sa.Column("author", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False), sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("comment_id", "version"))
CORRECTIONS = sa.Table(
    "scheme_corrections", META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(100), nullable=False, index=True), sa.Column("scheme_id", sa.String(100), nullable=False),
    sa.Column("field", sa.String(40), nullable=False), sa.Column("current_value", sa.Text, nullable=False, default=""),
    sa.Column("proposed_value", sa.Text, nullable=False), sa.Column("author", sa.String(100), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False))
DECISIONS = sa.Table(
    "scheme_correction_decisions", META,
    sa.Column("correction_id", sa.Integer, sa.ForeignKey("scheme_corrections.id"), primary_key=True,
              autoincrement=False),
    sa.Column("decision", sa.String(10), nullable=False), sa.Column("decided_by", sa.String(100), nullable=False),
    sa.Column("decided_at", sa.DateTime, nullable=False), sa.Column("reason", sa.Text, nullable=False, default=""))
DECISION_WORDS = ("accept", "reject")


class NotFound(SurveyError):
    """A comment that does not exist on this site, or that this user may not edit."""


class AlreadyDecided(SurveyError):
    """The correction was accepted or rejected before (by someone else, or by a racing click)."""


def clean_text(text: str, what: str, limit: int) -> str:
    """``text`` with its line ends made ``\\n`` and outer spaces trimmed; SurveyError when it is empty,
    over ``limit`` characters, or holds a NUL.

    Example:
        >>> clean_text("  a\\r\\nb ", "comment", 10)
        'a\\nb'
    """
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise SurveyError(f"the {what} is empty")
    if "\x00" in text:
        raise SurveyError(f"the {what} holds a NUL character, which cannot be stored")
    if len(text) > limit:
        raise SurveyError(f"the {what} has {len(text):,} characters; at most {limit:,} are kept")
    return text


class Feedback:
    """Comments and scheme corrections of every site (see the module docstring)."""

    def __init__(self, store):
        self.store = store

    def create(self) -> None:
        META.create_all(self.store.engine)

    def add_comment(self, site: str, section: str, author: str, body: str) -> int:
        if section not in SECTIONS:
            raise SurveyError(f"unknown section {section!r}; one of {', '.join(SECTIONS)}")
        body = clean_text(body, "comment", MAX_COMMENT_CHARS)
        at = now()
        with self.store.write_transaction() as c:
            cid = c.execute(sa.insert(COMMENTS).values(site=site, section=section, author=author, created_at=at,
                                                       updated_at=at, body=body, versions=1)).inserted_primary_key[0]
            c.execute(sa.insert(VERSIONS).values(comment_id=cid, version=1, author=author, at=at, body=body))
            self.store.audit(author, "site_comment", f"{site}: comment {cid} on {section}", conn=c)
        return int(cid)

    def edit_comment(self, site: str, comment_id: int, author: str, body: str) -> int:
        """A new version of the author's own comment on ``site``; returns its version number."""
        body = clean_text(body, "comment", MAX_COMMENT_CHARS)
        with self.store.write_transaction() as c:
            row = c.execute(sa.select(COMMENTS.c.versions).where(
                (COMMENTS.c.id == comment_id) & (COMMENTS.c.site == site) & (COMMENTS.c.author == author)
            ).with_for_update()).first()
            if row is None:
                raise NotFound(f"no comment {comment_id} of yours on {site}")
            version, at = row[0] + 1, now()
            c.execute(sa.insert(VERSIONS).values(comment_id=comment_id, version=version, author=author, at=at,
                                                 body=body))
            c.execute(sa.update(COMMENTS).where(COMMENTS.c.id == comment_id).values(body=body, updated_at=at,
                                                                                    versions=version))
            self.store.audit(author, "site_comment_edit", f"{site}: comment {comment_id} version {version}", conn=c)
        return version

    def add_correction(self, site: str, scheme_id: str, field: str, current: str, proposed: str, author: str) -> int:
        if field not in SCHEME_FIELDS:
            raise SurveyError(f"unknown field {field!r}; one of {', '.join(SCHEME_FIELDS)}")
        proposed = clean_text(proposed, "proposed value", MAX_VALUE_CHARS)
        with self.store.write_transaction() as c:
            cid = c.execute(sa.insert(CORRECTIONS).values(
                site=site, scheme_id=scheme_id, field=field, current_value=str(current)[:MAX_VALUE_CHARS],
                proposed_value=proposed, author=author, at=now())).inserted_primary_key[0]
            self.store.audit(author, "scheme_correction", f"{site}: {scheme_id}.{field}", conn=c)
        return int(cid)

    def decide(self, correction_id: int, decision: str, actor: str, reason: str = "") -> None:
        """Accept or reject correction ``correction_id`` (once); a rejection needs a reason.

        NotFound for no such correction, AlreadyDecided when it was decided before; the decision and
        an audit row are written in one transaction, so a lost race leaves nothing behind.
        """
        if decision not in DECISION_WORDS:
            raise SurveyError(f"unknown decision {decision!r}; one of {', '.join(DECISION_WORDS)}")
        reason = clean_text(reason, "reason", MAX_VALUE_CHARS) if decision == "reject" else ""
        try:
            with self.store.write_transaction() as c:
                row = c.execute(sa.select(CORRECTIONS.c.site, CORRECTIONS.c.scheme_id, CORRECTIONS.c.field).where(
                    CORRECTIONS.c.id == correction_id).with_for_update()).first()
                if row is None:
                    raise NotFound(f"no scheme correction {correction_id}")
                before = c.execute(sa.select(DECISIONS).where(DECISIONS.c.correction_id == correction_id)).first()
                if before is not None:
                    raise AlreadyDecided(_decided_sentence(correction_id, before._mapping))
                c.execute(sa.insert(DECISIONS).values(correction_id=correction_id, decision=decision,
                                                      decided_by=actor, decided_at=now(), reason=reason))
                self.store.audit(actor, f"scheme_correction_{decision}",
                                 f"{row.site}: correction {correction_id} ({row.scheme_id}.{row.field})", conn=c)
        except sa.exc.IntegrityError:  # the primary key caught a race the lock did not (belt and braces)
            with self.store.engine.connect() as c:
                before = c.execute(sa.select(DECISIONS).where(DECISIONS.c.correction_id == correction_id)).first()
            raise AlreadyDecided(_decided_sentence(correction_id, before._mapping if before else {})) from None

    def _frame(self, stmt, table) -> pd.DataFrame:
        with self.store.engine.connect() as c:
            return pd.DataFrame(c.execute(stmt).mappings().all(), columns=[col.name for col in table.columns])

    def comments(self, site: str | None = None) -> pd.DataFrame:
        stmt = sa.select(COMMENTS).order_by(COMMENTS.c.site, COMMENTS.c.id)
        return self._frame(stmt if site is None else stmt.where(COMMENTS.c.site == site), COMMENTS)

    def versions(self, site: str | None = None) -> pd.DataFrame:
        """Every version of every comment (of ``site``), oldest first: the full history."""
        stmt = (sa.select(VERSIONS.c.comment_id, COMMENTS.c.site, COMMENTS.c.section, VERSIONS.c.version,
                          VERSIONS.c.author, VERSIONS.c.at, VERSIONS.c.body)
                .join(COMMENTS, COMMENTS.c.id == VERSIONS.c.comment_id).order_by(VERSIONS.c.comment_id,
                                                                                 VERSIONS.c.version))
        if site is not None:
            stmt = stmt.where(COMMENTS.c.site == site)
        with self.store.engine.connect() as c:
            rows = c.execute(stmt).mappings().all()
        return pd.DataFrame(rows, columns=["comment_id", "site", "section", "version", "author", "at", "body"])

    def corrections(self, site: str | None = None) -> pd.DataFrame:
        """Every correction (of ``site``) with its decision, if any (decision, decided_by, decided_at,
        reason: empty while pending)."""
        cols = list(CORRECTIONS.columns) + [DECISIONS.c.decision, DECISIONS.c.decided_by, DECISIONS.c.decided_at,
                                            DECISIONS.c.reason]
        stmt = (sa.select(*cols).select_from(CORRECTIONS.outerjoin(DECISIONS, DECISIONS.c.correction_id == CORRECTIONS.c.id))
                .order_by(CORRECTIONS.c.site, CORRECTIONS.c.id))
        if site is not None:
            stmt = stmt.where(CORRECTIONS.c.site == site)
        with self.store.engine.connect() as c:
            rows = c.execute(stmt).mappings().all()
        frame = pd.DataFrame(rows, columns=[col.name for col in cols])
        for col in ("decision", "decided_by", "reason"):
            frame[col] = frame[col].fillna("")
        return frame

    def accepted(self, site: str) -> pd.DataFrame:
        """The site's accepted corrections, oldest first (a later one of the same field wins)."""
        found = self.corrections(site)
        return found[found["decision"] == "accept"].reset_index(drop=True)


def _decided_sentence(correction_id: int, row) -> str:
    if not row:
        return f"scheme correction {correction_id} was decided by someone else at the same moment"
    word = "accepted" if row["decision"] == "accept" else "rejected"
    return f"scheme correction {correction_id} was already {word} by {row['decided_by']} on {row['decided_at']:%d %b %Y %H:%M}"
