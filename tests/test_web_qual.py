"""The qualitative workbench's pages (TestClient, SQLite): who sees what (coders only their projects,
blind to other coders; programme and site users nothing), injection (HTML in source text and code
names escaped; formula-like cells in the Excel export neutralised), abuse (oversized, mis-encoded,
fake and empty uploads, bad numbers, missing CSRF: each a clear 4xx, never a 500), races (one user's
concurrent codings against a real server) and the lead's agreed coding.
"""

import html
import io
import re
import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.live_server import live_server
from tests.test_web_admin import login_post

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.qual_web import MAX_UPLOAD_BYTES

PASSWORD = "a long enough password"
TEXT = "Interviewer: What held you back?\nLead: <script>alert(1)</script> Recruiting staff.\nInterviewer: IT?\nLead: Records."


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'q.db'}"))
    store = app.state.ctx.store
    for name, role, site in [("lead", "lead", None), ("ann", "coder", None), ("bob", "coder", None),
                             ("carl", "coder", None), ("nhse", "programme", None), ("leeds", "site", "Leeds")]:
        store.add_user(name, PASSWORD, role, site)
    wb = app.state.ctx.workbench
    pid = wb.create_project("Interviews", "lead")
    for name, role in [("lead", "lead"), ("ann", "coder"), ("bob", "coder")]:
        wb.add_member(pid, name, role, "lead")
    sid = wb.add_source(pid, "leeds", TEXT, "transcript", "lead", case="Leeds lead", attributes={"site": "Leeds"})
    code = wb.create_code(pid, "Barriers <img src=x onerror=alert(1)>", "lead")
    app.state.ids = {"pid": pid, "sid": sid, "code": code}
    return app


def _client(app, user):
    client = TestClient(app)
    r = login_post(client, user, PASSWORD)
    assert r.history and r.history[0].status_code == 303, r.text  # signed in (a site without results answers 404)
    return client, _csrf(r.text)


def test_access_follows_roles_and_membership(app):
    ids = app.state.ids
    paths = [f"/coding/{ids['pid']}", f"/coding/{ids['pid']}/sources/{ids['sid']}", f"/coding/{ids['pid']}/retrieve?code={ids['code']}",
             f"/coding/{ids['pid']}/matrix", f"/coding/{ids['pid']}/matrix.xlsx", f"/coding/{ids['pid']}/codebook"]
    for user in ("nhse", "leeds", "carl"):  # programme, site, and a coder not in the project
        client, _ = _client(app, user)
        for path in paths:
            r = client.get(path)
            assert r.status_code == 404 and "Recruiting" not in r.text, (user, path)
    anonymous = TestClient(app)
    assert anonymous.get(paths[1]).url.path == "/admin/login"
    ann, _ = _client(app, "ann")
    assert ann.get(paths[1]).status_code == 200
    assert ann.get(f"/coding/{ids['pid']}/agreement").status_code == 403  # the lead's page
    assert login_post(TestClient(app), "ann", PASSWORD).url.path == "/coding"


def test_html_in_text_and_code_names_is_escaped(app):
    ids = app.state.ids
    client, _ = _client(app, "lead")
    for path in (f"/coding/{ids['pid']}/sources/{ids['sid']}", f"/coding/{ids['pid']}/codebook"):
        page = client.get(path).text
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_coding_is_blind_and_the_lead_records_the_agreed_coding(app):
    ids = app.state.ids
    pid, sid, code = ids["pid"], ids["sid"], ids["code"]
    start = TEXT.index("Recruiting")
    ann, csrf_a = _client(app, "ann")
    bob, csrf_b = _client(app, "bob")
    r = ann.post(f"/coding/{pid}/sources/{sid}/codings", data={"csrf": csrf_a, "start": start, "end": start + 17, f"code-{code}": "on"})
    assert r.status_code == 200 and "ann, " in r.text
    r = bob.post(f"/coding/{pid}/sources/{sid}/codings", data={"csrf": csrf_b, "start": start, "end": start + 10, f"code-{code}": "on"})
    assert "bob, " in r.text and "ann, " not in r.text  # bob does not see ann's coding
    assert "bob, " not in ann.get(f"/coding/{pid}/sources/{sid}").text
    lead, csrf_l = _client(app, "lead")
    page = lead.get(f"/coding/{pid}/agreement").text
    assert "Coders compared: ann, bob" in page and f"{start + 10}–{start + 17}" in page
    r = lead.post(f"/coding/{pid}/agreement/record", data={"csrf": csrf_l, "source": sid, "code": code, "start": start,
                                                           "end": start + 17})
    assert r.status_code == 200
    assert "Agreed" in ann.get(f"/coding/{pid}/sources/{sid}").text  # everyone sees the agreed coding
    # a coder cannot record an agreed coding, nor remove another's
    r = ann.post(f"/coding/{pid}/agreement/record", data={"csrf": csrf_a, "source": sid, "code": code, "start": 0, "end": 3})
    assert r.status_code == 403
    bobs = [c["id"] for c in app.state.ctx.workbench.visible_codings(pid, "bob", "coder") if c["coder"] == "bob"]
    assert ann.post(f"/coding/{pid}/codings/{bobs[0]}/remove", data={"csrf": csrf_a}).status_code == 403


