"""Signing in and out: the login form (with its own CSRF token), throttled and audited; sign-out for
every role (survey admins, programme and site users), ending the session on the server.

A failed sign-in is recorded in the audit log (``login failed``, with the account name tried and the
client address) and counted per account and per address (:mod:`joinedup.survey.accounts`); after a
few failures answers slow down, then the account or address is locked for a while: 429 with
``Retry-After`` and a message saying when to try again (even the right password is refused while
locked), and the lock is audited (``login locked``). Password checks (scrypt, about 50 ms) run in
a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import math
import secrets

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from joinedup.web.security import COOKIE, LOGIN_COOKIE, login_csrf, same

router = APIRouter(prefix="/admin")


def _form(request: Request, status_code: int = 200, error: str = "", headers: dict | None = None) -> HTMLResponse:
    """The login page with a fresh pre-session cookie and the CSRF token bound to it."""
    ctx = request.app.state.ctx
    pre = secrets.token_urlsafe(24)
    page = ctx.page(request, "login.html", status_code, title="Sign in", error=error,
                    login_csrf=login_csrf(ctx.settings.secret, pre))
    page.set_cookie(LOGIN_COOKIE, pre, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies,
                    max_age=3600, path="/admin")
    for key, value in (headers or {}).items():
        page.headers[key] = value
    return page


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request):
    return _form(request)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.post("/login")
async def login(request: Request):
    ctx = request.app.state.ctx
    data = await request.form()
    pre = request.cookies.get(LOGIN_COOKIE)
    if not pre or not same(data.get("csrf"), login_csrf(ctx.settings.secret, pre)):
        return _form(request, 403, "This sign-in form has expired; please sign in again.")
    user, password, address = str(data.get("username", ""))[:100], str(data.get("password", "")), _client(request)
    wait = await run_in_threadpool(ctx.throttle.locked, user, address)
    if wait > 0:
        return _locked(request, wait)
    found = await run_in_threadpool(ctx.store.check_login, user, password)
    if found is None:
        failure = await run_in_threadpool(ctx.throttle.fail, user, address)
        ctx.store.audit(user or "(no name)", "login failed", f"from {address}; failure {failure.failures}")
        for key in failure.newly_locked:
            ctx.store.audit(user or "(no name)", "login locked",
                            f"{key} locked for {ctx.throttle.policy.lock_minutes:g} minutes")
        if failure.delay_s:
            await asyncio.sleep(failure.delay_s)  # slows guessing without holding a worker thread
        if failure.locked:
            return _locked(request, ctx.throttle.locked(user, address))
        return _form(request, 401, "Wrong user name or password.")
    await run_in_threadpool(ctx.throttle.succeed, user)
    ctx.store.audit(user, "login", f"from {address}")
    home = {"admin": "/admin", "coder": "/coding", "lead": "/coding"}.get(found["role"], "/sites")
    response = RedirectResponse(home, status_code=303)
    cookie = await run_in_threadpool(ctx.sessions.issue, user)
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies,
                        max_age=ctx.sessions.lifetime)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


def _locked(request: Request, seconds: float) -> HTMLResponse:
    minutes = max(1, math.ceil(seconds / 60))
    return _form(request, 429, f"Too many failed sign-ins. Sign-in is locked; try again in {minutes} minute(s).",
                 headers={"Retry-After": str(max(1, math.ceil(seconds)))})


@router.post("/logout")
async def logout(request: Request):
    """Sign out, for every role: the session ends on the server and the cookie is removed."""
    ctx = request.app.state.ctx
    cookie = request.cookies.get(COOKIE)
    session = ctx.sessions.read(cookie)
    data = await request.form()
    if session is not None:
        if not same(data.get("csrf"), session.csrf):
            return Response("CSRF check failed", status_code=403)
        ctx.sessions.end(cookie)
        ctx.store.audit(session.user, "logout", "")
    response = RedirectResponse("/admin/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response
