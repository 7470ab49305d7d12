"""The survey's web app through HTTP (FastAPI's test client on a real SQLite file; mail through a real
SMTP server on loopback): login, sessions and CSRF; roster, waves, invitations; the respondent's save,
resume and submit; the dashboard's rates; exports; imports from LimeSurvey, REDCap and KoboToolbox.
"""

import io
import re

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from joinedup.survey.mail import MailSettings
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

ROSTER = ("panelist_id,name,email,pioneer,org_type,role,is_lead\n"
          "p1,Ann,ann@ccg.nhs.uk,Barnsley,ccg,Director,yes\np2,Bob,bob@council.gov.uk,Barnsley,la,Manager,no\n"
          "p3,Cy,cy@trust.nhs.uk,Leeds,nhs_provider,Nurse,no\n")
PASSWORD = "a long enough password"


@pytest.fixture
def client(tmp_path, smtp_server):
    mail = MailSettings("127.0.0.1", smtp_server.port, "evaluation@example.org")
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", base_url="https://survey.test",
                                 mail=mail))
    app.state.ctx.store.add_admin("admin", PASSWORD)
    return TestClient(app)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login_post(client, username: str, password: str):
    """Sign in as a browser does: fetch the form (its CSRF token and pre-session cookie), post it."""
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/login").text).group(1)
    return client.post("/admin/login", data={"username": username, "password": password, "csrf": token})


def _login(client) -> str:
    r = login_post(client, "admin", PASSWORD)
    assert r.status_code == 200 and r.url.path == "/admin"
    return _csrf(r.text)


def _setup(client) -> str:
    csrf = _login(client)
    r = client.post("/admin/roster", data={"csrf": csrf}, files={"file": ("panel.csv", ROSTER, "text/csv")})
    assert "Imported 3 new" in r.text
    for action in ({"action": "create", "wave": "1", "opens_on": "2015-06-01", "closes_on": "2099-07-31",
                    "instrument": "pioneer_ki_survey"}, {"action": "open", "wave": "1"}):
        assert client.post("/admin/waves", data={"csrf": csrf, **action}).status_code == 200
    return csrf


def test_admin_pages_need_login_and_csrf(client):
    assert client.get("/admin").url.path == "/admin/login"
    assert client.get("/admin/export/responses.csv").url.path == "/admin/login"
    r = login_post(client, "admin", "wrong password!")
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    csrf = _login(client)
    r = client.post("/admin/waves", data={"csrf": "forged", "action": "create", "wave": "1",
                                          "opens_on": "2015-06-01", "closes_on": "2015-07-31"})
    assert r.status_code == 403 and client.app.state.ctx.store.list_waves() == []
    tampered = client.cookies.get("joinedup_session")[:-2] + "xx"
    client.cookies.clear()
    client.cookies.set("joinedup_session", tampered)
    assert client.get("/admin").url.path == "/admin/login"  # a tampered cookie is no session
    assert csrf


def test_roster_errors_are_shown_and_nothing_imported(client):
    csrf = _login(client)
    bad = ROSTER.replace("bob@council.gov.uk", "bob-at-council").replace("nhs_provider", "trust")
    r = client.post("/admin/roster", data={"csrf": csrf}, files={"file": ("panel.csv", bad, "text/csv")})
    assert r.status_code == 422
    assert "line 3, column email: &#39;bob-at-council&#39;" in r.text and "line 4, column org_type" in r.text
    assert client.app.state.ctx.store.panelists().empty


def test_invite_respond_and_dashboard(client, smtp_server):
    csrf = _setup(client)
    r = client.post("/admin/waves", data={"csrf": csrf, "action": "invite", "wave": "1"})
    assert "3 invitation(s) sent" in r.text and len(smtp_server.messages) == 3
    body = next(m for m in smtp_server.messages if m["To"] == "bob@council.gov.uk").get_body(("plain",)).get_content()
    link = re.search(r"https://survey.test(/s/[\w-]+)", body).group(1)
    page = client.get(link)
    form_csrf = re.search(r'class="survey"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"', page.text).group(1)
    r = client.post(link, data={"csrf": form_csrf, "action": "save", "org_type": "la", "prog_quality": "some"})
    assert "Your answers are saved" in r.text
    resumed = client.get(link).text
    assert re.search(r'id="prog_quality-some"[^>]* checked', resumed)  # resume
    assert re.search(r'id="org_type-la"[^>]* checked', resumed)
    r = client.post(link, data={"csrf": form_csrf, "action": "submit", "prog_quality": "some"})
    assert r.status_code == 422 and "error-summary" in r.text and 'href="#q-pioneer"' in r.text
    r = client.post(link + "/autosave", data={"csrf": form_csrf, "pioneer": "barnsley"})
    assert r.status_code == 204
    r = client.post(link, data={"csrf": form_csrf, "action": "submit", "pioneer": "barnsley", "org_type": "la",
                                "is_lead": "no", "prog_quality": "some"})
    assert "Thank you" in r.text
    assert client.post(link, data={"csrf": "x", "action": "save"}).status_code == 403
    rates = client.get("/admin/rates.json").json()["by wave"][0]
    assert rates["complete"] == 1 and rates["eligible"] == 3 and rates["rr1"] == pytest.approx(33.3)
    inv = pd.read_csv(io.StringIO(client.get("/admin/export/invitations.csv").text))
    assert inv.set_index("panelist_id").loc["p2", "disposition"] == "complete"
    wide = pd.read_csv(io.StringIO(client.get("/admin/export/responses.csv").text))
    assert wide.loc[0, "prog_quality"] == "some" and wide.loc[0, "panelist_id"] == "p2"
    audit = pd.read_csv(io.StringIO(client.get("/admin/export/audit.csv").text))
    assert {"roster import", "wave create", "wave open", "wave invite"} <= set(audit.action)
    assert (audit.actor == "admin").sum() >= 4 and (audit.actor == "respondent p2").sum() >= 3
    book = pd.read_csv(io.StringIO(client.get("/admin/export/codebook.csv").text))
    assert set(book.loc[book.question == "org_type", "value"]) == {"ccg", "la", "nhs_provider", "other"}


