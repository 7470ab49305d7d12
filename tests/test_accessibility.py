"""Issues 15 and 16, accessibility in Debian's Chromium (Playwright): axe-core (npm, pinned in
package-lock.json; tests/axe.py) finds zero violations on every survey respondent page, every admin
page, every site dashboard and the report of a real (small) run; at 390 px each matrix row is its own
group of radio buttons and no answer column is off-screen; the sign-out button is readable.

No axe rule is disabled. The page's Content-Security-Policy (script-src 'self') would refuse the
injected axe script, so the browser context bypasses CSP for the injection only (bypass_csp); the
pages' own scripts run as in production.
"""

import io
import socket
import threading
import time
from urllib.parse import quote

import pandas as pd
import pytest
import uvicorn
from tests.axe import violations

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "a long enough password"
ROSTER = ("panelist_id,name,email,pioneer,org_type,role,is_lead\np1,Ann,ann@ccg.nhs.uk,Barnsley,ccg,Director,yes\n"
          "p2,Bob,bob@council.gov.uk,Leeds,la,Manager,no\np3,Cat,cat@trust.nhs.uk,Leeds,nhs_provider,Nurse,no\n")


def _serve(db, results=None):
    from joinedup.survey.roster import read_roster

    app = create_app(WebSettings(store_url=f"sqlite:///{db}", results=results))
    store = app.state.ctx.store
    store.upsert_panelists(read_roster(pd.read_csv(io.StringIO(ROSTER), dtype=str)))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    store.set_wave_status(1, "open")
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("barnsley", PASSWORD, "site", "Barnsley")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{port}", store


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The survey service alone (respondent and admin pages)."""
    server, thread, base, store = _serve(tmp_path_factory.mktemp("a11y") / "s.db")
    yield base, store
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def served_results(tmp_path_factory, small_run_out):
    """The service with a small run's results loaded (site dashboards)."""
    server, thread, base, store = _serve(tmp_path_factory.mktemp("a11y_sites") / "s.db", small_run_out)
    yield base, store
    server.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    return page


def _check(page, name, found):
    """Run axe on the page as it stands; collect its violations and console errors under the page's name.

    Chromium logs a page answered with a 4xx status ("Failed to load resource") as a console error: the
    refused login (401), the unknown link (404), the closed survey (410) and the form with errors
    (422) are such pages on purpose, so that one message is not counted; any other console error is.
    """
    console = [e for e in page.console_errors if "Failed to load resource: the server responded" not in e]
    page.console_errors.clear()
    found[name] = violations(page) + [f"console: {e}" for e in console]


def _login(page, base, user):
    page.goto(f"{base}/admin/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_respondent_pages_have_no_axe_violations(served, browser):
    base, store = served
    tokens = store.issue_tokens(1, ["p1", "p2", "p3"])
    found = {}
    for width in (1280, 390):
        page = _page(browser, width)
        page.goto(f"{base}/s/{tokens['p1']}")
        _check(page, f"survey form {width}", found)
        page.context.close()
    page = _page(browser)
    page.goto(f"{base}/s/{tokens['p1']}")
    page.click("button[value=submit]")  # required answers missing: the error summary and field errors
    page.wait_for_selector("#error-summary")
    _check(page, "survey form with errors", found)
    page.goto(f"{base}/s/{tokens['p1']}")
    page.locator("#org_type-la").check()
    page.click("button[value=save]")
    page.wait_for_selector(".notice")
    _check(page, "survey form saved", found)
    page.goto(f"{base}/unsubscribe/{tokens['p2']}")
    _check(page, "unsubscribe", found)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    _check(page, "unsubscribed", found)
    page.goto(f"{base}/s/not-a-token")
    _check(page, "unknown link", found)
    store.set_wave_status(1, "closed")
    page.goto(f"{base}/s/{tokens['p3']}")
    _check(page, "survey closed", found)
    store.set_wave_status(1, "open")
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) == 8


def test_admin_pages_have_no_axe_violations(served, browser):
    base, _ = served
    found = {}
    page = _page(browser)
    page.goto(f"{base}/admin/login")
    _check(page, "login", found)
    page.fill("#username", "admin")
    page.fill("#password", "wrong password!")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    _check(page, "login refused", found)
    _login(page, base, "admin")
    for path in ("/admin", "/admin/roster", "/admin/waves", "/admin/data", "/sites"):
        page.goto(base + path)
        _check(page, path, found)
    page.context.close()
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) == 7


