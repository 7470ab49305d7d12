"""The qualitative workbench's pages for every member: the project list, a project's sources and
upload, reading and coding a source (codings in the margin, memos), and suggestions' accept/reject.
The lead's pages (codebook, agreement, retrieval, the framework matrix) are in ``qual_lead_routes``.

Routes (all behind sign-in; a project the user is not a member of answers 404):
``GET /coding``, ``POST /coding/new`` (admin or lead login), ``GET /coding/{p}``,
``POST /coding/{p}/members`` (lead), ``POST /coding/{p}/upload``, ``GET /coding/{p}/sources/{s}``,
``POST /coding/{p}/sources/{s}/codings``, ``POST /coding/{p}/codings/{c}/remove``,
``POST /coding/{p}/codings/{c}/accept``, ``POST /coding/{p}/memos``.

Example:
    >>> attach(app)                                                              # doctest: +SKIP
"""

from __future__ import annotations

import functools
import itertools
from pathlib import PurePath

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse

from joinedup.qual.projects import QualError
from joinedup.qual.reading import SourceError, read_upload
from joinedup.web.qual_web import Refused, member, posted, refusal, signed_in, uploaded, whole

router = APIRouter(prefix="/coding")


def handled(route):
    """Refusals and the workbench's errors become a page with a status and the reason (never a 500)."""
    @functools.wraps(route)
    async def wrapper(request: Request, *args, **kwargs):
        try:
            return await route(request, *args, **kwargs)
        except Refused as exc:
            return refusal(request, exc)
        except (QualError, SourceError) as exc:
            return refusal(request, Refused(400, str(exc)))
    return wrapper


def attach(app) -> None:
    """Add the workbench's routes; its tables are made by the store's migrations."""
    from joinedup.qual.projects import Workbench
    from joinedup.web import qual_analysis_routes, qual_lead_routes, qual_refi_routes

    app.state.ctx.workbench = Workbench(app.state.ctx.store)
    app.include_router(router)
    app.include_router(qual_lead_routes.router)
    app.include_router(qual_analysis_routes.router)
    app.include_router(qual_refi_routes.router)


def page(request, m, template: str, status_code: int = 200, **values):
    return m.ctx.page(request, template, status_code, role=m.user["role"], **values)


@router.get("")
@handled
async def projects(request: Request):
    m = signed_in(request)
    if m.user["role"] not in ("admin", "lead", "coder"):
        raise Refused(404, "There is no coding project here for you.")
    return page(request, m, "qual/projects.html", title="Coding projects", projects=m.wb.projects_for(m.user),
                may_create=m.user["role"] in ("admin", "lead"), message=request.query_params.get("done", "")[:200])


@router.post("/new")
@handled
async def new_project(request: Request):
    m = signed_in(request)
    if m.user["role"] not in ("admin", "lead"):
        raise Refused(403, "Only an admin or a lead can create a coding project.")
    form = await posted(request, m)
    pid = m.wb.create_project(form.get("name", ""), m.name, description=form.get("description", "")[:2000])
    if m.user["role"] == "lead":
        m.wb.add_member(pid, m.name, "lead", m.name)
    return RedirectResponse(f"/coding/{pid}", status_code=303)


@router.get("/{pid}")
@handled
async def project_home(request: Request, pid: int):
    m = member(request, pid)
    return page(request, m, "qual/project.html", title=m.wb.project(pid)["name"], pid=pid, my_role=m.role,
                sources=m.wb.sources(pid), cases=m.wb.cases(pid), members=m.wb.members(pid),
                waves=m.ctx.store.list_waves() if m.role == "lead" else [],
                message=request.query_params.get("done", "")[:200])


@router.post("/{pid}/members")
@handled
async def set_member(request: Request, pid: int):
    m = member(request, pid, lead=True)
    form = await posted(request, m)
    username, role = form.get("username", "").strip(), form.get("role", "")
    user = m.ctx.store.user(username)
    if user is None or user["role"] not in ("coder", "lead"):
        raise Refused(400, f"{username[:100]!r} is not a coder or lead login (create it with "
                           "`joinedup survey add-user --role coder`).")
    m.wb.add_member(pid, username, role, m.name)
    return RedirectResponse(f"/coding/{pid}?done=Member+set", status_code=303)


def _attributes(text: str) -> dict:
    """``name = value`` lines (or ``;``-separated) to a dict; a line without ``=`` is refused."""
    out = {}
    for part in text.replace(";", "\n").splitlines():
        if part.strip():
            if "=" not in part:
                raise Refused(400, f"Attributes: {part.strip()[:60]!r} is not 'name = value' (e.g. site = Leeds)")
            key, value = part.split("=", 1)
            out[key.strip()] = value.strip()
    return out


@router.post("/{pid}/upload")
@handled
async def upload(request: Request, pid: int):
    m = member(request, pid)
    name, data, fields = await uploaded(request, m)
    text, kind = await run_in_threadpool(read_upload, name, data)
    source = (fields.get("name") or PurePath(name).stem).strip()
    case = fields.get("case", "").strip() or None
    sid = m.wb.add_source(pid, source, text, kind, m.name, case=case, attributes=_attributes(fields.get("attributes", "")))
    return RedirectResponse(f"/coding/{pid}/sources/{sid}", status_code=303)