@pytest.mark.parametrize("source, data, mapping, id_column", [
    ("limesurvey", "token,Q1,Q2,bar[SQ001],submitdate\np1,A1,barnsley,A1,2015-06-03\np3,A2,leeds,A2,2015-06-04\n",
     "source,question,source_value,value\nQ1,org_type,A1,ccg\nQ1,org_type,A2,nhs_provider\nQ2,pioneer,,\n"
     "bar[SQ001],bar_financial,A1,significant\nbar[SQ001],bar_financial,A2,minor\n", "token"),
    ("redcap", "record_id,org,pioneer_site,redcap_event_name\np1,1,barnsley,wave_1\np3,3,leeds,wave_1\n",
     "source,question,source_value,value\norg,org_type,1,ccg\norg,org_type,3,nhs_provider\npioneer_site,pioneer,,\n",
     "record_id"),
    ("kobo", "about/org_type,about/pioneer,pid,_uuid\nccg,barnsley,p1,u1\nnhs_provider,leeds,p3,u2\n",
     "source,question,source_value,value\norg_type,org_type,,\npioneer,pioneer,,\n", "pid"),
])
def test_imports(client, source, data, mapping, id_column):
    csrf = _setup(client)
    files = {"file": ("export.csv", data, "text/csv"), "mapping": ("map.csv", mapping, "text/csv")}
    r = client.post("/admin/import", data={"csrf": csrf, "source": source, "wave": "1", "id_column": id_column},
                    files=files)
    assert r.status_code == 200 and "Imported 2 response(s)" in r.text, r.text[-800:]
    wide = pd.read_csv(io.StringIO(client.get("/admin/export/responses.csv").text)).set_index("panelist_id")
    assert wide.loc["p3", "org_type"] == "nhs_provider" and wide.loc["p1", "pioneer"] == "barnsley"
    bad = data.replace("leeds", "atlantis")
    files = {"file": ("export.csv", bad, "text/csv"), "mapping": ("map.csv", mapping, "text/csv")}
    r = client.post("/admin/import", data={"csrf": csrf, "source": source, "wave": "1", "id_column": id_column},
                    files=files)
    assert r.status_code == 422 and "line 3" in r.text and "atlantis" in r.text


def test_demo_panel_and_hostile_input(tmp_path):
    from joinedup.survey.demo import DEMO_PASSWORD, seed_demo

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    seeded = seed_demo(url)
    client = TestClient(create_app(WebSettings(store_url=url)))
    r = login_post(client, "demo", DEMO_PASSWORD)
    rates = client.get("/admin/rates.json").json()["by wave"][0]
    assert rates["invited"] == seeded["panelists"] and rates["complete"] > 50
    link = f"/s/{seeded['try_token']}"
    page = client.get(link).text
    form_csrf = re.search(r'class="survey"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"', page).group(1)
    hostile = '<script>alert("x")</script>'
    r = client.post(link, data={"csrf": form_csrf, "action": "save", "achievements": hostile,
                                "challenge": "y" * 20_001, "org_type": "'; drop table panelists; --"})
    assert "&lt;script&gt;alert" in r.text and hostile not in r.text  # stored as text, shown escaped
    assert "under 20,000 characters" in r.text and "is not one of the choices" in r.text
    pid = client.app.state.ctx.store.invitation(seeded["try_token"])["panelist_id"]
    saved = client.app.state.ctx.store.answers(pid, 1)
    assert saved.get("achievements") == hostile and "challenge" not in saved and "org_type" not in saved
    assert len(client.app.state.ctx.store.panelists()) == seeded["panelists"]


def test_autosave_after_submission_changes_nothing(client):
    csrf = _setup(client)
    store = client.app.state.ctx.store
    token = store.issue_tokens(1)["p1"]
    store.save_response(token, {"pioneer": "barnsley", "org_type": "ccg", "is_lead": "yes"}, final=True)
    from joinedup.web.security import token_csrf

    r = client.post(f"/s/{token}/autosave", data={"csrf": token_csrf(client.app.state.ctx.settings.secret, token),
                                                  "org_type": "la"})
    assert r.status_code == 409 and r.headers["X-Refused"] == "already submitted"  # refused, and the page told
    assert store.answers("p1", 1)["org_type"] == "ccg" and csrf


def test_import_after_a_withdrawal_lists_the_refused_row(client):
    """A withdrawn respondent stays withdrawn: the admin's import stores the other rows and names the
    refused line and why (never its answers); the person has no response afterwards."""
    from joinedup.survey.retention import withdraw

    csrf = _setup(client)
    store = client.app.state.ctx.store
    withdraw(store, store.issue_tokens(1, ["p1"])["p1"])
    data = "token,Q1\np1,A1\np3,A2\n"
    mapping = "source,question,source_value,value\nQ1,org_type,A1,ccg\nQ1,org_type,A2,nhs_provider\n"
    files = {"file": ("export.csv", data, "text/csv"), "mapping": ("map.csv", mapping, "text/csv")}
    r = client.post("/admin/import", data={"csrf": csrf, "source": "limesurvey", "wave": "1", "id_column": "token"},
                    files=files)
    assert r.status_code == 200 and "Imported 1 response(s)" in r.text, r.text[-800:]
    assert "Not stored, line 2: panelist p1 has withdrawn from the survey" in r.text
    assert [x["panelist_id"] for x in store.responses(1)] == ["p3"]
