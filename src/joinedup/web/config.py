"""Settings of the web app: where the survey store is, the secret for sessions, the public address
used in e-mailed links, the SMTP server, and the instruments by id.

Example:
    >>> s = WebSettings(store_url="sqlite:///survey.db", secret=b"k" * 32, base_url="https://survey.example")
    >>> s.base_url
    'https://survey.example'
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WebSettings:
    store_url: str
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    base_url: str = "http://127.0.0.1:8000"
    mail: object | None = None          # joinedup.survey.mail.MailSettings
    instruments: dict[str, Path] = field(default_factory=dict)  # instrument id -> XLSForm path
    secure_cookies: bool = False        # True behind HTTPS
    results: Path | None = None         # output folder of a joinedup run, for the site dashboards
    login_policy: object | None = None  # joinedup.survey.accounts.LoginPolicy (default: its defaults)
    idle_minutes: float = 30.0          # a session unused this long ends (survey/accounts.py)
    body_limit_anonymous: int = 1 << 20   # bytes a request without a signed-in session may send (web/limits.py)
    body_limit_signed_in: int = 32 << 20  # bytes a signed-in user may send (roster and response files)

    @classmethod
    def from_env(cls, store_url: str, base_url: str, **kwargs) -> WebSettings:
        """Settings with the secret from ``JOINEDUP_SECRET`` (hex, 32+ bytes), or from the file that
        ``JOINEDUP_SECRET_FILE`` names (the same hex, e.g. a container or systemd credential), so
        sessions survive restarts; without either, a random secret for this process only. A bad
        value raises ValueError with one line naming where it came from (never the value)."""
        raw, where = os.environ.get("JOINEDUP_SECRET"), "JOINEDUP_SECRET"
        if not raw and os.environ.get("JOINEDUP_SECRET_FILE"):
            where = f"JOINEDUP_SECRET_FILE ({os.environ['JOINEDUP_SECRET_FILE']})"
            try:
                raw = Path(os.environ["JOINEDUP_SECRET_FILE"]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ValueError(f"{where} cannot be read: {exc.strerror or exc}") from None
        if not raw:
            return cls(store_url=store_url, secret=secrets.token_bytes(32), base_url=base_url, **kwargs)
        try:
            secret = bytes.fromhex(raw.strip())
        except ValueError:
            raise ValueError(f"{where} must be hexadecimal (e.g. python3 -c 'import secrets; "
                             "print(secrets.token_hex(32))')") from None
        if len(secret) < 32:
            raise ValueError(f"{where} is {len(secret)} bytes; it must be at least 32 (64 hex digits)")
        return cls(store_url=store_url, secret=secret, base_url=base_url, **kwargs)
