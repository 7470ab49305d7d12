"""Password hashing for admin users: scrypt (standard library) with a per-user random salt.

Stored as ``scrypt$n$r$p$salt_hex$hash_hex``; verification recomputes and compares in constant time.
Parameters n=2**14, r=8, p=1 (OWASP's scrypt minimum) take about 50 ms, which slows guessing.

Example:
    >>> h = hash_password("correct horse battery")
    >>> verify_password("correct horse battery", h), verify_password("wrong", h)
    (True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches ``stored``; a missing user still costs one hash (no timing leak)."""
    if not stored:
        hash_password(password)
        return False
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)
