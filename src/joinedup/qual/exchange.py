"""REFI-QDA (``.qdpx``) export and import of a workbench project, through the engine's format code
(:mod:`joinedup.survey.coding.refi`): codebook (nested, with descriptions), text sources with their
case and attributes, every coding span with its coder and status, and memos. The file validates
against the REFI-QDA Project 1.0 schema (``urn:QDA-XML:project:1.0``, REFI-QDA Standard 1.5).

How the workbench's own notions travel, using only what the standard defines:

* **Cases and attributes**: the standard's ``Variables`` and ``Cases`` (:mod:`joinedup.qual.refi_cases`),
  and, as before, JSON in each source's Description.
* **Coders**: every coder (and memo author) is a ``<User>``; a coding's ``PlainTextSelection`` and its
  ``Coding`` carry ``creatingUser``.
* **Agreed codings** (status ``agreed``): REFI has no coding status, so the agreed codings are the
  codings of one designated user, ``<User name="Agreed coding (joinedup)" id="joinedup:agreed">``
  (the "consensus coder" teams use in NVivo and ATLAS.ti): the selection's ``creatingUser`` is the
  lead who recorded the agreement, the ``Coding``'s ``creatingUser`` the designated user. In another
  tool they appear as that user's codings; imported here they are ``agreed`` codings by that lead.
  All other codings are the coder's own (``blind``) codings.
* **Blind coding** (the project's setting) and the project's description: the description is the
  project's ``<Description>``; the setting is a project ``<Note>`` ("joinedup project settings",
  referenced by the project's ``NoteRef``) whose text says it in words and whose Description holds it
  as JSON, so another tool shows it as a project memo and joinedup reads it back as the setting.
* **Memos**: on codings as the selection's Description (the engine's mapping); on sources, codes and
  the project as ``Note``s referenced by a ``NoteRef`` of the source, code or project (and their
  Description names the target as JSON too). On import a ``NoteRef`` decides the target (so another
  tool's notes land on their source or code), then that JSON, else the project.

Example:
    >>> export_refi(wb, pid, "interviews.qdpx")                                   # doctest: +SKIP
    >>> import_refi(wb, "interviews.qdpx", "Interviews (copy)", actor="lead")    # doctest: +SKIP
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd

from joinedup.qual.refi_cases import add_cases, read_cases
from joinedup.survey.coding.refi import NS, _guid, _q, export_qdpx, import_qdpx, xml_text

AGREED_USER_ID = "joinedup:agreed"  # the designated user whose codings are the agreed ones
AGREED_USER_NAME = "Agreed coding (joinedup)"
AGREED_USER_GUID = _guid("agreed", AGREED_USER_ID)  # kind "agreed": cannot equal any coder's _guid("user", ...)
SETTINGS_KEY = "joinedup project settings"


def to_engine(wb, project_id: int, statuses: list | None = None):
    """The project as the engine's :class:`CodingProject` (sources named, human codings of every
    status); when ``statuses`` is a list, each coding's status is appended to it in the engine's
    row order."""
    from joinedup.survey.coding.project import Codebook, CodingProject

    tree = wb.codes(project_id)
    names = {c["id"]: c["name"] for c in tree}
    book = pd.DataFrame({"code": [c["name"] for c in tree], "label": [c["name"] for c in tree],
                         "parent": [names.get(c["parent_id"]) for c in tree],
                         "description": [c["description"] for c in tree]})
    project = CodingProject(Codebook.from_frame(book))
    cases = {c["name"]: c["attributes"] for c in wb.cases(project_id)}
    ids = {}
    for s in wb.sources(project_id):
        src = wb.source(project_id, s["id"])
        attrs = {"kind": src["kind"], **({"case": src["case"], **cases[src["case"]]} if src["case"] else {})}
        project.add_source(src["name"], src["text"], attrs)
        ids[s["id"]] = src["name"]
    memos = {}
    for m in wb.memos(project_id, "coding"):
        memos.setdefault(m["target_id"], []).append(m["text"])
    for c in wb.visible_codings(project_id, "", "lead"):
        if c["status"] != "suggested":
            project.code(ids[c["source_id"]], c["start"], c["end"], c["code"], c["coder"],
                         "\n\n".join(memos.get(c["id"], [])))
            if statuses is not None:
                statuses.append(c["status"])
    return project, ids, names


def export_refi(wb, project_id: int, path: str | Path) -> Path:
    """Write the project as a ``.qdpx`` file (see the module docstring)."""
    statuses: list[str] = []
    project, ids, names = to_engine(wb, project_id, statuses)
    info = wb.project(project_id)
    path = export_qdpx(project, path, name=info["name"])
    with zipfile.ZipFile(path) as z:  # rewrite project.qde (zip entries cannot be replaced in place)
        entries = {n: z.read(n) for n in z.namelist()}
    ET.register_namespace("", NS)
    root = ET.fromstring(entries["project.qde"])
    users = root.find(_q("Users"))
    known_users = {u.get("guid") for u in users}

    def user(guid: str, name: str, **extra) -> str:
        if guid not in known_users:
            ET.SubElement(users, _q("User"), {"guid": guid, "name": name, **extra})
            known_users.add(guid)
        return guid

    # agreed codings: the Coding by the designated user (engine rows and statuses are in the same order)
    for i, r in enumerate(project.codings.itertuples(index=False)):
        if statuses[i] == "agreed":
            coding = root.find(f".//{_q('Coding')}[@guid='{_guid('coding', f'{r.source_id}|{i}')}']")
            coding.set("creatingUser", user(AGREED_USER_GUID, AGREED_USER_NAME, id=AGREED_USER_ID))
    holder = ET.Element(_q("Notes"))
    refs = []  # (element that refers to the note, note guid)
    by_guid = {el.get("guid"): el for el in root.iter() if el.get("guid")}
    for i, m in enumerate(wb.memos(project_id)):
        if m["target"] == "coding":
            continue
        target = {"source": ids.get(m["target_id"]), "code": names.get(m["target_id"])}.get(m["target"], info["name"])
        guid = _guid("note", f"{project_id}|{i}")
        note = ET.SubElement(holder, _q("Note"), {"guid": guid, "name": f"memo {len(holder) + 1}",
                                                  "creatingUser": user(_guid("user", m["author"]), m["author"])})
        ET.SubElement(note, _q("Description")).text = json.dumps({"target": m["target"], "name": target,
                                                                  "author": m["author"]})
        ET.SubElement(note, _q("PlainTextContent")).text = xml_text(m["text"])
        refs.append((by_guid.get(_guid(m["target"], target)) if m["target"] in ("source", "code") else root, guid))
    settings = ET.SubElement(holder, _q("Note"), {"guid": _guid("settings", str(project_id)), "name": SETTINGS_KEY})
    ET.SubElement(settings, _q("Description")).text = json.dumps({"joinedup": SETTINGS_KEY, "blind": bool(info["blind"])})
    ET.SubElement(settings, _q("PlainTextContent")).text = (
        ("Blind coding: each coder saw only their own codings and the agreed ones. " if info["blind"] else
         "Coding was not blind: every member saw every coding. ")
        + f"Agreed codings are those of the user '{AGREED_USER_NAME}'; the selection names the lead who agreed it.")
    refs.append((root, settings.get("guid")))
    add_cases(root, wb.cases(project_id), {s["name"]: s["case"] for s in wb.sources(project_id) if s["case"]})
    _place_after(root, holder, ("Users", "CodeBook", "Variables", "Cases", "Sources"))
    if info["description"]:
        _place_after(root, _text(_q("Description"), xml_text(info["description"])),
                     ("Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets"))
    for element, guid in refs:
        ref = ET.Element(_q("NoteRef"), {"targetGUID": guid})
        if element is not None and element.tag == _q("Code"):  # Code: Description, NoteRef*, Code*
            _place_after(element, ref, ("Description", "NoteRef"))
        elif element is not None:  # TextSource and Project: NoteRef after everything written here
            _place_after(element, ref, ("Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef",
                                        "Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets"))
    for tag in ("Users", "Sources", "CodeBook"):  # the schema wants at least one User, source and Code
        el = root.find(_q(tag))
        if el is not None and (len(el) == 0 or (tag == "CodeBook" and len(el[0]) == 0)):
            root.remove(el)
    entries["project.qde"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    return path


def _text(tag: str, text: str) -> ET.Element:
    el = ET.Element(tag)
    el.text = text
    return el


def _place_after(parent: ET.Element, child: ET.Element, before: tuple[str, ...]) -> None:
    """Insert ``child`` after the last child whose tag is in ``before`` (the schema's sequence order)."""
    tags = {_q(t) for t in before}
    at = 0
    for i, el in enumerate(parent):
        if el.tag in tags:
            at = i + 1
    parent.insert(at, child)


def _coding_status(root: ET.Element, actor: str) -> list[tuple[str, str | None]]:
    """``(status, coder of an agreed coding)`` per Coding, in the engine importer's order."""
    users = {u.get("guid"): u for u in root.iter(_q("User"))}
    agreed = {g for g, u in users.items() if u.get("id") == AGREED_USER_ID} | {AGREED_USER_GUID}
    out = []
    for src in root.iter(_q("TextSource")):
        for sel in src.findall(_q("PlainTextSelection")):
            for coding in sel.findall(_q("Coding")):
                if (coding.get("creatingUser") or sel.get("creatingUser")) in agreed:
                    who = users.get(sel.get("creatingUser"))
                    lead = who.get("name") if who is not None and sel.get("creatingUser") not in agreed else None
                    out.append(("agreed", lead or actor))
                else:
                    out.append(("blind", None))
    return out


def _json(el: ET.Element | None) -> dict:
    """A Description written by joinedup as JSON; {} for another tool's plain text."""
    try:
        meta = json.loads(el.text) if el is not None and el.text else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def import_refi(wb, path: str | Path, name: str, actor: str) -> int:
    """A new project from a ``.qdpx`` file: its codebook, sources (cases and attributes from their
    descriptions), codings (agreed ones as agreed, see the module docstring) and memos. Returns the
    new project's id. A file that fails part-way leaves no project behind."""
    from joinedup.qual.qdpx_guard import check_qdpx

    check_qdpx(path)
    try:
        project = import_qdpx(path)
        with zipfile.ZipFile(path) as z:
            root = ET.fromstring(z.read("project.qde"))
        statuses = _coding_status(root, actor)
    except (KeyError, TypeError, AttributeError, IndexError, ET.ParseError, zipfile.BadZipFile) as exc:
        # the engine's reader trusts the file's structure: say what was missing instead of a traceback
        what = {KeyError: "an element refers to a code, user or file the project does not define",
                ET.ParseError: "project.qde is not well-formed XML"}.get(type(exc), "an element lacks a required part")
        raise ValueError(f"{Path(path).name}: not a REFI-QDA project joinedup can read: {what} "
                         f"({type(exc).__name__}: {str(exc)[:200]})") from None
    if len(statuses) != len(project.codings):
        raise ValueError(f"{Path(path).name}: {len(statuses)} codings in project.qde, {len(project.codings)} read")
    notes = root.find(_q("Notes"))
    settings = next((_json(n.find(_q("Description"))) for n in (notes if notes is not None else [])
                     if _json(n.find(_q("Description"))).get("joinedup") == SETTINGS_KEY), {})
    desc = root.find(_q("Description"))
    pid = wb.create_project(name, actor, description=(desc.text or "") if desc is not None else "",
                            blind=bool(settings.get("blind", True)))
    try:
        _fill(wb, pid, project, root, statuses, actor)
    except Exception:
        _discard(wb, pid, actor)
        raise
    return pid


def _fill(wb, pid: int, project, root: ET.Element, statuses: list, actor: str) -> None:
    code_ids: dict[str, int] = {}
    for r in project.codebook.codes.itertuples(index=False):  # parents come before their children
        code_ids[r.code] = wb.create_code(pid, r.code, actor, parent_id=code_ids.get(r.parent) if r.parent else None,
                                          description=r.description or "")
    source_ids = {}
    cases = read_cases(root)  # the standard's Cases, for sources another tool wrote
    guids = {el.get("name"): el.get("guid") for el in root.iter(_q("TextSource"))}
    for sid, text in project.sources.items():
        attrs = dict(project.attributes.get(sid, {}))
        if "kind" not in attrs and guids.get(sid) in cases:  # not joinedup's own JSON description
            attrs = {"case": cases[guids[sid]][0], **cases[guids[sid]][1]}
        kind, case = attrs.pop("kind", "text"), attrs.pop("case", None)
        source_ids[sid] = wb.add_source(pid, sid, text, kind, actor, case=case, attributes=attrs if case else None)
    for r, (status, lead) in zip(project.codings.itertuples(index=False), statuses):
        cid, _ = wb.add_coding(pid, source_ids[r.source_id], int(r.start), int(r.end), code_ids[r.code],
                               lead if status == "agreed" else r.coder, actor, status=status)
        for text in (r.memo or "").split("\n\n"):
            if text.strip():
                wb.add_memo(pid, "coding", cid, text, actor)
    referred = {}  # note guid -> (target, target id), from the standard's NoteRefs
    for ref in root.findall(_q("NoteRef")):
        referred[ref.get("targetGUID")] = ("project", pid)
    for kind, tag, ids in (("source", "TextSource", source_ids), ("code", "Code", code_ids)):
        for el in root.iter(_q(tag)):
            for ref in el.findall(_q("NoteRef")):
                if el.get("name") in ids:
                    referred[ref.get("targetGUID")] = (kind, ids[el.get("name")])
    for note in root.iter(_q("Note")):
        meta, body = _json(note.find(_q("Description"))), note.find(_q("PlainTextContent"))
        if meta.get("joinedup") == SETTINGS_KEY or body is None or not body.text:
            continue
        by_json = {"source": source_ids, "code": code_ids}.get(meta.get("target"), {}).get(meta.get("name"))
        target, target_id = referred.get(note.get("guid")) or ((meta["target"], by_json) if by_json else ("project", pid))
        wb.add_memo(pid, target, target_id, body.text, actor)


def _discard(wb, pid: int, actor: str) -> None:
    """Remove a project an import left half-made (every row of it; the audit keeps what happened)."""
    import sqlalchemy as sa

    from joinedup.qual.schema import (
        CASE_ATTRIBUTES,
        CASES,
        CODES,
        CODINGS,
        MEMBERS,
        MEMOS,
        PROJECTS,
        SOURCES,
        SUMMARIES,
        TURNS,
    )

    with wb.engine.begin() as c:
        sources = sa.select(SOURCES.c.id).where(SOURCES.c.project_id == pid)
        cases = sa.select(CASES.c.id).where(CASES.c.project_id == pid)
        c.execute(sa.delete(TURNS).where(TURNS.c.source_id.in_(sources)))
        c.execute(sa.delete(CASE_ATTRIBUTES).where(CASE_ATTRIBUTES.c.case_id.in_(cases)))
        for table in (MEMOS, CODINGS, SUMMARIES, SOURCES, CASES, MEMBERS):
            c.execute(sa.delete(table).where(table.c.project_id == pid))
        c.execute(sa.update(CODES).where(CODES.c.project_id == pid).values(parent_id=None))
        c.execute(sa.delete(CODES).where(CODES.c.project_id == pid))
        c.execute(sa.delete(PROJECTS).where(PROJECTS.c.id == pid))
        wb.audit(c, pid, actor, "import discarded", "the REFI-QDA file failed part-way; nothing of it is kept")