def test_abuse_gets_clear_refusals_never_a_500(app):
    ids = app.state.ids
    pid, sid, code = ids["pid"], ids["sid"], ids["code"]
    client, csrf = _client(app, "lead")
    up = f"/coding/{pid}/upload"
    cases = [
        ({"file": ("huge.txt", b"x" * (MAX_UPLOAD_BYTES + 1))}, {"csrf": csrf}, 413, "too large"),
        ({"file": ("latin.txt", "Caf\u00e9 society".encode("latin-1"))}, {"csrf": csrf}, 400, "not UTF-8 text (byte 3 is 0xe9)"),
        ({"file": ("fake.docx", b"this is not a zip")}, {"csrf": csrf}, 400, "not a DOCX"),
        ({"file": ("fake.pdf", b"nope")}, {"csrf": csrf}, 400, "not a PDF"),
        ({"file": ("empty.txt", b"")}, {"csrf": csrf}, 400, ""),
        ({"file": ("a.txt", b"ok")}, {"csrf": "wrong"}, 403, "CSRF"),
        ({"file": ("a.txt", b"ok")}, {"csrf": csrf, "attributes": "no equals sign"}, 400, "is not 'name = value'"),
    ]
    for files, data, status, words in cases:
        r = client.post(up, files=files, data=data)
        assert r.status_code == status and words in html.unescape(r.text), (files["file"][0], r.status_code, r.text[-400:])
    assert client.post(up, data={"csrf": csrf}).status_code == 415  # no multipart at all
    coding = f"/coding/{pid}/sources/{sid}/codings"
    for data in ({"start": "-1", "end": "5"}, {"start": "99999999999999999999", "end": "5"}, {"start": "5", "end": "5"},
                 {"start": "0", "end": str(len(TEXT) + 1)}, {"start": "0", "end": "3"}, {"start": "x", "end": "3"}):
        r = client.post(coding, data={"csrf": csrf, f"code-{code}": "on", **data} if data != {"start": "0", "end": "3"}
                        else {"csrf": csrf, **data})
        assert r.status_code == 400, (data, r.status_code)
    r = client.post(coding, data={"csrf": csrf, "start": "0", "end": "3", "code-999999": "on"})
    assert r.status_code == 400 and "no code 999999" in r.text
    for path in (f"/coding/{pid}/sources/999999", f"/coding/{pid}/retrieve?code=abc", f"/coding/{pid}/retrieve?code=999999",
                 f"/coding/{pid}/matrix?by=%00", "/coding/99999999999999999999", "/coding/-1"):
        assert client.get(path).status_code in (400, 404, 422), path
    r = client.post(f"/coding/{pid}/codes", data={"csrf": csrf, "op": "create", "name": "x" * 201})
    assert r.status_code == 400 and "at most 200" in r.text
    r = client.post(f"/coding/{pid}/codes", data={"csrf": csrf, "op": "merge", "keep": code, "merge": code})
    assert r.status_code == 400 and "into itself" in r.text
    r = client.post(f"/coding/{pid}/memos", data={"csrf": csrf, "target": "source", "target_id": sid, "text": "a\x00b"})
    assert r.status_code == 400
    r = client.post(f"/coding/{pid}/sources/{sid}/suggest", data={"csrf": csrf})
    assert r.status_code == 400 and "at least two coded segments" in r.text  # nothing to learn from yet


def test_upload_docx_keeps_speaker_turns_and_excel_is_neutralised(app, tmp_path):
    import docx
    from openpyxl import load_workbook

    ids = app.state.ids
    pid = ids["pid"]
    client, csrf = _client(app, "lead")
    d = docx.Document()
    for line in ("Interviewer: Why?", "Manager: =HYPERLINK(\"http://evil\",\"x\") budgets."):
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    r = client.post(f"/coding/{pid}/upload", files={"file": ("barnsley.docx", buf.getvalue())},
                    data={"csrf": csrf, "case": "Barnsley manager", "attributes": "site = =Barnsley"})
    assert r.status_code == 200 and 'class="speaker">Manager:</span>' in r.text
    sid = int(r.url.path.rsplit("/", 1)[1])
    text = app.state.ctx.workbench.source(pid, sid)["text"]
    start = text.index("=HYPERLINK")
    client.post(f"/coding/{pid}/sources/{sid}/codings", data={"csrf": csrf, "start": start, "end": len(text), f"code-{ids['code']}": "on"})
    r = client.get(f"/coding/{pid}/matrix.xlsx?by=site")
    assert r.status_code == 200
    (tmp_path / "m.xlsx").write_bytes(r.content)
    book = load_workbook(tmp_path / "m.xlsx")
    values = [c.value for sheet in book for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "'=Barnsley" in values and any(v.startswith("'=HYPERLINK") for v in values)
    assert not any(v.startswith(("=", "+", "-", "@")) for v in values)


def test_one_users_concurrent_codings_race_cleanly(app):
    ids = app.state.ids
    with live_server(app) as base:
        with httpx.Client(base_url=base) as client:
            login_post(client, "ann", PASSWORD)
            csrf = _csrf(client.get("/coding").text)
            cookies = dict(client.cookies)
        url = f"/coding/{ids['pid']}/sources/{ids['sid']}/codings"
        statuses = []

        def post(i):
            with httpx.Client(base_url=base, cookies=cookies, follow_redirects=False) as c:
                same = i % 2 == 0  # half the posts are the same coding (double clicks), half distinct
                span = (0, 10) if same else (i, i + 5)
                statuses.append(c.post(url, data={"csrf": csrf, "start": span[0], "end": span[1],
                                                   f"code-{ids['code']}": "on"}).status_code)

        threads = [threading.Thread(target=post, args=(i,)) for i in range(16)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert statuses == [303] * 16
        spans = sorted((c["start"], c["end"]) for c in app.state.ctx.workbench.visible_codings(ids["pid"], "ann", "coder"))
        assert spans.count((0, 10)) == 1 and len(spans) == 1 + 8
