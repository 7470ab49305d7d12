"""REFI-QDA project exchange in the browser (joinedup.web.qual_refi_routes): the lead downloads the
project as a .qdpx that validates against the REFI-QDA Project 1.0 schema and a lead uploads it as a
new project with every coding's coder and status; access by role; abuse (not a zip, no project.qde,
a DTD, a zip bomb, a dangling reference, too large, a forged CSRF token), injection (markup and SQL in
names), racing imports; and in Chromium the import form and export link with axe-core finding no
violation.
"""

import html
import io
import re
import threading
import zipfile
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from tests.axe import violations
from tests.live_server import live_server
from tests.test_qual_exchange import _snapshot
from tests.test_web_admin import login_post
from tests.test_web_qual_browser import browser  # noqa: F401 -- the shared Chromium fixture

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

PASSWORD = "a long enough password"
SCHEMA = Path(__file__).parent / "data" / "refi" / "Project.xsd"


@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'w.db'}"))
    store, wb = app.state.ctx.store, app.state.ctx.workbench
    for name, role in (("lead", "lead"), ("meg", "lead"), ("ann", "coder"), ("leeds", "site")):
        store.add_user(name, PASSWORD, role, "Leeds" if role == "site" else None)
    pid = wb.create_project("Interviews", "lead", description="Wave 2")
    for user, role in (("lead", "lead"), ("ann", "coder")):
        wb.add_member(pid, user, role, "lead")
    s1 = wb.add_source(pid, "leeds", "Interviewer: Why?\nLead: Staff and records.", "transcript", "lead",
                       case="Leeds lead", attributes={"site": "Leeds"})
    top = wb.create_code(pid, "Barriers", "lead")
    staff = wb.create_code(pid, "Workforce", "lead", parent_id=top)
    wb.add_coding(pid, s1, 24, 29, staff, "ann", "ann")
    wb.add_coding(pid, s1, 24, 29, staff, "lead", "lead", status="agreed")
    wb.add_memo(pid, "source", s1, "Recorded in 2017", "lead")
    app.state.pid = pid
    return app


def _client(app, user):
    client = TestClient(app)
    login_post(client, user, PASSWORD)
    m = re.search(r'name="csrf" value="([^"]+)"', client.get("/coding").text)
    return client, m.group(1) if m else ""


