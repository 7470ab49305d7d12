"""Issue 15, consent, withdrawal and retention; closed and unavailable surveys. On a SQLite file and a
real PostgreSQL server: the privacy notice and consent statement (set per instrument in the XLSForm
settings sheet) are on the respondent's page; a respondent can withdraw (answers deleted in every
wave, links stop working, audited), also while autosaves race the withdrawal; `joinedup survey
erase-expired` erases names, e-mails and tokens of waves past retention and keeps the answers; a
closed wave gets a polite page, a wave whose instrument is missing a 503 page, never a 500.
"""

import datetime as dt
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from joinedup.survey.instrument import load_form
from joinedup.survey.pioneer_instrument import CONSENT_STATEMENT, PRIVACY_NOTICE, build
from joinedup.survey.retention import ERASED, erase_expired
from joinedup.survey.roster import read_roster
from joinedup.survey.store import MAIL_LOG
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.security import token_csrf

FINAL = {"pioneer": "barnsley", "org_type": "la", "is_lead": "no"}


@pytest.fixture(params=["sqlite", "postgresql"])
def setup(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 's.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"c_{tmp_path.name.lower().replace('-', '_')[:40]}")
    custom = build(tmp_path / "staff.xlsx")
    wb = openpyxl.load_workbook(custom)
    wb["settings"]["A2"] = "staff_survey"
    wb["settings"]["E2"] = "Staff survey notice: <b>answers</b> go to the trust's evaluation team only."
    wb["settings"]["F2"] = "Staff survey consent: ticking nothing, answering is agreeing."
    wb.save(custom)
    app = create_app(WebSettings(store_url=url, instruments={"staff_survey": custom}))
    store = app.state.ctx.store
    n = 12
    store.upsert_panelists(read_roster(pd.DataFrame({
        "panelist_id": [f"p{i:02d}" for i in range(n)], "name": [f"Name {i}" for i in range(n)],
        "email": [f"p{i}@example.org" for i in range(n)], "pioneer": "Barnsley", "org_type": "la", "role": "Lead",
        "is_lead": "no"})))
    yield TestClient(app, raise_server_exceptions=False), store
    store.engine.dispose()


def _csrf(client, token):
    return token_csrf(client.app.state.ctx.settings.secret, token)


def _open(store, wave, instrument="pioneer_ki_survey", closes="2099-07-31", retention=730):
    store.create_wave(wave, instrument, "2015-06-01", closes, retention_days=retention)
    store.set_wave_status(wave, "open")
    return store.issue_tokens(wave)


def test_privacy_notice_and_consent_statement_per_instrument(setup):
    client, store = setup
    pioneer = _open(store, 1)["p01"]
    page = client.get(f"/s/{pioneer}").text
    assert PRIVACY_NOTICE.split(".")[0] in page and CONSENT_STATEMENT.split(".")[0] in page
    assert f'href="/s/{pioneer}/withdraw"' in page
    staff = _open(store, 2, "staff_survey")["p01"]
    page = client.get(f"/s/{staff}").text
    assert "Staff survey notice: &lt;b&gt;answers&lt;/b&gt;" in page and "<b>answers" not in page  # escaped
    assert "Staff survey consent" in page and PRIVACY_NOTICE.split(".")[0] not in page
    assert load_form(build(Path(client.app.state.ctx.settings.instruments["staff_survey"]).with_name("p.xlsx"))
                     ).privacy_notice == PRIVACY_NOTICE


def test_withdrawal_deletes_answers_in_every_wave_and_is_audited(setup):
    client, store = setup
    t1 = _open(store, 1)
    store.save_response(t1["p02"], FINAL, final=True)
    t2 = _open(store, 2)
    store.save_response(t2["p02"], {"achievements": "my own words"}, final=False)
    store.save_response(t2["p03"], {"achievements": "someone else"}, final=False)
    assert client.post(f"/s/{t2['p02']}/withdraw", data={"csrf": "forged"}).status_code == 403
    assert client.get(f"/s/{t2['p02']}/withdraw").status_code == 200
    r = client.post(f"/s/{t2['p02']}/withdraw", data={"csrf": _csrf(client, t2["p02"])})
    assert r.status_code == 200 and "Your answers have been deleted" in r.text
    assert [x["panelist_id"] for x in store.responses()] == ["p03"]
    inv = store.invitations_frame().set_index(["panelist_id", "wave"])
    assert inv.loc[("p02", 1), "disposition"] == inv.loc[("p02", 2), "disposition"] == "refusal"
    assert client.get(f"/s/{t2['p02']}").status_code == 404  # the link no longer works
    assert client.post(f"/s/{t2['p02']}/autosave", data={"csrf": _csrf(client, t2["p02"]), "org_type": "la"}
                       ).status_code == 409
    assert "p02" not in store.issue_tokens(2)  # no more mail
    audit = store.audit_log()
    row = audit[audit.action == "withdraw"]
    assert row.actor.tolist() == ["respondent p02"] and row.detail.tolist() == ["answers deleted: 2 response(s)"]
    assert "my own words" not in audit.to_csv()


def test_withdrawal_racing_autosaves_leaves_nothing(setup):
    client, store = setup
    tokens = _open(store, 1)

    def race(pid):
        token = tokens[pid]
        calls = [lambda: client.post(f"/s/{token}/withdraw", data={"csrf": _csrf(client, token)})]
        calls += [lambda j=j: client.post(f"/s/{token}/autosave", data={"csrf": _csrf(client, token),
                                                                        "achievements": f"save {j}"})
                  for j in range(3)]
        with ThreadPoolExecutor(4) as pool:
            return [f.result() for f in [pool.submit(c) for c in calls]]

    results = [race(pid) for pid in sorted(tokens)[:8]]
    codes = [r.status_code for rs in results for r in rs]
    assert [c for c in codes if c >= 500] == [] and {rs[0].status_code for rs in results} == {200}
    # an autosave landed before the withdrawal (204, then deleted) or was refused after it (the link is gone)
    assert {r.status_code for rs in results for r in rs[1:]} <= {204, 409}
    withdrawn = sorted(tokens)[:8]
    assert [x for x in store.responses() if x["panelist_id"] in withdrawn] == []


def test_erase_expired_removes_identities_and_keeps_answers(setup, tmp_path):
    client, store = setup
    old = _open(store, 1, closes="2015-07-31", retention=365)        # past retention on 2020-01-01
    store.log_mail("p04", 1, "invitation", "bounced", "550 no such user p4@example.org")
    store.save_response(old["p01"], FINAL, final=True)
    store.save_response(old["p05"], {**FINAL, "achievements": "kept"}, final=True)
    recent = _open(store, 2, closes="2019-07-31", retention=730)     # still within retention
    store.save_response(recent["p05"], FINAL, final=True)
    store.issue_tokens(1)  # (fresh tokens, as a reminder would)
    report = erase_expired(store, dt.date(2020, 1, 1))
    assert report.waves == (1,) and report.mail_details_erased == 1
    assert report.tokens_erased == 12 and report.panelists_erased == 0 and report.panelists_kept == 12
    people = store.panelists().set_index("panelist_id")
    assert people.at["p01", "name"] == "Name 1"  # still in wave 2, within retention
    with store.engine.connect() as c:
        assert c.execute(sa.select(MAIL_LOG.c.detail).where(MAIL_LOG.c.panelist_id == "p04")).scalar() == ""
    assert client.get(f"/s/{old['p02']}").status_code == 404  # wave-1 links erased
    assert client.get(f"/s/{recent['p02']}").status_code == 200
    report = erase_expired(store, dt.date(2022, 1, 1))  # wave 2 expires too
    assert report.waves == (1, 2) and report.panelists_erased == 12 and report.tokens_erased == 12
    people = store.panelists().set_index("panelist_id")
    assert set(people.name) == {ERASED} and set(people.email) == {""} and not people.active.any()
    assert not people.to_csv().count("@example.org")
    answers = {(r["panelist_id"], r["wave"]): r["answers"] for r in store.responses()}
    assert answers[("p05", 1)]["achievements"] == "kept" and answers[("p01", 1)] == FINAL  # kept de-identified
    inv = store.invitations_frame()
    assert set(inv.pioneer) == {"Barnsley"} and (inv.disposition == "complete").sum() == 3  # rates still computable
    assert erase_expired(store, dt.date(2022, 1, 2)).panelists_erased == 0  # idempotent
    audit = store.audit_log()
    assert (audit.action == "erase expired").sum() == 3


def test_erase_expired_command_reports(setup, tmp_path):
    _client, store = setup
    _open(store, 1, closes="2015-07-31", retention=30)
    exe = Path(sys.executable).parent / "joinedup"
    out = subprocess.run([str(exe), "survey", "erase-expired", "--store", store.url, "--today", "2016-01-01"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "waves past retention: 1; erased: 12 survey token(s), 0 mail log detail(s), names and e-mail " \
           "addresses of 12 panelist(s)" in out.stdout
    bad = subprocess.run([str(exe), "survey", "erase-expired", "--store", store.url, "--today", "tomorrow"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "is not a date" in bad.stderr


def test_closed_wave_gets_a_polite_page(setup):
    client, store = setup
    tokens = _open(store, 1, closes="2015-07-31")
    store.save_response(tokens["p01"], {"org_type": "la"}, final=False)
    store.set_wave_status(1, "closed")
    token = tokens["p01"]
    r = client.get(f"/s/{token}")
    assert r.status_code == 410 and "This survey closed on 31 July 2015" in r.text and "Thank you" in r.text
    r = client.post(f"/s/{token}", data={"csrf": _csrf(client, token), "action": "submit", **FINAL})
    assert r.status_code == 410 and "can no longer take answers" in r.text
    r = client.post(f"/s/{token}/autosave", data={"csrf": _csrf(client, token), "org_type": "ccg"})
    assert r.status_code == 409 and r.headers["X-Refused"] == "survey closed"
    assert store.answers("p01", 1) == {"org_type": "la"}


def test_missing_instrument_is_a_503_page_not_a_500(setup):
    client, store = setup
    token = _open(store, 1, instrument="removed_instrument")["p01"]
    r = client.get(f"/s/{token}")
    assert r.status_code == 503 and "cannot be shown at the moment" in r.text
    r = client.post(f"/s/{token}/autosave", data={"csrf": _csrf(client, token), "org_type": "la"})
    assert r.status_code == 503
