"""Withdrawal and retention: a respondent's answers deleted at their request, and identifiable panel
data erased when a wave's retention period is over, the answers kept de-identified for analysis.

* :func:`withdraw` (the respondent's "withdraw" link): every saved or submitted answer of the person,
  in every wave, is deleted; their invitations become refusals (reason ``withdrawn``), their links
  stop working and no more mail is sent; the audit log records it (who, how many answers, never
  what they were). The store keeps them withdrawn: a later response import refuses their rows
  (:meth:`SurveyStore.import_responses` lists them in its rejects) and their dispositions cannot be reset. UK GDPR Article 7(3): withdrawing must be as easy as giving consent.
* :func:`erase_expired` (``joinedup survey erase-expired``): for each wave whose closing date plus its
  ``retention_days`` has passed, its survey tokens are replaced by random values and its mail log
  details (bounce messages quote addresses) are blanked; a panelist none of whose waves is still
  within retention loses name, e-mail and role and is made inactive (storage limitation, UK GDPR
  Article 5(1)(e)). Kept for analysis: the panelist id, Pioneer, organisation type, lead flag,
  dispositions and answers. Roster ids should therefore be study ids, not staff numbers.
* :func:`repair_withdrawals` (``joinedup survey repair-withdrawals``): before the store kept the
  withdrawal mark, a response import run after a withdrawal stored the person's answers again and
  marked the invitation complete. This applies those withdrawals again: the answers are deleted and
  the invitations made withdrawn refusals, recorded in the audit log.

Example:
    >>> report = erase_expired(store, today=dt.date(2020, 1, 1))                  # doctest: +SKIP
    >>> report.panelists_erased                                                    # doctest: +SKIP
    98
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from joinedup.survey.store import (
    INVITATIONS,
    MAIL_LOG,
    PANELISTS,
    RESPONSES,
    WAVES,
    WITHDRAW_AUDIT_ACTOR,
    WITHDRAWN,
    now,
    withdrawn_panelists,
)

ERASED = "(erased)"


def withdraw(store, token: str) -> int:
    """Delete the answers of the person this link belongs to (all waves); returns how many responses
    were deleted. One write transaction: a save racing the withdrawal runs wholly before it (and
    is deleted) or after it (and is refused, the link no longer being valid)."""
    with store.write_transaction() as c:
        inv = store._invitation(c, token, lock=True)
        pid = inv["panelist_id"]
        deleted = c.execute(sa.delete(RESPONSES).where(RESPONSES.c.panelist_id == pid)).rowcount
        for wave in c.execute(sa.select(INVITATIONS.c.wave).where(INVITATIONS.c.panelist_id == pid)).scalars().all():
            c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == pid, INVITATIONS.c.wave == wave)
                      .values(disposition="refusal", reason=WITHDRAWN, completed_at=None,
                              token_hash=_dead_token()))
        c.execute(sa.update(PANELISTS).where(PANELISTS.c.panelist_id == pid).values(unsubscribed_at=now()))
        store.audit(f"{WITHDRAW_AUDIT_ACTOR}{pid}", "withdraw", f"answers deleted: {deleted} response(s)", conn=c)
    return deleted


def _dead_token() -> str:
    """A value for the token column that no token hashes to (a SHA-256 is 64 hex digits; this starts
    with 'x'), fitting the column's 64 characters."""
    return "x" + secrets.token_hex(32)[:63]


@dataclass(frozen=True)
class ErasureReport:
    waves: tuple[int, ...]          # waves past their retention period
    tokens_erased: int
    mail_details_erased: int
    panelists_erased: int
    panelists_kept: int             # invited to an expired wave but still in a wave within retention

    def __str__(self) -> str:
        if not self.waves:
            return "no wave is past its retention period: nothing erased"
        return (f"waves past retention: {', '.join(map(str, self.waves))}; erased: {self.tokens_erased} survey "
                f"token(s), {self.mail_details_erased} mail log detail(s), names and e-mail addresses of "
                f"{self.panelists_erased} panelist(s); kept for a later wave still within retention: "
                f"{self.panelists_kept} panelist(s); answers kept without names")


def expired_waves(store, today: dt.date) -> list[int]:
    with store.engine.connect() as c:
        rows = c.execute(sa.select(WAVES.c.wave, WAVES.c.closes_on, WAVES.c.retention_days)).all()
    return sorted(r.wave for r in rows
                  if r.retention_days is not None and r.closes_on + dt.timedelta(days=r.retention_days) < today)


