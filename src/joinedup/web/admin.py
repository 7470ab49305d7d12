"""Admin pages behind login: dashboard of response rates, panel roster, waves and mailing, exports and
imports. Every POST checks the session's CSRF token; every page needs a valid session cookie.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from joinedup.survey.aapor import response_rates
from joinedup.survey.store import SurveyError
from joinedup.web.security import COOKIE, same

router = APIRouter(prefix="/admin")


class _Denied(Exception):
    pass


class _Forbidden(Exception):
    pass


def _session(request: Request):
    """The session of a signed-in survey admin (site and programme users may not use these pages)."""
    ctx = request.app.state.ctx
    s = ctx.sessions.read(request.cookies.get(COOKIE))
    if s is None:
        raise _Denied
    user = ctx.store.user(s.user)
    if user is None:
        raise _Denied
    if user["role"] != "admin":
        raise _Forbidden
    return s


async def _checked_form(request: Request):
    """The posted form, after the CSRF check against the session (raises _Denied)."""
    s = _session(request)
    data = await request.form()
    if not same(data.get("csrf"), s.csrf):
        raise _Denied
    return s, data


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/admin/login", status_code=303)


def _guard(handler):
    """Send unauthenticated requests (or forged posts) to the login page."""
    import functools
    import inspect

    @functools.wraps(handler)
    async def wrapper(request: Request, *args, **kwargs):
        try:
            if inspect.iscoroutinefunction(handler):
                return await handler(request, *args, **kwargs)
            # a plain function (database reads, pandas, templates) runs in a worker thread, as FastAPI
            # runs `def` endpoints: this wrapper is async, so calling it here would block the event loop
            return await run_in_threadpool(handler, request, *args, **kwargs)
        except _Forbidden:
            return Response("Survey administration is for survey admins only.", status_code=403)
        except _Denied:
            if request.method == "POST" and request.app.state.ctx.sessions.read(request.cookies.get(COOKIE)):
                return Response("CSRF check failed", status_code=403)
            return _login_redirect()
    return wrapper


def rates_tables(store) -> dict[str, pd.DataFrame]:
    """Response rates by wave; by wave and Pioneer; by wave and organisation type; panel participation."""
    inv = store.invitations_frame()
    if inv.empty:
        return {}
    out = {f"by {' and '.join(by)}": response_rates(inv, by) for by in (["wave"], ["wave", "pioneer"],
                                                                        ["wave", "org_type"],
                                                                        ["wave", "pioneer", "org_type"])}
    answered = inv[inv["disposition"] == "complete"].groupby("panelist_id")["wave"].nunique()
    waves = inv["wave"].nunique()
    out["panel participation"] = pd.DataFrame({"waves_answered": range(waves, 0, -1),
                                               "panelists": [int((answered == k).sum()) for k in range(waves, 0, -1)]})
    for name, frame in out.items():
        for col in ("rr1", "rr2"):
            if col in frame:
                frame[col] = (100 * frame[col]).round(1)
    return out


@router.get("", response_class=HTMLResponse)
@_guard
def dashboard(request: Request):
    _session(request)
    ctx = request.app.state.ctx
    return ctx.page(request, "admin/dashboard.html", title="Survey dashboard", tables=rates_tables(ctx.store),
                    waves=ctx.store.list_waves())


@router.get("/rates.json")
@_guard
def rates_json(request: Request):
    _session(request)
    tables = rates_tables(request.app.state.ctx.store)
    return JSONResponse({k: v.astype(object).where(v.notna(), None).to_dict("records") for k, v in tables.items()})


@router.get("/roster", response_class=HTMLResponse)
@_guard
def roster_page(request: Request, message: str = "", error: str = ""):
    _session(request)
    ctx = request.app.state.ctx
    return ctx.page(request, "admin/roster.html", title="Panel", panelists=ctx.store.panelists(),
                    message=message, error=error)


@router.post("/roster", response_class=HTMLResponse)
@_guard
async def roster_upload(request: Request):
    session, data = await _checked_form(request)
    ctx = request.app.state.ctx
    upload = data.get("file")
    content = await upload.read() if upload is not None and getattr(upload, "filename", "") else None
    name = getattr(upload, "filename", "") or "roster"
    # checking 20,000 rows and writing them takes seconds: a worker thread, so other requests go on
    return await run_in_threadpool(_import_roster, request, ctx, session.user, name, content)


def _import_roster(request: Request, ctx, user: str, name: str, content: bytes | None) -> HTMLResponse:
    from joinedup.survey.pioneer_instrument import pioneer_choices
    from joinedup.survey.roster import read_roster, read_roster_bytes

    try:
        if content is None:
            raise ValueError("choose a CSV file to upload")
        roster = read_roster(read_roster_bytes(content, name), pioneers=[label for _, label in pioneer_choices()],
                             name=name)
        added, updated = ctx.store.upsert_panelists(roster)
        ctx.store.audit(user, "roster import", f"{name}: {added} added, {updated} updated")
    except ValueError as exc:
        return ctx.page(request, "admin/roster.html", 422, title="Panel", panelists=ctx.store.panelists(),
                        error=str(exc))
    return ctx.page(request, "admin/roster.html", title="Panel", panelists=ctx.store.panelists(),
                    message=f"Imported {added} new and updated {updated} panelists.")


@router.get("/waves", response_class=HTMLResponse)
@_guard
def waves_page(request: Request):
    _session(request)
    ctx = request.app.state.ctx
    return ctx.page(request, "admin/waves.html", title="Waves", waves=ctx.store.list_waves())


@router.get("/data", response_class=HTMLResponse)
@_guard
def data_page(request: Request):
    _session(request)
    ctx = request.app.state.ctx
    return ctx.page(request, "admin/data.html", title="Exports and imports", waves=ctx.store.list_waves())


def _csv(frame: pd.DataFrame, name: str) -> Response:
    """Every export leaves through here, with formula injection neutralised (see csv_safe)."""
    from joinedup.web.csv_safe import neutralise

    return Response(neutralise(frame).to_csv(index=False), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/export/responses.csv")
@_guard
def export_responses(request: Request, wave: int | None = Query(None, ge=1, le=10_000)):
    from joinedup.survey.exchange import export_wide

    _session(request)
    ctx = request.app.state.ctx
    return _csv(export_wide(ctx.form("pioneer_ki_survey"), ctx.store.responses(wave)), "responses.csv")


@router.get("/export/invitations.csv")
@_guard
def export_invitations(request: Request, wave: int | None = Query(None, ge=1, le=10_000)):
    _session(request)
    inv = request.app.state.ctx.store.invitations_frame(wave)
    return _csv(inv[["panelist_id", "wave", "pioneer", "org_type", "is_lead", "disposition"]], "invitations.csv")


@router.get("/export/codebook.csv")
@_guard
def export_codebook(request: Request):
    from joinedup.survey.exchange import codebook

    _session(request)
    return _csv(codebook(request.app.state.ctx.form("pioneer_ki_survey")), "codebook.csv")


@router.post("/import", response_class=HTMLResponse)
@_guard
async def import_responses_page(request: Request):
    session, data = await _checked_form(request)
    uploads = {}
    for key in ("file", "mapping"):
        upload = data.get(key)
        if upload is not None and getattr(upload, "filename", ""):
            uploads[key] = (Path(upload.filename).name, await upload.read())
    fields = {k: str(data.get(k, "")) for k in ("wave", "source", "id_column")}
    return await run_in_threadpool(_import_responses, request, session.user, uploads, fields)


def _import_responses(request: Request, user: str, uploads: dict, fields: dict) -> HTMLResponse:
    from joinedup.survey.exchange import import_responses
    from joinedup.web.forms import wave_number

    ctx = request.app.state.ctx
    message, error = "", ""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for key in ("file", "mapping"):
                if key not in uploads:
                    raise ValueError(f"choose the {'response file' if key == 'file' else 'mapping file'}")
                name, content = uploads[key]
                paths[key] = Path(tmp) / (name or key)
                paths[key].write_bytes(content)
            wave = wave_number(fields["wave"])
            result = import_responses(paths["file"], ctx.form("pioneer_ki_survey"), paths["mapping"],
                                      fields["source"], wave, fields["id_column"])
        outcome = ctx.store.import_responses(result.frame, wave)
        message = (f"Imported {outcome.stored} response(s) for wave {wave}."
                   + "".join(f" Not stored, line {r.line}: {r.reason}." for r in outcome.rejects.itertuples())
                   + (f" Columns not mapped: {', '.join(result.unmapped_columns)}." if result.unmapped_columns else ""))
    except (ValueError, KeyError, SurveyError) as exc:
        error = str(exc)
    ctx.store.audit(user, "response import", error or message)
    return ctx.page(request, "admin/data.html", 422 if error else 200, title="Exports and imports",
                    waves=ctx.store.list_waves(), message=message, error=error)


@router.get("/export/audit.csv")
@_guard
def export_audit(request: Request):
    """The audit log: admin actions and every response save or submission (who, what, when)."""
    _session(request)
    return _csv(request.app.state.ctx.store.audit_log(), "audit.csv")
