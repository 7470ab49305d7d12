"""Scheme register corrections sent by a site are accepted or rejected by an admin (issue 16): an
accepted one is layered over the run's register on the site's dashboard, marked "corrected by the
site, accepted <date>"; a rejected one keeps its reason; who and when are stored and audited. CSRF,
roles, abuse and injection in-process; two admins racing to decide the same correction against a real
`joinedup serve` on SQLite and on PostgreSQL (one wins, the other gets 409, never a 500).
"""

import io

import httpx
import pandas as pd
import pytest
from tests.test_web_feedback import _client, _csrf, _post, _served, http_login
from tests.test_web_races import _together
from tests.test_web_sites import PASSWORD, _results

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings


@pytest.fixture
def app(tmp_path):
    """The app on SQLite with the hand-made run's tables, two sites' users and a programme user."""
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", results=_results(tmp_path / "run")))
    store = app.state.ctx.store
    store.add_user("barnsley", PASSWORD, "site", "Barnsley")
    store.add_user("leeds", PASSWORD, "site", "Leeds")
    store.add_user("nhse", PASSWORD, "programme")
    return app


def _send(app, scheme_id="barnsley-01", field="target_group", proposed="people over 75"):
    lead = _client(app, "barnsley")
    r = lead.post("/sites/Barnsley/schemes", data={"csrf": _csrf(lead), "scheme_id": scheme_id, "field": field,
                                                   "proposed": proposed}, follow_redirects=False)
    assert r.status_code == 303
    return int(app.state.ctx.feedback.corrections()["id"].iloc[-1])


def _admin(app):
    app.state.ctx.store.add_user("evaluator", PASSWORD, "admin")
    team = _client(app, "evaluator")
    page = team.get("/feedback").text
    return team, page.split('name="csrf" value="')[1].split('"')[0]


def _schemes_table(page):
    return page.split("Schemes in Barnsley's register")[1].split("</table>")[0]


