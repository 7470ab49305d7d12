"""Sessions and CSRF protection for the admin pages, with nothing but the standard library.

* The session is a cookie holding ``user|expiry|csrf|session id`` and an HMAC-SHA256 of it under the
  app's secret key: a forged or edited cookie fails the MAC check, and an old one fails the expiry.
  With a registry (the app's: :class:`joinedup.survey.accounts.SessionRegistry`) the session id must
  also be live on the server, so signing out, a password change and 30 minutes of inactivity end it
  there (a copied cookie stops working). Cookies are ``HttpOnly`` and ``SameSite=Strict`` (``Secure``
  when the app is served over HTTPS).
* The login form carries a CSRF token too (login CSRF: a page signing the victim in to the
  attacker's account): an HMAC of a random pre-session cookie, checked on the post.
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
    sid: str = ""


class Sessions:
    """Issue and read signed session cookies (see the module docstring); ``registry`` (optional) keeps
    the live sessions on the server: ``start(sid, user)``, ``alive(sid, user)``, ``end(sid)``."""

    def __init__(self, secret: bytes, lifetime: int = LIFETIME_SECONDS, registry=None):
        if len(secret) < 32:
            raise ValueError("the session secret must be at least 32 bytes (e.g. secrets.token_bytes(32))")
        self._secret = secret
        self.lifetime = lifetime
        self.registry = registry

    def _mac(self, payload: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._secret, payload, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, user: str, now: float | None = None) -> str:
        if "|" in user:
            raise ValueError("user names may not contain '|'")
        expires = int((time.time() if now is None else now) + self.lifetime)
        sid = secrets.token_urlsafe(24)
        if self.registry is not None:
            self.registry.start(sid, user)
        payload = f"{user}|{expires}|{secrets.token_urlsafe(24)}|{sid}".encode()
        return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + self._mac(payload)

    def verify(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie claims, checking only its signature and expiry (no database): enough
        to choose a request body limit before anything is parsed."""
        if not cookie or "." not in cookie or not cookie.isascii():
            return None
        body, mac = cookie.rsplit(".", 1)
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            return None
        if not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        try:
            user, expires, csrf, sid = payload.decode().split("|")
            expires_at = int(expires)
        except ValueError:
            return None
        if expires_at < (time.time() if now is None else now):
            return None
        return Session(user, expires_at, csrf, sid)

    def read(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session of a cookie, or None when it is missing, forged, malformed, expired, signed
        out, idle too long or ended by a password change."""
        s = self.verify(cookie, now)
        if s is None or (self.registry is not None and not self.registry.alive(s.sid, s.user)):
            return None
        return s

    def end(self, cookie: str | None) -> None:
        """Sign out: the session of this cookie ends on the server."""
        s = self.verify(cookie)
        if s is not None and self.registry is not None:
            self.registry.end(s.sid)


def token_csrf(secret: bytes, survey_token: str) -> str:
    """The CSRF token of a respondent's form: an HMAC of their survey token (stable across visits).

    Example:
        >>> token_csrf(b"k" * 32, "abc") == token_csrf(b"k" * 32, "abc")
        True
    """
    return hmac.new(secret, b"respondent|" + survey_token.encode(), hashlib.sha256).hexdigest()


def same(a, b) -> bool:
    """Constant-time equality of two tokens (False if either is missing or not text). Compared as
    UTF-8 bytes: ``hmac.compare_digest`` raises TypeError on non-ASCII str, which was a 500.

    Example:
        >>> same("abc", "abc"), same("é", "abc"), same(None, "abc")
        (True, False, False)
    """
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


LOGIN_COOKIE = "joinedup_login"


def login_csrf(secret: bytes, pre_session: str) -> str:
    """The login form's CSRF token: an HMAC of the random pre-session cookie set with the form.

    Example:
        >>> len(login_csrf(b"k" * 32, "abc"))
        64
    """
    return hmac.new(secret, b"login|" + pre_session.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
