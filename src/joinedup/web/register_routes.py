"""Routes of the initiative register in the dashboards (see :mod:`joinedup.process.register_book`):

* ``GET /sites/{site}/register``: the site's register entries, its proposals and what became of them,
  and two forms: propose a new initiative, propose a correction of one of its own (stage for a period,
  dates, scale, model, target groups). ``POST /sites/{site}/register/proposals`` sends one. A site
  user sees and proposes for their own site only (another site answers 404, as the dashboards do).
* ``GET /register``: the evaluation team's review page (admin and programme roles; 403 for site
  users): pending proposals, each with accept, reject (reason) and edit-then-accept forms, and the
  register. ``POST /register/proposals/{id}/{accept|reject|edit}``: an admin decides, once (409 when
  decided before: of two reviewers at once one wins). ``POST /register/import`` (multipart, ``file``):
  an admin loads the team's register file (CSV or Excel), checked by the register's rules; accepted
  rows are written over the stored ones (initiative, period), rejected rows are listed with their
  line and reasons and not stored.
* ``GET /register/{register,proposals,changes}.csv``: exports for the team, formula-injection safe
  (:mod:`joinedup.web.csv_safe`).

Every post needs the session's CSRF token (403 without it); forms are capped, urlencoded, UTF-8
(:func:`read_form_lists`); errors answer 400 with the reason and store nothing.

Example:
    >>> attach(app)                                                              # doctest: +SKIP
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from joinedup.process.register_book import PROPOSAL_FIELDS, AlreadyDecided, NotFound, RegisterBook
from joinedup.process.vocab import (
    INITIATIVE_TYPES,
    MODELS,
    SCALE_UNITS,
    STAGES,
    TARGET_GROUPS_REGISTER,
)
from joinedup.survey.store import SurveyError
from joinedup.web.feedback_routes import FormError, _user, read_form_pairs
from joinedup.web.security import same

router = APIRouter()
CHOICES = {"initiative_type": INITIATIVE_TYPES, "model": MODELS, "stage": STAGES, "scale_unit": SCALE_UNITS,
           "target_groups": TARGET_GROUPS_REGISTER}


def attach(app) -> None:
    """Make the register's tables if missing (migration 5 does on ``store.create``) and add the routes."""
    ctx = app.state.ctx
    ctx.register_book = RegisterBook(ctx.store)
    ctx.register_book.create()
    app.include_router(router)


async def read_form_lists(request: Request) -> dict[str, list[str]]:
    """The posted form (:func:`joinedup.web.feedback_routes.read_form_pairs`, the feedback forms' cap),
    every value of a repeated field kept (target groups are ticked boxes)."""
    out: dict[str, list[str]] = {}
    for k, v in await read_form_pairs(request):
        out.setdefault(k, []).append(v)
    return out


def _values(form: dict[str, list[str]]) -> dict[str, str]:
    """The register fields of a form: one value each, target groups joined with ``;``."""
    out = {f: (form.get(f) or [""])[0] for f in PROPOSAL_FIELDS}
    out["target_groups"] = ";".join(v for v in form.get("target_groups", []) if v.strip())
    return out


def _site_known(request: Request, site: str) -> bool:
    from joinedup.web.sites import _data

    data = _data(request)
    return (data is not None and site in data.sites) or not request.app.state.ctx.register_book.entries(site).empty


def _may_see(user: dict, site: str, request: Request) -> bool:
    from joinedup.web.sites import _allowed

    return _allowed(user, site) and _site_known(request, site)


def _message(request: Request, status: int, title: str, text: str):
    return request.app.state.ctx.page(request, "message.html", status, title=title, paragraphs=[text])


@router.get("/sites/{site}/register", response_class=HTMLResponse)
def site_register(request: Request, site: str):
    _, user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    if not _may_see(user, site, request):
        return _message(request, 404, "Not found", "There is no register here for you.")
    book = request.app.state.ctx.register_book
    entries = book.entries(site)
    return request.app.state.ctx.page(
        request, "sites/register.html", title=f"{site}: initiative register", site=site, entries=entries,
        initiatives=sorted(entries["initiative_id"].unique()), proposals=book.proposals(site), choices=CHOICES,
        role=user["role"], sent=request.query_params.get("sent", "") == "1")


@router.post("/sites/{site}/register/proposals")
async def post_proposal(request: Request, site: str):
    ctx = request.app.state.ctx
    session, user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    try:
        form = await read_form_lists(request)
        if not same((form.get("csrf") or [""])[0], session.csrf):
            raise FormError(403, "CSRF check failed: reload the page and send the form again")
        if not _may_see(user, site, request):
            raise FormError(404, "There is no register here for you.")
        first = {k: v[0] for k, v in form.items()}
        ctx.register_book.propose_once(site, user["username"], first.get("kind", ""), _values(form),
                                       initiative_id=first.get("initiative_id", ""), note=first.get("note", ""))
    except FormError as exc:
        return _message(request, exc.status, "Not sent", exc.message)
    except NotFound as exc:
        return _message(request, 404, "Not found", str(exc))
    except SurveyError as exc:
        return _message(request, 400, "Not sent", str(exc))
    return RedirectResponse(f"/sites/{quote(site, safe='')}/register?sent=1#proposals", status_code=303)


def _team(request: Request):
    _, user = _user(request)
    if user is None:
        return None, RedirectResponse("/admin/login", status_code=303)
    if user["role"] not in ("admin", "programme"):
        return None, Response("The initiative register is reviewed by the evaluation team.", status_code=403)
    return user, None


