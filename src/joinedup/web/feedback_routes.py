"""Routes of the sites' two-way feedback (see :mod:`joinedup.web.feedback`):

* ``POST /sites/{site}/comments`` (section, body), ``POST /sites/{site}/comments/{id}`` (body: an edit
  of the poster's own comment), ``POST /sites/{site}/schemes`` (scheme_id, field, proposed): by anyone
  who may see the site's dashboard (a site user: their own site only; another site answers 404, as the
  dashboards do), each with the session's CSRF token (403 without it);
* ``GET /feedback``: every comment, its history and every correction, for the evaluation team
  (admin and programme roles); ``GET /feedback/comments.csv``, ``/feedback/versions.csv`` and
  ``/feedback/corrections.csv``: the workshop pack, formula-injection safe (:mod:`joinedup.web.csv_safe`);
* ``POST /feedback/corrections/{id}/accept`` and ``.../reject`` (reason): an admin decides a scheme
  correction once, with the session's CSRF token (403 without it; 403 for other roles: the programme
  role reads the feedback but the register is the evaluation team's); a correction decided before
  answers 409 naming who decided it and when (two admins racing: one wins), an unknown one 404.

A form body is read with a cap (:data:`MAX_FORM_BYTES`; 413 beyond it, before parsing), must be
``application/x-www-form-urlencoded`` (415 otherwise) and valid UTF-8 (400 otherwise); text errors
(empty, too long, NUL) answer 400 with the reason, and nothing is stored.

Example:
    >>> attach(app)                                                              # doctest: +SKIP
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from joinedup.survey.store import SurveyError
from joinedup.web.feedback import (
    MAX_COMMENT_CHARS,
    SCHEME_FIELDS,
    SECTIONS,
    AlreadyDecided,
    Feedback,
    NotFound,
)
from joinedup.web.security import COOKIE, same

router = APIRouter()
MAX_FORM_BYTES = 64 * 1024  # the longest comment (4,000 characters of 4-byte UTF-8, each byte
# percent-encoded as 3) is 48 KB; anything larger is not a comment


class FormError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def attach(app) -> None:
    """Create the feedback tables (once, at start-up, so no two requests race to create them), add
    the ``label`` template filter and the routes."""
    from joinedup.report.labels import label

    ctx = app.state.ctx
    ctx.feedback = Feedback(ctx.store)
    ctx.feedback.create()
    ctx.templates.env.filters["label"] = lambda code: _readable(label(code), code)
    app.include_router(router)


def _readable(text, code) -> str:
    """A code without a label reads as words: ``community_mdt`` -> ``Community mdt``."""
    text = str(text)
    return text.replace("_", " ").capitalize() if text == str(code) else text


async def read_form_pairs(request: Request) -> list[tuple[str, str]]:
    """The posted urlencoded form's (field, value) pairs in order, read with a cap (see the module
    docstring): 415 not urlencoded, 413 too large, 400 not UTF-8."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise FormError(415, "send the form as application/x-www-form-urlencoded")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_FORM_BYTES):
        raise FormError(413, f"the form is larger than {MAX_FORM_BYTES // 1024} KB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError(413, f"the form is larger than {MAX_FORM_BYTES // 1024} KB")
    try:
        pairs = parse_qsl(bytes(body).decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise FormError(400, "the form is not valid UTF-8") from None
    return pairs


async def read_form(request: Request) -> dict[str, str]:
    """The posted urlencoded form (:func:`read_form_pairs`); a repeated field keeps its first value."""
    out: dict[str, str] = {}
    for k, v in await read_form_pairs(request):
        out.setdefault(k, v)
    return out


def _user(request: Request):
    ctx = request.app.state.ctx
    session = ctx.sessions.read(request.cookies.get(COOKIE))
    user = ctx.store.user(session.user) if session else None
    return session, user


def _may_see(user: dict, site: str, request: Request) -> bool:
    from joinedup.web.sites import _allowed, _data

    data = _data(request)
    return data is not None and _allowed(user, site) and site in data.sites


async def _checked_form(request: Request, session) -> dict:
    """The capped form of a signed-in user's post, its CSRF token checked (FormError otherwise)."""
    form = await read_form(request)
    if not same(form.get("csrf"), session.csrf):
        raise FormError(403, "CSRF check failed: reload the page and send the form again")
    return form


async def _site_post(request: Request, site: str, action):
    """Common to every site post: signed in, CSRF, the site is the user's, a capped form; then
    ``action(form, user)`` -> the section to reopen. Errors answer with a status and a sentence."""
    ctx = request.app.state.ctx
    session, user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    try:
        form = await _checked_form(request, session)
        if not _may_see(user, site, request):
            raise FormError(404, "There is no dashboard here for you.")
        opened = action(form, user)
    except FormError as exc:
        return ctx.page(request, "message.html", exc.status, title="Not sent", paragraphs=[exc.message])
    except NotFound:
        return ctx.page(request, "message.html", 404, title="Not found", paragraphs=["There is no such comment of yours."])
    except SurveyError as exc:
        return ctx.page(request, "message.html", 400, title="Not sent", paragraphs=[str(exc)])
    from urllib.parse import quote

    return RedirectResponse(f"/sites/{quote(site, safe='')}?sent={opened}#{'correct-schemes' if opened == 'correction' else 'comments-' + opened}",
                            status_code=303)


@router.post("/sites/{site}/comments")
async def post_comment(request: Request, site: str):
    def action(form, user):
        section = form.get("section", "")
        request.app.state.ctx.feedback.add_comment(site, section, user["username"], form.get("body", ""))
        return section
    return await _site_post(request, site, action)


@router.post("/sites/{site}/comments/{comment_id}")
async def edit_comment(request: Request, site: str, comment_id: int):
    def action(form, user):
        fb = request.app.state.ctx.feedback
        if not 0 < comment_id < 2**31:  # beyond the database's integer: no such comment (not a 500)
            raise NotFound(comment_id)
        fb.edit_comment(site, comment_id, user["username"], form.get("body", ""))
        found = fb.comments(site)
        return str(found.loc[found["id"] == comment_id, "section"].iloc[0])
    return await _site_post(request, site, action)


@router.post("/sites/{site}/schemes")
async def post_correction(request: Request, site: str):
    def action(form, user):
        from joinedup.web.sites import _data

        reg = _data(request).table("typology_registry")
        mine = reg[reg["site"] == site] if reg is not None else None
        scheme_id, field = form.get("scheme_id", ""), form.get("field", "")
        current = ""
        if scheme_id != "new":
            row = mine[mine["scheme_id"] == scheme_id] if mine is not None else []
            if len(row) == 0:
                raise SurveyError(f"{site} has no scheme {scheme_id!r} in its register")
            current = str(row[field].iloc[0]) if field in row.columns else ""
        request.app.state.ctx.feedback.add_correction(site, scheme_id, field, current, form.get("proposed", ""),
                                                      user["username"])
        return "correction"
    return await _site_post(request, site, action)


def site_feedback(request: Request, site: str, me: str) -> dict:
    """What the dashboard template shows of the site's feedback (comments grouped by section)."""
    fb = request.app.state.ctx.feedback
    comments = fb.comments(site)
    grouped: dict[str, list] = {}
    for row in comments.itertuples(index=False):
        grouped.setdefault(row.section, []).append(row._asdict())
    sent = request.query_params.get("sent", "")
    return {"comments": grouped, "corrections": fb.corrections(site), "accepted": fb.accepted(site),
            "fields": SCHEME_FIELDS, "me": me,
            "max_chars": MAX_COMMENT_CHARS, "open": sent if sent in SECTIONS or sent == "correction" else ""}


def _team(request: Request):
    _, user = _user(request)
    if user is None:
        return None, RedirectResponse("/admin/login", status_code=303)
    if user["role"] not in ("admin", "programme"):
        return None, Response("Feedback from sites is for the evaluation team.", status_code=403)
    return user, None


@router.get("/feedback", response_class=HTMLResponse)
def feedback_page(request: Request):
    user, refused = _team(request)
    if refused:
        return refused
    fb = request.app.state.ctx.feedback
    return request.app.state.ctx.page(request, "sites/feedback.html", title="Feedback from sites",
                                      comments=fb.comments(), versions=fb.versions(), corrections=fb.corrections(),
                                      sections=SECTIONS, role=user["role"])


@router.post("/feedback/corrections/{correction_id}/{decision}")
async def decide_correction(request: Request, correction_id: int, decision: str):
    """An admin accepts or rejects one scheme correction (see the module docstring)."""
    ctx = request.app.state.ctx
    session, user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    try:
        form = await _checked_form(request, session)
        if user["role"] != "admin":
            raise FormError(403, "Only an admin of the evaluation team accepts or rejects corrections.")
        if decision not in ("accept", "reject"):
            raise FormError(404, "There is no such decision.")
        if not 0 < correction_id < 2**31:  # beyond the database's integer: no such correction (not a 500)
            raise NotFound(correction_id)
        ctx.feedback.decide(correction_id, decision, user["username"], form.get("reason", ""))
    except FormError as exc:
        return ctx.page(request, "message.html", exc.status, title="Not decided", paragraphs=[exc.message])
    except NotFound:
        return ctx.page(request, "message.html", 404, title="Not found", paragraphs=["There is no such correction."])
    except AlreadyDecided as exc:
        return ctx.page(request, "message.html", 409, title="Already decided",
                        paragraphs=[f"{str(exc)[0].upper()}{str(exc)[1:]}: nothing was changed.",
                                    "Reload the feedback page to see the decision."])
    except SurveyError as exc:
        return ctx.page(request, "message.html", 400, title="Not decided", paragraphs=[str(exc)])
    return RedirectResponse(f"/feedback#correction-{correction_id}", status_code=303)


@router.get("/feedback/{name}.csv")
def feedback_csv(request: Request, name: str):
    from joinedup.web.csv_safe import neutralise

    _, refused = _team(request)
    if refused:
        return refused
    fb = request.app.state.ctx.feedback
    frames = {"comments": fb.comments, "versions": fb.versions, "corrections": fb.corrections}
    if name not in frames:
        return Response("Not found", status_code=404)
    frame = frames[name]()
    if "section" in frame:
        frame.insert(frame.columns.get_loc("section") + 1, "section_title", frame["section"].map(SECTIONS))
    return Response(neutralise(frame).to_csv(index=False), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="site-feedback-{name}.csv"'})
