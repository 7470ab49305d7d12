"""Sessions and CSRF protection for the admin pages, with nothing but the standard library.

* The session is a cookie holding ``user|expiry|csrf`` and an HMAC-SHA256 of it under the app's
  secret key: the server keeps no session table, a forged or edited cookie fails the MAC check, and
  an old one fails the expiry. Cookies are ``HttpOnly`` and ``SameSite=Strict`` (``Secure`` when the
  app is served over HTTPS).
* CSRF: every form carries the session's random token in a hidden field; a POST whose token differs
  from the session's (compared in constant time) is refused with 403. SameSite=Strict already stops
  most cross-site posts; the token covers older browsers and same-site attacks.
* Respondent pages need no login: the survey token in the URL (256 bits, stored hashed) is the
  credential, and their forms carry a CSRF token bound to that survey token.

Example:
    >>> s = Sessions(b"k" * 32)
    >>> cookie = s.issue("admin", now=0)
    >>> s.read(cookie, now=60).user
    'admin'
    >>> s.read(cookie + "x", now=60) is None
    True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "joinedup_session"
LIFETIME_SECONDS = 8 * 3600  # a working day


@dataclass(frozen=True)
class Session:
    user: str
    expires: int
    csrf: str


class Sessions:
    """Issue and read signed session cookies (see the module docstring)."""

    def __init__(self, secret: bytes, lifetime: int = LIFETIME_SECONDS):
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes (e.g. secrets.token_bytes(32))")
        self._secret = secret
        self.lifetime = lifetime

    def _mac(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._secret, payload, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, user: str, now: float | None = None) -> str:
        if "|" in user:
            raise ValueError("user names may not contain '|'")
        expires = int((time.time() if now is None else now) + self.lifetime)
        payload = f"{user}|{expires}|{secrets.token_urlsafe(24)}".encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._mac(payload)

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie, or None when it is missing, forged, malformed or expired."""
        if not cookie or "." not in cookie:
            return None
        body, mac = cookie.rsplit(".", 1)
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            user, expires, csrf = payload.decode().split("|")
            expires_at = int(expires)
        except ValueError:
            return None
        if expires_at < (time.time() if now is None else now):
            return None
        return Session(user, expires_at, csrf)


def token_csrf(secret: bytes, survey_token: str) -> str:
    """The CSRF token of a respondent's form: an HMAC of their survey token (stable across visits).

    Example:
        >>> token_csrf(b"k" * 32, "abc") == token_csrf(b"k" * 32, "abc")
        True
    """
    return hmac.new(secret, b"respondent|" + survey_token.encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two tokens (False if either is missing)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
