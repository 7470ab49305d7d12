"""The survey store on a real SQLite file and a real PostgreSQL server; the roster import; passwords.

Checks: tokens carry 256 bits, are unique, and only their SHA-256 is in the database; save and resume
merges answers; dispositions follow the AAPOR codes; a re-issued token replaces the old one; closed
waves and submitted responses refuse more answers; unsubscribing turns open invitations into
refusals; the invitations frame is the analysis' invitations.csv; roster errors name line and column.
"""

import hashlib

import pandas as pd
import pytest
import sqlalchemy as sa

from joinedup.survey.roster import RosterError, read_roster
from joinedup.survey.store import SCHEMA_VERSION, SurveyError, SurveyStore

ROSTER = pd.DataFrame({
    "panelist_id": ["p1", "p2", "p3", "p4"], "name": ["Ann", "Bob", "Cy", "Di"],
    "email": ["ann@ccg.nhs.uk", "bob@council.gov.uk", "cy@trust.nhs.uk", "di@vcs.org.uk"],
    "pioneer": ["Barnsley", "Barnsley", "Leeds", "Leeds"], "org_type": ["ccg", "la", "nhs_provider", "other"],
    "role": ["Director", "Manager", "Nurse", "Lead"], "is_lead": ["yes", "no", "no", "yes"]})


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, pg_server):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'survey.db'}"
    else:
        url = pg_server.create_database(f"t_{tmp_path.name.lower().replace('-', '_')[:40]}")
    s = SurveyStore(url)
    s.create()
    s.upsert_panelists(read_roster(ROSTER))
    s.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    s.set_wave_status(1, "open")
    return s


def test_tokens_are_long_unique_and_stored_hashed(store):
    tokens = store.issue_tokens(1)
    assert set(tokens) == {"p1", "p2", "p3", "p4"} and len(set(tokens.values())) == 4
    assert all(len(t) >= 43 for t in tokens.values())  # 32 bytes in URL-safe base64
    with store.engine.connect() as c:
        dump = " ".join(str(v) for row in c.execute(sa.text("select * from invitations")) for v in row)
    assert not any(t in dump for t in tokens.values())
    assert hashlib.sha256(tokens["p1"].encode()).hexdigest() in dump


def test_save_resume_submit_and_dispositions(store):
    tokens = store.issue_tokens(1)
    store.save_response(tokens["p1"], {"org_type": "ccg"}, final=False)
    store.save_response(tokens["p1"], {"prog_quality": "some"}, final=False)
    assert store.answers("p1", 1) == {"org_type": "ccg", "prog_quality": "some"}
    store.save_response(tokens["p2"], {"org_type": "la"}, final=True)
    store.save_response(tokens["p2"], {"org_type": "la"}, final=True)  # the same submit again: idempotent
    with pytest.raises(SurveyError, match="already submitted"):
        store.save_response(tokens["p2"], {"org_type": "ccg"}, final=True)
    with pytest.raises(SurveyError, match="longer than 20,000 characters"):
        store.save_response(tokens["p1"], {"achievements": "x" * 20_001}, final=False)
    log = store.audit_log()
    assert (log.actor == "respondent p1").sum() == 2 and "prog_quality" in log.detail.iloc[1]
    store.set_disposition("p4", 1, "ineligible", "left post")
    inv = store.invitations_frame(1).set_index("panelist_id")
    assert inv.disposition.to_dict() == {"p1": "partial", "p2": "complete", "p3": "non_contact", "p4": "ineligible"}
    assert inv.loc["p1", "is_lead"] == "yes" and inv.loc["p1", "pioneer"] == "Barnsley"


def test_reissued_token_replaces_old_one_and_keeps_answers(store):
    first = store.issue_tokens(1)
    store.save_response(first["p3"], {"org_type": "nhs_provider"}, final=False)
    second = store.issue_tokens(1, ["p3"])
    with pytest.raises(SurveyError, match="not valid"):
        store.invitation(first["p3"])
    assert store.invitation(second["p3"])["disposition"] == "partial"
    assert store.answers("p3", 1) == {"org_type": "nhs_provider"}


