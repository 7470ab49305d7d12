"""The workbench's routes for survey import, code frequencies and co-occurrence, and the REFI
codebook (``.qdc``) exchange.

Routes: ``POST /coding/{p}/import-survey`` (lead: a wave's free-text answers as sources and cases),
``GET /coding/{p}/frequencies`` (page) and ``GET /coding/{p}/frequencies.json`` (the same numbers),
``GET /coding/{p}/codebook.qdc`` (any member), ``POST /coding/{p}/codebook.qdc`` (lead: upload).

Example:
    >>> app.include_router(router)                                               # doctest: +SKIP
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from joinedup.web.qual_routes import handled, page
from joinedup.web.qual_web import Refused, member, posted, uploaded, whole

router = APIRouter(prefix="/coding")


@router.post("/{pid}/import-survey")
@handled
async def import_survey_route(request: Request, pid: int):
    from urllib.parse import quote

    from joinedup.qual.survey_import import import_survey

    m = member(request, pid, lead=True)
    form = await posted(request, m)
    wave = whole(form.get("wave"), "wave", 0, 10**6)
    if not any(w["wave"] == wave for w in m.ctx.store.list_waves()):
        raise Refused(400, f"wave: there is no survey wave {wave}")
    try:
        instrument = m.ctx.form(m.ctx.store.wave(wave)["instrument"])
    except (LookupError, ValueError) as exc:
        raise Refused(400, f"wave {wave}: its instrument cannot be loaded ({exc})") from None
    questions = [q.strip() for q in form.get("questions", "")[:500].split(",") if q.strip()] or None
    try:
        report = await run_in_threadpool(import_survey, m.wb, pid, m.ctx.store, instrument, wave, m.name, questions)
    except ValueError as exc:  # the workbench's and the survey store's refusals
        raise Refused(400, str(exc)) from None
    done = (f"Wave {wave}: {report['imported']} respondent(s) imported, {report['skipped']} already there, "
            f"{report['empty']} without a free-text answer")
    return RedirectResponse(f"/coding/{pid}?done={quote(done)}", status_code=303)


def _by(request: Request, m, pid: int, key: str = "by", default: str | None = "case") -> str | None:
    by = request.query_params.get(key, default or "")[:100] or default
    if by is not None and by != "case" and by not in m.wb.attribute_names(pid):
        raise Refused(400, f"{key}: {by!r} is neither 'case' nor an attribute of this project's cases")
    return by


def _numbers(request: Request, m, pid: int) -> dict:
    from joinedup.qual.frequencies import code_frequencies, cooccurrence

    by = _by(request, m, pid)
    co_by = _by(request, m, pid, "co_attribute", None)
    co_by = None if co_by == "case" else co_by
    co_value = request.query_params.get("co_value", "")[:300]
    return {"freq": code_frequencies(m.wb, pid, m.name, m.role, by),
            "co": cooccurrence(m.wb, pid, m.name, m.role, co_by, co_value), "co_by": co_by or "", "co_value": co_value}


@router.get("/{pid}/frequencies")
@handled
async def frequencies_page(request: Request, pid: int):
    m = member(request, pid)
    numbers = await run_in_threadpool(_numbers, request, m, pid)
    return page(request, m, "qual/frequencies.html", title="Code frequencies and co-occurrence", pid=pid,
                my_role=m.role, attributes=m.wb.attribute_names(pid), **numbers)


@router.get("/{pid}/frequencies.json")
@handled
async def frequencies_json(request: Request, pid: int):
    m = member(request, pid)
    n = await run_in_threadpool(_numbers, request, m, pid)
    names = {c["id"]: c["name"] for c in n["co"]["codes"]}
    return JSONResponse({
        "by": n["freq"]["by"], "values": n["freq"]["values"],
        "frequencies": [{"code": r["code"], "depth": r["depth"], "cells": r["cells"], "total": r["total"]}
                        for r in n["freq"]["rows"]],
        "cooccurrence": {"attribute": n["co_by"] or None, "value": n["co_value"] if n["co_by"] else None,
                         "definition": "pairs of overlapping segments (sharing at least one character) in the same "
                                       "source; diagonal: segments of the code",
                         "cells": [{"code_a": names[a], "code_b": names[b], "count": k}
                                   for (a, b), k in sorted(n["co"]["counts"].items())]},
        "disclosure": "not controlled: team-only numbers (coder and lead logins); not for publication to sites"})


@router.get("/{pid}/codebook.qdc")
@handled
async def codebook_qdc(request: Request, pid: int):
    from joinedup.qual.codebook_exchange import export_qdc

    m = member(request, pid)
    return Response(export_qdc(m.wb, pid), media_type="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="codebook-{pid}.qdc"'})


@router.post("/{pid}/codebook.qdc")
@handled
async def codebook_qdc_import(request: Request, pid: int):
    from urllib.parse import quote

    from joinedup.qual.codebook_exchange import import_qdc

    m = member(request, pid, lead=True)
    name, data, _ = await uploaded(request, m)
    try:
        report = await run_in_threadpool(import_qdc, m.wb, pid, data, m.name)
    except ValueError as exc:
        raise Refused(400, f"{name[:100]}: {exc}") from None
    done = f"Codebook imported: {report['created']} code(s) created, {report['matched']} already there"
    return RedirectResponse(f"/coding/{pid}/codebook?done={quote(done)}", status_code=303)
