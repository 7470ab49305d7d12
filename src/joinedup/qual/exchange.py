"""REFI-QDA (``.qdpx``) export and import of a workbench project, through the engine's format code
(:mod:`joinedup.survey.coding.refi`): codebook (nested, with descriptions), text sources with their
case and attributes, every coding span with its coder, and memos. Memos on a coding travel as the
selection's Description (the engine's mapping); memos on sources, codes and the project travel as
REFI ``Note`` elements (text in ``PlainTextContent``) whose Description names the target, so a
round trip keeps every memo. Coding status (blind, agreed) is not a REFI concept: an agreed coding
comes back as a coding by the lead who recorded it.

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

from joinedup.survey.coding.refi import NS, _guid, _q, export_qdpx, import_qdpx


def to_engine(wb, project_id: int):
    """The project as the engine's :class:`CodingProject` (sources named, codings of every status)."""
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
    return project, ids, names


def export_refi(wb, project_id: int, path: str | Path) -> Path:
    """Write the project as a ``.qdpx`` file (see the module docstring)."""
    project, ids, names = to_engine(wb, project_id)
    name = wb.project(project_id)["name"]
    path = export_qdpx(project, path, name=name)
    notes = []
    for m in wb.memos(project_id):
        if m["target"] == "coding":
            continue
        target = {"source": ids.get(m["target_id"]), "code": names.get(m["target_id"])}.get(m["target"], name)
        notes.append((m, target))
    if notes:  # add the Notes to project.qde (rewrite the zip: entries cannot be replaced in place)
        with zipfile.ZipFile(path) as z:
            entries = {n: z.read(n) for n in z.namelist()}
        ET.register_namespace("", NS)
        root = ET.fromstring(entries["project.qde"])
        holder = ET.SubElement(root, _q("Notes"))
        for i, (m, target) in enumerate(notes):
            note = ET.SubElement(holder, _q("Note"), {"guid": _guid("note", f"{project_id}|{i}"), "name": f"memo {i + 1}",
                                                      "creatingUser": _guid("user", m["author"])})
            ET.SubElement(note, _q("Description")).text = json.dumps({"target": m["target"], "name": target,
                                                                      "author": m["author"]})
            ET.SubElement(note, _q("PlainTextContent")).text = m["text"]
        entries["project.qde"] = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for n, data in entries.items():
                z.writestr(n, data)
    return path


def import_refi(wb, path: str | Path, name: str, actor: str) -> int:
    """A new project from a ``.qdpx`` file: its codebook, sources (cases and attributes from their
    descriptions), codings and memos. Returns the new project's id."""
    project = import_qdpx(path)
    pid = wb.create_project(name, actor)
    code_ids: dict[str, int] = {}
    for r in project.codebook.codes.itertuples(index=False):  # parents come before their children
        code_ids[r.code] = wb.create_code(pid, r.code, actor, parent_id=code_ids.get(r.parent) if r.parent else None,
                                          description=r.description or "")
    source_ids = {}
    for sid, text in project.sources.items():
        attrs = dict(project.attributes.get(sid, {}))
        kind, case = attrs.pop("kind", "text"), attrs.pop("case", None)
        source_ids[sid] = wb.add_source(pid, sid, text, kind, actor, case=case, attributes=attrs if case else None)
    for r in project.codings.itertuples(index=False):
        cid, _ = wb.add_coding(pid, source_ids[r.source_id], int(r.start), int(r.end), code_ids[r.code], r.coder, actor)
        for text in (r.memo or "").split("\n\n"):
            if text.strip():
                wb.add_memo(pid, "coding", cid, text, actor)
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
    for note in root.iter(_q("Note")):
        desc, body = note.find(_q("Description")), note.find(_q("PlainTextContent"))
        meta = json.loads(desc.text) if desc is not None and desc.text else {"target": "project"}
        target_id = {"source": source_ids, "code": code_ids}.get(meta.get("target"), {}).get(meta.get("name"), pid)
        target = meta.get("target") if target_id != pid or meta.get("target") == "project" else "project"
        if body is not None and body.text:
            wb.add_memo(pid, target, target_id, body.text, actor)
    return pid
