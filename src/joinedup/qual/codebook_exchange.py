"""REFI-QDA codebook exchange (``.qdc``): the REFI Codebook standard v1.0 (qdasoftware.org, schema
``http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd``), which NVivo, ATLAS.ti,
MAXQDA and QualCoder read and write.

A ``.qdc`` file is one XML document in the ``urn:QDA-XML:codebook:1.0`` namespace::

    <CodeBook origin="joinedup">
      <Codes>
        <Code guid="…" name="Barriers" isCodable="true" color="#1F77B4">
          <Description>What held the programme back</Description>
          <Code guid="…" name="Workforce" isCodable="true"/>
        </Code>
      </Codes>
    </CodeBook>

Export writes every code with its nesting and Description (GUIDs as in the ``.qdpx`` export: uuid5
of the code's name, so the same code has the same GUID in both files). The workbench keeps no colour
and no "not codable" flag: export writes ``isCodable="true"`` and no colour; import reads both and
reports them (a non-codable code is still made, since the workbench codes with every code). ``Sets``
and ``NoteRef`` elements are read past and counted in the report.

Import adds the file's codes to an existing project: a code whose name is already in the project is
matched (its description and place are left as they are), the others are created under their
parent. The whole file is checked before anything is stored (names as the codebook allows them, no
name twice, no DTD) and refused with the reason, so a bad file stores nothing.

Example:
    >>> data = export_qdc(wb, pid)                                                # doctest: +SKIP
    >>> import_qdc(wb, other_pid, data, actor="lead")["created"]                  # doctest: +SKIP
    12
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import sqlalchemy as sa

from joinedup.survey.coding.refi import _guid

NS = "urn:QDA-XML:codebook:1.0"
SCHEMA = "http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"
MAX_QDC_BYTES = 5 << 20  # a codebook of thousands of codes is well under 1 MB
MAX_DEPTH = 50


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def export_qdc(wb, project_id: int) -> bytes:
    """The project's codebook as a ``.qdc`` document (UTF-8 bytes)."""
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root = ET.Element(_q("CodeBook"), {"origin": "joinedup",
                                       "{http://www.w3.org/2001/XMLSchema-instance}schemaLocation": f"{NS} {SCHEMA}"})
    codes = ET.SubElement(root, _q("Codes"))
    holder = {None: codes}
    for code in wb.codes(project_id):  # parents come before their children
        el = ET.SubElement(holder[code["parent_id"]], _q("Code"),
                           {"guid": _guid("code", code["name"]), "name": code["name"], "isCodable": "true"})
        if code["description"]:
            ET.SubElement(el, _q("Description")).text = code["description"]
        holder[code["id"]] = el
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class QdcError(ValueError):
    """A ``.qdc`` file that cannot be imported, with the reason (and the code it concerns)."""


def parse_qdc(data: bytes) -> dict:
    """The codes of a ``.qdc`` document, parents first: ``{"codes": [{"name", "parent", "description",
    "codable", "color"}], "sets": n, "notes": n}``; QdcError if it is not a REFI codebook."""
    from joinedup.qual.projects import QualError, clean_name

    if len(data) > MAX_QDC_BYTES:
        raise QdcError(f"the codebook file is larger than {MAX_QDC_BYTES >> 20} MB")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise QdcError("the codebook file declares a DTD or entities, which a REFI codebook never has")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise QdcError(f"not well-formed XML ({exc})") from None
    if root.tag != _q("CodeBook"):
        raise QdcError(f"the root element is {root.tag!r}, not CodeBook in the namespace {NS}")
    holder = root.find(_q("Codes"))
    if holder is None:
        raise QdcError("the CodeBook has no Codes element")
    out: list[dict] = []
    seen: set[str] = set()

    def walk(el, parent, depth):
        if depth > MAX_DEPTH:
            raise QdcError(f"codes are nested more than {MAX_DEPTH} deep")
        for c in el.findall(_q("Code")):
            where = f"code {len(out) + 1}"
            try:
                name = clean_name(c.get("name"), where)
            except QualError as exc:
                raise QdcError(str(exc)) from None
            if not c.get("guid"):
                raise QdcError(f"code {name!r} has no guid (required by the standard)")
            codable = c.get("isCodable")
            if codable not in ("true", "false", "1", "0"):
                raise QdcError(f"code {name!r}: isCodable must be true or false (required); got {codable!r}")
            if name in seen:
                raise QdcError(f"the code name {name!r} appears twice; the workbench needs each name once")
            seen.add(name)
            desc = c.find(_q("Description"))
            out.append({"name": name, "parent": parent, "description": (desc.text or "").strip()[:4000]
                        if desc is not None else "", "codable": codable in ("true", "1"), "color": c.get("color")})
            walk(c, name, depth + 1)

    walk(holder, None, 0)
    if not out:
        raise QdcError("the CodeBook has no Code (the standard requires at least one)")
    sets = len(root.findall(f"{_q('Sets')}/{_q('Set')}"))
    notes = sum(1 for _ in root.iter(_q("NoteRef")))
    return {"codes": out, "sets": sets, "notes": notes}


def import_qdc(wb, project_id: int, data: bytes, actor: str) -> dict:
    """Add the codes of a ``.qdc`` document to a project (see the module docstring). Returns
    ``{"created", "matched", "not_codable", "sets_ignored"}``."""
    from joinedup.qual.projects import QualError

    parsed = parse_qdc(data)
    wb.project(project_id)
    ids = {c["name"]: c["id"] for c in wb.codes(project_id)}
    created = matched = 0
    for code in parsed["codes"]:
        if code["name"] in ids:
            matched += 1
            continue
        try:
            ids[code["name"]] = wb.create_code(project_id, code["name"], actor,
                                               parent_id=ids[code["parent"]] if code["parent"] else None,
                                               description=code["description"])
            created += 1
        except (QualError, sa.exc.IntegrityError):  # made a moment ago by a racing import or edit
            found = {c["name"]: c["id"] for c in wb.codes(project_id)}.get(code["name"])
            if found is None:
                raise
            ids[code["name"]] = found
            matched += 1
    with wb.engine.begin() as c:
        wb.audit(c, project_id, actor, "codebook imported", f"REFI codebook: {created} created, {matched} matched")
    return {"created": created, "matched": matched, "not_codable": sum(not c["codable"] for c in parsed["codes"]),
            "sets_ignored": parsed["sets"]}