def _zip(entries: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in entries.items():
            z.writestr(n, data)
    return buf.getvalue()


def test_lead_exports_and_imports_a_project(app):
    pid, wb = app.state.pid, app.state.ctx.workbench
    lead, csrf = _client(app, "lead")
    assert 'id="export-qdpx"' in lead.get(f"/coding/{pid}").text
    r = lead.get(f"/coding/{pid}/project.qdpx")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert schema.validate(etree.fromstring(z.read("project.qde"))), schema.error_log
    assert any(a["action"] == "project exported" for a in wb.audit_log(pid))
    r = lead.post("/coding/import-refi", files={"file": ("nvivo.qdpx", r.content)}, data={"csrf": csrf, "name": "Copy"},
                  follow_redirects=False)
    assert r.status_code == 303, r.text[-300:]
    again = wb.project_id("Copy")
    assert r.headers["location"].startswith(f"/coding/{again}?done=")
    assert _snapshot(wb, again) == _snapshot(wb, pid)  # coders, agreed status, memos, description, blind
    assert wb.members(again) == {"lead": "lead"}  # the importing lead leads it; nobody else sees it yet


def test_who_may_export_and_import(app):
    pid = app.state.pid
    ann, ann_csrf = _client(app, "ann")
    assert ann.get(f"/coding/{pid}/project.qdpx").status_code == 403  # a coder codes blind: no whole file
    assert 'id="export-qdpx"' not in ann.get(f"/coding/{pid}").text and "Import a project" not in ann.get("/coding").text
    data = _client(app, "lead")[0].get(f"/coding/{pid}/project.qdpx").content
    assert ann.post("/coding/import-refi", files={"file": ("p.qdpx", data)}, data={"csrf": ann_csrf}).status_code == 403
    meg, _ = _client(app, "meg")  # a lead who is not a member of this project
    assert meg.get(f"/coding/{pid}/project.qdpx").status_code == 404
    site, _ = _client(app, "leeds")
    assert site.get(f"/coding/{pid}/project.qdpx").status_code == 404
    assert TestClient(app).get(f"/coding/{pid}/project.qdpx", follow_redirects=False).status_code == 303  # sign in


def test_bad_files_get_the_reason_and_store_nothing(app):
    wb = app.state.ctx.workbench
    lead, csrf = _client(app, "lead")
    good = lead.get(f"/coding/{app.state.pid}/project.qdpx").content
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    qde = entries["project.qde"]
    dangling = qde.replace(b'<CodeRef targetGUID="', b'<CodeRef targetGUID="0', 1)
    dangling = re.sub(rb'CodeRef targetGUID="0[0-9A-F]', b'CodeRef targetGUID="00', dangling)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project.qde", qde)
        z.writestr("Sources/zeros.txt", b"\0" * (210 << 20))  # 210 MB of zeros, about 200 kB packed
    cases = [
        (b"not a zip", 400, "not a .qdpx file"),
        (_zip({"readme.txt": b"hello"}), 400, "no project.qde"),
        (_zip({**entries, "project.qde": b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><Project/>'}), 400, "DTD"),
        (_zip({**entries, "project.qde": "<!DOCTYPE x>".encode("utf-16-le")}), 400, "DTD"),
        (_zip({**entries, "project.qde": b"<Project"}), 400, "not well-formed XML"),
        (_zip({**entries, "project.qde": b'<Project xmlns="urn:QDA-XML:codebook:1.0" name="x"/>'}), 400, "not a REFI-QDA project"),
        (_zip({**entries, "project.qde": dangling}), 400, "refers to a code, user or file the project does not define"),
        (_zip({"project.qde": qde}), 400, "is missing"),  # the sources' text files left out
        (bomb.getvalue(), 400, "unpacks to 210 MB"),
        (b"PK" + b"\0" * (21 << 20), 413, "too large"),
    ]
    projects = len(wb.projects_for({"username": "admin", "role": "admin"}))
    for i, (data, status, words) in enumerate(cases):
        r = lead.post("/coding/import-refi", files={"file": ("bad.qdpx", data)}, data={"csrf": csrf, "name": f"Bad {i}"},
                      follow_redirects=False)
        assert r.status_code == status and words in html.unescape(r.text), (i, words, r.status_code, r.text[-400:])
    r = lead.post("/coding/import-refi", files={"file": ("p.qdpx", good)}, data={"csrf": "forged", "name": "Forged"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert lead.post("/coding/import-refi", data={"csrf": csrf, "name": "No file"}).status_code == 415
    r = lead.post("/coding/import-refi", files={"file": ("p.qdpx", good)}, data={"csrf": csrf, "name": "Interviews"})
    assert r.status_code == 400 and "already exists" in html.unescape(r.text)
    r = lead.post("/coding/import-refi", files={"file": ("p.qdpx", good)}, data={"csrf": csrf, "name": "x" * 300})
    assert r.status_code == 400 and "at most 200 characters" in r.text
    assert len(wb.projects_for({"username": "admin", "role": "admin"})) == projects


def test_markup_and_sql_in_the_file_are_only_text(app):
    wb = app.state.ctx.workbench
    lead, csrf = _client(app, "lead")
    good = lead.get(f"/coding/{app.state.pid}/project.qdpx").content
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    evil = "&lt;img src=x onerror=alert(1)&gt;'); DROP TABLE qual_codings; --"
    entries["project.qde"] = entries["project.qde"].replace(b'name="leeds"', f'name="{evil}"'.encode())
    r = lead.post("/coding/import-refi", files={"file": ("<b>x</b>.qdpx", _zip(entries))},
                  data={"csrf": csrf, "name": "<script>alert(2)</script>"})
    assert r.status_code == 200, r.text[-300:]
    assert "<img src=x" not in r.text and "<script>alert(2)" not in r.text and "<b>x</b>" not in r.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in r.text and "&lt;script&gt;alert(2)&lt;/script&gt;" in r.text
    pid = wb.project_id("<script>alert(2)</script>")
    assert [s["name"] for s in wb.sources(pid)] == [html.unescape(evil)]
    assert len(wb.visible_codings(app.state.pid, "", "lead")) == 2  # the table is still there


def test_racing_imports_of_one_name_make_one_project(app):
    wb = app.state.ctx.workbench
    with live_server(app) as base:
        with httpx.Client(base_url=base) as client:
            login_post(client, "lead", PASSWORD)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/coding").text).group(1)
            data = client.get(f"/coding/{app.state.pid}/project.qdpx").content
            cookies = dict(client.cookies)
        statuses = []

        def post():
            with httpx.Client(base_url=base, cookies=cookies, follow_redirects=False, timeout=120) as c:
                statuses.append(c.post("/coding/import-refi", files={"file": ("p.qdpx", data)},
                                       data={"csrf": csrf, "name": "Raced"}).status_code)

        threads = [threading.Thread(target=post) for _ in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert sorted(statuses) == [303] + [400] * 5, statuses
    pid = wb.project_id("Raced")
    assert _snapshot(wb, pid) == _snapshot(wb, app.state.pid)
    assert sum(p["name"] == "Raced" for p in wb.projects_for({"username": "admin", "role": "admin"})) == 1


def test_in_chromium_export_and_import_with_no_axe_violation(app, browser, tmp_path):  # noqa: F811
    pid = app.state.pid
    with live_server(app) as base:
        context = browser.new_context(accept_downloads=True, bypass_csp=True)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/admin/login")
        page.fill("#username", "lead")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/coding")
        assert violations(page) == []  # the projects page with the import form
        page.goto(f"{base}/coding/{pid}")
        assert violations(page) == []  # the project page with the export link
        with page.expect_download() as download:
            page.click("#export-qdpx")
        path = tmp_path / "p.qdpx"
        download.value.save_as(path)
        page.goto(f"{base}/coding")
        page.set_input_files("#qdpx-file", str(path))
        page.fill("#qdpx-name", "From the browser")
        page.click("button:has-text('Import project')")
        page.wait_for_selector("text=Imported from p.qdpx: 1 source(s), 2 code(s)")
        assert violations(page) == []
        page.goto(f"{base}/coding")
        page.set_input_files("#qdpx-file", str(path))
        page.fill("#qdpx-name", "From the browser")
        page.click("button:has-text('Import project')")
        page.wait_for_selector("text=already exists")
        assert violations(page) == []  # the refusal page
        context.close()
        assert errors == []
    wb = app.state.ctx.workbench
    assert _snapshot(wb, wb.project_id("From the browser")) == _snapshot(wb, pid)