def erase_expired(store, today: dt.date | None = None, actor: str = "erase-expired") -> ErasureReport:
    """Erase identifiable panel data of waves past their retention period (see the module docstring)."""
    today = today or now().date()
    expired = expired_waves(store, today)
    if not expired:
        return ErasureReport((), 0, 0, 0, 0)
    with store.write_transaction() as c:
        tokens = 0
        for pid, wave in c.execute(sa.select(INVITATIONS.c.panelist_id, INVITATIONS.c.wave)
                                   .where(INVITATIONS.c.wave.in_(expired),
                                          ~INVITATIONS.c.token_hash.startswith("x"))).all():
            c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == pid, INVITATIONS.c.wave == wave)
                      .values(token_hash=_dead_token()))
            tokens += 1
        mail = c.execute(sa.update(MAIL_LOG).where(MAIL_LOG.c.wave.in_(expired), MAIL_LOG.c.detail != "")
                         .values(detail="")).rowcount
        waves_of: dict[str, set[int]] = {}
        for pid, wave in c.execute(sa.select(INVITATIONS.c.panelist_id, INVITATIONS.c.wave)).all():
            waves_of.setdefault(pid, set()).add(wave)
        touched = {pid for pid, waves in waves_of.items() if waves & set(expired)}
        erasable = sorted(pid for pid in touched if waves_of[pid] <= set(expired))
        erased = 0
        for pid in erasable:
            erased += c.execute(sa.update(PANELISTS).where(PANELISTS.c.panelist_id == pid, PANELISTS.c.name != ERASED)
                                .values(name=ERASED, email="", role="", active=False)).rowcount
        report = ErasureReport(tuple(expired), tokens, mail, erased, len(touched) - len(erasable))
        store.audit(actor, "erase expired", str(report), conn=c)
    return report


@dataclass(frozen=True)
class WithdrawalRepair:
    panelists: tuple[str, ...]      # withdrawn respondents whose answers or invitations needed repair
    responses: int                  # their responses held (deleted when applied)
    invitations: int                # their invitations not marked withdrawn (marked when applied)
    applied: bool

    def __str__(self) -> str:
        if not self.panelists:
            return "every withdrawal is in force: no answers of a withdrawn respondent are held"
        verb = ("deleted" if self.applied else "would delete")
        return (f"withdrawn respondent(s) with answers or invitations stored after their withdrawal: "
                f"{len(self.panelists)} ({', '.join(self.panelists)}); {verb} {self.responses} response(s); "
                f"{'marked' if self.applied else 'would mark'} {self.invitations} invitation(s) as withdrawn "
                f"refusals" + ("" if self.applied else " (dry run: nothing changed)"))


def repair_withdrawals(store, apply: bool = True, actor: str = "repair-withdrawals") -> WithdrawalRepair:
    """Apply again the withdrawals an older response import undid (see the module docstring).

    Withdrawn respondents are those :func:`joinedup.survey.store.withdrawn_panelists` counts: their
    invitations' mark or, where the old import overwrote it, the withdrawal's audit row. Their
    responses are deleted and every invitation of theirs becomes a refusal with reason ``withdrawn``
    and a dead link; ``apply=False`` only reports. One write transaction holding the same lock as an
    import, so neither can interleave with it. Running it again finds nothing.

    Example:
        >>> print(repair_withdrawals(store, apply=False))                            # doctest: +SKIP
        withdrawn respondent(s) with answers or invitations stored after their withdrawal: 1 (p06); ...
    """
    with store.write_transaction() as c:
        if store.engine.dialect.name == "postgresql":
            c.exec_driver_sql("LOCK TABLE invitations IN EXCLUSIVE MODE")
        gone = withdrawn_panelists()
        held = c.execute(sa.select(RESPONSES.c.panelist_id, RESPONSES.c.wave)
                         .where(RESPONSES.c.panelist_id.in_(gone))).all()
        unmarked = c.execute(sa.select(INVITATIONS.c.panelist_id, INVITATIONS.c.wave)
                             .where(INVITATIONS.c.panelist_id.in_(gone),
                                    sa.func.coalesce(INVITATIONS.c.reason, "") != WITHDRAWN)).all()
        report = WithdrawalRepair(tuple(sorted({r.panelist_id for r in [*held, *unmarked]})), len(held),
                                  len(unmarked), apply)
        if not apply or not report.panelists:
            return report
        c.execute(sa.delete(RESPONSES).where(RESPONSES.c.panelist_id.in_(report.panelists)))
        for pid, wave in unmarked:  # one dead token each: the column is unique
            c.execute(sa.update(INVITATIONS).where(INVITATIONS.c.panelist_id == pid, INVITATIONS.c.wave == wave)
                      .values(disposition="refusal", reason=WITHDRAWN, completed_at=None, token_hash=_dead_token()))
        store.audit(actor, "withdraw repair", str(report), conn=c)
    return report
