"""Free-text survey answers into the workbench (joinedup.qual.survey_import) from a real SQLite survey
store: one case and source per respondent with site, org type, role, wave; no name, e-mail, token or
panelist id anywhere in the workbench; withdrawn and partial respondents left out; re-import and
racing imports give each respondent once; the CLI and the lead's web action (refusals, injection,
abuse and a race against a real server).
"""

import html
import json
import re
import threading

import httpx
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from tests.live_server import live_server
from tests.test_web_admin import login_post
from typer.testing import CliRunner

from joinedup.qual.projects import QualError, Workbench
from joinedup.qual.schema import QUAL_META
from joinedup.qual.survey_import import form_for_wave, import_survey, pseudonym
from joinedup.survey.retention import withdraw
from joinedup.survey.store import SurveyStore
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

PASSWORD = "a long enough password"
PEOPLE = [  # panelist_id, name, email, pioneer, org_type, role, is_lead, answers, final
    ("P001", "Alice Smith", "alice@nhs.example", "Leeds", "ccg", "commissioner", "yes",
     {"challenge": "Recruiting <b>staff</b>.", "achievements": "=HYPERLINK(\"x\") shared records"}, True),
    ("P002", "Bob Jones", "bob@council.example", "Leeds", "la", "social worker", "no",
     {"challenge": "Budgets'); DROP TABLE qual_sources; --"}, True),
    ("P003", "Cara Brown", "cara@trust.example", "Barnsley", "acute", "nurse", "no",
     {"bar_significant_detail": "IT systems do not talk to each other"}, True),
    ("P004", "Dan Grey", "dan@gp.example", "Barnsley", "gp", "GP", "no", {"challenge": "  "}, True),  # empty
    ("P005", "Eve White", "eve@ccg.example", "Barnsley", "ccg", "manager", "no", {"challenge": "Half done"}, False),
    ("P006", "Fay Black", "fay@la.example", "Leeds", "la", "director", "yes", {"challenge": "I withdrew"}, True),
]


def seed(store: SurveyStore) -> dict[str, str]:
    store.upsert_panelists(pd.DataFrame([{"panelist_id": p[0], "name": p[1], "email": p[2], "pioneer": p[3],
                                          "org_type": p[4], "role": p[5], "is_lead": p[6]} for p in PEOPLE]))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    store.set_wave_status(1, "open")
    tokens = store.issue_tokens(1)
    for p in PEOPLE:
        store.save_response(tokens[p[0]], p[7], final=p[8])
    withdraw(store, tokens["P006"])
    outcome = store.import_responses(pd.DataFrame([{"panelist_id": "P006", "challenge": "imported again after withdrawal"}]), 1)
    assert outcome.stored == 0 and outcome.rejects["panelist_id"].tolist() == ["P006"]  # the store keeps them withdrawn
    return tokens


@pytest.fixture
def setup(tmp_path):
    store = SurveyStore(f"sqlite:///{tmp_path / 's.db'}")
    store.create()
    tokens = seed(store)
    wb = Workbench(store)
    pid = wb.create_project("Survey free text", "lead")
    return store, wb, pid, tokens


def _all_text(wb) -> str:
    """Every value in every workbench table (to look for identifiers that must not be there)."""
    out = []
    with wb.engine.connect() as c:
        for table in QUAL_META.sorted_tables:
            for row in c.execute(sa.select(table)):
                out.extend(str(v) for v in row)
    return "\n".join(out)


