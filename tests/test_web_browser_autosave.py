"""The page's autosave in Chromium never overlaps itself or the submission (issue 15).

The page's fetch is wrapped so that each autosave's answer arrives 1.5 s late (the server saves at
once; the page waits), which makes every overlap the old script allowed certain: a second change made
while a save is in flight, and Submit pressed while a save is in flight.
"""

import time

import pandas as pd

from joinedup.survey.roster import read_roster
from tests.test_web_browser import browser, served  # noqa: F401  (fixtures)

SLOW_FETCH = """
  window.__inflight = 0; window.__maxInflight = 0; window.__autosaves = 0;
  const realFetch = window.fetch;
  window.fetch = function (url, options) {
    window.__inflight += 1; window.__autosaves += 1;
    window.__maxInflight = Math.max(window.__maxInflight, window.__inflight);
    return realFetch(url, options).then(r => new Promise(done => setTimeout(() => {
      window.__inflight -= 1; done(r);
    }, 1500)));
  };
"""


def _until(page, condition, seconds=15):
    """Poll a condition (the page's CSP forbids the string evaluation wait_for_function uses)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(f"() => Boolean({condition})"):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.1)


def _panelist(store, pid):
    store.upsert_panelists(read_roster(pd.DataFrame({
        "panelist_id": [pid], "name": ["Cy"], "email": [f"{pid}@trust.nhs.uk"], "pioneer": ["Leeds"],
        "org_type": ["nhs_provider"], "role": [""], "is_lead": ["no"]})))
    return store.issue_tokens(1, [pid])[pid]


def test_autosaves_never_overlap_and_keep_every_change(served, browser):  # noqa: F811
    base, store = served
    token = _panelist(store, "p3")
    page = browser.new_page()
    page.add_init_script(SLOW_FETCH)
    page.goto(f"{base}/s/{token}")
    page.locator("#org_type-la").check()            # autosave 1 starts
    page.locator("#pioneer-barnsley").check()       # while it is in flight: must wait, not overlap
    page.locator("#is_lead-no").check()
    _until(page, "window.__autosaves >= 2 && window.__inflight === 0")
    assert page.evaluate("window.__maxInflight") == 1
    saved = store.answers("p3", 1)
    assert (saved["org_type"], saved["pioneer"], saved["is_lead"]) == ("la", "barnsley", "no")  # nothing lost


def test_submit_waits_for_the_autosave_in_flight(served, browser):  # noqa: F811
    base, store = served
    token = _panelist(store, "p4")
    page = browser.new_page()
    page.add_init_script(SLOW_FETCH)
    sent = []
    page.on("request", lambda r: sent.append((time.monotonic(), r.method, r.url)) if r.method == "POST" else None)
    page.goto(f"{base}/s/{token}")
    page.locator("#pioneer-leeds").check()
    page.locator("#is_lead-yes").check()
    page.locator("#achievements").fill("Joint teams")
    page.locator("#org_type-ccg").check()           # an autosave starts; Submit is pressed at once
    with page.expect_navigation(timeout=15000):
        page.click("button[value=submit]")
    assert "Your answers have been submitted" in page.content()
    autosaves = [t for t, _, url in sent if url.endswith("/autosave")]
    submits = [t for t, _, url in sent if url.endswith(f"/s/{token}")]
    assert len(submits) == 1 and autosaves and submits[0] - max(autosaves) >= 1.0  # sent after the save's answer
    assert store.invitation(token)["disposition"] == "complete"
    assert store.answers("p4", 1)["achievements"] == "Joint teams"
