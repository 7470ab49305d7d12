"""A limit on a request's total body size, enforced before anything is parsed (an ASGI middleware).

A declared ``Content-Length`` above the limit is refused at once, unread; a body sent without one
(``Transfer-Encoding: chunked``, streamed) is counted as it arrives and refused as soon as it passes
the limit, so neither a large upload nor an endless stream is buffered or parsed. Anonymous requests
(respondents, the login form, anyone at all) get a small limit; signed-in users a larger one (roster
and response files). "Signed in" here means a cookie whose signature checks (no database look-up,
which would let an anonymous flood cost a query each); the route still checks the session itself.
The answer is ``413 Content Too Large`` (RFC 9110 section 15.5.14) with a plain-text reason.

Example:
    >>> app = BodyLimit(app, anonymous=1 << 20, signed_in=32 << 20, signed=lambda cookie: False)  # doctest: +SKIP
"""

from __future__ import annotations

from http.cookies import SimpleCookie

ANONYMOUS_LIMIT = 1 << 20      # 1 MiB: a whole survey page of long free-text answers, percent-encoded
SIGNED_IN_LIMIT = 32 << 20     # 32 MiB: a roster or response file (20,000 rows is about 2 MB)


class _TooLarge(Exception):
    pass


def _cookie(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    for key, value in headers:
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no session (never a 500)
                return None
            if name in jar:
                return jar[name].value
    return None


class BodyLimit:
    """ASGI middleware (see the module docstring); ``signed(cookie_value) -> bool``."""

    def __init__(self, app, anonymous: int = ANONYMOUS_LIMIT, signed_in: int = SIGNED_IN_LIMIT, signed=None,
                 cookie: str = "joinedup_session"):
        self.app, self.anonymous, self.signed_in = app, anonymous, signed_in
        self.signed, self.cookie = signed or (lambda _value: False), cookie

    def _limit(self, scope) -> int:
        value = _cookie(scope.get("headers", []), self.cookie)
        return self.signed_in if value and self.signed(value) else self.anonymous

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _refuse(send, 400, "Bad Request: the Content-Length header is not a number.")
                return
            if int(declared) > limit:
                await _refuse(send, 413, f"Request too large: at most {limit:,} bytes may be sent here.")
                return
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def watched(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception as exc:
            if started or not _too_large(exc):
                raise
            await _refuse(send, 413, f"Request too large: at most {limit:,} bytes may be sent here.")


def _too_large(exc: BaseException | None) -> bool:
    """True if the limit was passed: the exception itself, or wrapped by the app's middleware (an
    ExceptionGroup from a task group, or another exception raised from it)."""
    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, _TooLarge):
            return True
        if isinstance(exc, BaseExceptionGroup):
            return exc.subgroup(lambda e, group=exc: e is not group and _too_large(e)) is not None
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


async def _refuse(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body})
