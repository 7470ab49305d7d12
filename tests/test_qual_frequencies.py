"""Code frequencies by attribute and code co-occurrence (joinedup.qual.frequencies) against counts
worked out by hand for a small project (written out in the comments below), the blind coder's view,
the table for the report (theme_counts_by), and the page and JSON: escaping, refusals, access and one
user's concurrent requests against a real server.
"""

import re
import threading

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.live_server import live_server
from tests.test_web_admin import login_post

from joinedup.qual.frequencies import NOT_SET, code_frequencies, cooccurrence, theme_counts_by
from joinedup.qual.projects import Workbench
from joinedup.survey.store import SurveyStore
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

PASSWORD = "a long enough password"
TEXT = "x" * 100


def build(wb):
    """Codes: Barriers > Workforce, IT, Enablers. Sources s1 (case A, Leeds), s2 (B, Leeds), s3 (C, York),
    s4 (no case). Codings:
      s1: ann Workforce 0-10, bob Workforce 0-10, ann IT 5-15, ann Barriers 0-10
      s2: ann Barriers 20-30, ann Enablers 30-40 (adjacent: no overlap)
      s3: bob IT 0-5, bob Workforce 3-8, ann Workforce 50-60, a suggested Enablers 0-5 (never counted)
      s4: ann IT 0-5
    """
    pid = wb.create_project("Counts", "lead")
    barriers = wb.create_code(pid, "Barriers", "lead")
    workforce = wb.create_code(pid, "Workforce", "lead", parent_id=barriers)
    it = wb.create_code(pid, "IT", "lead")
    enablers = wb.create_code(pid, "Enablers", "lead")
    s1 = wb.add_source(pid, "s1", TEXT, "text", "lead", case="A", attributes={"site": "Leeds"})
    s2 = wb.add_source(pid, "s2", TEXT, "text", "lead", case="B", attributes={"site": "Leeds"})
    s3 = wb.add_source(pid, "s3", TEXT, "text", "lead", case="C", attributes={"site": "York"})
    s4 = wb.add_source(pid, "s4", TEXT, "text", "lead")
    for sid, a, b, code, coder in [(s1, 0, 10, workforce, "ann"), (s1, 0, 10, workforce, "bob"), (s1, 5, 15, it, "ann"),
                                   (s1, 0, 10, barriers, "ann"), (s2, 20, 30, barriers, "ann"), (s2, 30, 40, enablers, "ann"),
                                   (s3, 0, 5, it, "bob"), (s3, 3, 8, workforce, "bob"), (s3, 50, 60, workforce, "ann"),
                                   (s4, 0, 5, it, "ann")]:
        wb.add_coding(pid, sid, a, b, code, coder, coder)
    wb.add_coding(pid, s3, 0, 5, enablers, "assistant", "ann", status="suggested")
    return pid, {"Barriers": barriers, "Workforce": workforce, "IT": it, "Enablers": enablers}


@pytest.fixture
def wb(tmp_path):
    store = SurveyStore(f"sqlite:///{tmp_path / 'f.db'}")
    store.create()
    return Workbench(store)


def _cells(freq):
    return {r["code"]: {v: tuple(r["cells"][v][k] for k in ("codings", "segments", "sources")) for v in freq["values"]}
            | {"all": tuple(r["total"][k] for k in ("codings", "segments", "sources"))} for r in freq["rows"]}


def test_frequencies_by_site_match_hand_counts(wb):
    pid, _ = build(wb)
    freq = code_frequencies(wb, pid, "lead", "lead", by="site")
    assert freq["values"] == ["Leeds", "York", NOT_SET]
    # (codings, segments, sources); a code counts its sub-codes
    assert _cells(freq) == {
        # Leeds: s1 Workforce x2 + Barriers (one span 0-10), s2 Barriers 20-30; York: s3 Workforce 3-8, 50-60
        "Barriers": {"Leeds": (4, 2, 2), "York": (2, 2, 1), NOT_SET: (0, 0, 0), "all": (6, 4, 3)},
        "Workforce": {"Leeds": (2, 1, 1), "York": (2, 2, 1), NOT_SET: (0, 0, 0), "all": (4, 3, 2)},
        "Enablers": {"Leeds": (1, 1, 1), "York": (0, 0, 0), NOT_SET: (0, 0, 0), "all": (1, 1, 1)},
        "IT": {"Leeds": (1, 1, 1), "York": (1, 1, 1), NOT_SET: (1, 1, 1), "all": (3, 3, 3)},
    }
    by_case = code_frequencies(wb, pid, "lead", "lead", by="case")
    assert by_case["values"] == ["A", "B", "C", NOT_SET]
    assert _cells(by_case)["Barriers"] == {"A": (3, 1, 1), "B": (1, 1, 1), "C": (2, 2, 1), NOT_SET: (0, 0, 0), "all": (6, 4, 3)}
    # the blind coder ann sees only her own codings
    ann = _cells(code_frequencies(wb, pid, "ann", "coder", by="site"))
    assert ann["Workforce"] == {"Leeds": (1, 1, 1), "York": (1, 1, 1), NOT_SET: (0, 0, 0), "all": (2, 2, 2)}
    assert ann["IT"]["York"] == (0, 0, 0)


