"""Issue 15, access and abuse / admin robustness: a request body limit enforced before parsing (a
declared size and a streamed, chunked body), odd encodings (non-ASCII cookies and CSRF values), a
huge wave number, empty dates, a ragged or non-UTF-8 roster: a clear 4xx, never a 500. A wave whose
instrument is not configured cannot be created or opened; invitations, reminders and the links CSV
are refused after the wave's closing date; the links CSV (formula-safe, audited) works without mail.
"""

import io
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.test_web_admin import PASSWORD, ROSTER, _login, login_post

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.security import COOKIE

FUTURE = "2099-07-31"


@pytest.fixture
def client(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", base_url="https://survey.test",
                                 body_limit_anonymous=64 << 10, body_limit_signed_in=4 << 20))
    app.state.ctx.store.add_admin("admin", PASSWORD)
    return TestClient(app, raise_server_exceptions=False)


def _alert(html):
    return " ".join(re.findall(r'role="alert"><p>(.*?)</p>', html, re.DOTALL))


def _wave(client, csrf, wave="1", closes_on=FUTURE, instrument="pioneer_ki_survey", **extra):
    return client.post("/admin/waves", data={"csrf": csrf, "action": "create", "wave": wave, "opens_on": "2015-06-01",
                                             "closes_on": closes_on, "instrument": instrument, **extra})


