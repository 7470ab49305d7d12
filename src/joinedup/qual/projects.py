"""Projects, members and access, cases with attributes, sources and the audit log of the workbench.

Access (the issue's rule): admins see every project as its lead; a ``coder`` or ``lead`` login sees
only the projects it is a member of, with the role it has there; every other login (programme and
site users) sees no project, no source and no coded segment.

Example:
    >>> from joinedup.survey.store import SurveyStore
    >>> store = SurveyStore("sqlite:///:memory:"); store.create()
    >>> wb = Workbench(store)
    >>> pid = wb.create_project("Pioneer interviews", actor="admin")
    >>> wb.add_member(pid, "ann", "coder", actor="admin")
    >>> wb.role_in({"username": "ann", "role": "coder"}, pid), wb.role_in({"username": "bob", "role": "site"}, pid)
    ('coder', None)
"""

from __future__ import annotations

import sqlalchemy as sa

from joinedup.qual.codebook import CodebookMixin
from joinedup.qual.codings import CodingsMixin
from joinedup.qual.reading import speaker_turns
from joinedup.qual.schema import (
    AUDIT,
    CASE_ATTRIBUTES,
    CASES,
    MEMBER_ROLES,
    MEMBERS,
    PROJECTS,
    SOURCES,
    TURNS,
)
from joinedup.survey.store import now

MAX_NAME = 200


class QualError(ValueError):
    """A request the workbench refuses (unknown project, duplicate name, bad span...), with the reason."""


def clean_name(value, what: str, limit: int = MAX_NAME) -> str:
    """A name as typed, trimmed; refused when empty, too long or holding control characters.

    Example:
        >>> clean_name("  Barriers ", "code")
        'Barriers'
    """
    text = str(value if value is not None else "").strip()
    if not text:
        raise QualError(f"{what}: a name is needed")
    if len(text) > limit:
        raise QualError(f"{what}: at most {limit} characters (got {len(text)})")
    if any(ord(ch) < 32 for ch in text):
        raise QualError(f"{what}: control characters are not allowed in a name")
    return text


