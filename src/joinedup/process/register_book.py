"""The initiative register kept in the survey store's database, with sites' proposals and the team's
review (SQLite or PostgreSQL through SQLAlchemy Core; tables made by migration 5).

* ``initiative_register``: the curated register, one row per initiative and period, in the register
  layout of :mod:`joinedup.process.register` (text as written, so every write is checked by the same
  :func:`~joinedup.process.register.validate_register`), plus ``reviewed_by`` / ``reviewed_at`` for
  rows that came from a reviewed site submission.
* ``register_proposals``: what a site proposed on its dashboard: a new initiative (``kind = "new"``)
  or a correction of one of its own (``"correction"``: stage for a period, dates, scale, model,
  target groups), who and when. A proposal never changes the register by itself: self-report is not
  taken as fact (the evaluation's warning), so only :meth:`RegisterBook.decide` writes it there.
* ``register_proposal_decisions``: the team's one decision per proposal (accept, reject with a
  reason, or edit = accept with the reviewer's changes), who and when. Two reviewers deciding at once:
  the proposal's row is locked (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on PostgreSQL) and the
  decision table's primary key is the proposal's id, so exactly one wins; the other gets
  :class:`AlreadyDecided`.
* ``initiative_register_changes``: every change of every register cell (old value, new value, who,
  when, which proposal or import), besides a line in the store's audit log per action.

A site user who clicks "send" twice sends the same proposal twice: a pending proposal's fingerprint
(site, author, kind, values) is unique while it is pending, so the second is the same proposal, not a
copy (once decided, the fingerprint is cleared and the same values may be proposed again).

Example:
    >>> from joinedup.survey.store import SurveyStore
    >>> store = SurveyStore("sqlite:///:memory:"); store.create(); book = RegisterBook(store)
    >>> pid = book.propose("Barnsley", "lead", "new", {"initiative": "Frailty MDT",
    ...     "initiative_type": "community_mdt", "target_groups": "frail_elderly", "model": "medical",
    ...     "start_date": "2015-01-01", "period": "2015-04-01", "stage": "piloting"})
    >>> len(book.entries())                      # nothing enters the register unreviewed
    0
    >>> book.decide(pid, "accept", "evaluator")
    'barnsley-s1'
    >>> book.entries()[["initiative_id", "stage", "source", "reviewed_by"]].values.tolist()
    [['barnsley-s1', 'piloting', 'site_submission', 'evaluator']]
"""

from __future__ import annotations

import hashlib
import json
import re

import pandas as pd
import sqlalchemy as sa

from joinedup.process.register import (
    INITIATIVE_ATTRIBUTES,
    REGISTER_COLUMNS,
    Register,
    validate_register,
)
from joinedup.survey.store import SurveyError, now

MAX_FIELD_CHARS = 500
# what a site may propose (the register's columns less the id, which the team gives, and the source,
# which is always "site_submission")
PROPOSAL_FIELDS: tuple[str, ...] = (
    "initiative", "initiative_type", "target_groups", "model", "prevention", "personalisation", "start_date",
    "end_date", "period", "stage", "scale", "scale_unit")
KINDS = ("new", "correction")
DECISIONS_ALLOWED = ("accept", "reject", "edit")

REGISTER_META = sa.MetaData()
ENTRIES = sa.Table(
    "initiative_register", REGISTER_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *[sa.Column(c, sa.String(MAX_FIELD_CHARS), nullable=False, default="") for c in REGISTER_COLUMNS],
    sa.Column("reviewed_by", sa.String(100), nullable=False, default=""),
    sa.Column("reviewed_at", sa.DateTime, nullable=True),
    sa.UniqueConstraint("initiative_id", "period", name="uq_initiative_register_period"))
PROPOSALS = sa.Table(
    "register_proposals", REGISTER_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site", sa.String(100), nullable=False, index=True), sa.Column("kind", sa.String(12), nullable=False),
    sa.Column("initiative_id", sa.String(MAX_FIELD_CHARS), nullable=False, default=""),
    *[sa.Column(c, sa.String(MAX_FIELD_CHARS), nullable=False, default="") for c in PROPOSAL_FIELDS],
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("author", sa.String(100), nullable=False), sa.Column("at", sa.DateTime, nullable=False),
    # set while pending, cleared (NULL) by the decision: a double click cannot make two proposals
    sa.Column("pending_fingerprint", sa.String(64), nullable=True, unique=True))
