"""Invitations and reminders by e-mail through a configurable SMTP server.

* An invitation goes to every active, subscribed panelist still to answer the wave, with a personal
  link ``{base_url}/s/{token}`` and an unsubscribe link (also in a ``List-Unsubscribe`` header).
* A reminder goes only to those who have not completed (nor refused, unsubscribed or become
  ineligible), at most ``max_reminders`` times and no sooner than ``min_days_between`` days after the
  last mail. Each mail carries a fresh token (see :mod:`joinedup.survey.store`: tokens are stored hashed).
* A recipient the server refuses (``SMTPRecipientsRefused``, e.g. 550 no such user) is recorded as a
  bounce: the invitation becomes ``ineligible`` (reason "bounced") and the mail log says why. Any other
  failure is logged and, after the run, raised with a summary: nothing fails silently.

Example:
    >>> settings = MailSettings(host="127.0.0.1", port=8025, sender="evaluation@example.org")
    >>> sent = send_invitations(store, 1, settings, "https://survey.example.org")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from joinedup.survey.store import SurveyStore, now


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0
    survey_title: str = "Integrated Care and Support Pioneers: key-informant survey"


@dataclass(frozen=True)
class MailRun:
    kind: str
    sent: int
    bounced: list[str]
    skipped: int


class MailError(RuntimeError):
    """Some messages could not be sent (not bounces); the message lists them."""


def _connect(s: MailSettings) -> smtplib.SMTP:
    smtp = (smtplib.SMTP_SSL if s.ssl else smtplib.SMTP)(s.host, s.port, timeout=s.timeout)
    if s.starttls:
        smtp.starttls()
    if s.username:
        smtp.login(s.username, s.password or "")
    return smtp


def message(settings: MailSettings, to: str, name: str, link: str, unsubscribe: str, kind: str,
            closes_on) -> EmailMessage:
    """The invitation or reminder: plain text and HTML alternatives, with List-Unsubscribe."""
    first = "You are invited" if kind == "invitation" else "A reminder: you are invited"
    text = (f"Dear {name},\n\n{first} to this year's {settings.survey_title}. It takes about 15 minutes; "
            f"your answers are saved as you go, so you can finish later from the same link.\n\n"
            f"Your personal link (please do not forward it): {link}\n\nThe survey closes on {closes_on}.\n\n"
            f"To stop receiving these e-mails: {unsubscribe}\n")
    msg = EmailMessage()
    msg["Subject"] = settings.survey_title if kind == "invitation" else f"Reminder: {settings.survey_title}"
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1])
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg.set_content(text)
    html = (f"<p>Dear {_esc(name)},</p><p>{first} to this year's {_esc(settings.survey_title)}. It takes about "
            f"15 minutes; your answers are saved as you go.</p><p><a href=\"{_esc(link)}\">Start or continue the "
            f"survey</a> (your personal link: please do not forward it).</p><p>The survey closes on {closes_on}.</p>"
            f"<p><a href=\"{_esc(unsubscribe)}\">Stop receiving these e-mails</a></p>")
    msg.add_alternative(html, subtype="html")
    return msg


def _esc(text: str) -> str:
    import html

    return html.escape(str(text), quote=True)


def _send(store: SurveyStore, wave: int, settings: MailSettings, base_url: str, kind: str, targets,
          at: dt.datetime | None = None) -> MailRun:
    w = check_sendable(store, wave, kind, at)
    people = store.panelists().set_index("panelist_id")
    tokens = store.issue_tokens(wave, targets)
    sent, bounced, errors = 0, [], []
    if not tokens:
        return MailRun(kind, 0, [], 0)
    smtp = _connect(settings)
    try:
        for pid, token in tokens.items():
            p = people.loc[pid]
            link, unsub = f"{base_url.rstrip('/')}/s/{token}", f"{base_url.rstrip('/')}/unsubscribe/{token}"
            try:
                smtp.send_message(message(settings, p["email"], p["name"], link, unsub, kind, w["closes_on"]))
            except smtplib.SMTPRecipientsRefused as exc:
                detail = "; ".join(f"{code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
                                   for code, msg in exc.recipients.values())
                store.log_mail(pid, wave, kind, "bounced", detail)
                store.set_disposition(pid, wave, "ineligible", "bounced")
                bounced.append(pid)
                continue
            except smtplib.SMTPException as exc:
                store.log_mail(pid, wave, kind, "error", str(exc))
                errors.append(f"{pid}: {exc}")
                continue
            store.log_mail(pid, wave, kind, "sent")
            sent += 1
    finally:
        try:
            smtp.quit()
        except smtplib.SMTPException:
            pass
    if errors:
        raise MailError(f"{len(errors)} {kind}(s) not sent ({sent} sent):\n  " + "\n  ".join(errors[:20]))
    return MailRun(kind, sent, bounced, 0)


def check_sendable(store: SurveyStore, wave: int, kind: str, at: dt.datetime | None = None) -> dict:
    """The wave, if invitations, reminders or links may go out for it: it is open and its closing
    date has not passed (a link sent after the close would lead to a closed survey)."""
    w = store.wave(wave)
    if w["status"] != "open":
        raise MailError(f"wave {wave} is {w['status']}: open it before sending {kind}s")
    today = (at or now()).date()
    if today > w["closes_on"]:
        raise MailError(f"wave {wave} closed on {w['closes_on']}: no {kind}s are sent after a wave's closing date")
    return w



def send_invitations(store: SurveyStore, wave: int, settings: MailSettings, base_url: str,
                     at: dt.datetime | None = None) -> MailRun:
    """Invite everyone active and subscribed who has not been invited to ``wave`` yet (refused once
    the wave's closing date has passed)."""
    check_sendable(store, wave, "invitation", at)
    inv = store.invitations_frame(wave)
    already = set(inv["panelist_id"])
    people = store.panelists()
    targets = people.loc[people["active"] & people["unsubscribed_at"].isna()
                         & ~people["panelist_id"].isin(already), "panelist_id"].tolist()
    run = _send(store, wave, settings, base_url, "invitation", targets, at) if targets else MailRun("invitation", 0, [], 0)
    return MailRun("invitation", run.sent, run.bounced, len(people) - len(targets))


def send_reminders(store: SurveyStore, wave: int, settings: MailSettings, base_url: str,
                   at: dt.datetime | None = None, max_reminders: int = 2, min_days_between: int = 7) -> MailRun:
    """Remind those still to answer (non-contact or partial), capped and spaced (see the module);
    refused once the wave's closing date has passed."""
    at = at or now()
    check_sendable(store, wave, "reminder", at)
    inv = store.invitations_frame(wave).set_index("panelist_id")
    people = store.panelists().set_index("panelist_id")
    last = store.last_mail(wave)
    due = []
    for pid, r in inv.iterrows():
        if r["disposition"] not in ("non_contact", "partial") or _unsubscribed(people.at[pid, "unsubscribed_at"]):
            continue
        if r["reminders_sent"] >= max_reminders:
            continue
        when = last.get(pid)
        if when is not None and (at - when) < dt.timedelta(days=min_days_between):
            continue
        due.append(pid)
    run = _send(store, wave, settings, base_url, "reminder", due, at) if due else MailRun("reminder", 0, [], 0)
    return MailRun("reminder", run.sent, run.bounced, len(inv) - len(due))


def _unsubscribed(value) -> bool:
    """True when a timestamp is set (the panelist unsubscribed)."""
    import pandas as pd

    return not pd.isna(value)