def test_import_makes_cases_with_attributes_and_no_identifiers(setup):
    store, wb, pid, tokens = setup
    form = form_for_wave(store, 1)
    report = import_survey(wb, pid, store, form, 1, actor="lead")
    # P001-P003 imported; P004 answered only blanks; P005 is partial; P006 withdrew
    assert report["imported"] == 3 and report["skipped"] == 0 and report["empty"] == 1
    # every text question of the instrument, in form order (version 2017.1 added the process items' texts)
    assert report["questions"] == ["bar_significant_detail", "init_1_name", "init_2_name", "init_3_name",
                                   "obj_1_text", "obj_2_text", "obj_3_text", "achievements", "challenge"]
    cases = {c["name"]: c["attributes"] for c in wb.cases(pid)}
    assert set(cases) == {f"W1 {pseudonym(pid, p)}" for p in ("P001", "P002", "P003")}
    alice = cases[f"W1 {pseudonym(pid, 'P001')}"]
    assert alice == {"site": "Leeds", "org_type": "ccg", "role": "commissioner", "is_lead": "yes", "wave": "1",
                     "respondent": pseudonym(pid, "P001").split()[1]}
    texts = {s["case"]: wb.source(pid, s["id"]) for s in wb.sources(pid)}
    alice_text = texts[f"W1 {pseudonym(pid, 'P001')}"]
    assert alice_text["kind"] == "survey"
    label = {q: " ".join(form.question(q).label.split()) for q in ("achievements", "challenge")}
    assert alice_text["text"] == (f"[achievements] {label['achievements']}\n=HYPERLINK(\"x\") shared records\n\n"
                                  f"[challenge] {label['challenge']}\nRecruiting <b>staff</b>.")
    assert "Recruiting <b>staff</b>." in alice_text["text"] and "=HYPERLINK" in alice_text["text"]
    everything = _all_text(wb)
    for p in PEOPLE:
        assert p[0] not in everything and p[1] not in everything and p[2] not in everything
    for token in tokens.values():
        assert token not in everything
    assert "I withdrew" not in everything and "imported again" not in everything and "Half done" not in everything
    # a second import adds nothing; partial answers come in only when asked
    again = import_survey(wb, pid, store, form, 1, actor="lead")
    assert (again["imported"], again["skipped"]) == (0, 3)
    partial = import_survey(wb, pid, store, form, 1, actor="lead", include_partial=True)
    assert (partial["imported"], partial["skipped"]) == (1, 3)
    assert "Half done" in _all_text(wb) and "I withdrew" not in _all_text(wb)
    assert any(a["action"] == "survey imported" for a in wb.audit_log(pid))


def test_question_choice_and_refusals(setup):
    store, wb, pid, _ = setup
    form = form_for_wave(store, 1)
    report = import_survey(wb, pid, store, form, 1, actor="lead", questions=["bar_significant_detail"])
    assert report["imported"] == 1 and report["empty"] == 3  # only P003 answered that one
    with pytest.raises(QualError, match="not free-text questions .*'pioneer'|not free-text questions .*pioneer"):
        import_survey(wb, pid, store, form, 1, actor="lead", questions=["pioneer"])
    with pytest.raises(ValueError, match="no wave 9"):
        import_survey(wb, pid, store, form, 9, actor="lead")
    with pytest.raises(QualError, match="no project"):
        import_survey(wb, 999, store, form, 1, actor="lead")


def test_racing_imports_give_each_respondent_once(setup):
    store, wb, pid, _ = setup
    form = form_for_wave(store, 1)
    reports, errors = [], []

    def run():
        try:
            reports.append(import_survey(wb, pid, store, form, 1, actor="lead"))
        except Exception as exc:  # noqa: BLE001 -- any failure fails the test below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert sum(r["imported"] for r in reports) == 3 and len(wb.sources(pid)) == 3 and len(wb.cases(pid)) == 3


def test_cli_import_survey(setup, tmp_path):
    from joinedup.cli import app

    store, _wb, _pid, _ = setup
    runner = CliRunner()
    url = str(store.engine.url)
    r = runner.invoke(app, ["coding", "import-survey", "--store", url, "--project", "Survey free text", "--wave", "1"])
    assert r.exit_code == 0, r.output
    assert "3 respondent(s) imported, 0 already there, 1 without a free-text answer" in r.output
    r = runner.invoke(app, ["coding", "import-survey", "--store", url, "--project", "Survey free text", "--wave", "7"])
    assert r.exit_code == 1 and "no wave 7" in r.output
    r = runner.invoke(app, ["coding", "import-survey", "--store", url, "--project", "Nope", "--wave", "1"])
    assert r.exit_code == 1 and "no project called 'Nope'" in r.output


# -- the web action -----------------------------------------------------------------------------------