class Workbench(CodebookMixin, CodingsMixin):
    """The qualitative workbench's data (see the module docstring); every change is audited."""

    def __init__(self, store):
        self.store = store
        self.engine = store.engine

    # -- audit ----------------------------------------------------------------------------------------
    def audit(self, conn, project_id, actor: str, action: str, detail: str = "") -> None:
        conn.execute(sa.insert(AUDIT).values(project_id=project_id, at=now(), actor=actor, action=action,
                                             detail=detail[:2000]))

    def audit_log(self, project_id: int) -> list[dict]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(sa.select(AUDIT).where(AUDIT.c.project_id == project_id)
                                               .order_by(AUDIT.c.id)).mappings()]

    # -- projects and access --------------------------------------------------------------------------
    def create_project(self, name: str, actor: str, description: str = "", blind: bool = True) -> int:
        name = clean_name(name, "project")
        try:
            with self.engine.begin() as c:
                if c.execute(sa.select(PROJECTS.c.id).where(PROJECTS.c.name == name)).first():
                    raise QualError(f"a project called {name!r} already exists")
                pid = c.execute(sa.insert(PROJECTS).values(name=name, description=description, blind=blind,
                                                           created_by=actor, created_at=now())).inserted_primary_key[0]
                self.audit(c, pid, actor, "project created", name)
        except sa.exc.IntegrityError:  # the same name created a moment ago by a racing request
            raise QualError(f"a project called {name!r} already exists") from None
        return pid

    def project(self, project_id: int) -> dict:
        with self.engine.connect() as c:
            row = c.execute(sa.select(PROJECTS).where(PROJECTS.c.id == project_id)).mappings().first()
        if row is None:
            raise QualError(f"no project {project_id}")
        return dict(row)

    def project_id(self, name: str) -> int:
        with self.engine.connect() as c:
            pid = c.execute(sa.select(PROJECTS.c.id).where(PROJECTS.c.name == name)).scalar()
        if pid is None:
            raise QualError(f"no project called {name!r}")
        return pid

    def add_member(self, project_id: int, username: str, role: str, actor: str) -> None:
        if role not in MEMBER_ROLES:
            raise QualError(f"a member's role must be one of {', '.join(MEMBER_ROLES)}; got {role!r}")
        self.project(project_id)
        with self.engine.begin() as c:
            c.execute(sa.delete(MEMBERS).where((MEMBERS.c.project_id == project_id) & (MEMBERS.c.username == username)))
            c.execute(sa.insert(MEMBERS).values(project_id=project_id, username=username, role=role))
            self.audit(c, project_id, actor, "member set", f"{username} as {role}")

    def members(self, project_id: int) -> dict[str, str]:
        with self.engine.connect() as c:
            return dict(c.execute(sa.select(MEMBERS.c.username, MEMBERS.c.role)
                                  .where(MEMBERS.c.project_id == project_id)).all())

    def role_in(self, user: dict | None, project_id: int) -> str | None:
        """``lead``, ``coder`` or None (no access) for a login (``{"username", "role"}``)."""
        if not user:
            return None
        if user["role"] == "admin":
            return "lead"
        if user["role"] not in MEMBER_ROLES:
            return None  # programme and site users never see sources or segments
        with self.engine.connect() as c:
            return c.execute(sa.select(MEMBERS.c.role).where((MEMBERS.c.project_id == project_id)
                                                             & (MEMBERS.c.username == user["username"]))).scalar()

    def projects_for(self, user: dict) -> list[dict]:
        """The projects a login may open, each with the login's role in it."""
        q = sa.select(PROJECTS.c.id, PROJECTS.c.name, PROJECTS.c.description).order_by(PROJECTS.c.name)
        with self.engine.connect() as c:
            if user["role"] == "admin":
                return [{**dict(r), "my_role": "lead"} for r in c.execute(q).mappings()]
            if user["role"] not in MEMBER_ROLES:
                return []
            q = q.add_columns(MEMBERS.c.role.label("my_role")).join(
                MEMBERS, (MEMBERS.c.project_id == PROJECTS.c.id) & (MEMBERS.c.username == user["username"]))
            return [dict(r) for r in c.execute(q).mappings()]

    # -- cases ----------------------------------------------------------------------------------------
    def case(self, project_id: int, name: str, attributes: dict | None = None, actor: str = "system", conn=None) -> int:
        """The id of the named case (made if new), with ``attributes`` set (others kept)."""
        name = clean_name(name, "case")
        if conn is None:
            with self.engine.begin() as c:
                return self.case(project_id, name, attributes, actor, c)
        cid = conn.execute(sa.select(CASES.c.id).where((CASES.c.project_id == project_id) & (CASES.c.name == name))).scalar()
        if cid is None:
            cid = conn.execute(sa.insert(CASES).values(project_id=project_id, name=name)).inserted_primary_key[0]
            self.audit(conn, project_id, actor, "case created", name)
        for key, value in (attributes or {}).items():
            key = clean_name(key, "attribute", 100)
            value = str(value)[:300]
            conn.execute(sa.delete(CASE_ATTRIBUTES).where((CASE_ATTRIBUTES.c.case_id == cid) & (CASE_ATTRIBUTES.c.name == key)))
            conn.execute(sa.insert(CASE_ATTRIBUTES).values(case_id=cid, name=key, value=value))
            self.audit(conn, project_id, actor, "attribute set", f"{name}: {key}={value}")
        return cid

    def cases(self, project_id: int) -> list[dict]:
        """Cases with their attributes: ``[{"id", "name", "attributes": {...}}]``."""
        with self.engine.connect() as c:
            rows = c.execute(sa.select(CASES.c.id, CASES.c.name, CASE_ATTRIBUTES.c.name.label("attr"),
                                       CASE_ATTRIBUTES.c.value)
                             .outerjoin(CASE_ATTRIBUTES, CASE_ATTRIBUTES.c.case_id == CASES.c.id)
                             .where(CASES.c.project_id == project_id).order_by(CASES.c.name)).all()
        out: dict[int, dict] = {}
        for r in rows:
            entry = out.setdefault(r.id, {"id": r.id, "name": r.name, "attributes": {}})
            if r.attr is not None:
                entry["attributes"][r.attr] = r.value
        return list(out.values())

    def attribute_names(self, project_id: int) -> list[str]:
        with self.engine.connect() as c:
            return sorted(c.execute(sa.select(CASE_ATTRIBUTES.c.name).distinct().join(
                CASES, CASES.c.id == CASE_ATTRIBUTES.c.case_id).where(CASES.c.project_id == project_id)).scalars())

    # -- sources --------------------------------------------------------------------------------------
    def add_source(self, project_id: int, name: str, text: str, kind: str, actor: str, case: str | None = None,
                   attributes: dict | None = None) -> int:
        """Store a source (its speaker turns too, for a transcript) in one transaction."""
        name = clean_name(name, "source")
        self.project(project_id)
        with self.engine.begin() as c:
            if c.execute(sa.select(SOURCES.c.id).where((SOURCES.c.project_id == project_id)
                                                       & (SOURCES.c.name == name))).first():
                raise QualError(f"a source called {name!r} is already in the project (rename the file or remove it)")
            cid = self.case(project_id, case, attributes, actor, c) if case else None
            sid = c.execute(sa.insert(SOURCES).values(project_id=project_id, case_id=cid, name=name, kind=kind, text=text,
                                                      created_by=actor, created_at=now())).inserted_primary_key[0]
            if kind == "transcript":
                turns = speaker_turns(text)
                if turns:
                    c.execute(sa.insert(TURNS), [{"source_id": sid, "seq": i, "speaker": t.speaker[:100],
                                                  "start": t.start, "end": t.end} for i, t in enumerate(turns)])
            self.audit(c, project_id, actor, "source added", f"{name} ({kind}, {len(text):,} characters)")
        return sid

    def sources(self, project_id: int) -> list[dict]:
        with self.engine.connect() as c:
            return [dict(r) for r in c.execute(
                sa.select(SOURCES.c.id, SOURCES.c.name, SOURCES.c.kind, CASES.c.name.label("case"),
                          sa.func.length(SOURCES.c.text).label("chars"))
                .outerjoin(CASES, CASES.c.id == SOURCES.c.case_id)
                .where(SOURCES.c.project_id == project_id).order_by(SOURCES.c.name)).mappings()]

    def source(self, project_id: int, source_id: int) -> dict:
        """A source with its text and turns; QualError if it is not in the project."""
        with self.engine.connect() as c:
            row = c.execute(sa.select(SOURCES, CASES.c.name.label("case"))
                            .outerjoin(CASES, CASES.c.id == SOURCES.c.case_id)
                            .where((SOURCES.c.id == source_id) & (SOURCES.c.project_id == project_id))).mappings().first()
            if row is None:
                raise QualError(f"no source {source_id} in this project")
            turns = [dict(t) for t in c.execute(sa.select(TURNS.c.speaker, TURNS.c.start, TURNS.c.end)
                                                .where(TURNS.c.source_id == source_id).order_by(TURNS.c.seq)).mappings()]
        return {**dict(row), "turns": turns}