def test_accepting_layers_the_correction_over_the_register_with_who_and_when(app):
    cid = _send(app)
    lead = _client(app, "barnsley")
    before = _schemes_table(lead.get("/sites/Barnsley").text)
    assert "people over 75" not in before and "corrected by the site" not in before
    team, csrf = _admin(app)
    assert f'action="/feedback/corrections/{cid}/accept"' in team.get("/feedback").text
    r = team.post(f"/feedback/corrections/{cid}/accept", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/feedback#correction-{cid}"
    row = app.state.ctx.feedback.corrections().iloc[0]
    assert (row["decision"], row["decided_by"], row["reason"]) == ("accept", "evaluator", "")
    assert pd.Timestamp.now("UTC").tz_localize(None) - row["decided_at"] < pd.Timedelta(minutes=5)
    shown = _schemes_table(lead.get("/sites/Barnsley").text)
    today = f"{row['decided_at']:%d %b %Y}"
    assert "people over 75" in shown and "frail" not in shown.split("barnsley-01")[1].split("</tr>")[0]
    assert f"Target group corrected by the site, accepted {today}" in shown
    # the team's page and the export show the decision; the audit log has it
    page = team.get("/feedback").text
    assert f"Accepted by evaluator, {today}" in page and f'action="/feedback/corrections/{cid}/accept"' not in page
    exported = pd.read_csv(io.StringIO(team.get("/feedback/corrections.csv").text), keep_default_na=False)
    assert exported[["decision", "decided_by"]].values.tolist() == [["accept", "evaluator"]]
    audit = app.state.ctx.store.audit_log()
    assert audit[audit["action"] == "scheme_correction_accept"][["actor", "detail"]].values.tolist() == [
        ["evaluator", f"Barnsley: correction {cid} (barnsley-01.target_group)"]]


def test_rejecting_needs_a_reason_and_leaves_the_register_as_it_was(app):
    cid = _send(app)
    team, csrf = _admin(app)
    for reason in ("", "   ", "a\x00b", "x" * 501):
        assert team.post(f"/feedback/corrections/{cid}/reject", data={"csrf": csrf, "reason": reason}).status_code == 400
    assert app.state.ctx.feedback.corrections()["decision"].tolist() == [""]
    r = team.post(f"/feedback/corrections/{cid}/reject", data={"csrf": csrf, "reason": "the PID says frail elderly"},
                  follow_redirects=False)
    assert r.status_code == 303
    row = app.state.ctx.feedback.corrections().iloc[0]
    assert (row["decision"], row["decided_by"], row["reason"]) == ("reject", "evaluator", "the PID says frail elderly")
    lead = _client(app, "barnsley")
    page = lead.get("/sites/Barnsley").text
    assert "people over 75" not in _schemes_table(page) and "Not accepted: the PID says frail elderly" in page
    assert "scheme_correction_reject" in app.state.ctx.store.audit_log()["action"].tolist()
    # decided once: a second decision either way is a 409 naming who decided, and changes nothing
    for decision in ("accept", "reject"):
        r = team.post(f"/feedback/corrections/{cid}/{decision}", data={"csrf": csrf, "reason": "again"})
        assert r.status_code == 409 and "already rejected by evaluator" in r.text
    assert app.state.ctx.feedback.corrections()[["decision", "reason"]].values.tolist() == [
        ["reject", "the PID says frail elderly"]]


def test_later_accepted_corrections_win_and_new_schemes_and_other_fields_are_listed(app):
    first, second = _send(app, proposed="over 65s"), _send(app, proposed="over 75s")
    status = _send(app, field="status", proposed="closed in 2016")
    start = _send(app, field="start_date", proposed="2015-04-01")
    new = _send(app, scheme_id="new", field="description", proposed="falls service")
    team, csrf = _admin(app)
    for cid in (first, second, status, start, new):
        assert team.post(f"/feedback/corrections/{cid}/accept", data={"csrf": csrf},
                         follow_redirects=False).status_code == 303
    shown = _schemes_table(_client(app, "barnsley").get("/sites/Barnsley").text)
    row = shown.split("barnsley-01")[1].split("</tr>")[0]
    assert "over 75s" in row and "over 65s" not in row and "Apr 2015" in row
    assert "Status corrected by the site: closed in 2016, accepted" in row
    assert "Added by the site" in shown and "Description corrected by the site: falls service" in shown
    # another site's dashboard is untouched
    assert "corrected by the site" not in _client(app, "leeds").get("/sites/Leeds").text


def test_only_admins_decide_with_csrf_and_odd_requests_never_500(app):
    cid = _send(app)
    lead, programme = _client(app, "barnsley"), _client(app, "nhse")
    team, csrf = _admin(app)
    path = f"/feedback/corrections/{cid}/accept"
    # the programme role reads the feedback but does not decide; a site user neither
    assert "Waiting for an admin" in programme.get("/feedback").text
    assert "/feedback/corrections/" not in programme.get("/feedback").text  # no decision forms for the programme role
    assert programme.post(path, data={"csrf": _csrf(programme)}).status_code == 403
    assert lead.post(path, data={"csrf": _csrf(lead)}).status_code == 403
    # CSRF: missing, forged, another session's
    assert team.post(path, data={"reason": ""}).status_code == 403
    assert team.post(path, data={"csrf": "forged"}).status_code == 403
    assert team.post(path, data={"csrf": _csrf(lead)}).status_code == 403
    # signed out: to the login page
    from fastapi.testclient import TestClient
    assert TestClient(app).post(path, data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert app.state.ctx.feedback.corrections()["decision"].tolist() == [""]
    # odd ids and decisions, huge and malformed bodies
    assert team.post("/feedback/corrections/abc/accept", data={"csrf": csrf}).status_code == 422
    for odd in ("99999999999999999999", "-1", "0", "12345"):
        assert team.post(f"/feedback/corrections/{odd}/accept", data={"csrf": csrf}).status_code == 404
    assert team.post(f"/feedback/corrections/{cid}/delete", data={"csrf": csrf}).status_code == 404
    form = "application/x-www-form-urlencoded"
    assert team.post(path, content=b"csrf=" + csrf.encode() + b"&reason=" + b"a" * 2_000_000,
                     headers={"content-type": form}).status_code == 413
    assert team.post(path, content=b'{"csrf": "x"}', headers={"content-type": "application/json"}).status_code == 415
    assert team.post(path, content=f"csrf={csrf}&reason=%FF".encode(), headers={"content-type": form}).status_code == 400
    assert app.state.ctx.feedback.corrections()["decision"].tolist() == [""]


def test_injection_in_corrections_and_reasons_is_shown_escaped_and_exported_safely(app):
    script = '<script>alert("x")</script>'
    cid = _send(app, field="scheme_type", proposed=script)
    rejected = _send(app, proposed="x")
    team, csrf = _admin(app)
    assert team.post(f"/feedback/corrections/{cid}/accept", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    sql = "'); DROP TABLE scheme_correction_decisions; --"
    assert team.post(f"/feedback/corrections/{rejected}/reject", data={"csrf": csrf, "reason": "=HYPERLINK(\"x\")"},
                     follow_redirects=False).status_code == 303
    assert team.post(f"/feedback/corrections/{rejected}/reject", data={"csrf": csrf, "reason": sql}).status_code == 409
    for page in (_client(app, "barnsley").get("/sites/Barnsley").text, team.get("/feedback").text):
        assert "<script>alert" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert(&quot;x&quot;)" in page
    exported = pd.read_csv(io.StringIO(team.get("/feedback/corrections.csv").text), keep_default_na=False)
    assert exported["reason"].tolist() == ["", "'=HYPERLINK(\"x\")"]
    assert app.state.ctx.feedback.corrections()["reason"].tolist() == ["", '=HYPERLINK("x")']  # stored verbatim


# -- two admins deciding at once, against a real server, SQLite and PostgreSQL -------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def served_admins(request, tmp_path, pg_server):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url = pg_server.create_database(f"d_{tmp_path.name.lower().replace('-', '_')[:40]}")
    yield from _served(url, tmp_path)


def _sign_in(base, user):
    cookies = http_login(base, user)
    page = httpx.get(base + "/feedback", cookies=cookies, timeout=60).text
    return cookies, page.split('name="csrf" value="')[1].split('"')[0]


def test_two_admins_deciding_the_same_correction_at_once_one_wins_the_other_gets_409(served_admins):
    base, cookies, csrf, store = served_admins
    for name in ("ann", "bob"):
        store.add_user(name, PASSWORD, "admin")
    n = 6
    for i in range(n):
        assert _post(base, cookies, "/sites/Barnsley/schemes", {"csrf": csrf, "scheme_id": "barnsley-01",
                                                                "field": "status", "proposed": f"v{i}"}).status_code == 303
    ann, bob = _sign_in(base, "ann"), _sign_in(base, "bob")
    with store.engine.connect() as c:
        ids = pd.read_sql("SELECT id FROM scheme_corrections ORDER BY id", c)["id"].tolist()
    for k, cid in enumerate(ids):
        # ann accepts while bob accepts (even ids) or rejects (odd ids), at the same instant
        bob_decision = "accept" if k % 2 == 0 else "reject"
        out = _together([lambda cid=cid: _post(base, ann[0], f"/feedback/corrections/{cid}/accept", {"csrf": ann[1]}),
                         lambda cid=cid, d=bob_decision: _post(base, bob[0], f"/feedback/corrections/{cid}/{d}",
                                                               {"csrf": bob[1], "reason": "no"})])
        assert sorted(r.status_code for r in out) == [303, 409], [r.text[:300] for r in out]
        loser = next(r for r in out if r.status_code == 409)
        assert "was already" in loser.text and "nothing was changed" in loser.text
    with store.engine.connect() as c:
        decisions = pd.read_sql("SELECT correction_id, decision, decided_by FROM scheme_correction_decisions", c)
        audit = pd.read_sql("SELECT action, actor FROM audit_log", c)
    assert sorted(decisions["correction_id"]) == ids  # exactly one decision each
    decided = audit[audit["action"].isin(["scheme_correction_accept", "scheme_correction_reject"])]
    assert len(decided) == n  # the loser's audit row was rolled back with its decision
    # the site's dashboard renders with whatever won
    assert httpx.get(base + "/sites/Barnsley", cookies=cookies, timeout=60).status_code == 200
