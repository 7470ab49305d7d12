"""The workbench's pages for analysis: the codebook (every member reads it; the lead creates,
renames, describes, moves and merges codes), agreement between coders with the disagreeing spans and
the lead's agreed coding, retrieval by code and attribute, and the framework matrix with its
summaries and Excel export.

Routes: ``GET /coding/{p}/codebook``, ``POST /coding/{p}/codes`` (op = create, rename, describe,
move, merge; lead), ``GET /coding/{p}/agreement`` (lead), ``POST /coding/{p}/agreement/record`` (lead),
``GET /coding/{p}/retrieve``, ``GET /coding/{p}/matrix``, ``POST /coding/{p}/matrix/summary``,
``GET /coding/{p}/matrix.xlsx``.

Example:
    >>> app.include_router(router)                                               # doctest: +SKIP
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from joinedup.web.qual_routes import handled, page
from joinedup.web.qual_web import Refused, member, posted, whole

router = APIRouter(prefix="/coding")
MAX_DISAGREEMENTS = 40  # per code on the page: the lead works through them a screenful at a time


@router.get("/{pid}/codebook")
@handled
async def codebook(request: Request, pid: int):
    m = member(request, pid)
    memos = {}
    for memo in m.wb.memos(pid, "code"):
        memos.setdefault(memo["target_id"], []).append(memo)
    return page(request, m, "qual/codebook.html", title="Codebook", pid=pid, codes=m.wb.codes(pid), my_role=m.role,
                memos=memos, message=request.query_params.get("done", "")[:200])


def _optional_code(value) -> int | None:
    return None if value in (None, "", "top") else whole(value, "code")


@router.post("/{pid}/codes")
@handled
async def change_code(request: Request, pid: int):
    m = member(request, pid, lead=True)
    form = await posted(request, m)
    op, wb = form.get("op", ""), m.wb
    if op == "create":
        wb.create_code(pid, form.get("name", ""), m.name, parent_id=_optional_code(form.get("parent")),
                       description=form.get("description", ""))
    elif op == "rename":
        wb.rename_code(pid, whole(form.get("code"), "code"), form.get("name", ""), m.name)
    elif op == "describe":
        wb.describe_code(pid, whole(form.get("code"), "code"), form.get("description", ""), m.name)
    elif op == "move":
        wb.move_code(pid, whole(form.get("code"), "code"), _optional_code(form.get("parent")), m.name)
    elif op == "merge":
        wb.merge_codes(pid, whole(form.get("keep"), "code kept"), whole(form.get("merge"), "code merged"), m.name)
    else:
        raise Refused(400, "op must be one of create, rename, describe, move, merge")
    return RedirectResponse(f"/coding/{pid}/codebook?done=Codebook+{op}+done", status_code=303)


def _num(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"


@router.get("/{pid}/agreement")
@handled
async def agreement_page(request: Request, pid: int):
    from joinedup.qual.agreement import disagreements, project_agreement

    m = member(request, pid, lead=True)
    chosen = request.query_params.getlist("coder") or None
    data = await run_in_threadpool(project_agreement, m.wb, pid, chosen)
    rows, spans = [], {}
    names = {s["id"]: s["name"] for s in m.wb.sources(pid)}
    codes = {c["name"]: c["id"] for c in m.wb.codes(pid)}
    by_source = data["source"].set_index("code") if data["source"] is not None else None
    texts = {}
    for r in data["span"]:
        src = by_source.loc[r["code"]] if by_source is not None else {}
        rows.append({"code": r["code"], "units": r["units"], "po": _num(r["observed_agreement"]),
                     "kappa": _num(r["kappa"]), "alpha": _num(r["alpha"]),
                     "src_units": int(src["units_all_coders"]) if len(src) else 0,
                     "src_kappa": _num(src["kappa"]) if len(src) else "–", "src_alpha": _num(src["alpha"]) if len(src) else "–"})
        found = disagreements(data["lengths"], [c for c in data["codings"] if c[4] in data["coders"]], data["coders"],
                              data["lineage"], r["code"])
        for d in found[:MAX_DISAGREEMENTS]:
            if d["source_id"] not in texts:
                texts[d["source_id"]] = m.wb.source(pid, d["source_id"])["text"]
            d["excerpt"] = texts[d["source_id"]][d["start"]:d["end"]][:300]
            d["source"] = names[d["source_id"]]
        spans[r["code"]] = {"shown": found[:MAX_DISAGREEMENTS], "total": len(found), "code_id": codes[r["code"]]}
    return page(request, m, "qual/agreement.html", title="Agreement between coders", pid=pid, rows=rows, spans=spans,
                coders=data["coders"], all_coders=data["all_coders"], message=request.query_params.get("done", "")[:200])


@router.post("/{pid}/agreement/record")
@handled
async def record_agreed(request: Request, pid: int):
    m = member(request, pid, lead=True)
    form = await posted(request, m)
    sid, code = whole(form.get("source"), "source"), whole(form.get("code"), "code")
    start, end = whole(form.get("start"), "start"), whole(form.get("end"), "end")
    m.wb.add_coding(pid, sid, start, end, code, m.name, m.name, status="agreed")
    return RedirectResponse(f"/coding/{pid}/agreement?done=Agreed+coding+recorded", status_code=303)


@router.get("/{pid}/retrieve")
@handled
async def retrieve(request: Request, pid: int):
    from joinedup.qual.retrieve import segments

    m = member(request, pid)
    q = request.query_params
    code = _optional_code(q.get("code"))
    if code is not None:
        m.wb.code(pid, code)
    # up to three case-attribute conditions, all of which must hold (attribute/value, attribute2/value2, ...)
    conditions = [(q.get(f"attribute{n}", "")[:100], q.get(f"value{n}", "")[:300]) for n in ("", "2", "3")]
    where: dict[str, str] = {}
    for name, wanted in conditions:
        if name and where.get(name, wanted) != wanted:
            raise Refused(400, f"case attribute {name!r} is asked to equal both {where[name]!r} and {wanted!r}")
        if name:
            where[name] = wanted
    asked = bool(code or where)
    found = segments(m.wb, pid, m.name, m.role, code_id=code, where=where) if asked else []
    return page(request, m, "qual/retrieve.html", title="Retrieve coded segments", pid=pid, codes=m.wb.codes(pid),
                attributes=m.wb.attribute_names(pid), found=found, asked=asked, code=code, conditions=conditions)


def _by(request: Request, m, pid: int) -> str:
    by = request.query_params.get("by", "case")[:100]
    if by != "case" and by not in m.wb.attribute_names(pid):
        raise Refused(400, f"by: {by!r} is neither 'case' nor an attribute of this project's cases")
    return by


@router.get("/{pid}/matrix")
@handled
async def matrix_page(request: Request, pid: int):
    from joinedup.qual.retrieve import matrix

    m = member(request, pid)
    by = _by(request, m, pid)
    return page(request, m, "qual/matrix.html", title="Framework matrix", pid=pid, mx=matrix(m.wb, pid, m.name, m.role, by),
                attributes=m.wb.attribute_names(pid), message=request.query_params.get("done", "")[:200])


@router.post("/{pid}/matrix/summary")
@handled
async def matrix_summary(request: Request, pid: int):
    from urllib.parse import quote

    from joinedup.qual.retrieve import set_summary

    m = member(request, pid)
    form = await posted(request, m)
    by = form.get("by", "case")[:100]
    set_summary(m.wb, pid, by, form.get("row", "")[:250], whole(form.get("code"), "theme"), form.get("summary", ""), m.name)
    return RedirectResponse(f"/coding/{pid}/matrix?by={quote(by)}&done=Summary+saved", status_code=303)


@router.get("/{pid}/matrix.xlsx")
@handled
async def matrix_excel(request: Request, pid: int):
    from joinedup.qual.retrieve import matrix, matrix_to_excel

    m = member(request, pid)
    by = _by(request, m, pid)
    with tempfile.TemporaryDirectory() as tmp:
        data = matrix_to_excel(matrix(m.wb, pid, m.name, m.role, by), Path(tmp) / "matrix.xlsx").read_bytes()
    m.wb.store.audit(m.name, "matrix exported", f"project {pid} by {by}")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="framework-matrix-{pid}.xlsx"'})