def pieces(text: str, codings: list[dict], turns: list[dict]) -> list[dict]:
    """The text cut at every coding and speaker-label boundary: each piece's start offset (code points,
    as stored), its text, how many visible codings cover it and whether it is a speaker's label."""
    cuts = {0, len(text)}
    labels = set()
    for t in turns:
        end = min(t["start"] + len(t["speaker"]) + 1, len(text))
        cuts |= {t["start"], end}
        labels.add(t["start"])
    for c in codings:
        cuts |= {c["start"], c["end"]}
    edges = sorted(cuts)
    out = []
    for a, b in itertools.pairwise(edges):
        n = sum(1 for c in codings if c["start"] <= a and b <= c["end"] and c["status"] != "suggested")
        out.append({"start": a, "text": text[a:b], "coded": n, "speaker": a in labels})
    return out


@router.get("/{pid}/sources/{sid}")
@handled
async def read_source(request: Request, pid: int, sid: int):
    m = member(request, pid)
    source = m.wb.source(pid, sid)
    codings = m.wb.visible_codings(pid, m.name, m.role, source_id=sid)
    text = source["text"]
    for c in codings:
        c["excerpt"] = text[c["start"]:c["end"]][:160]
    memos = m.wb.memos(pid, "source", sid)
    from joinedup.qual.suggestions import acceptance, last_heldout

    return page(request, m, "qual/source.html", title=source["name"], pid=pid, source=source, my_role=m.role,
                pieces=pieces(text, codings, source["turns"]), codings=codings, codes=m.wb.codes(pid), memos=memos,
                blind=m.wb.project(pid)["blind"], length=len(text), acceptance=acceptance(m.wb, pid), heldout=last_heldout(m.wb, pid), message=request.query_params.get("done", "")[:200])


@router.post("/{pid}/sources/{sid}/codings")
@handled
async def code_span(request: Request, pid: int, sid: int):
    m = member(request, pid)
    form = await posted(request, m)
    start, end = whole(form.get("start"), "From character"), whole(form.get("end"), "To character")
    status = "agreed" if form.get("agreed") == "yes" and m.role == "lead" else "blind"
    ids = [whole(k.split("-", 1)[1], "code") for k, v in form.items() if k.startswith("code-") and v == "on"]
    if not ids:
        raise Refused(400, "Choose at least one code to apply to the selection.")
    made = 0
    for cid in ids:
        made += m.wb.add_coding(pid, sid, start, end, cid, m.name, m.name, status=status)[1]
    return RedirectResponse(f"/coding/{pid}/sources/{sid}?done=Coded+{start}-{end}+with+{made}+new+coding(s)#margin",
                            status_code=303)


@router.post("/{pid}/sources/{sid}/suggest")
@handled
async def suggest(request: Request, pid: int, sid: int):
    from joinedup.qual.suggestions import heldout_agreement, suggest_for_source

    m = member(request, pid)
    await posted(request, m)
    made = await run_in_threadpool(suggest_for_source, m.wb, pid, sid, m.name)
    try:  # the held-out agreement shown beside the suggestions (needs four coded segments)
        await run_in_threadpool(heldout_agreement, m.wb, pid, m.name)
    except QualError:
        pass
    return RedirectResponse(f"/coding/{pid}/sources/{sid}?done={made}+suggestion(s)+made#margin", status_code=303)


@router.post("/{pid}/codings/{cid}/remove")
@handled
async def remove_coding(request: Request, pid: int, cid: int):
    m = member(request, pid)
    await posted(request, m)
    row = m.wb.coding(pid, cid)
    if row["status"] == "suggested" or m.role == "lead" or row["coder"] == m.name:
        m.wb.remove_coding(pid, cid, m.name, "lead" if row["status"] == "suggested" else m.role)
    else:
        raise Refused(403, "You can remove only your own codings.")
    return RedirectResponse(f"/coding/{pid}/sources/{row['source_id']}?done=Removed#margin", status_code=303)


@router.post("/{pid}/codings/{cid}/accept")
@handled
async def accept_suggestion(request: Request, pid: int, cid: int):
    m = member(request, pid)
    await posted(request, m)
    row = m.wb.coding(pid, cid)
    m.wb.accept_suggestion(pid, cid, m.name)
    return RedirectResponse(f"/coding/{pid}/sources/{row['source_id']}?done=Suggestion+accepted#margin", status_code=303)


@router.post("/{pid}/memos")
@handled
async def write_memo(request: Request, pid: int):
    m = member(request, pid)
    form = await posted(request, m)
    target, target_id = form.get("target", ""), whole(form.get("target_id"), "memo target")
    if target == "source":
        m.wb.source(pid, target_id)
        back = f"/coding/{pid}/sources/{target_id}"
    elif target == "code":
        m.wb.code(pid, target_id)
        back = f"/coding/{pid}/codebook"
    elif target == "coding":
        row = m.wb.coding(pid, target_id)
        back = f"/coding/{pid}/sources/{row['source_id']}"
    else:
        target, target_id, back = "project", pid, f"/coding/{pid}"
    m.wb.add_memo(pid, target, target_id, form.get("text", ""), m.name)
    return RedirectResponse(f"{back}?done=Memo+saved", status_code=303)