def test_site_dashboards_have_no_axe_violations(served_results, browser):
    base, _ = served_results
    found = {}
    page = _page(browser)
    _login(page, base, "admin")
    page.goto(base + "/sites")
    _check(page, "/sites", found)
    sites = page.locator("main ul li a").all_inner_texts()
    assert len(sites) >= 10, sites  # the run's Pioneer sites
    for site in sites:
        page.goto(f"{base}/sites/{quote(site)}")
        _check(page, f"/sites/{site}", found)
    page.context.close()
    page = _page(browser, 390)
    _login(page, base, "barnsley")  # a site user lands on its own dashboard
    assert page.url.endswith("/sites/Barnsley")
    _check(page, "site user's dashboard at 390 px", found)
    page.context.close()
    assert {k: v for k, v in found.items() if v} == {}


def test_report_has_no_axe_violations(small_run_out, browser):
    found = {}
    for width in (1280, 390):
        page = _page(browser, width)
        page.goto((small_run_out / "report.html").resolve().as_uri())
        _check(page, f"report {width}", found)
        page.context.close()
    assert {k: v for k, v in found.items() if v} == {}


def test_report_table_captions_stay_inside_their_scroll_box(small_run_out, browser):
    """A wide table scrolls in its box; its caption must wrap inside the box's visible width and stay
    in view when the table is scrolled to its far end (it ran past the column at 1200 px before)."""
    for width in (1200, 390):
        page = _page(browser, width)
        page.goto((small_run_out / "report.html").resolve().as_uri())
        boxes = page.evaluate("""() => [...document.querySelectorAll('.table-wrap')].map(w => {
          const c = w.querySelector('caption'), before = c.getBoundingClientRect();
          w.scrollLeft = w.scrollWidth;
          const after = c.getBoundingClientRect(), box = w.getBoundingClientRect();
          return {caption: c.textContent.slice(0, 60), wide: w.scrollWidth > w.clientWidth + 1,
                  right: before.right - box.right, left_after_scroll: after.left - box.left};
        })""")
        assert sum(b["wide"] for b in boxes) >= 3, (width, boxes)  # scrolling tables exist to check
        outside = [b for b in boxes if b["right"] > 1 or abs(b["left_after_scroll"]) > 1]
        assert outside == [], (width, outside)
        page.context.close()


def test_matrix_rows_are_radio_groups_with_every_answer_on_screen_at_390px(served, browser):
    base, store = served
    token = store.issue_tokens(1, ["p1"])["p1"]
    page = _page(browser, 390)
    page.goto(f"{base}/s/{token}")
    layout = page.evaluate("""() => {
      const rows = [...document.querySelectorAll('fieldset.matrix fieldset.matrix-row')];
      const radios = [...document.querySelectorAll('fieldset.matrix input[type=radio]')];
      const off = radios.concat([...document.querySelectorAll('fieldset.matrix label')]).filter(e => {
        const r = e.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth; });
      return {rows: rows.length, legends: rows.filter(f => f.querySelector(':scope > legend')).length,
              radios: radios.length, tables: document.querySelectorAll('fieldset.matrix table').length,
              off_screen: off.map(e => e.id || e.htmlFor),
              overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
              named: rows.every(f => new Set([...f.querySelectorAll('input[type=radio]')].map(i => i.name)).size === 1)};
    }""")
    assert layout["rows"] >= 20 and layout["legends"] == layout["rows"], layout
    assert layout["radios"] >= 3 * layout["rows"] and layout["tables"] == 0, layout
    assert layout["named"], layout  # one radio group per row
    assert layout["off_screen"] == [] and layout["overflow"] <= 0, layout
    # a row is answered by tapping its visible label, and the answer is that row's alone
    first = page.locator("fieldset.matrix-row").first
    first.locator("label").last.click()
    assert first.locator("input[type=radio]").last.is_checked()
    assert page.locator("fieldset.matrix-row").nth(1).locator("input:checked").count() == 0
    page.context.close()


def test_sign_out_button_is_readable(served, browser):
    """WCAG 1.4.3: at least 4.5:1 between the sign-out button's text and its background (1.11:1 before)."""
    base, _ = served
    page = _page(browser)
    _login(page, base, "admin")
    colours = page.evaluate("""() => { const b = document.querySelector('header.top form button');
        const s = getComputedStyle(b); return [s.color, s.backgroundColor,
        getComputedStyle(document.querySelector('header.top')).backgroundColor]; }""")
    page.context.close()

    def luminance(css):
        rgb = [int(x) / 255 for x in css[css.index("(") + 1:css.index(")")].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    text, button, header = colours
    background = header if button in ("rgba(0, 0, 0, 0)", "transparent") else button
    hi, lo = sorted([luminance(text), luminance(background)], reverse=True)
    assert (hi + 0.05) / (lo + 0.05) >= 4.5, colours
