"""REFI-QDA project exchange (``.qdpx``), so NVivo, ATLAS.ti, MAXQDA and QualCoder users can move work.

A ``.qdpx`` file is a zip holding ``project.qde`` (XML in the ``urn:QDA-XML:project:1.0`` namespace:
Users, a CodeBook of nested Codes, Sources with text selections carrying Codings) and ``Sources/``
with each text source as a UTF-8 ``.txt`` file referenced as ``internal://<guid>.txt``. Written here:
users (the coders), the codebook with descriptions and nesting, text sources with their attributes
as source Descriptions, and every coding as a PlainTextSelection (character offsets) with one Coding.
Read back: the same elements; anything else in a project (audio, pictures, variables, sets, notes) is
reported and left out. GUIDs are derived from names (uuid5), so the same project gives the same file.

Example:
    >>> export_qdpx(project, "pioneer.qdpx")                                      # doctest: +SKIP
    >>> again = import_qdpx("pioneer.qdpx")                                       # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pandas as pd

from joinedup.survey.coding.project import Codebook, CodingProject

NS = "urn:QDA-XML:project:1.0"
_ROOT = uuid.UUID("6f1d2c1e-5a52-4a7e-9a0e-6a6f696e6564")  # joinedup's namespace for uuid5 GUIDs


def _guid(kind: str, name: str) -> str:
    return str(uuid.uuid5(_ROOT, f"{kind}:{name}")).upper()


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot hold (form feeds between PDF pages, other control
    characters) as spaces, for names and descriptions in ``project.qde``; source texts travel whole
    in their ``.txt`` files.

    Example:
        >>> xml_text("page one\x0cpage two")
        'page one page two'
    """
    return _NOT_XML.sub(" ", text)


def export_qdpx(project: CodingProject, path: str | Path, name: str = "joinedup coding project") -> Path:
    """Write the project as a REFI-QDA ``.qdpx`` file."""
    ET.register_namespace("", NS)
    root = ET.Element(_q("Project"), {"name": name, "origin": "joinedup"})
    users = ET.SubElement(root, _q("Users"))
    for coder in sorted(set(project.codings["coder"])):
        ET.SubElement(users, _q("User"), {"guid": _guid("user", coder), "name": coder})
    codes = ET.SubElement(ET.SubElement(root, _q("CodeBook")), _q("Codes"))
    book = project.codebook

    def add_code(parent, code):
        row = book.codes.set_index("code").loc[code]
        el = ET.SubElement(parent, _q("Code"), {"guid": _guid("code", code), "name": code, "isCodable": "true"})
        desc = json.dumps({"label": row["label"], "description": row["description"]})
        ET.SubElement(el, _q("Description")).text = desc
        for child in book.children(code):
            add_code(el, child)

    for code in book.codes.loc[book.codes["parent"].isna(), "code"]:
        add_code(codes, code)
    sources = ET.SubElement(root, _q("Sources"))
    texts = {}
    for sid, text in project.sources.items():
        guid = _guid("source", sid)
        texts[guid] = text
        src = ET.SubElement(sources, _q("TextSource"), {"guid": guid, "name": sid,
                                                         "plainTextPath": f"internal://{guid}.txt"})
        ET.SubElement(src, _q("Description")).text = json.dumps(project.attributes.get(sid, {}), default=str)
        rows = project.codings[project.codings["source_id"] == sid]
        for i, r in rows.iterrows():
            sel = ET.SubElement(src, _q("PlainTextSelection"), {
                "guid": _guid("selection", f"{sid}|{i}"), "name": xml_text(text[int(r.start):int(r.end)][:40]),
                "startPosition": str(int(r.start)), "endPosition": str(int(r.end)),
                "creatingUser": _guid("user", r.coder)})
            if r.memo:
                ET.SubElement(sel, _q("Description")).text = xml_text(r.memo)
            coding = ET.SubElement(sel, _q("Coding"), {"guid": _guid("coding", f"{sid}|{i}"),
                                                       "creatingUser": _guid("user", r.coder)})
            ET.SubElement(coding, _q("CodeRef"), {"targetGUID": _guid("code", r.code)})
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", ET.tostring(root, encoding="utf-8", xml_declaration=True))
        for guid, text in texts.items():
            z.writestr(f"Sources/{guid}.txt", text.encode("utf-8"))
    return path


def import_qdpx(path: str | Path) -> CodingProject:
    """Read a REFI-QDA ``.qdpx`` file (text sources and their codings) into a project."""
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
        names = set(z.namelist())
        users = {u.get("guid"): u.get("name") for u in root.iter(_q("User"))}
        rows, code_names = [], {}

        def walk(el, parent):
            for c in el.findall(_q("Code")):
                desc = c.find(_q("Description"))
                try:
                    meta = json.loads(desc.text) if desc is not None and desc.text else {}
                except ValueError:  # another tool's plain-text description
                    meta = {"description": desc.text}
                code_names[c.get("guid")] = c.get("name")
                rows.append({"code": c.get("name"), "label": meta.get("label") or c.get("name"),
                             "parent": parent, "description": meta.get("description") or ""})
                walk(c, c.get("name"))

        if root.tag != _q("Project"):
            raise ValueError(f"{Path(path).name}: project.qde is not a REFI-QDA project (root {root.tag!r})")
        book_el = root.find(f"{_q('CodeBook')}/{_q('Codes')}")
        if book_el is not None:  # the standard makes the CodeBook optional (a project with no codes yet)
            walk(book_el, None)
        frame = pd.DataFrame(rows, columns=["code", "label", "parent", "description"])
        project = CodingProject(Codebook.from_frame(frame))
        for src in root.iter(_q("TextSource")):
            ref = (src.get("plainTextPath") or "").replace("internal://", "Sources/")
            if ref not in names:
                raise ValueError(f"{Path(path).name}: text of source {src.get('name')!r} ({ref}) is missing")
            desc = src.find(_q("Description"))
            try:
                attrs = json.loads(desc.text) if desc is not None and desc.text else {}
            except ValueError:
                attrs = {"description": desc.text}
            project.add_source(src.get("name"), z.read(ref).decode("utf-8"), attrs)
            for sel in src.findall(_q("PlainTextSelection")):
                memo = sel.find(_q("Description"))
                for coding in sel.findall(_q("Coding")):
                    target = coding.find(_q("CodeRef")).get("targetGUID")
                    coder = users.get(coding.get("creatingUser") or sel.get("creatingUser"), "unknown")
                    project.code(src.get("name"), int(sel.get("startPosition")), int(sel.get("endPosition")),
                                 code_names[target], coder, memo.text if memo is not None and memo.text else "")
    return project
