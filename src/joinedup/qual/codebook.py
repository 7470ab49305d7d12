"""The hierarchical codebook of a project: create, rename, describe, move (under another code or to
the top) and merge codes; each change is audited. Merging moves the merged code's codings and
children to the code kept (a coding the kept code already has is not duplicated) and removes it.

Example:
    >>> wb.create_code(pid, "Barriers", actor="lead")                             # doctest: +SKIP
    >>> wb.merge_codes(pid, keep=workforce_id, merge=staffing_id, actor="lead")   # doctest: +SKIP
"""

from __future__ import annotations

import sqlalchemy as sa

from joinedup.qual.schema import CODES, CODINGS, MEMOS, SUMMARIES


class CodebookMixin:
    def _code_row(self, conn, project_id: int, code_id: int):
        from joinedup.qual.projects import QualError

        row = conn.execute(sa.select(CODES).where((CODES.c.id == code_id) & (CODES.c.project_id == project_id))).first()
        if row is None:
            raise QualError(f"no code {code_id} in this project")
        return row

    def _name_free(self, conn, project_id: int, name: str, but: int | None = None) -> None:
        from joinedup.qual.projects import QualError

        q = sa.select(CODES.c.id).where((CODES.c.project_id == project_id) & (CODES.c.name == name))
        found = conn.execute(q).scalar()
        if found is not None and found != but:
            raise QualError(f"a code called {name!r} already exists")

    def create_code(self, project_id: int, name: str, actor: str, parent_id: int | None = None,
                    description: str = "") -> int:
        from joinedup.qual.projects import clean_name

        name = clean_name(name, "code")
        with self.engine.begin() as c:
            self.project(project_id)
            self._name_free(c, project_id, name)
            if parent_id is not None:
                self._code_row(c, project_id, parent_id)
            cid = c.execute(sa.insert(CODES).values(project_id=project_id, name=name, parent_id=parent_id,
                                                    description=description[:4000])).inserted_primary_key[0]
            self.audit(c, project_id, actor, "code created", name)
        return cid

    def rename_code(self, project_id: int, code_id: int, name: str, actor: str) -> None:
        from joinedup.qual.projects import clean_name

        name = clean_name(name, "code")
        with self.engine.begin() as c:
            old = self._code_row(c, project_id, code_id).name
            self._name_free(c, project_id, name, but=code_id)
            c.execute(sa.update(CODES).where(CODES.c.id == code_id).values(name=name))
            self.audit(c, project_id, actor, "code renamed", f"{old} -> {name}")

    def describe_code(self, project_id: int, code_id: int, description: str, actor: str) -> None:
        with self.engine.begin() as c:
            name = self._code_row(c, project_id, code_id).name
            c.execute(sa.update(CODES).where(CODES.c.id == code_id).values(description=description[:4000]))
            self.audit(c, project_id, actor, "code described", name)

    def move_code(self, project_id: int, code_id: int, parent_id: int | None, actor: str) -> None:
        """Put a code under ``parent_id`` (None: at the top); refused if that would make a cycle."""
        from joinedup.qual.projects import QualError

        with self.engine.begin() as c:
            name = self._code_row(c, project_id, code_id).name
            up = parent_id
            while up is not None:  # walk up from the new parent: meeting the code itself is a cycle
                if up == code_id:
                    raise QualError(f"cannot move {name!r} under itself or one of its own sub-codes")
                up = self._code_row(c, project_id, up).parent_id
            c.execute(sa.update(CODES).where(CODES.c.id == code_id).values(parent_id=parent_id))
            self.audit(c, project_id, actor, "code moved", f"{name} under {parent_id if parent_id else 'the top'}")

    def merge_codes(self, project_id: int, keep: int, merge: int, actor: str) -> None:
        """Fold code ``merge`` into ``keep`` (see the module docstring)."""
        from joinedup.qual.projects import QualError

        if keep == merge:
            raise QualError("a code cannot be merged into itself")
        with self.engine.begin() as c:
            kept, gone = self._code_row(c, project_id, keep), self._code_row(c, project_id, merge)
            up = kept.parent_id
            while up is not None:
                if up == merge:
                    raise QualError(f"cannot merge {gone.name!r} into its own sub-code {kept.name!r}")
                up = self._code_row(c, project_id, up).parent_id
            have = {(r.source_id, r.start, r.end, r.coder, r.status) for r in c.execute(
                sa.select(CODINGS).where(CODINGS.c.code_id == keep))}
            for r in c.execute(sa.select(CODINGS).where(CODINGS.c.code_id == merge)).all():
                if (r.source_id, r.start, r.end, r.coder, r.status) in have:
                    c.execute(sa.delete(CODINGS).where(CODINGS.c.id == r.id))
                    c.execute(sa.delete(MEMOS).where((MEMOS.c.target == "coding") & (MEMOS.c.target_id == r.id)))
                else:
                    c.execute(sa.update(CODINGS).where(CODINGS.c.id == r.id).values(code_id=keep))
            c.execute(sa.update(CODES).where(CODES.c.parent_id == merge).values(parent_id=keep))
            c.execute(sa.update(MEMOS).where((MEMOS.c.target == "code") & (MEMOS.c.target_id == merge))
                      .values(target_id=keep))
            c.execute(sa.delete(SUMMARIES).where(SUMMARIES.c.code_id == merge))
            c.execute(sa.delete(CODES).where(CODES.c.id == merge))
            self.audit(c, project_id, actor, "codes merged", f"{gone.name} into {kept.name}")

    def code(self, project_id: int, code_id: int) -> dict:
        """One code of the project (QualError if it is not one)."""
        with self.engine.connect() as c:
            return dict(self._code_row(c, project_id, code_id)._mapping)

    def codes(self, project_id: int) -> list[dict]:
        """Codes in tree order (parents before children), each with ``depth`` and ``path``."""
        with self.engine.connect() as c:
            rows = [dict(r) for r in c.execute(sa.select(CODES).where(CODES.c.project_id == project_id)
                                               .order_by(CODES.c.name)).mappings()]
        children: dict = {}
        for r in rows:
            children.setdefault(r["parent_id"], []).append(r)
        out = []

        def walk(parent, depth, path):
            for r in children.get(parent, []):
                out.append({**r, "depth": depth, "path": path + [r["name"]]})
                walk(r["id"], depth + 1, path + [r["name"]])

        walk(None, 0, [])
        return out

    def descendants(self, project_id: int, code_id: int) -> list[int]:
        """The code and every code below it (retrieval by a theme includes its sub-codes)."""
        tree = self.codes(project_id)
        kids: dict = {}
        for r in tree:
            kids.setdefault(r["parent_id"], []).append(r["id"])
        out, todo = [], [code_id]
        while todo:
            cid = todo.pop()
            out.append(cid)
            todo.extend(kids.get(cid, []))
        return out
