"""The qualitative workbench in Debian's Chromium (Playwright) against the app served by uvicorn on
loopback: the lead uploads a DOCX transcript, a coder codes a span with the mouse and another with the
keyboard, a second coder codes blind, the agreement appears for the lead, the framework matrix
exports; axe-core finds no violation on any page visited.
"""

import io

import pytest
from tests.axe import violations
from tests.live_server import live_server
from tests.test_web_browser import CHROMIUM_ARGS

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

PASSWORD = "a long enough password"
LINES = ["Interviewer: What held the scheme back?", "Lead: Recruiting staff was the hardest part.",
         "Interviewer: And records?", "Lead: Shared records came late."]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = tmp_path_factory.mktemp("qualweb") / "q.db"
    app = create_app(WebSettings(store_url=f"sqlite:///{db}"))
    store, wb = app.state.ctx.store, app.state.ctx.workbench
    for name, role in (("lead", "lead"), ("ann", "coder"), ("bob", "coder")):
        store.add_user(name, PASSWORD, role)
    pid = wb.create_project("Pioneer interviews", "lead")
    for name, role in (("lead", "lead"), ("ann", "coder"), ("bob", "coder")):
        wb.add_member(pid, name, role, "lead")
    barriers = wb.create_code(pid, "Barriers", "lead")
    wb.create_code(pid, "Workforce", "lead", parent_id=barriers)
    with live_server(app) as base:
        yield base, wb, pid


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _sign_in(browser, base, user):
    # bypass_csp: the strict CSP blocks the injected axe script (as in test_accessibility.py)
    context = browser.new_context(accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/admin/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/coding")
    return page, errors


def _clean(page):
    found = violations(page)
    assert found == [], f"{page.url}: {found}"


def _docx() -> bytes:
    import docx

    d = docx.Document()
    for line in LINES:
        d.add_paragraph(line)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _drag_select(page, start: int, end: int) -> None:
    """Press the mouse at character ``start`` of the text and release it at ``end`` (exclusive)."""
    box = page.evaluate("""([a, b]) => {
        const text = document.getElementById('source-text');
        const pieces = [...text.querySelectorAll('[data-s]')];
        function at(k) { const p = pieces.filter(e => Number(e.dataset.s) <= k).pop();
                         return [p.firstChild, k - Number(p.dataset.s)]; }
        const r = document.createRange();
        const [n1, o1] = at(a); r.setStart(n1, o1); r.setEnd(n1, o1 + 1); const first = r.getBoundingClientRect();
        const [n2, o2] = at(b - 1); r.setStart(n2, o2); r.setEnd(n2, o2 + 1); const last = r.getBoundingClientRect();
        return [first.left + 1, first.top + first.height / 2, last.right - 1, last.top + last.height / 2];
    }""", [start, end])
    page.mouse.move(box[0], box[1])
    page.mouse.down()
    page.mouse.move(box[2], box[3], steps=8)
    page.mouse.up()


def test_upload_code_blind_agree_and_export(served, browser, tmp_path):
    base, wb, pid = served
    text = "\n".join(LINES)
    # the lead uploads a DOCX transcript
    lead, lead_errors = _sign_in(browser, base, "lead")
    _clean(lead)
    lead.click("text=Pioneer interviews")
    _clean(lead)
    docx_path = tmp_path / "leeds lead.docx"
    docx_path.write_bytes(_docx())
    lead.set_input_files("#upload-file", str(docx_path))
    lead.fill("#upload-case", "Leeds lead")
    lead.fill("#upload-attributes", "site = Leeds\nwave = 2017")
    lead.click("button:has-text('Upload')")
    lead.wait_for_selector("#source-text")
    assert lead.locator(".speaker").count() == 4  # speaker turns kept
    sid = int(lead.url.rsplit("/", 1)[1])
    assert wb.source(pid, sid)["text"] == text
    _clean(lead)
    workforce = next(c["id"] for c in wb.codes(pid) if c["name"] == "Workforce")

    # ann codes "Recruiting staff" with the mouse
    ann, ann_errors = _sign_in(browser, base, "ann")
    ann.goto(f"{base}/coding/{pid}/sources/{sid}")
    a = text.index("Recruiting staff")
    _drag_select(ann, a, a + len("Recruiting staff"))
    ann.wait_for_function("n => document.getElementById('span-end').value === String(n)", arg=a + 16)
    assert ann.input_value("#span-start") == str(a) and ann.input_value("#span-end") == str(a + 16)
    ann.check(f"#code-{workforce}")
    ann.click("#apply-codes")
    ann.wait_for_selector("li.coding")
    # and "Shared records" with the keyboard: Ctrl+Home, arrows to the start, Shift+arrows, Ctrl+Enter
    b = text.index("Shared records")
    ann.check(f"#code-{workforce}")
    ann.focus("#source-text")
    ann.keyboard.press("Control+Home")
    for _ in range(b):
        ann.keyboard.press("ArrowRight")
    for _ in range(len("Shared records")):
        ann.keyboard.press("Shift+ArrowRight")
    # selectionchange is dispatched after the key press: wait for the page to take the last one in
    ann.wait_for_function("n => document.getElementById('span-end').value === String(n)", arg=b + 14)
    assert ann.input_value("#span-start") == str(b)
    ann.keyboard.press("Control+Enter")
    ann.wait_for_function("() => document.querySelectorAll('li.coding').length === 2")
    assert wb.source(pid, sid)["text"] == text  # typing into the text changed nothing
    mine = sorted((c["start"], c["end"]) for c in wb.visible_codings(pid, "ann", "coder"))
    assert mine == [(a, a + 16), (b, b + 14)]
    _clean(ann)

    # bob codes blind: he sees none of ann's codings, and codes a shorter span
    bob, bob_errors = _sign_in(browser, base, "bob")
    bob.goto(f"{base}/coding/{pid}/sources/{sid}")
    assert bob.locator("li.coding").count() == 0
    _drag_select(bob, a, a + len("Recruiting"))
    bob.check(f"#code-{workforce}")
    bob.click("#apply-codes")
    bob.wait_for_selector("li.coding")
    assert bob.locator("li.coding").count() == 1 and "ann" not in bob.locator(".margin").inner_text()

    # the lead sees agreement and the disagreeing spans
    lead.goto(f"{base}/coding/{pid}/agreement")
    assert "Coders compared: ann, bob" in lead.inner_text("main")
    rows = lead.locator("#agreement-table tbody tr")
    assert rows.count() == 2
    _clean(lead)
    lead.click("text=Agree: Workforce applies >> nth=0")
    lead.wait_for_url("**done=Agreed*")
    for path in ("codebook", "retrieve?code=1&attribute=site&value=Leeds", "matrix?by=site"):
        lead.goto(f"{base}/coding/{pid}/{path}")
        _clean(lead)
    lead.goto(f"{base}/coding/{pid}/retrieve?code=1&attribute=site&value=Leeds")
    assert lead.locator("#segments tbody tr").count() == 4  # ann's two, bob's one, the agreed one
    lead.goto(f"{base}/coding/{pid}/matrix?by=site")
    with lead.expect_download() as download:
        lead.click("#export-xlsx")
    path = tmp_path / "matrix.xlsx"
    download.value.save_as(path)
    from openpyxl import load_workbook

    sheet = load_workbook(path)["Framework matrix"]
    assert [c.value for c in sheet[1]] == ["by site", "Barriers"] and sheet["A2"].value == "Leeds"
    assert lead_errors == ann_errors == bob_errors == []