def test_cooccurrence_counts_overlapping_segments(wb):
    pid, ids = build(wb)
    co = cooccurrence(wb, pid, "lead", "lead")
    n = {(a, b): co["counts"].get((ids[a], ids[b]), 0) for a in ids for b in ids}
    # diagonal: segments (coders pooled): Barriers s1 0-10, s2 20-30; Workforce s1 0-10, s3 3-8, s3 50-60;
    # IT s1 5-15, s3 0-5, s4 0-5; Enablers s2 30-40
    assert [n[c, c] for c in ("Barriers", "Workforce", "IT", "Enablers")] == [2, 3, 3, 1]
    # s1: Workforce 0-10 = Barriers 0-10 (same span), both overlap IT 5-15; s3: IT 0-5 overlaps Workforce 3-8
    assert n["Workforce", "Barriers"] == n["Barriers", "Workforce"] == 1
    assert n["Workforce", "IT"] == n["IT", "Workforce"] == 2
    assert n["Barriers", "IT"] == 1
    assert n["Barriers", "Enablers"] == 0  # 20-30 and 30-40 touch but share no character
    assert n["IT", "Enablers"] == 0  # the suggestion in s3 never counts
    york = cooccurrence(wb, pid, "lead", "lead", by="site", value="York")
    assert york["counts"] == {(ids["IT"], ids["IT"]): 1, (ids["Workforce"], ids["Workforce"]): 2,
                              (ids["IT"], ids["Workforce"]): 1, (ids["Workforce"], ids["IT"]): 1}


def test_theme_counts_by_site_for_the_report(wb):
    pid, _ = build(wb)
    table = theme_counts_by(wb, pid, "site")
    assert list(table.columns) == ["Barriers", "Enablers", "IT"] and list(table.index) == ["Leeds", "York", NOT_SET]
    assert table.loc["Leeds"].tolist() == [2, 1, 1] and table.loc["York"].tolist() == [1, 0, 1]
    assert theme_counts_by(wb, pid, "site", "segments").loc["York", "Barriers"] == 2
    with pytest.raises(ValueError, match="measure"):
        theme_counts_by(wb, pid, "site", "words")


# -- the page and the JSON -----------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'w.db'}"))
    store, wb = app.state.ctx.store, app.state.ctx.workbench
    for name, role in (("lead", "lead"), ("ann", "coder"), ("leeds", "site"), ("carl", "coder")):
        store.add_user(name, PASSWORD, role, "Leeds" if role == "site" else None)
    pid, ids = build(wb)
    wb.add_member(pid, "lead", "lead", "lead")
    wb.add_member(pid, "ann", "coder", "lead")
    wb.rename_code(pid, ids["Enablers"], "=cmd|' /C calc'!A0 <img src=x onerror=alert(1)>", "lead")
    wb.case(pid, "A", {"site": "<script>alert(1)</script>"})
    app.state.pid = pid
    return app


def _client(app, user):
    client = TestClient(app)
    login_post(client, user, PASSWORD)
    return client


def test_page_and_json_escape_and_refuse(app):
    pid = app.state.pid
    lead = _client(app, "lead")
    r = lead.get(f"/coding/{pid}/frequencies?by=site")
    assert r.status_code == 200
    assert "<script>alert(1)</script>" not in r.text and "<img src=x" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "no disclosure control is applied" in r.text
    row = re.search(r"<th scope=\"row\">IT</th>(.*?)</tr>", r.text, re.DOTALL).group(1)
    assert [c.strip() for c in re.findall(r'<td class="num">(.*?)</td>', row)][-1] == "3 / 3"
    j = lead.get(f"/coding/{pid}/frequencies.json?by=site&co_attribute=site&co_value=York").json()
    assert j["values"] == ["<script>alert(1)</script>", "Leeds", "York", NOT_SET]
    it = next(f for f in j["frequencies"] if f["code"] == "IT")
    assert it["total"] == {"codings": 3, "segments": 3, "sources": 3}
    assert {(c["code_a"], c["code_b"]): c["count"] for c in j["cooccurrence"]["cells"]} == {
        ("IT", "IT"): 1, ("Workforce", "Workforce"): 2, ("IT", "Workforce"): 1, ("Workforce", "IT"): 1}
    for path, status in [("frequencies?by=nope", 400), ("frequencies?by=%00", 400), ("frequencies.json?co_attribute='%20OR%201=1--", 400),
                         ("frequencies?co_attribute=site&co_value=" + "%F0%9F%98%80" * 5000, 200),
                         ("frequencies?by=" + "a" * 50_000, 400)]:
        r = lead.get(f"/coding/{pid}/{path}")
        assert r.status_code == status, (path[:60], r.status_code)
    for user in ("leeds", "carl"):  # a site login and a coder outside the project
        client = _client(app, user)
        for path in ("frequencies", "frequencies.json"):
            r = client.get(f"/coding/{pid}/{path}")
            assert r.status_code == 404 and "Workforce" not in r.text
    ann = _client(app, "ann").get(f"/coding/{pid}/frequencies.json?by=site").json()
    assert next(f for f in ann["frequencies"] if f["code"] == "Workforce")["total"]["codings"] == 2  # blind


def test_one_users_concurrent_requests(app):
    pid = app.state.pid
    with live_server(app) as base:
        with httpx.Client(base_url=base) as client:
            login_post(client, "lead", PASSWORD)
            cookies = dict(client.cookies)
        results = []

        def get(i):
            with httpx.Client(base_url=base, cookies=cookies, timeout=60) as c:
                path = "frequencies.json?by=site" if i % 2 else "frequencies?by=case"
                r = c.get(f"/coding/{pid}/{path}")
                barriers = [f["total"] for f in r.json()["frequencies"] if f["code"] == "Barriers"] if i % 2 else None
                results.append((r.status_code, barriers))

        threads = [threading.Thread(target=get, args=(i,)) for i in range(12)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert [s for s, _ in results] == [200] * 12
        assert {str(t) for _, t in results if t} == {str([{"codings": 6, "segments": 4, "sources": 3}])}
