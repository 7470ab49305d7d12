"""Retrieval by code and by several case attributes at once (the issue's example: every "Barriers:
Workforce" segment from CCG respondents in 2017): joinedup.qual.retrieve.segments(where=...) and the
retrieve page's attribute, attribute2, attribute3 conditions (all must hold), against segments worked
out by hand; conflicting or hostile conditions get a clear answer, never a 500.
"""

import html
import re

import pytest
from fastapi.testclient import TestClient
from tests.test_web_admin import login_post

from joinedup.qual.retrieve import segments
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

PASSWORD = "a long enough password"
CASES = {  # case: (org_type, wave) -- only "ccg 2017" should come back
    "A": ("ccg", "2017"), "B": ("ccg", "2016"), "C": ("council", "2017"), "D": ("ccg", "2017")}


@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'r.db'}"))
    store, wb = app.state.ctx.store, app.state.ctx.workbench
    store.add_user("lead", PASSWORD, "lead")
    pid = wb.create_project("Respondents", "lead")
    wb.add_member(pid, "lead", "lead", "lead")
    barriers = wb.create_code(pid, "Barriers", "lead")
    workforce = wb.create_code(pid, "Workforce", "lead", parent_id=barriers)
    money = wb.create_code(pid, "Money", "lead")
    for case, (org, wave) in CASES.items():
        sid = wb.add_source(pid, f"answer {case}", f"Staff shortages at {case}. Budgets too.", "survey", "lead",
                            case=f"respondent {case}", attributes={"org_type": org, "wave": wave})
        wb.add_coding(pid, sid, 0, 15, workforce, "lead", "lead")
        wb.add_coding(pid, sid, 0, 15 + 5, money, "lead", "lead")
    app.state.ids = {"pid": pid, "barriers": barriers, "workforce": workforce}
    return app


def test_every_condition_must_hold(app):
    wb, ids = app.state.ctx.workbench, app.state.ids
    got = segments(wb, ids["pid"], "lead", "lead", code_id=ids["barriers"], where={"org_type": "ccg", "wave": "2017"})
    assert [(s["case"], s["code"], s["text"]) for s in got] == [
        ("respondent A", "Workforce", "Staff shortages"), ("respondent D", "Workforce", "Staff shortages")]
    one = segments(wb, ids["pid"], "lead", "lead", code_id=ids["barriers"], attribute="org_type", value="ccg")
    assert sorted(s["case"] for s in one) == ["respondent A", "respondent B", "respondent D"]  # one condition
    both = segments(wb, ids["pid"], "lead", "lead", code_id=ids["barriers"], attribute="org_type", value="ccg",
                    where={"wave": "2017"})
    assert both == got  # the old single condition and where= combine
    assert segments(wb, ids["pid"], "lead", "lead", where={"org_type": "ccg", "wave": "2015"}) == []


def test_the_retrieve_page_takes_up_to_three_conditions(app):
    ids = app.state.ids
    client = TestClient(app)
    login_post(client, "lead", PASSWORD)
    base = f"/coding/{ids['pid']}/retrieve?code={ids['workforce']}"
    r = client.get(f"{base}&attribute=org_type&value=ccg&attribute2=wave&value2=2017")
    assert r.status_code == 200 and "2 segments." in r.text
    assert re.findall(r"respondent [A-D]", r.text) == ["respondent A", "respondent D"]
    assert 'id="r-attribute2"' in r.text and 'id="r-attribute3"' in r.text
    r = client.get(f"{base}&attribute=wave&value=2017&attribute3=org_type&value3=council")
    assert "1 segment." in r.text and re.findall(r"respondent [A-D]", r.text) == ["respondent C"]
    r = client.get(f"{base}&attribute=wave&value=2017&attribute2=wave&value2=2016")
    assert r.status_code == 400 and "asked to equal both" in html.unescape(r.text)
    r = client.get(f"{base}&attribute=wave&value=2017&attribute2=wave&value2=2017")
    assert r.status_code == 200 and re.findall(r"respondent [A-D]", r.text) == ["respondent A", "respondent C",
                                                                                "respondent D"]  # the same twice
    hostile = "%27%20OR%201%3D1%20--%20%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    r = client.get(f"{base}&attribute=wave&value={hostile}&attribute2=%3Cb%3E&value2=x")
    assert r.status_code == 200 and "0 segments." in r.text and "<script>alert(1)" not in r.text
