"""Cases and their attributes in a REFI-QDA project file the standard's way (REFI-QDA Standard 1.5:
``Variables`` and ``Cases``), so NVivo, ATLAS.ti, MAXQDA and QualCoder see the workbench's cases
(interviewee, organisation, site) with their attributes (site, org type, role, wave), and their cases
come in as the workbench's.

* Export: one ``<Variable typeOfVariable="Text">`` per attribute name; one ``<Case>`` per case with a
  ``<VariableValue>`` (``VariableRef`` and ``TextValue``) per attribute and a ``<SourceRef>`` per source
  of the case. (joinedup's own JSON source Description still says the same, for older readers.)
* Import: a source whose Description is not joinedup's JSON takes its case (the first ``Case`` that
  refers to it) and that case's attributes from ``Cases``; values of any type are read as text.

Example:
    >>> add_cases(root, wb.cases(pid), {"leeds": "Leeds lead"})                   # doctest: +SKIP
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from joinedup.survey.coding.refi import _guid, _q, xml_text

VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue")


def add_cases(root: ET.Element, cases: list[dict], case_of_source: dict[str, str]) -> None:
    """Write ``Variables`` and ``Cases`` into a project element (after its CodeBook, as the schema orders)."""
    if not cases:
        return
    names = sorted({a for c in cases for a in c["attributes"]})
    variables = ET.Element(_q("Variables"))
    for name in names:
        ET.SubElement(variables, _q("Variable"), {"guid": _guid("variable", name), "name": name, "typeOfVariable": "Text"})
    holder = ET.Element(_q("Cases"))
    for case in cases:
        el = ET.SubElement(holder, _q("Case"), {"guid": _guid("case", case["name"]), "name": case["name"]})
        for name, value in sorted(case["attributes"].items()):
            vv = ET.SubElement(el, _q("VariableValue"))
            ET.SubElement(vv, _q("VariableRef"), {"targetGUID": _guid("variable", name)})
            ET.SubElement(vv, _q("TextValue")).text = xml_text(value)
        for source, owner in case_of_source.items():
            if owner == case["name"]:
                ET.SubElement(el, _q("SourceRef"), {"targetGUID": _guid("source", source)})
    at = 0
    for i, el in enumerate(root):
        if el.tag in (_q("Users"), _q("CodeBook")):
            at = i + 1
    if names:
        root.insert(at, variables)
        at += 1
    root.insert(at, holder)


def read_cases(root: ET.Element) -> dict[str, tuple[str, dict]]:
    """``{source guid: (case name, {attribute: value})}`` from a project element's ``Cases``."""
    variables = {v.get("guid"): v.get("name") for v in root.iter(_q("Variable"))}
    out: dict[str, tuple[str, dict]] = {}
    for case in root.iter(_q("Case")):
        attrs = {}
        for vv in case.findall(_q("VariableValue")):
            ref = vv.find(_q("VariableRef"))
            value = next((vv.find(_q(t)) for t in VALUE_TAGS if vv.find(_q(t)) is not None), None)
            name = variables.get(ref.get("targetGUID")) if ref is not None else None
            if name and value is not None:
                attrs[name] = (value.text or "").strip()
        for ref in case.findall(_q("SourceRef")):
            out.setdefault(ref.get("targetGUID"), ((case.get("name") or "").strip() or ref.get("targetGUID"), attrs))
    return out
