"""Retrieval of coded segments by code (with its sub-codes) and by case attribute, code frequencies
by attribute, and the framework matrix (cases, or the values of an attribute such as site, x themes,
each cell's segments and the researcher's summary: the Framework method, Gale et al. 2013, BMC Med
Res Methodol 13:117), exported to Excel with formula-like cells neutralised (:mod:`joinedup.web.csv_safe`).

Only codings the member may see are retrieved (blind coding, :mod:`joinedup.qual.codings`).

Example:
    >>> segments(wb, pid, "ann", "coder", code_id=7, attribute="site", value="Leeds")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from joinedup.qual.schema import CASE_ATTRIBUTES, CASES, CODES, CODINGS, SOURCES, SUMMARIES
from joinedup.survey.store import now

MAX_SEGMENT_CHARS = 2000  # a retrieved segment shows at most this much text (the source has it all)


def _visible(q, wb, project_id: int, username: str, role: str):
    if role != "lead" and wb.project(project_id)["blind"]:
        q = q.where((CODINGS.c.coder == username) | (CODINGS.c.status == "agreed"))
    return q.where(CODINGS.c.status != "suggested")


def segments(wb, project_id: int, username: str, role: str, code_id: int | None = None,
             attribute: str | None = None, value: str | None = None, limit: int = 500,
             where: dict[str, str] | None = None) -> list[dict]:
    """Coded segments (source, case, span, code, coder, status, text) of a code and its sub-codes,
    from cases whose ``attribute`` equals ``value`` and, for each ``where`` item, whose attribute
    equals that value too (all optional; e.g. ``where={"org_type": "ccg", "wave": "2017"}``), in
    source order."""
    text = sa.func.substr(SOURCES.c.text, CODINGS.c.start + 1,
                          sa.func.least(CODINGS.c.end - CODINGS.c.start, MAX_SEGMENT_CHARS)
                          if wb.engine.dialect.name == "postgresql"
                          else sa.func.min(CODINGS.c.end - CODINGS.c.start, MAX_SEGMENT_CHARS))
    q = (sa.select(CODINGS.c.id, CODINGS.c.source_id, SOURCES.c.name.label("source"), CASES.c.name.label("case"),
                   CODINGS.c.start, CODINGS.c.end, CODES.c.name.label("code"), CODINGS.c.code_id, CODINGS.c.coder,
                   CODINGS.c.status, text.label("text"))
         .join(SOURCES, SOURCES.c.id == CODINGS.c.source_id).join(CODES, CODES.c.id == CODINGS.c.code_id)
         .outerjoin(CASES, CASES.c.id == SOURCES.c.case_id)
         .where(CODINGS.c.project_id == project_id))
    if code_id is not None:
        q = q.where(CODINGS.c.code_id.in_(wb.descendants(project_id, code_id)))
    conditions = ([(attribute, value or "")] if attribute else []) + list((where or {}).items())
    for name, wanted in conditions:  # every condition must hold for the segment's case
        q = q.where(SOURCES.c.case_id.in_(sa.select(CASE_ATTRIBUTES.c.case_id).where(
            (CASE_ATTRIBUTES.c.name == name) & (CASE_ATTRIBUTES.c.value == (wanted or "")))))
    q = _visible(q, wb, project_id, username, role).order_by(SOURCES.c.name, CODINGS.c.start, CODINGS.c.id).limit(limit)
    with wb.engine.connect() as c:
        return [dict(r) for r in c.execute(q).mappings()]


def themes(wb, project_id: int) -> list[dict]:
    """The matrix's columns: the top-level codes."""
    return [c for c in wb.codes(project_id) if c["parent_id"] is None]


def matrix(wb, project_id: int, username: str, role: str, by: str = "case") -> dict:
    """``{"rows": [...], "themes": [...], "cells": {(row, theme_id): [segments]}, "summaries": {...}}``;
    ``by`` is ``case`` or an attribute name (the row of a segment is its case's value of it)."""
    tops = themes(wb, project_id)
    top_of = {}
    for code in wb.codes(project_id):
        top_of[code["id"]] = code["id"] if code["parent_id"] is None else top_of[code["parent_id"]]
    cases = {c["name"]: c for c in wb.cases(project_id)}
    cells: dict = {}
    rows: set = set()
    for seg in segments(wb, project_id, username, role, limit=100_000):
        if seg["case"] is None:
            continue
        row = seg["case"] if by == "case" else cases[seg["case"]]["attributes"].get(by)
        if row is None:
            continue
        rows.add(row)
        cells.setdefault((row, top_of[seg["code_id"]]), []).append(seg)
    rows |= {c["name"] if by == "case" else c["attributes"].get(by) for c in cases.values()} - {None}
    with wb.engine.connect() as c:
        summaries = {(r.row_key, r.code_id): r.summary for r in c.execute(
            sa.select(SUMMARIES).where(SUMMARIES.c.project_id == project_id))}
    prefix = f"{by}:"
    return {"by": by, "rows": sorted(rows), "themes": tops, "cells": cells,
            "summaries": {(k[len(prefix):], cid): s for (k, cid), s in summaries.items() if k.startswith(prefix)}}


def set_summary(wb, project_id: int, by: str, row: str, code_id: int, summary: str, actor: str) -> None:
    """Write (or replace) a matrix cell's summary; audited."""
    from joinedup.qual.projects import QualError

    summary = str(summary).strip()
    if len(summary) > 20_000 or "\x00" in summary:
        raise QualError("a summary has at most 20,000 characters (no NUL)")
    key = f"{by}:{row}"[:300]
    with wb.engine.begin() as c:
        wb._code_row(c, project_id, code_id)
        c.execute(sa.delete(SUMMARIES).where((SUMMARIES.c.project_id == project_id) & (SUMMARIES.c.row_key == key)
                                             & (SUMMARIES.c.code_id == code_id)))
        if summary:
            c.execute(sa.insert(SUMMARIES).values(project_id=project_id, row_key=key, code_id=code_id, summary=summary,
                                                  author=actor, updated_at=now()))
        wb.audit(c, project_id, actor, "matrix summary", f"{key} x code {code_id}")


def matrix_to_excel(m: dict, path: str | Path) -> Path:
    """The matrix as an Excel workbook: sheet "Framework matrix" (summaries; the segment count when a
    cell has no summary yet) and sheet "Segments" (every cell's segments). Text that a spreadsheet
    would run as a formula is prefixed with ``'`` (OWASP CSV injection)."""
    from openpyxl import Workbook

    from joinedup.web.csv_safe import neutralise_cell as safe

    book = Workbook()
    sheet = book.active
    sheet.title = "Framework matrix"
    sheet.append([safe("by " + m["by"])] + [safe(t["name"]) for t in m["themes"]])
    for row in m["rows"]:
        line = [safe(row)]
        for t in m["themes"]:
            summary = m["summaries"].get((row, t["id"]))
            n = len(m["cells"].get((row, t["id"]), []))
            line.append(safe(summary) if summary else f"({n} segment{'s' if n != 1 else ''}, no summary yet)")
        sheet.append(line)
    seg = book.create_sheet("Segments")
    seg.append(["row", "theme", "code", "source", "start", "end", "coder", "status", "text"])
    names = {t["id"]: t["name"] for t in m["themes"]}
    for (row, tid), items in sorted(m["cells"].items(), key=lambda kv: (kv[0][0], names[kv[0][1]])):
        for s in items:
            seg.append([safe(row), safe(names[tid]), safe(s["code"]), safe(s["source"]), s["start"], s["end"],
                        safe(s["coder"]), s["status"], safe(s["text"])])
    path = Path(path)
    book.save(path)
    return path
