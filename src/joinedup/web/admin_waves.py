"""Admin: waves. Create (the instrument must be configured, dates and numbers checked), open, close,
send invitations and reminders (refused after the wave's closing date), and hand out the links as a
CSV of names and links for trusts that send from their own mail systems.

Sending mail and writing tokens run in a worker thread, off the event loop, so respondents' pages
are answered while a few hundred messages go out.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from joinedup.survey.store import SurveyError
from joinedup.web.admin import _checked_form, _csv, _guard
from joinedup.web.forms import form_date, wave_number, whole_number

router = APIRouter(prefix="/admin")


@router.post("/waves", response_class=HTMLResponse)
@_guard
async def waves_action(request: Request):
    session, data = await _checked_form(request)
    return await run_in_threadpool(_act, request, session.user, dict(data.items()))


def _instrument_ready(ctx, instrument: str) -> None:
    """Refuse a wave whose instrument cannot be loaded (its links would all answer with an error)."""
    from joinedup.survey.instrument.model import FormError

    try:
        ctx.form(instrument)
    except (LookupError, FormError, FileNotFoundError) as exc:
        raise ValueError(f"instrument {instrument!r} cannot be used: {exc}") from None


def _act(request: Request, ctx_user: str, data: dict):
    from joinedup.survey.mail import MailError, send_invitations, send_reminders

    ctx = request.app.state.ctx
    action, message, error = data.get("action"), "", ""
    try:
        if action == "create":
            wave, instrument = wave_number(data.get("wave")), str(data.get("instrument") or "pioneer_ki_survey")
            _instrument_ready(ctx, instrument)
            retention = data.get("retention_days") or "730"
            ctx.store.create_wave(wave, instrument, form_date(data.get("opens_on"), "opens on"),
                                  form_date(data.get("closes_on"), "closes on"),
                                  retention_days=whole_number(retention, "retention (days)", 0, 36_500))
            message = f"Wave {wave} created."
        elif action in ("open", "close"):
            wave = wave_number(data.get("wave"))
            if action == "open":
                _instrument_ready(ctx, ctx.store.wave(wave)["instrument"])
            ctx.store.set_wave_status(wave, "open" if action == "open" else "closed")
            message = f"Wave {wave} {'opened' if action == 'open' else 'closed'}."
        elif action in ("invite", "remind"):
            wave = wave_number(data.get("wave"))
            if ctx.settings.mail is None:
                raise ValueError("no SMTP server is configured (joinedup survey serve --smtp-host ...); "
                                 "use 'Download links (CSV)' to send the links from your own mail system")
            send = send_invitations if action == "invite" else send_reminders
            run = send(ctx.store, wave, ctx.settings.mail, ctx.settings.base_url)
            message = f"{run.sent} {run.kind}(s) sent; {len(run.bounced)} bounced."
        elif action == "links":
            return _links(ctx, ctx_user, wave_number(data.get("wave")))
        else:
            raise ValueError(f"unknown action {str(action)[:40]!r}")
    except (ValueError, KeyError, SurveyError, MailError) as exc:
        error = str(exc)
    ctx.store.audit(ctx_user, f"wave {str(action)[:40]}", f"wave {str(data.get('wave'))[:40]}: {error or message}")
    return ctx.page(request, "admin/waves.html", 422 if error else 200, title="Waves", waves=ctx.store.list_waves(),
                    message=message, error=error)


def _links(ctx, user: str, wave: int):
    """The links CSV: tokens issued exactly as the mailer issues them (so an earlier link of the same
    person stops working), refused when the wave is not open or is past its closing date."""
    from joinedup.survey.mail import check_sendable

    check_sendable(ctx.store, wave, "link")
    people = ctx.store.panelists().set_index("panelist_id")
    tokens = ctx.store.issue_tokens(wave)
    base = ctx.settings.base_url.rstrip("/")
    rows = [{"panelist_id": pid, "name": people.at[pid, "name"], "email": people.at[pid, "email"],
             "pioneer": people.at[pid, "pioneer"], "link": f"{base}/s/{token}",
             "unsubscribe_link": f"{base}/unsubscribe/{token}"} for pid, token in sorted(tokens.items())]
    for pid in tokens:
        ctx.store.log_mail(pid, wave, "link", "exported", "handed to the admin in links CSV")
    ctx.store.audit(user, "wave links", f"wave {wave}: links CSV of {len(rows)} panelist(s) downloaded")
    frame = pd.DataFrame(rows, columns=["panelist_id", "name", "email", "pioneer", "link", "unsubscribe_link"])
    return _csv(frame, f"wave-{wave}-links-{dt.date.today().isoformat()}.csv")