@router.get("/register", response_class=HTMLResponse)
def review_page(request: Request):
    user, refused = _team(request)
    if refused:
        return refused
    book = request.app.state.ctx.register_book
    proposals = book.proposals()
    return request.app.state.ctx.page(
        request, "sites/register_review.html", title="Initiative register: review", entries=book.entries(),
        pending=proposals[proposals["decision"] == ""], decided=proposals[proposals["decision"] != ""],
        choices=CHOICES, role=user["role"], rejects=None)


async def _admin_post(request: Request):
    """The signed-in admin and their CSRF-checked form (FormError otherwise)."""
    session, user = _user(request)
    if user is None:
        return None, None
    form = await read_form_lists(request)
    if not same((form.get("csrf") or [""])[0], session.csrf):
        raise FormError(403, "CSRF check failed: reload the page and send the form again")
    if user["role"] != "admin":
        raise FormError(403, "Only an admin of the evaluation team reviews the register.")
    return user, form


@router.post("/register/proposals/{proposal_id}/{decision}")
async def decide(request: Request, proposal_id: int, decision: str):
    ctx = request.app.state.ctx
    try:
        user, form = await _admin_post(request)
        if user is None:
            return RedirectResponse("/admin/login", status_code=303)
        if decision not in ("accept", "reject", "edit"):
            raise FormError(404, "There is no such decision.")
        if not 0 < proposal_id < 2**31:  # beyond the database's integer: no such proposal (not a 500)
            raise NotFound(proposal_id)
        edits = _values(form) if decision == "edit" else None
        ctx.register_book.decide(proposal_id, decision, user["username"], (form.get("reason") or [""])[0], edits)
    except FormError as exc:
        return _message(request, exc.status, "Not decided", exc.message)
    except NotFound:
        return _message(request, 404, "Not found", "There is no such proposal.")
    except AlreadyDecided as exc:
        return ctx.page(request, "message.html", 409, title="Already decided",
                        paragraphs=[f"{str(exc)[0].upper()}{str(exc)[1:]}: nothing was changed.",
                                    "Reload the review page to see the decision."])
    except SurveyError as exc:
        return _message(request, 400, "Not decided", str(exc))
    return RedirectResponse(f"/register#proposal-{proposal_id}", status_code=303)


MAX_UPLOAD_BYTES = 16 << 20  # a register of 25 sites x 40 initiatives x 40 quarters is about 5 MB


@router.post("/register/import", response_class=HTMLResponse)
async def import_file(request: Request):
    """An admin loads a register file (see the module docstring); the review page comes back with
    what was loaded and the rejects."""
    from starlette.concurrency import run_in_threadpool

    ctx = request.app.state.ctx
    session, user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "multipart/form-data":
        return _message(request, 415, "Not loaded", "send the register as a file (multipart/form-data)")
    from starlette.exceptions import HTTPException
    from starlette.formparsers import MultiPartException

    try:
        form = await request.form(max_files=1, max_fields=10)
    except (MultiPartException, HTTPException, ValueError):  # the sender's error, never a 500
        return _message(request, 400, "Not loaded", "the form could not be read (malformed multipart body)")
    if not same(str(form.get("csrf", "")), session.csrf):
        return _message(request, 403, "Not loaded", "CSRF check failed: reload the page and send the form again")
    if user["role"] != "admin":
        return _message(request, 403, "Not loaded", "Only an admin of the evaluation team loads the register.")
    upload = form.get("file")
    name = str(getattr(upload, "filename", "") or "")
    if not name:
        return _message(request, 400, "Not loaded", "choose a register file (.csv or .xlsx)")
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        return _message(request, 413, "Not loaded", f"the file is larger than {MAX_UPLOAD_BYTES >> 20} MB")
    outcome = await run_in_threadpool(_load, ctx, user["username"], name, content)
    if isinstance(outcome, str):
        return _message(request, 400, "Not loaded", outcome)
    loaded, changed, rejects = outcome
    proposals = ctx.register_book.proposals()
    return ctx.page(request, "sites/register_review.html", 422 if len(rejects) else 200,
                    title="Initiative register: review", entries=ctx.register_book.entries(),
                    pending=proposals[proposals["decision"] == ""], decided=proposals[proposals["decision"] != ""],
                    choices=CHOICES, role=user["role"], rejects=rejects,
                    message=f"{name}: {loaded} rows loaded ({changed} cells changed), {len(rejects)} rejected.")


def _load(ctx, actor: str, name: str, content: bytes):
    """Check and store an uploaded register; (rows loaded, cells changed, rejects) or a sentence why not."""
    import tempfile
    import zipfile
    from pathlib import Path

    from openpyxl.utils.exceptions import InvalidFileException

    from joinedup.process.register import RegisterError
    from joinedup.process.register_io import read_register

    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return f"{name[:80]!r} is not a .csv or .xlsx file"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"register{suffix}"
        path.write_bytes(content)
        try:
            reg = read_register(path)
        except RegisterError as exc:
            return str(exc).replace(str(path), name[:80])
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            # a damaged workbook (not a zip, no sheet): the file's fault, not a 500
            return f"{name[:80]} is not a readable register ({type(exc).__name__})"
    try:
        changed = ctx.register_book.import_register(reg, actor, what=name[:80]) if len(reg.rows) else 0
    except SurveyError as exc:
        return str(exc)
    return len(reg.rows), changed, reg.rejects


@router.get("/register/{name}.csv")
def register_csv(request: Request, name: str):
    from joinedup.web.csv_safe import neutralise

    _, refused = _team(request)
    if refused:
        return refused
    book = request.app.state.ctx.register_book
    frames = {"register": book.entries, "proposals": book.proposals, "changes": book.changes}
    if name not in frames:
        return Response("Not found", status_code=404)
    frame = frames[name]()
    if name == "register":
        frame = frame.drop(columns="id")
    return Response(neutralise(frame).to_csv(index=False), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="initiative-{name}.csv"'})
