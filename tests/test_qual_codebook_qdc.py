"""REFI-QDA codebook (.qdc) exchange (joinedup.qual.codebook_exchange): the export validates against
the Codebook 1.0 schema (tests/data/refi/Codebook.xsd, with lxml), a round trip keeps every code, its
nesting and description, a hand-written .qdc following the standard imports as written, bad files are
refused with the reason and store nothing; the CLI and the lead's upload (injection, abuse, races).
"""

import html
import re
import threading
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from lxml import etree
from tests.live_server import live_server
from tests.test_web_admin import login_post
from typer.testing import CliRunner

from joinedup.qual.codebook_exchange import QdcError, export_qdc, import_qdc, parse_qdc
from joinedup.qual.projects import Workbench
from joinedup.survey.store import SurveyStore
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

DATA = Path(__file__).parent / "data" / "refi"
PASSWORD = "a long enough password"


@pytest.fixture
def wb(tmp_path):
    store = SurveyStore(f"sqlite:///{tmp_path / 'c.db'}")
    store.create()
    return Workbench(store)


def _tree(wb, pid):
    names = {c["id"]: c["name"] for c in wb.codes(pid)}
    return [(c["name"], names.get(c["parent_id"]), c["description"], c["depth"]) for c in wb.codes(pid)]


def _book(wb):
    pid = wb.create_project("Pioneer interviews", "lead")
    barriers = wb.create_code(pid, "Barriers", "lead", description="What held it back")
    wf = wb.create_code(pid, "Workforce <b>staff</b>", "lead", parent_id=barriers, description='=HYPERLINK("x") & "quotes"')
    wb.create_code(pid, "Agency staff", "lead", parent_id=wf)
    wb.create_code(pid, "Enablers – café", "lead")
    return pid


def test_export_validates_and_round_trips(wb):
    pid = _book(wb)
    data = export_qdc(wb, pid)
    schema = etree.XMLSchema(etree.parse(str(DATA / "Codebook.xsd")))
    assert schema.validate(etree.fromstring(data)), schema.error_log
    other = wb.create_project("Copy", "lead")
    assert import_qdc(wb, other, data, "lead") == {"created": 4, "matched": 0, "not_codable": 0, "sets_ignored": 0}
    assert _tree(wb, other) == _tree(wb, pid) == [
        ("Barriers", None, "What held it back", 0), ("Workforce <b>staff</b>", "Barriers", '=HYPERLINK("x") & "quotes"', 1),
        ("Agency staff", "Workforce <b>staff</b>", "", 2), ("Enablers – café", None, "", 0)]
    assert export_qdc(wb, other) == data  # GUIDs from names: the same codebook gives the same file
    # importing again matches every code and changes nothing
    assert import_qdc(wb, other, data, "lead")["matched"] == 4 and _tree(wb, other) == _tree(wb, pid)
    # another tool's UTF-16 file (with its byte-order mark and declaration) reads the same
    utf16 = data.decode("utf-8").replace("encoding='utf-8'", "encoding='utf-16'").encode("utf-16")
    third = wb.create_project("Third", "lead")
    assert import_qdc(wb, third, utf16, "lead")["created"] == 4 and _tree(wb, third) == _tree(wb, pid)


def test_hand_written_qdc_imports_as_written(wb):
    data = (DATA / "pioneer_codebook.qdc").read_bytes()
    schema = etree.XMLSchema(etree.parse(str(DATA / "Codebook.xsd")))
    assert schema.validate(etree.fromstring(data))  # the example follows the standard's schema
    pid = wb.create_project("From NVivo", "lead")
    wb.create_code(pid, "Enablers", "lead", description="ours, kept")
    report = import_qdc(wb, pid, data, "lead")
    assert report == {"created": 4, "matched": 1, "not_codable": 1, "sets_ignored": 1}
    assert _tree(wb, pid) == [
        ("Barriers", None, "What held integration back (a grouping code)", 0),
        ("Information sharing", "Barriers", "Records, IT systems and information governance", 1),
        ("Shared care record", "Information sharing", "", 2),
        ("Workforce", "Barriers", "Recruiting, retaining and training staff", 1),
        ("Enablers", None, "ours, kept", 0)]
    parsed = parse_qdc(data)
    assert [(c["name"], c["codable"], c["color"]) for c in parsed["codes"]][:2] == [
        ("Barriers", False, "#D62728"), ("Workforce", True, "#FF9896")]
    assert any(a["action"] == "codebook imported" for a in wb.audit_log(pid))