def test_declared_body_over_the_limit_is_refused_unread(client):
    r = client.post("/s/anything/autosave", content=b"x" * (64 << 10 | 1),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "at most 65,536 bytes" in r.text
    r = client.post("/admin/login", content=b"a=1", headers={"Content-Length": "nonsense"})
    assert r.status_code == 400


def test_streamed_body_is_cut_off_as_it_passes_the_limit(client):
    sent = []

    def stream():  # chunked (no Content-Length): 54 MB if the server kept reading
        for i in range(54 * 16):
            sent.append(i)
            yield b"a=" + b"x" * (64 << 10)

    r = client.post("/admin/login", content=stream(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and sent  # (the test client buffers the body; tests/test_web_serve.py streams it)


def test_signed_in_admin_may_send_more_than_anonymous(client):
    csrf = _login(client)
    rows = "".join(f"q{i},N{i},n{i}@example.org,Barnsley,la,,no\n" for i in range(3000))  # about 130 kB
    r = client.post("/admin/roster", data={"csrf": csrf},
                    files={"file": ("panel.csv", "panelist_id,name,email,pioneer,org_type,role,is_lead\n" + rows)})
    assert r.status_code == 200 and "Imported 3000 new" in r.text
    forged = TestClient(client.app, cookies={COOKIE: "eyJ4Ijoi.forged"})  # an unsigned cookie counts as anonymous
    r = forged.post("/admin/roster", files={"file": ("panel.csv", rows)})
    assert r.status_code == 413


@pytest.mark.parametrize("cookie", ["YWJj.\u00e9", "\u00e9.\u00e9", "YWJj|\u00ff\u00fe.x"])
def test_non_ascii_cookie_is_no_session_not_a_500(client, cookie):
    r = client.get("/admin", headers={"Cookie": f"{COOKIE}={cookie}".encode()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    r = client.post("/admin/waves", headers={"Cookie": f"{COOKIE}={cookie}".encode()}, data={"csrf": "x"},
                    follow_redirects=False)
    assert r.status_code == 303


def test_non_ascii_csrf_values_are_refused_not_a_500(client):
    csrf = _login(client)
    assert client.post("/admin/waves", data={"csrf": "\u00e9\u00e9", "action": "open", "wave": "1"}).status_code == 403
    store = client.app.state.ctx.store
    store.upsert_panelists(__import__("joinedup.survey.roster", fromlist=["read_roster"]).read_roster(
        pd.read_csv(io.StringIO(ROSTER), dtype=str)))
    assert _wave(client, csrf).status_code == 200 and client.post(
        "/admin/waves", data={"csrf": csrf, "action": "open", "wave": "1"}).status_code == 200
    token = store.issue_tokens(1)["p1"]
    for path in (f"/s/{token}", f"/s/{token}/autosave", f"/unsubscribe/{token}"):
        assert client.post(path, data={"csrf": "\u00e9\u20ac", "org_type": "la"}).status_code == 403, path
    assert client.post("/s/\u00e9\u00e9/autosave", data={"csrf": "\u00e9"}).status_code == 403
    assert client.get("/s/%C3%A9%00%FF").status_code == 404
    assert client.post("/admin/logout", data={"csrf": "\u00e9"}).status_code == 403
    assert client.get("/admin/login").status_code == 200 and client.post(
        "/admin/login", data={"username": "admin", "password": PASSWORD, "csrf": "\u00e9"}).status_code == 403


@pytest.mark.parametrize("fields, message", [
    ({"wave": "99999999999999999999"}, "wave number: '99999999999999999999' is not a whole number"),
    ({"wave": "-5"}, "wave number: '-5' is not a whole number from 1 to 10,000"),
    ({"wave": "2", "opens_on": "", "closes_on": ""}, "opens on: a date is needed"),
    ({"wave": "2", "closes_on": "31/07/2099"}, "closes on: '31/07/2099' is not a date"),
    ({"wave": "2", "retention_days": "1e9"}, "retention (days): '1e9' is not a whole number"),
])
def test_bad_wave_form_values_are_a_422_with_the_field_named(client, fields, message):
    csrf = _login(client)
    data = {"csrf": csrf, "action": "create", "wave": "1", "opens_on": "2015-06-01", "closes_on": FUTURE,
            "instrument": "pioneer_ki_survey", **fields}
    r = client.post("/admin/waves", data=data)
    assert r.status_code == 422 and message in _alert(r.text).replace("&#39;", "'")
    for action in ("open", "close", "invite", "remind", "links"):
        r = client.post("/admin/waves", data={"csrf": csrf, "action": action, "wave": "99999999999999999999"})
        assert r.status_code == 422, action
    r = client.get("/admin/export/responses.csv?wave=99999999999999999999")
    assert r.status_code == 422


@pytest.mark.parametrize("content, message", [
    (ROSTER + "p9,Di,di@vcs.org.uk,Leeds,other,,no,extra\n", "line 5: 8 field(s), the header has 7"),
    (ROSTER.replace("p2,Bob", "p2"), "line 3: 6 field(s), the header has 7"),
    (b"\xff\xfepanelist_id,name\n", "not UTF-8 text (byte 1)"),
    ("", "the file is empty"),
    ('panelist_id,name\n"p1,Ann\n', "line 2: 1 field(s), the header has 2"),  # an unclosed quote
])
def test_ragged_or_unreadable_roster_is_a_422_and_imports_nothing(client, content, message):
    csrf = _login(client)
    r = client.post("/admin/roster", data={"csrf": csrf}, files={"file": ("panel.csv", content, "text/csv")})
    assert r.status_code == 422 and "panel.csv" in r.text and message in _alert(r.text)
    assert client.app.state.ctx.store.panelists().empty


def test_wave_with_an_unconfigured_instrument_cannot_be_created_or_opened(client):
    csrf = _login(client)
    r = _wave(client, csrf, instrument="staff_survey_2016")
    assert r.status_code == 422 and "instrument &#39;staff_survey_2016&#39; cannot be used" in r.text
    assert client.app.state.ctx.store.list_waves() == []
    client.app.state.ctx.store.create_wave(2, "staff_survey_2016", "2015-06-01", FUTURE)  # made behind the app's back
    r = client.post("/admin/waves", data={"csrf": csrf, "action": "open", "wave": "2"})
    assert r.status_code == 422 and "cannot be used" in r.text
    assert client.app.state.ctx.store.wave(2)["status"] == "draft"


def _open_wave(client, csrf, closes_on):
    client.post("/admin/roster", data={"csrf": csrf}, files={"file": ("panel.csv", ROSTER, "text/csv")})
    assert _wave(client, csrf, closes_on=closes_on).status_code == 200
    assert client.post("/admin/waves", data={"csrf": csrf, "action": "open", "wave": "1"}).status_code == 200


def test_links_csv_without_a_mail_server(client):
    csrf = _login(client)
    _open_wave(client, csrf, FUTURE)
    store = client.app.state.ctx.store
    store.upsert_panelists(pd.DataFrame([{"panelist_id": "p4", "name": "=HYPERLINK(\"http://x\")", "email": "d@x.org",
                                          "pioneer": "Leeds", "org_type": "la", "role": "", "is_lead": "no"}]))
    r = client.post("/admin/waves", data={"csrf": csrf, "action": "invite", "wave": "1"})
    assert r.status_code == 422 and "Download links (CSV)" in r.text  # no SMTP server: the way out is named
    r = client.post("/admin/waves", data={"csrf": csrf, "action": "links", "wave": "1"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["Cache-Control"] == "no-store"
    links = pd.read_csv(io.StringIO(r.text), dtype=str).set_index("panelist_id")
    assert list(links.columns) == ["name", "email", "pioneer", "link", "unsubscribe_link"] and len(links) == 4
    assert links.at["p4", "name"] == "'=HYPERLINK(\"http://x\")"  # formula neutralised
    token = links.at["p2", "link"].removeprefix("https://survey.test/s/")
    assert store.invitation(token)["panelist_id"] == "p2"  # a working link, stored hashed like mailed ones
    assert client.get(f"/s/{token}").status_code == 200
    audit = store.audit_log()
    assert audit[audit.action == "wave links"].detail.tolist() == ["wave 1: links CSV of 4 panelist(s) downloaded"]
    # a second download issues fresh links (as a reminder does): the first ones stop working
    client.post("/admin/waves", data={"csrf": csrf, "action": "links", "wave": "1"})
    assert client.get(f"/s/{token}").status_code == 404


def test_nothing_is_sent_after_the_closing_date(client, smtp_server):
    from joinedup.survey.mail import MailSettings

    client.app.state.ctx.settings.__dict__["mail"] = MailSettings("127.0.0.1", smtp_server.port, "e@example.org")
    csrf = _login(client)
    _open_wave(client, csrf, "2015-07-31")
    for action in ("invite", "remind", "links"):
        r = client.post("/admin/waves", data={"csrf": csrf, "action": action, "wave": "1"})
        assert r.status_code == 422 and "closed on 2015-07-31" in r.text, action
    assert smtp_server.messages == [] and client.app.state.ctx.store.invitations_frame(1).empty


def test_login_after_abuse_still_works_for_others(client):
    assert login_post(client, "admin", PASSWORD).status_code == 200


def test_a_store_too_busy_to_save_answers_503_not_500(client, tmp_path):
    """Under overload SQLite's write lock can outlast the busy timeout (4 autosaves in 1,140 answered
    500 in the 1,000-respondent benchmark): now a 503 with Retry-After, and nothing half-saved."""
    import sqlite3

    import sqlalchemy as sa

    store = client.app.state.ctx.store
    store.upsert_panelists(read_roster_frame())
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", FUTURE)
    store.set_wave_status(1, "open")
    token = store.issue_tokens(1)["p1"]

    @sa.event.listens_for(store.engine, "connect")
    def _short_wait(dbapi_connection, _record):  # runs after the store's own pragmas
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    store.engine.dispose()
    from joinedup.web.security import token_csrf

    form_csrf = token_csrf(client.app.state.ctx.settings.secret, token)
    holder = sqlite3.connect(str(tmp_path / "s.db"))
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        r = client.post(f"/s/{token}/autosave", data={"csrf": form_csrf, "org_type": "la"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        r = client.post(f"/s/{token}", data={"csrf": form_csrf, "action": "save", "org_type": "la"})
        assert r.status_code == 503 and "your answers were not saved" in r.text
    finally:
        holder.rollback()
        holder.close()
    assert store.answers("p1", 1) == {}
    assert client.post(f"/s/{token}/autosave", data={"csrf": form_csrf, "org_type": "la"}).status_code == 204


def read_roster_frame():
    from joinedup.survey.roster import read_roster

    return read_roster(pd.read_csv(io.StringIO(ROSTER), dtype=str))
