"""Issue 15, access and abuse: sign-in throttling per account and per client address (slow down, then
lock with 429 and a message, never a 500; failures and locks in the audit log), sessions that end on
the server (sign-out, password change, inactivity), sign-out for site and programme users, and the
login form's CSRF token. Stores: a SQLite file and a real PostgreSQL server (tests/pg_server.py).
"""

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from tests.test_web_admin import login_post

from joinedup.survey.accounts import LoginPolicy
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.security import COOKIE

PASSWORD = "a long enough password"
POLICY = LoginPolicy(slow_after=2, max_delay_s=0.2, account_limit=4, address_limit=7, lock_minutes=15)


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 's.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"l_{tmp_path.name.lower().replace('-', '_')[:40]}")
    app = create_app(WebSettings(store_url=url, login_policy=POLICY))
    store = app.state.ctx.store
    store.add_admin("admin", PASSWORD)
    store.add_user("barnsley", PASSWORD, "site", "Barnsley")
    store.add_user("nhse", PASSWORD, "programme")
    yield app
    store.engine.dispose()


def _audit(app, action):
    log = app.state.ctx.store.audit_log()
    return log[log.action == action]


def test_failed_logins_slow_down_then_lock_the_account(app):
    client = TestClient(app)
    codes = [login_post(client, "admin", f"guess {i}").status_code for i in range(POLICY.account_limit)]
    assert codes == [401] * (POLICY.account_limit - 1) + [429]
    r = login_post(client, "admin", PASSWORD)  # the right password, while locked
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text and "try again in 15 minute(s)" in r.text
    assert 800 < int(r.headers["Retry-After"]) <= 900 and COOKIE not in client.cookies
    failed, locked = _audit(app, "login failed"), _audit(app, "login locked")
    assert len(failed) == POLICY.account_limit and set(failed.actor) == {"admin"}
    assert locked.detail.tolist() == ["account admin locked for 15 minutes"]
    # another account from the same address is not locked yet
    assert login_post(TestClient(app), "nhse", PASSWORD).status_code == 200


def test_lock_expires_and_a_success_clears_the_account(app):
    throttle = app.state.ctx.throttle
    for _ in range(POLICY.account_limit):
        throttle.fail("admin", "10.0.0.1")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=16)
    assert throttle.locked("admin", "10.0.0.2") > 0 and throttle.locked("admin", "10.0.0.2", at=later) == 0
    throttle.fail("nhse", "10.0.0.3")
    throttle.succeed("nhse")
    assert throttle.fail("nhse", "10.0.0.3").failures == 1


def test_password_spraying_from_one_address_locks_the_address(app):
    client = TestClient(app)
    codes = [login_post(client, f"user{i}", "Password1!").status_code for i in range(POLICY.address_limit)]
    assert codes[-1] == 429 and set(codes[:-1]) == {401}
    r = login_post(client, "admin", PASSWORD)  # right password, locked address
    assert r.status_code == 429
    assert _audit(app, "login locked").detail.str.startswith("address testclient").any()


def test_concurrent_guesses_all_count_and_none_is_a_500(app):
    def guess(i):
        return login_post(TestClient(app), "admin", f"guess {i}").status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(guess, range(24)))
    assert [c for c in codes if c >= 500] == [] and set(codes) <= {401, 429}
    failed = len(_audit(app, "login failed"))
    # every attempt was either checked and counted (a "login failed" row) or refused as locked (429)
    assert failed + codes.count(429) >= 24 and failed >= POLICY.account_limit
    row = app.state.ctx.throttle.fail("admin", "x")
    assert row.failures == failed + 1 and row.locked  # every concurrent failure was counted (no lost update)
    assert login_post(TestClient(app), "admin", PASSWORD).status_code == 429


def test_slow_down_before_the_lock(app):
    throttle = app.state.ctx.throttle
    delays = [throttle.fail("nhse", "10.0.0.4").delay_s for _ in range(POLICY.account_limit - 1)]
    assert delays[:POLICY.slow_after] == [0.0] * POLICY.slow_after and delays[-1] > 0


