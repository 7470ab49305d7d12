"""The workbench pages added for survey import, frequencies and the REFI codebook, in Debian's Chromium
(Playwright) against the app served by uvicorn on loopback: the lead imports a wave's free-text answers
from the project page, opens the frequencies page and exports the codebook; axe-core finds no
violation on the project, frequencies and codebook pages.
"""


import pytest
from tests.axe import violations
from tests.live_server import live_server
from tests.test_qual_survey_import import seed
from tests.test_web_qual_browser import PASSWORD, browser  # noqa: F401 -- the shared Chromium fixture

from joinedup.web.app import create_app
from joinedup.web.config import WebSettings


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    db = tmp_path_factory.mktemp("qualan") / "q.db"
    app = create_app(WebSettings(store_url=f"sqlite:///{db}"))
    store, wb = app.state.ctx.store, app.state.ctx.workbench
    seed(store)
    store.add_user("lead", PASSWORD, "lead")
    pid = wb.create_project("Survey free text", "lead")
    wb.add_member(pid, "lead", "lead", "lead")
    barriers = wb.create_code(pid, "Barriers", "lead", description="What held it back")
    wb.create_code(pid, "Workforce", "lead", parent_id=barriers)
    with live_server(app) as base:
        yield base, wb, pid


def test_import_frequencies_and_codebook_pages(served, browser, tmp_path):  # noqa: F811
    base, wb, pid = served
    context = browser.new_context(accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/admin/login")
    page.fill("#username", "lead")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/coding")
    page.goto(f"{base}/coding/{pid}")
    assert violations(page) == []
    page.select_option("#import-wave", "1")
    page.click("button:has-text('Import answers')")
    page.wait_for_selector("text=3 respondent(s) imported")
    assert violations(page) == []
    sources = wb.sources(pid)
    assert len(sources) == 3
    workforce = next(c["id"] for c in wb.codes(pid) if c["name"] == "Workforce")
    wb.add_coding(pid, sources[0]["id"], 0, 5, workforce, "lead", "lead")
    page.click("nav[aria-label=Project] >> text=Frequencies")
    page.wait_for_selector("#frequencies")
    page.select_option("#f-by", "site")
    page.click("form.by-form >> nth=0 >> button")
    page.wait_for_url("**by=site**")
    assert "1 / 1" in page.inner_text("#frequencies")
    assert violations(page) == []
    page.goto(f"{base}/coding/{pid}/codebook")
    assert violations(page) == []
    with page.expect_download() as download:
        page.click("#export-qdc")
    path = tmp_path / "book.qdc"
    download.value.save_as(path)
    assert b'name="Workforce"' in path.read_bytes()
    assert errors == []
    context.close()


def test_a_suggestion_is_accepted_in_the_browser(served, browser):  # noqa: F811
    from tests.test_qual_suggestions import CODED, NEW

    base, wb, _ = served
    pid = wb.create_project("Suggestions", "lead")
    wb.add_member(pid, "lead", "lead", "lead")
    codes = {n: wb.create_code(pid, n, "lead") for n in ("Workforce", "IT")}
    for i, (text, code) in enumerate(CODED):
        sid = wb.add_source(pid, f"s{i}", text, "text", "lead")
        wb.add_coding(pid, sid, 0, len(text), codes[code], "lead", "lead")
    new = wb.add_source(pid, "new", NEW, "transcript", "lead")
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/admin/login")
    page.fill("#username", "lead")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/coding")
    page.goto(f"{base}/coding/{pid}/sources/{new}")
    page.click("#suggest")
    page.wait_for_selector("text=Suggestion — not final", timeout=120_000)
    assert "Held-out agreement with people's codings" in page.inner_text("#heldout")
    assert violations(page) == []
    before = [c for c in wb.visible_codings(pid, "lead", "lead", source_id=new) if c["status"] == "suggested"]
    page.locator("button:has-text('Accept') >> nth=0").click()
    page.wait_for_url("**done=Suggestion+accepted**")
    after = wb.visible_codings(pid, "lead", "lead", source_id=new)
    mine = [c for c in after if c["status"] == "blind" and c["coder"] == "lead"]
    assert len(mine) == 1 and len([c for c in after if c["status"] == "suggested"]) == len(before) - 1
    assert (mine[0]["start"], mine[0]["end"], mine[0]["code_id"]) in {(c["start"], c["end"], c["code_id"]) for c in before}
    assert page.locator("li.coding:not(:has-text('Suggestion — not final'))").count() == 1  # now a coding in the margin
    assert violations(page) == []
    assert errors == []
    context.close()
