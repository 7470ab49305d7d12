"""Codings and memos. Blind by default: a coder sees their own codings and the agreed ones, never
another coder's (in a project whose lead turned blinding off, every member sees all); the lead sees
everything. Suggestions (``status="suggested"``, coder ``assistant``) are never final: accepting one
turns it into the accepting person's own coding.

Example:
    >>> wb.add_coding(pid, sid, 10, 42, code_id, coder="ann", actor="ann")        # doctest: +SKIP
"""

from __future__ import annotations

import sqlalchemy as sa

from joinedup.qual.schema import CODES, CODINGS, MEMO_TARGETS, MEMOS, SOURCES, STATUSES
from joinedup.survey.store import now

MAX_MEMO = 20_000


class CodingsMixin:
    def add_coding(self, project_id: int, source_id: int, start: int, end: int, code_id: int, coder: str,
                   actor: str, status: str = "blind") -> tuple[int, bool]:
        """``(coding id, created)``: the same span, code, coder and status twice is one coding (created
        False the second time, also when two requests race)."""
        from joinedup.qual.projects import QualError

        if status not in STATUSES:
            raise QualError(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
        with self.engine.begin() as c:
            n = c.execute(sa.select(sa.func.length(SOURCES.c.text)).where(
                (SOURCES.c.id == source_id) & (SOURCES.c.project_id == project_id))).scalar()
            if n is None:
                raise QualError(f"no source {source_id} in this project")
            if not (0 <= start < end <= n):
                raise QualError(f"selection {start}..{end} is outside the source (0..{n}) or empty")
            code = self._code_row(c, project_id, code_id)
        key = ((CODINGS.c.source_id == source_id) & (CODINGS.c.start == start) & (CODINGS.c.end == end)
               & (CODINGS.c.code_id == code_id) & (CODINGS.c.coder == coder) & (CODINGS.c.status == status))
        try:
            with self.engine.begin() as c:
                cid = c.execute(sa.insert(CODINGS).values(project_id=project_id, source_id=source_id, start=start, end=end,
                                                          code_id=code_id, coder=coder, status=status, created_at=now())
                                ).inserted_primary_key[0]
                self.audit(c, project_id, actor, "coded", f"source {source_id} {start}..{end} {code.name} ({status}, {coder})")
            return cid, True
        except sa.exc.IntegrityError:  # the unique key: it is there already (maybe added a moment ago)
            with self.engine.connect() as c:
                return c.execute(sa.select(CODINGS.c.id).where(key)).scalar(), False

    def coding(self, project_id: int, coding_id: int) -> dict:
        from joinedup.qual.projects import QualError

        with self.engine.connect() as c:
            row = c.execute(sa.select(CODINGS).where((CODINGS.c.id == coding_id) & (CODINGS.c.project_id == project_id))
                            ).mappings().first()
        if row is None:
            raise QualError(f"no coding {coding_id} in this project")
        return dict(row)

    def remove_coding(self, project_id: int, coding_id: int, actor: str, role: str) -> None:
        """A coder removes their own codings; the lead any."""
        from joinedup.qual.projects import QualError

        row = self.coding(project_id, coding_id)
        if role != "lead" and row["coder"] != actor:
            raise QualError("you can remove only your own codings")
        with self.engine.begin() as c:
            c.execute(sa.delete(MEMOS).where((MEMOS.c.target == "coding") & (MEMOS.c.target_id == coding_id)))
            c.execute(sa.delete(CODINGS).where(CODINGS.c.id == coding_id))
            action = "suggestion rejected" if row["status"] == "suggested" else "coding removed"
            self.audit(c, project_id, actor, action, f"source {row['source_id']} {row['start']}..{row['end']} "
                       f"code {row['code_id']} ({row['status']}, {row['coder']})")

    def accept_suggestion(self, project_id: int, coding_id: int, actor: str) -> int:
        """A suggestion becomes the accepting person's blind coding (the suggestion row goes)."""
        from joinedup.qual.projects import QualError

        row = self.coding(project_id, coding_id)
        if row["status"] != "suggested":
            raise QualError("only a suggestion can be accepted")
        new, _ = self.add_coding(project_id, row["source_id"], row["start"], row["end"], row["code_id"], actor, actor)
        with self.engine.begin() as c:
            c.execute(sa.delete(CODINGS).where(CODINGS.c.id == coding_id))
            self.audit(c, project_id, actor, "suggestion accepted", f"coding {coding_id} -> {new}")
        return new

    def visible_codings(self, project_id: int, username: str, role: str, source_id: int | None = None,
                        code_ids: list[int] | None = None) -> list[dict]:
        """Codings this member may see (see the module docstring), with the code's name."""
        q = (sa.select(CODINGS, CODES.c.name.label("code")).join(CODES, CODES.c.id == CODINGS.c.code_id)
             .where(CODINGS.c.project_id == project_id))
        if source_id is not None:
            q = q.where(CODINGS.c.source_id == source_id)
        if code_ids is not None:
            q = q.where(CODINGS.c.code_id.in_(code_ids))
        if role != "lead" and self.project(project_id)["blind"]:
            q = q.where((CODINGS.c.coder == username) | CODINGS.c.status.in_(("agreed", "suggested")))
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q.order_by(CODINGS.c.source_id, CODINGS.c.start, CODINGS.c.id)).mappings()]

    # -- memos ----------------------------------------------------------------------------------------
    def add_memo(self, project_id: int, target: str, target_id: int, text: str, actor: str) -> int:
        from joinedup.qual.projects import QualError

        if target not in MEMO_TARGETS:
            raise QualError(f"a memo is on one of {', '.join(MEMO_TARGETS)}; got {target!r}")
        text = str(text).strip()
        if not text or len(text) > MAX_MEMO or "\x00" in text:
            raise QualError(f"a memo needs 1 to {MAX_MEMO:,} characters (no NUL)")
        with self.engine.begin() as c:
            mid = c.execute(sa.insert(MEMOS).values(project_id=project_id, target=target, target_id=target_id,
                                                    author=actor, text=text, created_at=now())).inserted_primary_key[0]
            self.audit(c, project_id, actor, "memo written", f"on {target} {target_id}")
        return mid

    def memos(self, project_id: int, target: str | None = None, target_id: int | None = None) -> list[dict]:
        q = sa.select(MEMOS).where(MEMOS.c.project_id == project_id)
        if target is not None:
            q = q.where(MEMOS.c.target == target)
        if target_id is not None:
            q = q.where(MEMOS.c.target_id == target_id)
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(q.order_by(MEMOS.c.id)).mappings()]