def test_closed_wave_and_unsubscribe(store):
    tokens = store.issue_tokens(1)
    store.unsubscribe(tokens["p3"])
    assert store.invitation(tokens["p3"])["disposition"] == "refusal"
    again = store.issue_tokens(1)
    assert "p3" not in again and "p1" in again
    store.set_wave_status(1, "closed")
    with pytest.raises(SurveyError, match="wave 1 is closed"):
        store.save_response(again["p1"], {"org_type": "ccg"}, final=False)


def test_admin_passwords(store):
    with pytest.raises(SurveyError, match="12 characters"):
        store.add_admin("eve", "short")
    store.add_admin("admin", "a long enough password")
    assert store.check_admin("admin", "a long enough password")
    assert not store.check_admin("admin", "a long enough passworD") and not store.check_admin("nobody", "x" * 12)


def test_roster_errors_name_line_and_column(tmp_path):
    bad = ROSTER.copy()
    bad.loc[1, "email"] = "bob at council"
    bad.loc[2, "org_type"] = "trust"
    bad.loc[3, "panelist_id"] = "p1"
    bad.loc[0, "is_lead"] = "Y"
    path = tmp_path / "panel.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(RosterError) as err:
        read_roster(path, pioneers=["Barnsley", "Leeds"])
    text = str(err.value)
    for part in ("line 3, column email: 'bob at council'", "line 4, column org_type: 'trust'",
                 "line 5, column panelist_id: 'p1' already on line 2", "line 2, column is_lead: 'Y'"):
        assert part in text
    assert len(err.value.problems) == 4


def test_user_roles(tmp_path):
    s = SurveyStore(f"sqlite:///{tmp_path / 'u.db'}")
    s.create()
    with pytest.raises(SurveyError, match="needs exactly one site"):
        s.add_user("b", "a long enough password", "site")
    with pytest.raises(SurveyError, match="role must be one of"):
        s.add_user("b", "a long enough password", "king")
    s.add_user("b", "a long enough password", "site", "Barnsley")
    assert s.check_login("b", "a long enough password") == {"username": "b", "role": "site", "site": "Barnsley"}
    assert not s.check_admin("b", "a long enough password")


def test_migration_from_version_1(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = sa.create_engine(url)
    with old.begin() as c:  # the admins table as version 1 made it
        c.execute(sa.text("CREATE TABLE admins (username VARCHAR(100) PRIMARY KEY, password_hash VARCHAR(300) NOT NULL)"))
        c.execute(sa.text("INSERT INTO admins VALUES ('old', 'x')"))
    s = SurveyStore(url)
    s.create()
    assert s.user("old") == {"username": "old", "role": "admin", "site": None}
    with s.engine.connect() as c:
        assert c.execute(sa.text("select version from schema_version")).scalar() == SCHEMA_VERSION
        assert c.execute(sa.text("pragma journal_mode")).scalar() == "wal"


def test_migration_from_version_2_adds_retention(tmp_path):
    url = f"sqlite:///{tmp_path / 'v2.db'}"
    old = sa.create_engine(url)
    with old.begin() as c:  # the waves table and version row as version 2 made them
        c.execute(sa.text("CREATE TABLE waves (wave INTEGER PRIMARY KEY, instrument VARCHAR(100) NOT NULL, "
                          "opens_on DATE NOT NULL, closes_on DATE NOT NULL, status VARCHAR(10) NOT NULL)"))
        c.execute(sa.text("INSERT INTO waves VALUES (1, 'pioneer_ki_survey', '2015-06-01', '2015-07-31', 'closed')"))
        c.execute(sa.text("CREATE TABLE schema_version (version INTEGER PRIMARY KEY)"))
        c.execute(sa.text("INSERT INTO schema_version VALUES (2)"))
    s = SurveyStore(url)
    s.create()
    assert s.wave(1)["retention_days"] == 730
    with s.engine.connect() as c:
        assert c.execute(sa.text("select version from schema_version")).scalar() == SCHEMA_VERSION
        assert {"sessions", "login_failures"} <= set(sa.inspect(c).get_table_names())