def test_login_form_needs_its_csrf_token(app):
    client = TestClient(app)
    r = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})  # no form fetched
    assert r.status_code == 403 and "expired" in r.text and COOKIE not in client.cookies
    client.get("/admin/login")
    r = client.post("/admin/login", data={"username": "admin", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and COOKIE not in client.cookies
    other = TestClient(app)  # a token from another browser's form does not fit this browser's cookie
    token = re.search(r'name="csrf" value="([^"]+)"', other.get("/admin/login").text).group(1)
    assert client.post("/admin/login", data={"username": "admin", "password": PASSWORD,
                                             "csrf": token}).status_code == 403


def _csrf(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_sign_out_ends_the_session_on_the_server(app):
    client = TestClient(app)
    r = login_post(client, "admin", PASSWORD)
    stolen = client.cookies.get(COOKIE)
    r = client.post("/admin/logout", data={"csrf": _csrf(r.text)})
    assert r.status_code == 200 and r.url.path == "/admin/login"
    replay = TestClient(app, cookies={COOKIE: stolen})  # the cookie kept (copied) before signing out
    assert replay.get("/admin", follow_redirects=False).status_code == 303
    assert _audit(app, "logout").actor.tolist() == ["admin"]


@pytest.mark.parametrize("user", ["barnsley", "nhse"])
def test_site_and_programme_users_can_sign_out(app, user):
    client = TestClient(app)
    r = login_post(client, user, PASSWORD)
    assert r.url.path.startswith("/sites")
    assert client.post("/admin/logout", data={"csrf": "forged"}).status_code == 403  # still CSRF-checked
    r = client.post("/admin/logout", data={"csrf": _csrf(r.text)})
    assert r.status_code == 200 and r.url.path == "/admin/login"
    assert client.get("/sites", follow_redirects=False).headers["location"] == "/admin/login"


def test_password_change_ends_every_session_of_the_user(app):
    a, b = TestClient(app), TestClient(app)
    login_post(a, "admin", PASSWORD)
    login_post(b, "admin", PASSWORD)
    assert a.get("/admin").url.path == "/admin"
    app.state.ctx.store.add_user("admin", "a brand new password", "admin")
    assert a.get("/admin").url.path == "/admin/login" and b.get("/admin").url.path == "/admin/login"


def test_idle_sessions_expire(app):
    client = TestClient(app)
    login_post(client, "admin", PASSWORD)
    session = app.state.ctx.sessions.verify(client.cookies.get(COOKIE))
    registry = app.state.ctx.sessions.registry
    soon = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=20)
    assert registry.alive(session.sid, "admin", at=soon)  # used 20 minutes later: still alive, and touched
    idle = soon + dt.timedelta(minutes=31)
    assert not registry.alive(session.sid, "admin", at=idle)  # then 31 minutes without use: ended
    assert client.get("/admin").url.path == "/admin/login"


def test_concurrent_sign_ins_of_one_user_and_injection_in_the_name(app):
    clients = [TestClient(app) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda c: login_post(c, "nhse", PASSWORD).status_code, clients))
    assert codes == [200] * 8  # each its own session, none lost or a 500
    sids = {app.state.ctx.sessions.verify(c.cookies.get(COOKIE)).sid for c in clients}
    assert len(sids) == 8 and all(c.get("/sites").url.path == "/sites" for c in clients)
    with ThreadPoolExecutor(8) as pool:  # signing out in one browser leaves the others signed in
        pool.submit(lambda: clients[0].post("/admin/logout", data={"csrf": _csrf(clients[0].get("/sites").text)}))
        pages = list(pool.map(lambda c: c.get("/sites").url.path, clients[1:]))
    assert pages == ["/sites"] * 7 and clients[0].get("/sites").url.path == "/admin/login"
    for name in ("admin' OR '1'='1' --", "<script>alert(1)</script>", "=cmd|' /C calc'!A0"):
        r = login_post(TestClient(app), name, "' OR ''='")
        assert r.status_code == 401 and "<script>alert(1)" not in r.text
    assert "admin' OR '1'='1' --" in set(_audit(app, "login failed").actor)  # recorded as typed, as data
