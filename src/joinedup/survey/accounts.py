"""Sign-in protection kept in the survey store: server-side sessions and login throttling.

* **Sessions** (:class:`SessionRegistry`): a signed cookie is only honoured while its session row
  exists, so signing out, a password change (``add_user`` resets it) and inactivity end a session on
  the server, not just in the browser. Inactivity expiry follows OWASP's Session Management Cheat
  Sheet (15-30 minutes idle for a low-risk application; we use 30) on top of the cookie's absolute
  8-hour lifetime. ``last_seen`` is written at most once a minute per session, so reading pages does
  not turn every request into a database write.
* **Throttling** (:class:`LoginThrottle`): failed sign-ins are counted per account and per client
  address in a sliding window. After ``slow_after`` failures each further failure is answered more
  slowly (a growing, capped delay); after ``account_limit`` failures for one account (or
  ``address_limit`` from one address) that key is locked for ``lock_minutes``: every sign-in to it is
  refused with 429 and ``Retry-After``, even with the right password (OWASP Authentication Cheat
  Sheet: account lockout with a time-limited lock, plus per-source limits against password spraying).
  Counts are updated in one write transaction, so concurrent guesses all count.

Example:
    >>> from joinedup.survey.store import SurveyStore
    >>> store = SurveyStore("sqlite:///:memory:"); store.create()
    >>> throttle = LoginThrottle(store, LoginPolicy(account_limit=2, address_limit=10))
    >>> [throttle.fail("ann", "10.0.0.1").locked for _ in range(2)]
    [False, True]
    >>> throttle.locked("ann", "10.0.0.9") > 0
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import sqlalchemy as sa

from joinedup.survey.store import LOGIN_FAILURES, SESSIONS, now

IDLE_MINUTES = 30


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class SessionRegistry:
    """Which sessions are live (see the module docstring)."""

    def __init__(self, store, idle_minutes: float = IDLE_MINUTES):
        self.store = store
        self.idle = dt.timedelta(minutes=idle_minutes)

    def start(self, sid: str, username: str) -> None:
        t = now()
        with self.store.engine.begin() as c:
            c.execute(sa.insert(SESSIONS).values(sid_hash=_sid_hash(sid), username=username, created_at=t,
                                                 last_seen=t))

    def alive(self, sid: str, username: str, at: dt.datetime | None = None) -> bool:
        """True if the session exists, belongs to ``username`` and was used within the idle limit
        (then its ``last_seen`` moves on); an idle session is deleted."""
        at = at or now()
        key = SESSIONS.c.sid_hash == _sid_hash(sid)
        with self.store.engine.connect() as c:
            row = c.execute(sa.select(SESSIONS.c.username, SESSIONS.c.last_seen).where(key)).first()
        if row is None or row.username != username:
            return False
        if at - row.last_seen > self.idle:
            self.end(sid)
            return False
        if at - row.last_seen > dt.timedelta(minutes=1):
            with self.store.engine.begin() as c:
                c.execute(sa.update(SESSIONS).where(key).values(last_seen=at))
        return True

    def end(self, sid: str) -> None:
        with self.store.engine.begin() as c:
            c.execute(sa.delete(SESSIONS).where(SESSIONS.c.sid_hash == _sid_hash(sid)))

    def end_all(self, username: str) -> int:
        """End every session of a user (password change, account removed); returns how many."""
        with self.store.engine.begin() as c:
            return c.execute(sa.delete(SESSIONS).where(SESSIONS.c.username == username)).rowcount


@dataclass(frozen=True)
class LoginPolicy:
    """How many failures slow down and lock sign-in, per account and per client address."""

    slow_after: int = 3          # failures (per account) before answers slow down
    max_delay_s: float = 4.0     # cap of the slow-down
    account_limit: int = 5       # failures within the window that lock the account
    address_limit: int = 20      # failures within the window that lock the client address
    window_minutes: float = 15.0
    lock_minutes: float = 15.0


@dataclass(frozen=True)
class Failure:
    failures: int       # the account's failures in the window, this one included
    delay_s: float      # how long to wait before answering
    locked: bool        # this failure locked the account or the address
    newly_locked: tuple[str, ...] = ()  # keys locked by this failure ("account x", "address y")


def _insert(conn):
    """The dialect's INSERT (SQLite and PostgreSQL both have ON CONFLICT DO NOTHING)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(LOGIN_FAILURES)


class LoginThrottle:
    """Count failed sign-ins and lock (see the module docstring)."""

    def __init__(self, store, policy: LoginPolicy | None = None):
        self.store = store
        self.policy = policy or LoginPolicy()

    @staticmethod
    def _keys(username: str, address: str) -> dict[str, str]:
        return {"account": "account:" + username[:150], "address": "address:" + (address or "?")[:150]}

    def locked(self, username: str, address: str, at: dt.datetime | None = None) -> float:
        """Seconds until sign-in is allowed again for this account or address (0 when not locked)."""
        at = at or now()
        keys = list(self._keys(username, address).values())
        with self.store.engine.connect() as c:
            until = [r.locked_until for r in c.execute(sa.select(LOGIN_FAILURES.c.locked_until)
                                                       .where(LOGIN_FAILURES.c.key.in_(keys)))
                     if r.locked_until is not None and r.locked_until > at]
        return max(((u - at).total_seconds() for u in until), default=0.0)

    def fail(self, username: str, address: str, at: dt.datetime | None = None) -> Failure:
        """Record one failed sign-in; lock the account or address when it reaches its limit."""
        at, p = at or now(), self.policy
        window, lock = dt.timedelta(minutes=p.window_minutes), dt.timedelta(minutes=p.lock_minutes)
        limits = {"account": p.account_limit, "address": p.address_limit}
        counts, newly = {}, []
        with self.store.write_transaction() as c:
            for kind, key in self._keys(username, address).items():
                # make sure the row exists (two first failures at once must not both INSERT), then lock it
                c.execute(_insert(c).values(key=key, failures=0, window_start=at).on_conflict_do_nothing())
                row = c.execute(sa.select(LOGIN_FAILURES).where(LOGIN_FAILURES.c.key == key)
                                .with_for_update()).first()
                if row.failures == 0 or at - row.window_start > window:
                    failures, start = 1, at
                else:
                    failures, start = row.failures + 1, row.window_start
                was_locked = row.locked_until is not None and row.locked_until > at
                until = row.locked_until if was_locked else None
                if failures >= limits[kind] and not was_locked:
                    until = at + lock
                    newly.append(f"{kind} {key.split(':', 1)[1]}")
                values = {"failures": failures, "window_start": start, "locked_until": until}
                c.execute(sa.update(LOGIN_FAILURES).where(LOGIN_FAILURES.c.key == key).values(**values))
                counts[kind] = (failures, until is not None and until > at)
        failures = counts["account"][0]
        delay = min(p.max_delay_s, 0.5 * 2 ** (failures - p.slow_after - 1)) if failures > p.slow_after else 0.0
        return Failure(failures, delay, any(locked for _, locked in counts.values()), tuple(newly))

    def succeed(self, username: str) -> None:
        """A right password clears the account's count (the address keeps its count: one known
        account must not reset the limit on guessing the others)."""
        with self.store.engine.begin() as c:
            c.execute(sa.delete(LOGIN_FAILURES).where(LOGIN_FAILURES.c.key == self._keys(username, "")["account"]))
