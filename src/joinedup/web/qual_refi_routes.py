"""REFI-QDA project exchange in the browser: the lead downloads the project as a ``.qdpx`` file (for
NVivo, ATLAS.ti, MAXQDA, QualCoder) and a lead or admin uploads one as a new project. The file format
and what travels are :mod:`joinedup.qual.exchange`'s; the checks on an uploaded file
:mod:`joinedup.qual.qdpx_guard`'s.

Routes: ``GET /coding/{p}/project.qdpx`` (the project's lead only: the file holds every coder's
codings, which a coder codes blind to), ``POST /coding/import-refi`` (admin or lead: multipart
``file`` and ``name`` of the new project; a lead becomes its lead).

Example:
    >>> app.include_router(router)                                               # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from joinedup.web.qual_routes import handled
from joinedup.web.qual_web import Refused, member, signed_in, uploaded

router = APIRouter(prefix="/coding")


def _export_bytes(wb, pid: int, actor: str) -> bytes:
    from joinedup.qual.exchange import export_refi

    with tempfile.TemporaryDirectory(prefix="joinedup-qdpx-") as folder:
        data = export_refi(wb, pid, Path(folder) / "project.qdpx").read_bytes()
    with wb.engine.begin() as c:
        wb.audit(c, pid, actor, "project exported", f"REFI-QDA .qdpx, {len(data):,} bytes")
    return data


@router.get("/{pid}/project.qdpx")
@handled
async def export_project(request: Request, pid: int):
    m = member(request, pid, lead=True)
    data = await run_in_threadpool(_export_bytes, m.wb, pid, m.name)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="project-{pid}.qdpx"'})


@router.post("/import-refi")
@handled
async def import_project(request: Request):
    from joinedup.qual.exchange import import_refi

    m = signed_in(request)
    if m.user["role"] not in ("admin", "lead"):
        raise Refused(403, "Only an admin or a lead can import a coding project.")
    filename, data, fields = await uploaded(request, m)
    project_name = fields.get("name", "").strip() or Path(filename).stem

    def work() -> int:
        with tempfile.TemporaryDirectory(prefix="joinedup-qdpx-") as folder:
            path = Path(folder) / "upload.qdpx"
            path.write_bytes(data)
            pid = import_refi(m.wb, path, project_name, m.name)
        if m.user["role"] == "lead":
            m.wb.add_member(pid, m.name, "lead", m.name)
        return pid

    try:
        pid = await run_in_threadpool(work)
    except ValueError as exc:  # the guard's, the importer's and the workbench's refusals
        raise Refused(400, f"{filename[:100]}: {str(exc).removeprefix('upload.qdpx: ')}") from None
    done = f"Imported from {filename[:100]}: {len(m.wb.sources(pid))} source(s), {len(m.wb.codes(pid))} code(s)"
    return RedirectResponse(f"/coding/{pid}?done={quote(done)}", status_code=303)
