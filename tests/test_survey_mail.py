"""Invitations and reminders through a real SMTP server on loopback (aiosmtpd).

Checks: every invitee gets one message with a working personal link and an unsubscribe link (also as
List-Unsubscribe), plain text and HTML; reminders go only to those still to answer, capped and spaced;
a refused recipient (550) becomes an ineligible "bounced" invitation and is logged; a closed wave
sends nothing.
"""

import datetime as dt
import re

import pytest

from joinedup.survey.mail import MailError, MailSettings, send_invitations, send_reminders
from joinedup.survey.roster import read_roster
from joinedup.survey.store import SurveyStore
from tests.test_survey_store import ROSTER

BASE = "https://survey.example.org"


@pytest.fixture
def store(tmp_path):
    s = SurveyStore(f"sqlite:///{tmp_path / 'survey.db'}")
    s.create()
    s.upsert_panelists(read_roster(ROSTER))
    s.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2099-07-31")
    s.set_wave_status(1, "open")
    return s


def _link(msg, kind="s"):
    body = msg.get_body(("plain",)).get_content()
    return re.search(rf"{BASE}/{kind}/([A-Za-z0-9_-]+)", body).group(1)


def test_invitations_have_working_personal_links(store, smtp_server):
    settings = MailSettings("127.0.0.1", smtp_server.port, "evaluation@example.org")
    run = send_invitations(store, 1, settings, BASE)
    assert run.sent == 4 and len(smtp_server.messages) == 4
    msg = next(m for m in smtp_server.messages if m["To"] == "ann@ccg.nhs.uk")
    token = _link(msg)
    assert store.invitation(token)["panelist_id"] == "p1"
    assert msg["List-Unsubscribe"] == f"<{BASE}/unsubscribe/{token}>"
    assert msg.get_body(("html",)) is not None and "Dear Ann" in msg.get_body(("plain",)).get_content()
    assert send_invitations(store, 1, settings, BASE).sent == 0  # nobody is invited twice


def test_reminders_only_to_those_still_to_answer_capped_and_spaced(store, smtp_server):
    settings = MailSettings("127.0.0.1", smtp_server.port, "evaluation@example.org")
    send_invitations(store, 1, settings, BASE)
    tokens = {m["To"]: _link(m) for m in smtp_server.messages}
    store.save_response(tokens["ann@ccg.nhs.uk"], {"org_type": "ccg"}, final=True)       # complete
    store.save_response(tokens["bob@council.gov.uk"], {"org_type": "la"}, final=False)   # partial: remind
    store.unsubscribe(tokens["di@vcs.org.uk"])                                           # no more mail
    smtp_server.messages.clear()
    soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=2)
    assert send_reminders(store, 1, settings, BASE, at=soon).sent == 0  # too soon after the invitation
    later = soon + dt.timedelta(days=8)
    run = send_reminders(store, 1, settings, BASE, at=later)
    assert run.sent == 2 and sorted(m["To"] for m in smtp_server.messages) == ["bob@council.gov.uk",
                                                                                "cy@trust.nhs.uk"]
    assert all(m["Subject"].startswith("Reminder") for m in smtp_server.messages)
    bob = next(m for m in smtp_server.messages if m["To"] == "bob@council.gov.uk")
    assert store.answers(store.invitation(_link(bob))["panelist_id"], 1) == {"org_type": "la"}  # resumes
    # cap: with max_reminders=1 nobody gets a second one, however long we wait
    assert send_reminders(store, 1, settings, BASE, at=later + dt.timedelta(days=30), max_reminders=1).sent == 0
    assert send_reminders(store, 1, settings, BASE, at=later + dt.timedelta(days=30)).sent == 2


def test_bounces_become_ineligible_and_closed_waves_send_nothing(store, smtp_server):
    smtp_server.refuse.add("cy@trust.nhs.uk")
    settings = MailSettings("127.0.0.1", smtp_server.port, "evaluation@example.org")
    run = send_invitations(store, 1, settings, BASE)
    assert run.sent == 3 and run.bounced == ["p3"]
    inv = store.invitations_frame(1).set_index("panelist_id")
    assert inv.loc["p3", "disposition"] == "ineligible"
    log = store.mail_log()
    assert "550" in log.loc[log.panelist_id == "p3", "detail"].iloc[0]
    store.set_wave_status(1, "closed")
    with pytest.raises(MailError, match="wave 1 is closed"):
        send_reminders(store, 1, settings, BASE)
