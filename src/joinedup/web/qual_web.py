"""What every qualitative workbench route shares: who is asking and their role in the project, the
checked form of a post (size cap, CSRF), the upload of a file (size cap, streamed to a temporary file
by the multipart parser), and answers for refusals (a status and a sentence, never a 500).

A project the user may not open answers 404 whether or not it exists (no hint); programme and site
logins get 404 for every workbench page (they never see sources or segments).

Example:
    >>> guard = await member(request, 3)                                         # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from joinedup.web.feedback_routes import FormError, read_form
from joinedup.web.security import COOKIE, same

MAX_UPLOAD_BYTES = 20 << 20  # 20 MiB: a long DOCX with pictures; text of 300,000 words is about 2 MB


class Refused(Exception):
    """A request answered with ``status`` and a sentence (or a redirect when ``to`` is set)."""

    def __init__(self, status: int, message: str = "", to: str | None = None):
        super().__init__(message)
        self.status, self.message, self.to = status, message, to


@dataclass
class Member:
    ctx: object
    wb: object
    user: dict
    role: str | None    # lead, coder; None outside a project
    csrf: str

    @property
    def name(self) -> str:
        return self.user["username"]


def signed_in(request: Request) -> Member:
    """The signed-in user (Refused with a redirect to the login page otherwise)."""
    ctx = request.app.state.ctx
    session = ctx.sessions.read(request.cookies.get(COOKIE))
    user = ctx.store.user(session.user) if session else None
    if user is None:
        raise Refused(303, to="/admin/login")
    return Member(ctx, ctx.workbench, user, None, session.csrf)


def member(request: Request, project_id: int, lead: bool = False) -> Member:
    """The user and their role in the project; 404 if they may not open it, 403 for a coder on a
    lead's page."""
    m = signed_in(request)
    m.role = m.wb.role_in(m.user, project_id) if 0 < project_id < 2**31 else None
    if m.role is None:
        raise Refused(404, "There is no coding project here for you.")
    if lead and m.role != "lead":
        raise Refused(403, "Only the project's lead can do this.")
    return m


async def posted(request: Request, m: Member) -> dict[str, str]:
    """The capped urlencoded form of a post, its CSRF token checked."""
    try:
        form = await read_form(request)
    except FormError as exc:
        raise Refused(exc.status, exc.message) from None
    if not same(form.get("csrf"), m.csrf):
        raise Refused(403, "CSRF check failed: reload the page and send the form again")
    return form


async def uploaded(request: Request, m: Member) -> tuple[str, bytes, dict]:
    """``(file name, bytes, other fields)`` of a multipart upload, refused above MAX_UPLOAD_BYTES
    before parsing when the size is declared, and after streaming when it is not."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_UPLOAD_BYTES + 64 * 1024):
        raise Refused(413, f"The file is too large: at most {MAX_UPLOAD_BYTES >> 20} MB can be uploaded.")
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise Refused(415, "Send the file with the upload form (multipart/form-data).")
    try:
        form = await request.form(max_files=1, max_fields=20)
    except Exception as exc:  # noqa: BLE001 -- Starlette's parser errors (bad boundary, too many parts)
        raise Refused(400, f"The upload could not be read ({type(exc).__name__}); send it again.") from None
    if not same(form.get("csrf"), m.csrf):
        raise Refused(403, "CSRF check failed: reload the page and send the form again")
    upload = form.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise Refused(400, "Choose a file to upload.")
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise Refused(413, f"The file is too large: at most {MAX_UPLOAD_BYTES >> 20} MB can be uploaded.")
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return upload.filename, data, fields


def refusal(request: Request, exc: Refused) -> HTMLResponse:
    if exc.to:
        return RedirectResponse(exc.to, status_code=303)
    titles = {400: "Not done", 403: "Not allowed", 404: "Not found", 413: "Too large", 415: "Not done"}
    return request.app.state.ctx.page(request, "message.html", exc.status, title=titles.get(exc.status, "Not done"),
                                      paragraphs=[exc.message])


def whole(value, label: str, low: int = 0, high: int = 2**31 - 1) -> int:
    """A whole number from a form, or Refused(400) naming the field."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and low <= int(text) <= high):
        raise Refused(400, f"{label}: {text[:40]!r} is not a whole number from {low:,} to {high:,}")
    return int(text)
