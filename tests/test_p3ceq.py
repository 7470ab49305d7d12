"""The P3CEQ in the survey service (docs/person-centred.md): the wording comes from a licensed file
the user supplies (the tests use placeholders), the instrument loads through pyxform and is served by
the respondent pages with paper and proxy modes (abuse, injection and a race checked), scoring follows
the published structure, and the report presents change over time as descriptive, never as a
comparative impact estimate."""

from __future__ import annotations

import csv
import html
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.p3ceq_placeholder import write_placeholder

from joinedup.survey.instrument import load_form
from joinedup.survey.p3ceq import (
    ITEMS,
    LicensedFileError,
    build_xlsform,
    paper_html,
    read_licensed_file,
    score_responses,
)
from joinedup.survey.p3ceq_report import (
    STATEMENT,
    p3ceq_change,
    p3ceq_section_html,
    write_p3ceq_tables,
)
from joinedup.survey.roster import read_roster
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from joinedup.web.security import token_csrf


@pytest.fixture
def licensed(tmp_path):
    return read_licensed_file(write_placeholder(tmp_path / "licensed.csv"))


def test_the_wording_is_read_from_the_licensed_file_and_nothing_is_invented(tmp_path, licensed):
    with pytest.raises(LicensedFileError, match="licensed by its developers: register"):
        read_licensed_file(tmp_path / "absent.csv")
    path = write_placeholder(tmp_path / "l.csv")
    original = list(csv.reader(path.read_text().splitlines()))
    rows = [r for r in original if r[1] != "p3ceq_q7c"]
    with open(tmp_path / "short.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(LicensedFileError, match="no wording for p3ceq_q7c"):
        read_licensed_file(tmp_path / "short.csv")
    rows = [r if r[1] != "2" else [*r[:4], "two", ""] for r in original]
    with open(tmp_path / "bad.csv", "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(LicensedFileError, match=r"row \d+: score 'two' is not a number"):
        read_licensed_file(tmp_path / "bad.csv")
    form = load_form(build_xlsform(licensed, tmp_path / "p3ceq.xlsx"))  # pyxform validates it
    names = [q.name for q in form.questions]
    assert names[:4] == ["completion_mode", "respondent", "proxy_relationship", "proxy_relationship_other"]
    assert names[5:] == list(ITEMS)
    assert all(form.question(n).label.startswith("[Placeholder") for n in ITEMS)


def _answers(scores, **extra):
    return {"completion_mode": "online", "respondent": "self", "p3ceq_trigger": "yes",
            **{n: str(s) for n, s in zip(ITEMS, scores)}, **extra}


def test_scoring_follows_the_published_structure(licensed):
    #        q1 q2 q3 q4 q5 q6 7a 7b 7c 7d q8 q9 q10 q11
    a = [3, 2, 1, 0, 3, 2, 1, 1, 0, 1, 2, 3, 1, 2]
    b = ["not_relevant", *a[1:]]
    scored = score_responses(pd.DataFrame([_answers(a), _answers(b)]), licensed)
    row = scored.iloc[0]
    assert row["q7"] == 3  # the sum of its four sub-questions
    assert row["total"] == sum(a)
    assert row["person_centred"] == 3 + 2 + 1 + 0 + 3 + 2 + 3 + 1  # items 1-5, 8, 9, 10
    assert row["care_coordination"] == 3 + 2 + 3 + 2 + 3  # items 5, 6, 7, 8, 9
    other = scored.iloc[1]  # q1 'not relevant': no score, so the scales that contain it are left blank
    assert np.isnan(other["total"]) and np.isnan(other["person_centred"])
    assert other["care_coordination"] == row["care_coordination"] and other["items_scored"] == 13


@pytest.fixture
def served(tmp_path, licensed):
    path = build_xlsform(licensed, tmp_path / "p3ceq.xlsx")
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", instruments={"p3ceq": path}))
    store = app.state.ctx.store
    store.upsert_panelists(read_roster(pd.DataFrame({
        "panelist_id": [f"u{i:02d}" for i in range(6)], "name": [f"User {i}" for i in range(6)],
        "email": [f"u{i}@example.org" for i in range(6)], "pioneer": "Barnsley", "org_type": "la", "role": "service user",
        "is_lead": "no"})))
    store.create_wave(1, "p3ceq", "2015-06-01", "2099-07-31")
    store.set_wave_status(1, "open")
    yield TestClient(app, raise_server_exceptions=False), store, store.issue_tokens(1)
    store.engine.dispose()


def _post(client, token, answers, action="submit"):
    csrf = token_csrf(client.app.state.ctx.settings.secret, token)
    return client.post(f"/s/{token}", data={**answers, "csrf": csrf, "action": action})


def test_proxy_and_paper_answers_are_checked_and_kept(served):
    client, store, tokens = served
    page = client.get(f"/s/{tokens['u00']}").text
    assert "[Placeholder: licensed wording of p3ceq_q1]" in page and "Someone else, answering on the" in page
    scores = [1] * len(ITEMS)
    r = _post(client, tokens["u00"], _answers(scores, respondent="proxy"))
    assert r.status_code == 422  # a proxy must say how they are related
    assert "proxy_relationship" in r.text
    attack = "<script>alert(1)</script>' OR 1=1 --"
    r = _post(client, tokens["u00"], _answers(scores, respondent="proxy", proxy_relationship="other",
                                              proxy_relationship_other=attack))
    assert r.status_code == 200 and "Thank you" in r.text
    r = _post(client, tokens["u01"], _answers(scores, completion_mode="paper"))
    assert r.status_code == 200
    saved = {x["panelist_id"]: x["answers"] for x in store.responses(1)}
    assert saved["u00"]["proxy_relationship_other"] == attack  # kept as text, never run
    assert saved["u01"]["completion_mode"] == "paper"


def test_abuse_is_refused_without_a_500(served):
    client, store, tokens = served
    scores = [1] * len(ITEMS)
    r = _post(client, tokens["u02"], _answers(scores, p3ceq_q3="99"))  # not an option
    assert r.status_code == 422
    r = _post(client, tokens["u02"], _answers(scores, respondent="proxy", proxy_relationship="other",
                                              proxy_relationship_other="x" * 5000))
    assert r.status_code == 422 and "200 characters" in r.text
    r = client.post(f"/s/{tokens['u02']}", data={**_answers(scores), "csrf": "forged", "action": "submit"})
    assert r.status_code == 403
    assert client.get("/s/not-a-token").status_code == 404
    assert not store.responses(1)


def test_simultaneous_submissions_keep_exactly_one(served):
    client, store, tokens = served
    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(lambda s: _post(client, tokens["u03"], _answers([s % 4] * len(ITEMS))).status_code,
                              range(6)))
    assert 500 not in codes and codes.count(200) >= 1
    rows = [x for x in store.responses(1) if x["panelist_id"] == "u03"]
    assert len(rows) == 1 and len({rows[0]["answers"][n] for n in ITEMS}) == 1  # one whole submission, not a mix


def test_the_paper_questionnaire_prints_every_question_escaped(tmp_path):
    path = write_placeholder(tmp_path / "x.csv", label_extra=" <img src=x onerror=alert(1)>")
    form = load_form(build_xlsform(read_licensed_file(path), tmp_path / "p.xlsx"))
    page = paper_html(form)
    assert page.count("<li><p><strong>") == len(form.questions)
    assert "<img" not in page and "&lt;img src=x" in page
    assert "Answer only if: ${respondent} = &#x27;proxy&#x27;" in page


def test_the_report_says_change_over_time_is_descriptive_not_an_impact_estimate(licensed, tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for wave, shift in ((1, 0), (2, 1)):  # wave 2 answers one option higher on q1-q3 (3 points on the total)
        for i in range(60):
            s = rng.integers(0, 3, len(ITEMS))
            s[:3] += shift
            rows.append({"wave": wave, **_answers(s, respondent="proxy" if i % 10 == 0 else "self")})
    scored = score_responses(pd.DataFrame(rows), licensed)
    table = p3ceq_change(scored)
    total = table[(table["scale"] == "total") & (table["wave"] == 2)].iloc[0]
    assert total["change_ci_low"] < 3 < total["change_ci_high"] and total["change_ci_low"] > 0
    assert total["proxy_respondents"] == 6
    assert not [c for c in table.columns if "estimate" in c or "effect" in c or "att" == c]
    section = p3ceq_section_html(table)
    assert html.escape(STATEMENT) in section and "not a comparative impact estimate" in STATEMENT
    assert "no comparison group" in section
    small = p3ceq_change(scored[scored.index % 20 == 0])  # 3 respondents a wave: suppressed at the boundary
    written = write_p3ceq_tables(small, tmp_path)
    assert written["mean"].isna().all() and written["respondents"].isna().all()
    assert "suppressed" in p3ceq_section_html(written)