DECISIONS = sa.Table(
    "register_proposal_decisions", REGISTER_META,
    sa.Column("proposal_id", sa.Integer, sa.ForeignKey("register_proposals.id"), primary_key=True,
              autoincrement=False),
    sa.Column("decision", sa.String(10), nullable=False), sa.Column("decided_by", sa.String(100), nullable=False),
    sa.Column("decided_at", sa.DateTime, nullable=False), sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("initiative_id", sa.String(MAX_FIELD_CHARS), nullable=False, default=""))
CHANGES = sa.Table(
    "initiative_register_changes", REGISTER_META, sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("initiative_id", sa.String(MAX_FIELD_CHARS), nullable=False, index=True),
    sa.Column("period", sa.String(MAX_FIELD_CHARS), nullable=False), sa.Column("field", sa.String(40), nullable=False),
    sa.Column("old", sa.Text, nullable=False, default=""), sa.Column("new", sa.Text, nullable=False, default=""),
    sa.Column("changed_by", sa.String(100), nullable=False), sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("proposal_id", sa.Integer, nullable=True), sa.Column("how", sa.String(40), nullable=False))


class NotFound(SurveyError):
    """No such proposal, or an initiative that is not this site's (the web answers 404)."""


class AlreadyDecided(SurveyError):
    """The proposal was decided before (by another reviewer, or by a racing click)."""