BAD = [
    (b"not xml at all", "not well-formed XML"),
    ((b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
     b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>'), "DTD"),
    (b'<CodeBook xmlns="urn:QDA-XML:project:1.0"><Codes/></CodeBook>', "not CodeBook in the namespace"),
    (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"></CodeBook>', "no Codes element"),
    (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code name="A" isCodable="true"/></Codes></CodeBook>', "no guid"),
    (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="1" name="A" isCodable="yes"/></Codes></CodeBook>',
     "isCodable must be true or false"),
    ((b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="1" name="A" isCodable="true"><Code guid="2" name="A" '
     b'isCodable="true"/></Code></Codes></CodeBook>'), "appears twice"),
    (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="1" name="  " isCodable="true"/></Codes></CodeBook>',
     "a name is needed"),
    (b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="1" name="' + b"x" * 300 + b'" isCodable="true"/>'
     b"</Codes></CodeBook>", "at most 200"),
    ("<CodeBook xmlns='urn:QDA-XML:codebook:1.0'><Codes/></CodeBook>".encode("utf-16-le"), "has no Code"),
    (b"<a>" * 60 + b"</a>" * 60, "not CodeBook"),
    (b" " * (6 << 20), "larger than 5 MB"),
]


def test_bad_files_are_refused_and_store_nothing(wb):
    pid = wb.create_project("Empty", "lead")
    for data, words in BAD:
        with pytest.raises(QdcError, match=re.escape(words)):
            import_qdc(wb, pid, data, "lead")
    deep = b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>' + b''.join(
        b'<Code guid="%d" name="c%d" isCodable="true">' % (i, i) for i in range(60)) + b"</Code>" * 60 + b"</Codes></CodeBook>"
    with pytest.raises(QdcError, match="nested more than 50"):
        import_qdc(wb, pid, deep, "lead")
    assert wb.codes(pid) == []


def test_cli_codebook_export_and_import(wb, tmp_path):
    from joinedup.cli import app

    pid = _book(wb)
    url = str(wb.engine.url)
    runner = CliRunner()
    out = tmp_path / "book.qdc"
    r = runner.invoke(app, ["coding", "codebook-export", "--store", url, "--project", "Pioneer interviews", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == export_qdc(wb, pid)
    wb.create_project("Second", "lead")
    r = runner.invoke(app, ["coding", "codebook-import", "--store", url, "--project", "Second", "--file", str(out)])
    assert r.exit_code == 0 and "4 code(s) created, 0 already there" in r.output, r.output
    bad = tmp_path / "bad.qdc"
    bad.write_bytes(BAD[2][0])
    r = runner.invoke(app, ["coding", "codebook-import", "--store", url, "--project", "Second", "--file", str(bad)])
    assert r.exit_code == 1 and "bad.qdc" in r.output and "not CodeBook" in r.output


# -- the web ---------------------------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'w.db'}"))
    store, wb = app.state.ctx.store, app.state.ctx.workbench
    for name, role in (("lead", "lead"), ("ann", "coder"), ("leeds", "site")):
        store.add_user(name, PASSWORD, role, "Leeds" if role == "site" else None)
    pid = _book(wb)
    wb.add_member(pid, "lead", "lead", "lead")
    wb.add_member(pid, "ann", "coder", "lead")
    app.state.pid = pid
    return app


def _client(app, user):
    client = TestClient(app)
    r = login_post(client, user, PASSWORD)
    m = re.search(r'name="csrf" value="([^"]+)"', r.text)
    return client, m.group(1) if m else ""


def test_web_export_and_import(app):
    pid, wb = app.state.pid, app.state.ctx.workbench
    ann, _ = _client(app, "ann")
    r = ann.get(f"/coding/{pid}/codebook.qdc")
    assert r.status_code == 200 and r.content == export_qdc(wb, pid)
    assert "attachment" in r.headers["content-disposition"]
    page = ann.get(f"/coding/{pid}/codebook").text
    assert 'id="export-qdc"' in page and "Import a REFI-QDA codebook" not in page  # the lead's form only
    lead, csrf = _client(app, "lead")
    assert "Import a REFI-QDA codebook" in lead.get(f"/coding/{pid}/codebook").text
    data = (DATA / "pioneer_codebook.qdc").read_bytes().replace(b'name="Enablers"', b'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    r = lead.post(f"/coding/{pid}/codebook.qdc", files={"file": ("nvivo.qdc", data)}, data={"csrf": csrf})
    assert r.status_code == 200 and "4 code(s) created, 1 already there" in html.unescape(r.text)  # Barriers
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    before = len(wb.codes(pid))
    for files, form, status, words in [
        ({"file": ("x.qdc", BAD[1][0])}, {"csrf": csrf}, 400, "DTD"),
        ({"file": ("x.qdc", BAD[0][0])}, {"csrf": csrf}, 400, "not well-formed XML"),
        ({"file": ("x.qdc", "<CodeBook/>".encode("utf-16"))}, {"csrf": csrf}, 400, "x.qdc"),
        ({"file": ("x.qdc", b"\xff\xfe\x00garbage")}, {"csrf": csrf}, 400, "not well-formed"),
        ({"file": ("big.qdc", b" " * (6 << 20))}, {"csrf": csrf}, 400, "larger than 5 MB"),
        ({"file": ("x.qdc", data)}, {"csrf": "forged"}, 403, "CSRF"),
    ]:
        r = lead.post(f"/coding/{pid}/codebook.qdc", files=files, data=form)
        assert r.status_code == status and words in html.unescape(r.text), (words, r.status_code, r.text[-300:])
    assert lead.post(f"/coding/{pid}/codebook.qdc", data={"csrf": csrf}).status_code == 415
    ann2, ann_csrf = _client(app, "ann")
    r = ann2.post(f"/coding/{pid}/codebook.qdc", files={"file": ("x.qdc", data)}, data={"csrf": ann_csrf})
    assert r.status_code == 403
    site, _ = _client(app, "leeds")
    assert site.get(f"/coding/{pid}/codebook.qdc").status_code == 404
    assert len(wb.codes(pid)) == before


def test_racing_uploads_of_one_codebook(app):
    pid, wb = app.state.pid, app.state.ctx.workbench
    with live_server(app) as base:
        with httpx.Client(base_url=base) as client:
            login_post(client, "lead", PASSWORD)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/coding/{pid}/codebook").text).group(1)
            cookies = dict(client.cookies)
        data = (DATA / "pioneer_codebook.qdc").read_bytes()
        statuses = []

        def post():
            with httpx.Client(base_url=base, cookies=cookies, follow_redirects=False, timeout=60) as c:
                statuses.append(c.post(f"/coding/{pid}/codebook.qdc", files={"file": ("b.qdc", data)},
                                       data={"csrf": csrf}).status_code)

        threads = [threading.Thread(target=post) for _ in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert statuses == [303] * 6
        names = [c["name"] for c in wb.codes(pid)]
        assert len(names) == len(set(names)) == 4 + 4  # _book's four and the file's five less Barriers, each once