@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 'w.db'}"))
    store = app.state.ctx.store
    seed(store)
    for name, role in (("lead", "lead"), ("ann", "coder"), ("leeds", "site")):
        store.add_user(name, PASSWORD, role, "Leeds" if role == "site" else None)
    wb = app.state.ctx.workbench
    pid = wb.create_project("Survey", "lead")
    wb.add_member(pid, "lead", "lead", "lead")
    wb.add_member(pid, "ann", "coder", "lead")
    app.state.pid = pid
    return app


def _client(app, user):
    client = TestClient(app)
    r = login_post(client, user, PASSWORD)
    return client, re.search(r'name="csrf" value="([^"]+)"', r.text).group(1) if 'name="csrf"' in r.text else ""


def test_web_import_escapes_and_refuses(app):
    pid = app.state.pid
    client, csrf = _client(app, "lead")
    page = client.get(f"/coding/{pid}").text
    assert f'action="/coding/{pid}/import-survey"' in page and "wave 1 (pioneer_ki_survey, open)" in page
    r = client.post(f"/coding/{pid}/import-survey", data={"csrf": csrf, "wave": "1"})
    assert r.status_code == 200 and "3 respondent(s) imported" in html.unescape(r.text)
    wb = app.state.ctx.workbench
    sid = next(s["id"] for s in wb.sources(pid) if wb.source(pid, s["id"])["text"].find("<b>staff</b>") >= 0)
    page = client.get(f"/coding/{pid}/sources/{sid}").text
    assert "<b>staff</b>" not in page and "&lt;b&gt;staff&lt;/b&gt;" in page
    assert "DROP TABLE" in html.unescape(client.get(f"/coding/{pid}/sources/{sid + 1}").text)  # stored as text, table intact
    refusals = [({"csrf": csrf, "wave": "9"}, 400, "no survey wave 9"),
                ({"csrf": csrf, "wave": "１"}, 400, "is not a whole number"),      # a full-width digit
                ({"csrf": csrf, "wave": "1 OR 1=1"}, 400, "is not a whole number"),
                ({"csrf": csrf, "wave": "1", "questions": "challenge' OR '1'='1"}, 400, "not free-text questions"),
                ({"csrf": csrf, "wave": "1", "questions": "<script>x</script>"}, 400, "not free-text questions"),
                ({"csrf": "forged", "wave": "1"}, 403, "CSRF")]
    for data, status, words in refusals:
        r = client.post(f"/coding/{pid}/import-survey", data=data)
        assert r.status_code == status and words in html.unescape(r.text), (data, r.status_code)
        assert "<script>x</script>" not in r.text
    r = client.post(f"/coding/{pid}/import-survey", content=b"csrf=" + b"x" * (3 << 20),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
    r = client.post(f"/coding/{pid}/import-survey", content="wave=1&csrf=\udcff".encode("utf-8", "surrogatepass"),
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert 400 <= r.status_code < 500
    ann, ann_csrf = _client(app, "ann")
    assert ann.post(f"/coding/{pid}/import-survey", data={"csrf": ann_csrf, "wave": "1"}).status_code == 403
    site = TestClient(app)
    login_post(site, "leeds", PASSWORD)
    assert site.post(f"/coding/{pid}/import-survey", data={"csrf": "x", "wave": "1"}).status_code == 404
    assert len(wb.sources(pid)) == 3


def test_web_import_race_from_one_user(app):
    pid = app.state.pid
    with live_server(app) as base:
        with httpx.Client(base_url=base) as client:
            login_post(client, "lead", PASSWORD)
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/coding/{pid}").text).group(1)
            cookies = dict(client.cookies)
        statuses = []

        def post():
            with httpx.Client(base_url=base, cookies=cookies, follow_redirects=False, timeout=60) as c:
                statuses.append(c.post(f"/coding/{pid}/import-survey", data={"csrf": csrf, "wave": "1"}).status_code)

        threads = [threading.Thread(target=post) for _ in range(6)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert statuses == [303] * 6
        wb = app.state.ctx.workbench
        assert len(wb.sources(pid)) == 3 and len(wb.cases(pid)) == 3
        log = [json.dumps(a["detail"]) for a in wb.audit_log(pid) if a["action"] == "survey imported"]
        assert len(log) == 6