def clean_value(value, what: str) -> str:
    """A form value as text, outer spaces trimmed; SurveyError for a NUL or more than 500 characters.

    >>> clean_value("  piloting ", "stage")
    'piloting'
    """
    text = str(value if value is not None else "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise SurveyError(f"{what} holds a NUL character, which cannot be stored")
    if len(text) > MAX_FIELD_CHARS:
        raise SurveyError(f"{what} has {len(text):,} characters; at most {MAX_FIELD_CHARS} are kept")
    return text


def _check_rows(rows: list[dict], what: str) -> None:
    """SurveyError naming every reason when the register's rules reject any of ``rows``."""
    reg = validate_register(pd.DataFrame(rows, columns=list(REGISTER_COLUMNS)), what=what)
    if len(reg.rejects):
        raise SurveyError(f"{what}: " + " | ".join(reg.rejects["reason"].astype(str)))


def _iso_dates(values: dict) -> dict:
    """Checked dates written YYYY-MM-DD (``2015-4-1`` is stored as ``2015-04-01``), so one period
    has one key."""
    out = dict(values)
    for col in ("start_date", "end_date", "period"):
        if out.get(col):
            when = pd.to_datetime(out[col], format="%Y-%m-%d", errors="coerce")
            out[col] = when.strftime("%Y-%m-%d") if pd.notna(when) else out[col]
    return out


def _slug(site: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-")[:40] or "site"


class RegisterBook:
    """The register, proposals, decisions and changes of every site (see the module docstring)."""

    def __init__(self, store):
        self.store = store

    def create(self) -> None:
        REGISTER_META.create_all(self.store.engine, checkfirst=True)

    # -- reading ------------------------------------------------------------------------------------
    def _frame(self, stmt, columns) -> pd.DataFrame:
        with self.store.engine.connect() as c:
            return pd.DataFrame(c.execute(stmt).mappings().all(), columns=columns)

    def entries(self, site: str | None = None) -> pd.DataFrame:
        """The register's rows as stored (text), by site, initiative and period."""
        stmt = sa.select(ENTRIES).order_by(ENTRIES.c.site, ENTRIES.c.initiative_id, ENTRIES.c.period)
        if site is not None:
            stmt = stmt.where(ENTRIES.c.site == site)
        return self._frame(stmt, [c.name for c in ENTRIES.columns])

    def register(self) -> Register:
        """The stored register, typed and checked; a reviewed site submission counts as verified."""
        stored = self.entries()
        reg = validate_register(stored[list(REGISTER_COLUMNS)], what="initiative_register")
        reviewed = set(zip(stored.loc[stored["reviewed_by"] != "", "initiative_id"],
                           stored.loc[stored["reviewed_by"] != "", "period"]))
        rows = reg.rows.copy()
        if len(rows):
            keys = zip(rows["initiative_id"], rows["period"].dt.strftime("%Y-%m-%d"))
            rows["verified"] = rows["verified"] | pd.Series([k in reviewed for k in keys], index=rows.index)
        return Register(rows, reg.rejects)

    def proposals(self, site: str | None = None) -> pd.DataFrame:
        """Every proposal (of ``site``) with its decision (decision, decided_by, decided_at, reason,
        decided_initiative: empty while pending)."""
        cols = [c for c in PROPOSALS.columns if c.name != "pending_fingerprint"] + [
            DECISIONS.c.decision, DECISIONS.c.decided_by, DECISIONS.c.decided_at, DECISIONS.c.reason,
            DECISIONS.c.initiative_id.label("decided_initiative")]
        stmt = (sa.select(*cols).select_from(PROPOSALS.outerjoin(DECISIONS, DECISIONS.c.proposal_id == PROPOSALS.c.id))
                .order_by(PROPOSALS.c.id))
        if site is not None:
            stmt = stmt.where(PROPOSALS.c.site == site)
        out = self._frame(stmt, [c.name for c in cols])
        for col in ("decision", "decided_by", "reason", "decided_initiative"):
            out[col] = out[col].fillna("")
        return out

    def changes(self) -> pd.DataFrame:
        """Every change of a register cell, oldest first."""
        return self._frame(sa.select(CHANGES).order_by(CHANGES.c.id), [c.name for c in CHANGES.columns])

    # -- writing ------------------------------------------------------------------------------------
    def propose(self, site: str, author: str, kind: str, values: dict, initiative_id: str = "",
                note: str = "") -> int:
        """Store a site's proposal (checked by the register's rules, as a site submission); returns
        its id. A correction names one of the site's own initiatives (NotFound otherwise); its empty
        fields keep the register's current values."""
        if kind not in KINDS:
            raise SurveyError(f"unknown kind of proposal {kind!r}; one of {', '.join(KINDS)}")
        given = {f: clean_value(values.get(f, ""), f.replace("_", " ")) for f in PROPOSAL_FIELDS}
        note = clean_value(note, "note")
        initiative_id = clean_value(initiative_id, "initiative") if kind == "correction" else ""
        with self.store.write_transaction() as c:
            if kind == "correction":
                current = self._current(c, initiative_id)
                if current is None or current["site"] != site:
                    raise NotFound(f"{site} has no initiative {initiative_id!r} in the register")
                given = {f: given[f] or (current.get(f, "") if f in INITIATIVE_ATTRIBUTES else "")
                         for f in PROPOSAL_FIELDS}
                given = self._period_defaults(c, initiative_id, given)
            row = {**given, "site": site, "initiative_id": initiative_id or "proposed", "source": "site_submission",
                   "source_ref": "proposal"}
            _check_rows([row], "the proposal")
            given = _iso_dates(given)
            fingerprint = hashlib.sha256(json.dumps([site, author, kind, initiative_id, given, note]).encode()).hexdigest()
            same = c.execute(sa.select(PROPOSALS.c.id).where(PROPOSALS.c.pending_fingerprint == fingerprint)).first()
            if same is not None:
                return int(same[0])
            pid = c.execute(sa.insert(PROPOSALS).values(
                site=site, kind=kind, initiative_id=initiative_id, **given, note=note, author=author, at=now(),
                pending_fingerprint=fingerprint)).inserted_primary_key[0]
            self.store.audit(author, "register_proposal",
                             f"{site}: proposal {pid} ({kind}{' of ' + initiative_id if initiative_id else ''})", conn=c)
        return int(pid)

    def propose_once(self, *args, **kwargs) -> int:
        """:meth:`propose`, where a racing identical proposal (PostgreSQL: the unique fingerprint
        caught it) is the same proposal."""
        try:
            return self.propose(*args, **kwargs)
        except sa.exc.IntegrityError:
            return self.propose(*args, **kwargs)

    def decide(self, proposal_id: int, decision: str, actor: str, reason: str = "", edits: dict | None = None) -> str:
        """Accept, reject (a reason is needed) or edit (accept with ``edits`` over the proposal) one
        proposal, once; returns the initiative id written ("" for a rejection). The register rows,
        their changes, the decision and the audit line are one transaction: a proposal the register's
        rules reject (SurveyError, with the reasons) or a lost race leaves nothing behind."""
        if decision not in DECISIONS_ALLOWED:
            raise SurveyError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS_ALLOWED)}")
        reason = clean_value(reason, "reason")
        if decision == "reject" and not reason:
            raise SurveyError("a rejection needs a reason (it is shown to the site)")
        edits = {f: clean_value(v, f.replace("_", " ")) for f, v in (edits or {}).items() if f in PROPOSAL_FIELDS}
        try:
            with self.store.write_transaction() as c:
                p = c.execute(sa.select(PROPOSALS).where(PROPOSALS.c.id == proposal_id).with_for_update()).mappings().first()
                if p is None:
                    raise NotFound(f"no register proposal {proposal_id}")
                before = c.execute(sa.select(DECISIONS).where(DECISIONS.c.proposal_id == proposal_id)).mappings().first()
                if before is not None:
                    raise AlreadyDecided(_decided_sentence(proposal_id, before))
                written = ""
                if decision != "reject":
                    values = {f: p[f] for f in PROPOSAL_FIELDS}
                    if decision == "edit":
                        values.update({f: v for f, v in edits.items() if v or f in ("end_date", "scale", "scale_unit")})
                    written = p["initiative_id"] or f"{_slug(p['site'])}-s{proposal_id}"
                    self._apply(c, dict(p), written, _iso_dates(values), actor)
                c.execute(sa.insert(DECISIONS).values(proposal_id=proposal_id, decision=decision, decided_by=actor,
                                                      decided_at=now(), reason=reason, initiative_id=written))
                c.execute(sa.update(PROPOSALS).where(PROPOSALS.c.id == proposal_id).values(pending_fingerprint=None))
                self.store.audit(actor, f"register_proposal_{decision}",
                                 f"{p['site']}: proposal {proposal_id}" + (f" -> {written}" if written else f": {reason}"),
                                 conn=c)
        except sa.exc.IntegrityError:  # the primary key caught a race the lock did not (belt and braces)
            with self.store.engine.connect() as c:
                before = c.execute(sa.select(DECISIONS).where(DECISIONS.c.proposal_id == proposal_id)).mappings().first()
            raise AlreadyDecided(_decided_sentence(proposal_id, before)) from None
        return written

    def import_register(self, reg: Register, actor: str, what: str = "import") -> int:
        """Write the accepted rows of a checked register (the team's own entries: documents,
        interviews, surveys) over the stored one, row by row (initiative, period); returns the number
        of cells changed. Every change is recorded."""
        from joinedup.process.register_io import register_text

        changed = 0
        rows = register_text(reg.rows).to_dict("records")
        for row in rows:  # refused before anything is written (a column holds at most 500 characters)
            for col, value in row.items():
                if len(str(value)) > MAX_FIELD_CHARS:
                    raise SurveyError(f"{what}: {col} of {row['initiative_id'][:60]!r} ({row['period']}) has "
                                      f"{len(str(value)):,} characters; at most {MAX_FIELD_CHARS} are kept")
        with self.store.write_transaction() as c:
            for row in rows:
                changed += self._upsert(c, row, actor, None, what, reviewed=False)
            self.store.audit(actor, "register_import", f"{what}: {len(reg.rows)} rows, {changed} cells changed", conn=c)
        return changed

    # -- inside a transaction -------------------------------------------------------------------------
    def _period_defaults(self, c, initiative_id: str, given: dict) -> dict:
        """A correction without a period is about the initiative's latest period; without a stage,
        the period's stage and scale stay as the register has them."""
        rows = c.execute(sa.select(ENTRIES).where(ENTRIES.c.initiative_id == initiative_id)
                         .order_by(ENTRIES.c.period)).mappings().all()
        period = given["period"] or (rows[-1]["period"] if rows else "")
        same = [r for r in rows if r["period"] == _iso_dates({"period": period})["period"]]
        if same and not given["stage"]:
            given = {**given, **{f: given[f] or same[0][f] for f in ("stage", "scale", "scale_unit")}}
        return {**given, "period": period}

    def _current(self, c, initiative_id: str) -> dict | None:
        """The initiative's attributes (its earliest row), or None."""
        row = c.execute(sa.select(ENTRIES).where(ENTRIES.c.initiative_id == initiative_id)
                        .order_by(ENTRIES.c.period).limit(1).with_for_update()).mappings().first()
        return dict(row) if row else None

    def _apply(self, c, proposal: dict, initiative_id: str, values: dict, actor: str) -> None:
        """Write an accepted proposal: the initiative's attributes on all its rows, the period's stage
        and scale on the period's row, after checking the whole initiative by the register's rules."""
        current = self._current(c, initiative_id)
        if proposal["kind"] == "new" and current is not None:
            raise SurveyError(f"initiative id {initiative_id!r} is already in the register")
        if proposal["kind"] == "correction" and (current is None or current["site"] != proposal["site"]):
            raise SurveyError(f"{proposal['site']} has no initiative {initiative_id!r} in the register any more")
        rows = [dict(r) for r in c.execute(sa.select(ENTRIES).where(ENTRIES.c.initiative_id == initiative_id)
                                           .order_by(ENTRIES.c.period)).mappings()]
        attributes = {f: values[f] for f in INITIATIVE_ATTRIBUTES if f in values}
        source_ref = f"proposal {proposal['id']} by {proposal['author']}"
        period_row = {**{col: "" for col in REGISTER_COLUMNS}, **values, "site": proposal["site"],
                      "initiative_id": initiative_id, "source": "site_submission", "source_ref": source_ref}
        others = [{**{col: r[col] for col in REGISTER_COLUMNS}, **attributes} for r in rows if r["period"] != values["period"]]
        _check_rows(others + [period_row], f"proposal {proposal['id']}")
        for r in others:
            self._upsert(c, r, actor, proposal["id"], "proposal attributes", reviewed=False)
        self._upsert(c, period_row, actor, proposal["id"], "proposal", reviewed=True)

    def _upsert(self, c, row: dict, actor: str, proposal_id: int | None, how: str, reviewed: bool) -> int:
        key = (ENTRIES.c.initiative_id == row["initiative_id"]) & (ENTRIES.c.period == row["period"])
        old = c.execute(sa.select(ENTRIES).where(key).with_for_update()).mappings().first()
        new = {col: str(row.get(col, "") or "") for col in REGISTER_COLUMNS}
        at = now()
        review = {"reviewed_by": actor, "reviewed_at": at} if reviewed else {}
        if old is None:
            c.execute(sa.insert(ENTRIES).values(**new, **review))
            diff = {col: ("", v) for col, v in new.items() if v}
        else:
            diff = {col: (old[col], v) for col, v in new.items() if old[col] != v}
            if diff or review:
                c.execute(sa.update(ENTRIES).where(key).values(**new, **review))
        for col, (before, after) in diff.items():
            c.execute(sa.insert(CHANGES).values(initiative_id=row["initiative_id"], period=row["period"], field=col,
                                                old=before, new=after, changed_by=actor, at=at,
                                                proposal_id=proposal_id, how=how))
        return len(diff)


def _decided_sentence(proposal_id: int, row) -> str:
    if not row:
        return f"register proposal {proposal_id} was decided by someone else at the same moment"
    word = {"accept": "accepted", "reject": "rejected", "edit": "accepted with edits"}[row["decision"]]
    return f"register proposal {proposal_id} was already {word} by {row['decided_by']} on {row['decided_at']:%d %b %Y %H:%M}"
