"""The survey pages in a real browser: Debian's Chromium driven by Playwright, against the app served
by uvicorn on loopback. Checks skip logic live in the page, autosave and resume, the error summary on
a submission with missing answers, keyboard use, no console errors, and that the page's expression
evaluator gives the same answers as the server's on every case of test_survey_instrument.
"""

import socket
import threading
import time

import pytest
import uvicorn

from joinedup.survey.instrument import expr
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from tests.test_survey_instrument import CASES

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ROSTER = ("panelist_id,name,email,pioneer,org_type,role,is_lead\np1,Ann,ann@ccg.nhs.uk,Barnsley,ccg,Director,yes\n"
          "p2,Bob,bob@council.gov.uk,Leeds,la,Manager,no\n")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import pandas as pd

    from joinedup.survey.roster import read_roster

    db = tmp_path_factory.mktemp("web") / "s.db"
    app = create_app(WebSettings(store_url=f"sqlite:///{db}"))
    store = app.state.ctx.store
    store.upsert_panelists(read_roster(pd.read_csv(__import__("io").StringIO(ROSTER), dtype=str)))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    store.set_wave_status(1, "open")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_skip_logic_autosave_resume_and_errors(served, browser):
    base, store = served
    token = store.issue_tokens(1, ["p1"])["p1"]
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/s/{token}")
    detail = page.locator("#q-bar_significant_detail")
    assert detail.is_hidden()
    page.locator("#bar_workforce-significant").check()
    assert detail.is_visible()  # skip logic: shown once a barrier is significant
    page.locator("#bar_workforce-minor").check()
    assert detail.is_hidden()
    page.locator("#org_type-la").focus()
    page.keyboard.press("Space")  # keyboard: a radio is chosen with the space bar
    page.locator("#bar_workforce-significant").check()
    page.fill("#bar_significant_detail", "Recruiting home care staff")
    page.locator("#achievements").fill("A shared care record")
    page.locator("#achievements").dispatch_event("change")
    page.wait_for_function("document.getElementById('save-status').textContent.includes('saved')")
    # saves go one at a time (the page queues a change made while one is in flight): wait for the last
    deadline = time.monotonic() + 15
    while store.answers("p1", 1).get("achievements") != "A shared care record" and time.monotonic() < deadline:
        time.sleep(0.1)
    saved = store.answers("p1", 1)
    assert saved["org_type"] == "la" and saved["bar_workforce"] == "significant"
    assert saved["bar_significant_detail"] == "Recruiting home care staff"
    page.goto(f"{base}/s/{token}")  # resume: answers are back
    assert page.locator("#org_type-la").is_checked() and page.locator("#achievements").input_value() == "A shared care record"
    page.click("button[value=submit]")
    summary = page.locator("#error-summary")
    assert summary.is_visible() and "Which Pioneer do you work in?" in summary.inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"  # focus moves to the summary
    page.locator("#pioneer-barnsley").check()
    page.locator("#is_lead-yes").check()
    page.click("button[value=submit]")
    assert "Thank you" in page.content()
    assert store.invitation(token)["disposition"] == "complete"
    # the submission with missing answers is answered 422 (the form again, with its errors), which
    # Chromium logs as a failed resource; anything else in the console is a fault
    assert [e for e in errors if "status of 422" not in e] == []


def test_page_evaluator_agrees_with_server(served, browser):
    import json

    base, store = served
    token = store.issue_tokens(1, ["p2"])["p2"]
    page = browser.new_page()
    page.goto(f"{base}/s/{token}")
    for text, answers, current in CASES:
        tree = json.dumps(expr.parse(text))
        js = page.evaluate(
            """([tree, answers, current]) => {
                 const form = document.querySelector('form.survey');
                 form.querySelectorAll('.probe').forEach(e => e.remove());
                 for (const [k, v] of Object.entries(answers)) {
                   const i = document.createElement('input'); i.className = 'probe'; i.name = k; i.value = v;
                   form.appendChild(i);
                 }
                 const value = window.joinedupSurvey.ev(JSON.parse(tree), current === null ? undefined : current);
                 return typeof value === 'string' ? value !== '' : Boolean(value);
               }""", [tree, answers, current])
        assert js == bool(expr.evaluate(expr.parse(text), answers, current)), text


def test_admin_journey(tmp_path, browser):
    """Sign in, upload the panel, create and open a wave, and read the live dashboard — in Chromium."""
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'admin.db'}"))
    app.state.ctx.store.add_admin("admin", "a long enough password")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    roster = tmp_path / "panel.csv"
    roster.write_text(ROSTER)
    try:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/admin")
        assert page.url.endswith("/admin/login")
        page.get_by_label("User name").fill("admin")
        page.get_by_label("Password").fill("a long enough password")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Panel").click()
        page.set_input_files("#file", str(roster))
        page.get_by_role("button", name="Import the panel").click()
        assert "Imported 2 new" in page.content()
        page.get_by_role("link", name="Waves").click()
        page.get_by_label("Wave number").fill("1")
        page.get_by_label("Opens on").fill("2015-06-01")
        page.get_by_label("Closes on").fill("2015-07-31")
        page.get_by_role("button", name="Create the wave").click()
        page.get_by_role("button", name="Open (wave 1)").click()
        assert "Wave 1 opened." in page.content()
        store = app.state.ctx.store
        token = store.issue_tokens(1)["p1"]
        store.save_response(token, {"org_type": "ccg"}, final=True)
        page.get_by_role("link", name="Dashboard").click()
        table = page.locator('table[data-table="by wave"]')
        assert "50.0" in table.inner_text()  # RR1: 1 of 2 eligible
        assert errors == []
    finally:
        server.should_exit = True
        thread.join(5)
