"""Security headers on every response, as a plain ASGI middleware (Starlette's ``BaseHTTPMiddleware``
runs each request through an extra task and stream, which cost measurable time per autosave).

No framing (clickjacking), no sniffing, no referrer leaking the token in ``/s/{token}`` links, a
strict Content-Security-Policy; pages carry answers, tokens and names, so ``Cache-Control: no-store``
(static files may be cached); HSTS only when served over HTTPS (the public address, or the request).

Example:
    >>> app = SecurityHeaders(app, https=True)                                    # doctest: +SKIP
"""

from __future__ import annotations

BASE = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", (b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                      b"script-src 'self'; frame-ancestors 'none'; form-action 'self'"))]
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeaders:
    def __init__(self, app, https: bool = False):
        self.app, self.https = app, https

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(BASE)
        if not scope.get("path", "").startswith(("/static/", "/survey-static/")):
            extra.append((b"cache-control", b"no-store"))
        if self.https or scope.get("scheme") == "https":
            extra.append(HSTS)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in extra if k not in have]  # a route's own header wins
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
