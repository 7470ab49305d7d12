"""The initiative register in Chromium (issue 20): a site lead proposes a new initiative and a
correction through the register page's own forms (the app's CSP on, no console errors, nothing wider
than a 390 px screen); an admin edits one and accepts the other on the review page; the register then
holds both as reviewed site submissions; axe-core finds zero violations on both pages (forms open)
at 1280 and 390 px.
"""

import pytest
from tests.axe import violations
from tests.test_accessibility import CHROMIUM_ARGS
from tests.test_web_feedback import _served
from tests.test_web_register import seed
from tests.test_web_sites import PASSWORD

from joinedup.process.register_book import RegisterBook
from joinedup.survey.store import SurveyStore


@pytest.fixture
def served(tmp_path):
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    store = SurveyStore(url)
    store.create()
    seed(store)
    store.add_user("evaluator", PASSWORD, "admin")
    gen = _served(url, tmp_path)
    base, _, _, store = next(gen)
    yield base, store
    gen.close()


def _login(page, base, user):
    page.goto(base + "/admin/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def _open_all(page):
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


def test_site_proposes_and_team_reviews_in_chromium_with_no_axe_violations(served, tmp_path):
    from playwright.sync_api import sync_playwright

    base, store = served
    book = RegisterBook(store)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 900})  # the app's CSP applies
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        _login(page, base, "barnsley")
        page.click("a[href='/sites/Barnsley/register']")
        page.wait_for_url("**/sites/Barnsley/register")
        # a new initiative, through the page's form
        page.click("#propose-new summary")
        page.fill("#new-initiative", "<i>Carers'</i> hub")
        page.select_option("#new-type", "care_navigator")
        page.check("#new-tg-carers")
        page.check("#new-tg-whole_community")
        page.select_option("#new-model", "social")
        page.select_option("#new-personalisation", "yes")
        page.fill("#new-start", "2015-01-01")
        page.fill("#new-period", "2015-04-01")
        page.select_option("#new-stage", "piloting")
        page.fill("#new-scale", "120")
        page.select_option("#new-unit", "people")
        page.click("#propose-new button[type=submit]")
        page.wait_for_url("**/sites/Barnsley/register?sent=1#proposals")
        assert "Your proposal was sent" in page.inner_text("main")
        # a correction of the site's own initiative: at scale from 2016
        page.click("#propose-correction summary")
        page.select_option("#fix-initiative_id", "barnsley-mdt")
        page.fill("#fix-period", "2016-01-01")
        page.select_option("#fix-stage", "at_scale")
        page.fill("#fix-scale", "900")
        page.select_option("#fix-unit", "people")
        page.click("#propose-correction button[type=submit]")
        page.wait_for_url("**/sites/Barnsley/register?sent=1#proposals")
        rows = page.locator("#proposals + .table-wrap tbody tr")
        assert rows.count() == 2 and rows.first.inner_text().count("Waiting for the evaluation team") == 1
        assert page.locator("text=<i>Carers'</i> hub").count() >= 1  # shown as text, not markup
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        assert len(book.entries()) == 3  # nothing entered the register yet
        assert errors == [], errors
        page.context.close()

        # the evaluation team: edit the new initiative's stage, accept the correction
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _login(page, base, "evaluator")
        page.click("a[href='/register']")
        page.wait_for_url("**/register")
        new_id, fix_id = book.proposals()["id"].tolist()
        page.click(f"#proposal-{new_id} details summary")
        page.select_option(f"#edit-{new_id}-stage", "implemented")
        page.fill(f"#edit-{new_id}-reason", "live from April per the board papers")
        page.click(f"#proposal-{new_id} details button[type=submit]")
        page.wait_for_url(f"**/register#proposal-{new_id}")
        page.click(f"form[action='/register/proposals/{fix_id}/accept'] button")
        page.wait_for_url(f"**/register#proposal-{fix_id}")
        assert "No proposals are waiting." in page.inner_text("main")
        assert errors == [], errors
        page.context.close()

        # axe-core on both pages, forms open, at two widths (a context that lets axe's script in)
        found = {}
        for width in (1280, 390):
            for user, path in (("barnsley", "/sites/Barnsley/register"), ("evaluator", "/register")):
                context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
                page = context.new_page()
                _login(page, base, user)
                if user == "barnsley":  # a pending proposal, so the review page has forms to check
                    page.goto(base + path)
                    page.click("#propose-new summary")
                    page.fill("#new-initiative", f"Axe check {width}")
                    page.fill("#new-start", "2015-01-01")
                    page.fill("#new-period", "2015-01-01")
                    page.check("#new-tg-carers")
                    page.click("#propose-new button[type=submit]")
                    page.wait_for_load_state()
                page.goto(base + path)
                _open_all(page)
                found[f"{path} at {width}"] = violations(page)
                context.close()
        browser.close()
    assert {k: v for k, v in found.items() if v} == {}
    entries = book.entries().set_index(["initiative_id", "period"])
    new = entries.loc[(f"barnsley-s{new_id}", "2015-04-01")]
    assert (new["initiative"], new["stage"], new["source"], new["reviewed_by"]) == (
        "<i>Carers'</i> hub", "implemented", "site_submission", "evaluator")
    fix = entries.loc[("barnsley-mdt", "2016-01-01")]
    assert (fix["stage"], fix["scale"], fix["source"], fix["reviewed_by"]) == ("at_scale", "900", "site_submission",
                                                                               "evaluator")
    assert book.proposals().set_index("id").loc[[new_id, fix_id], "decision"].tolist() == ["edit", "accept"]
