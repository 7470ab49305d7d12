"""Respondent pages: the survey behind a personal link, save and resume, autosave, unsubscribe.

The token in the link is the credential (256 bits, stored hashed); forms carry a CSRF token derived
from it. Answers are checked on the server by the same rules as in the page; "Save and continue later"
keeps whatever is valid, "Submit" needs every required, relevant question answered.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from joinedup.survey.instrument import render_form, validate_answers
from joinedup.survey.store import AlreadySubmitted, SurveyError, WaveClosed
from joinedup.web.security import same, token_csrf

router = APIRouter()
# the store could not take the save in time (SQLite's write lock past its busy timeout, no pooled
# PostgreSQL connection free): 503 with Retry-After, nothing saved, never a 500
BUSY = (sa.exc.OperationalError, sa.exc.TimeoutError)


def _message(request: Request, title: str, *paragraphs: str, status_code: int = 200) -> HTMLResponse:
    return request.app.state.ctx.page(request, "message.html", status_code, title=title, paragraphs=paragraphs)


async def _raw_answers(request: Request) -> tuple[dict, dict]:
    """Submitted fields: one value, or a list for repeated names (checkboxes)."""
    data = await request.form()
    raw: dict = {}
    for key in data.keys():
        values = data.getlist(key)
        raw[key] = values if len(values) > 1 else values[0]
    return raw, {k: raw.pop(k) for k in ("csrf", "action") if k in raw}


def _page(request: Request, inv: dict, token: str, answers: dict, errors: dict, message: str = "",
          status_code: int = 200) -> HTMLResponse:
    ctx = request.app.state.ctx
    form = ctx.form(inv["instrument"])
    # select_multiple answers come back from the store as lists; render them as such
    html = render_form(form, answers, errors, f"/s/{token}", token_csrf(ctx.settings.secret, token),
                       autosave_url=f"/s/{token}/autosave")
    return ctx.page(request, "respond.html", status_code, title=form.title, form_html=html, token=token,
                    message=message, privacy_notice=form.privacy_notice, consent_statement=form.consent_statement)


def _closed(request: Request, inv: dict | None = None) -> HTMLResponse:
    """The polite page of a survey that is not taking answers (closed, or not yet open)."""
    import datetime as dt

    if inv is not None and inv.get("status") == "draft":
        return _message(request, "This survey is not open yet", "This survey is not open yet. Please use the link "
                        "in your e-mail again once it opens. Thank you.", status_code=410)
    closes = inv.get("closes_on") if inv else None
    when = f" on {closes:%d %B %Y}" if closes is not None and closes <= dt.date.today() else ""
    return _message(request, "This survey has closed",
                    f"This survey closed{when} and can no longer take answers.",
                    "Thank you for your interest. Answers already submitted are kept and will be used in the evaluation.",
                    status_code=410)


def _unavailable(request: Request) -> HTMLResponse:
    return _message(request, "Survey not available",
                    "This survey cannot be shown at the moment. Please try again later, or contact the survey team "
                    "named in your e-mail.", status_code=503)


@router.get("/s/{token}", response_class=HTMLResponse)
def survey_page(request: Request, token: str):
    ctx = request.app.state.ctx
    try:
        inv = ctx.store.invitation(token)
    except SurveyError as exc:
        return _message(request, "Survey link", str(exc), status_code=404)
    if inv["disposition"] == "complete":
        return _message(request, "Thank you", "Your answers have been submitted. Thank you for taking part.")
    if inv["status"] != "open":
        return _closed(request, inv)
    if inv["disposition"] == "refusal":
        return _message(request, "Survey", "You have told us you do not wish to take part, so this survey is closed "
                        "to you. Thank you.", status_code=410)
    try:
        return _page(request, inv, token, ctx.store.answers(inv["panelist_id"], inv["wave"]), {})
    except LookupError:  # the wave's instrument is not configured on this server
        return _unavailable(request)


@router.post("/s/{token}", response_class=HTMLResponse)
async def survey_post(request: Request, token: str):
    ctx = request.app.state.ctx
    raw, meta = await _raw_answers(request)
    if not same(meta.get("csrf"), token_csrf(ctx.settings.secret, token)):
        return _message(request, "Survey link", "This form has expired; please reload the page.", status_code=403)
    final = meta.get("action") == "submit"

    def work():
        inv = ctx.store.invitation(token)
        clean, errors = validate_answers(ctx.form(inv["instrument"]), raw, final=final)
        if final and errors:
            return inv, {**ctx.store.answers(inv["panelist_id"], inv["wave"]), **clean}, errors, False
        ctx.store.save_response(token, clean, final=final)  # one atomic read-merge-write
        return inv, None if final else ctx.store.answers(inv["panelist_id"], inv["wave"]), errors, True

    try:
        # database work off the event loop, so other requests are read and parsed meanwhile
        inv, answers, errors, saved = await run_in_threadpool(work)
    except AlreadySubmitted:
        return _message(request, "Already submitted", "Your answers had already been submitted, so these changes "
                        "were not saved. Thank you for taking part.", status_code=409)
    except WaveClosed:
        return _closed(request)
    except LookupError:
        return _unavailable(request)
    except SurveyError as exc:
        return _message(request, "Survey", str(exc), status_code=409)
    except BUSY:
        page = _message(request, "Very busy", "The survey is very busy just now and your answers were not saved. "
                        "Please wait a few seconds and press the button again.", status_code=503)
        page.headers["Retry-After"] = "5"
        return page
    if not saved:
        return _page(request, inv, token, {**answers, **{k: raw[k] for k in errors if k in raw}}, errors,
                     status_code=422)
    if final:
        return RedirectResponse(f"/s/{token}", status_code=303)
    note = "Your answers are saved. You can close this page and come back to it from the link in your e-mail."
    if errors:
        note += f" {len(errors)} answer(s) were not saved because they need correcting."
    return _page(request, inv, token, answers, errors, note)


@router.post("/s/{token}/autosave")
async def autosave(request: Request, token: str):
    """204 when saved (``X-Invalid-Answers`` counts answers left out as invalid); 409 when refused,
    with ``X-Refused: already submitted`` once the response is submitted (the page then stops
    autosaving and says so): a submission is final, a late autosave is never merged into it."""
    ctx = request.app.state.ctx
    raw, meta = await _raw_answers(request)
    if not same(meta.get("csrf"), token_csrf(ctx.settings.secret, token)):
        return Response(status_code=403)

    errors: dict = {}

    def clean(inv):  # runs in the save's transaction, on the invitation it read (once) under the lock
        answers, invalid = validate_answers(ctx.form(inv["instrument"]), raw, final=False)
        errors.update(invalid)
        return answers

    try:
        # the store's group commit: acknowledged once committed, with the saves that came meanwhile
        # (survey/group_commit.py); it refuses a submitted response under its lock
        await asyncio.wrap_future(ctx.store.submit_save(token, None, final=False, clean=clean))
    except AlreadySubmitted:
        return Response(status_code=409, headers={"X-Refused": "already submitted"})
    except WaveClosed:
        return Response(status_code=409, headers={"X-Refused": "survey closed"})
    except LookupError:
        return Response(status_code=503)
    except SurveyError:
        return Response(status_code=409)
    except BUSY:  # the page keeps the change and sends it again with the next autosave
        return Response(status_code=503, headers={"Retry-After": "5"})
    return Response(status_code=204, headers={"X-Invalid-Answers": str(len(errors))})


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str):
    ctx = request.app.state.ctx
    try:
        ctx.store.invitation(token)
    except SurveyError as exc:
        return _message(request, "Unsubscribe", str(exc), status_code=404)
    return ctx.page(request, "unsubscribe.html", title="Stop survey e-mails", token=token,
                    form_csrf=token_csrf(ctx.settings.secret, token))


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
async def unsubscribe(request: Request, token: str):
    ctx = request.app.state.ctx
    data = await request.form()
    if not same(data.get("csrf"), token_csrf(ctx.settings.secret, token)):
        return _message(request, "Unsubscribe", "This form has expired; please reload the page.", status_code=403)
    try:
        ctx.store.unsubscribe(token)
    except SurveyError as exc:
        return _message(request, "Unsubscribe", str(exc), status_code=404)
    return _message(request, "Unsubscribed", "You will get no more e-mails about this survey panel.")


@router.get("/s/{token}/withdraw", response_class=HTMLResponse)
def withdraw_page(request: Request, token: str):
    ctx = request.app.state.ctx
    try:
        ctx.store.invitation(token)
    except SurveyError as exc:
        return _message(request, "Withdraw", str(exc), status_code=404)
    return ctx.page(request, "withdraw.html", title="Withdraw from the survey", token=token,
                    form_csrf=token_csrf(ctx.settings.secret, token))


@router.post("/s/{token}/withdraw", response_class=HTMLResponse)
async def withdraw(request: Request, token: str):
    """Delete this person's answers (every wave), stop their links and mail; audit-logged."""
    from joinedup.survey.retention import withdraw as withdraw_answers

    ctx = request.app.state.ctx
    data = await request.form()
    if not same(data.get("csrf"), token_csrf(ctx.settings.secret, token)):
        return _message(request, "Withdraw", "This form has expired; please reload the page.", status_code=403)
    try:
        await run_in_threadpool(withdraw_answers, ctx.store, token)
    except SurveyError as exc:
        return _message(request, "Withdraw", str(exc), status_code=404)
    return _message(request, "You have withdrawn", "Your answers have been deleted and you will get no more e-mails "
                    "about this survey panel. Thank you for your time.")
