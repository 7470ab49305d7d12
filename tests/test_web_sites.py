"""Site dashboards: who sees what (a site user sees only its own site; programme staff see all), the
numbers equal the run's tables, the SPC icon is the XmR verdict on the site's series, and the one-page
PDF (printed by Debian's Chromium) has one page with the site's findings.
"""

import io
import re

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from joinedup.indicators.spc import xmr
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings
from tests.test_web_admin import login_post

PASSWORD = "a long enough password"


def _results(folder):
    t = folder / "tables"
    t.mkdir(parents=True)
    quarters = pd.date_range("2012-01-01", periods=16, freq="QS")
    rows = []
    for site, shift in (("Barnsley", 0.0), ("Leeds", 1.0)):
        values = np.r_[np.full(12, 10.0 + shift) + np.tile([0.2, -0.2, 0.1, -0.1], 3), [7.0, 6.8, 6.9, 6.7]]
        for q, v in zip(quarters, values):
            rows.append({"indicator": "emergency_admissions", "period": "quarter", "level": "pioneer_site",
                         "unit": site, "area_code": None, "period_start": q, "value": v, "suppressed": False})
    pd.DataFrame(rows).to_parquet(t / "indicators.parquet")
    pd.DataFrame({"site": ["Barnsley", "Leeds"], "area_code": ["E08000016", "E08000035"]}).to_parquet(t / "site_areas.parquet")
    pd.DataFrame({"site": ["Barnsley", "Leeds"], "wave": [1, 1], "n_areas": [1, 1], "estimate": [-0.0412, -0.0123],
                  "se": [0.03, 0.03]}).to_parquet(t / "synthesis_sites.parquet")
    pd.DataFrame({"scheme_id": ["barnsley-01", "leeds-01"], "site": ["Barnsley", "Leeds"],
                  "scheme_type": ["community_mdt", "reablement"], "target_group": ["frail_elderly", "older_people"]}
                 ).to_parquet(t / "typology_registry.parquet")
    pd.DataFrame({"site": ["Barnsley", "Leeds"], "cluster": [1, 2], "kmodes_cluster": [1, 2]}).to_parquet(
        t / "typology_clusters.parquet")
    pd.DataFrame({"wave": [1, 1], "pioneer": ["Barnsley", "Leeds"], "n": [4, 6]}).to_parquet(
        t / "survey_respondents_by_pioneer.parquet")
    return folder


@pytest.fixture
def client(tmp_path):
    app = create_app(WebSettings(store_url=f"sqlite:///{tmp_path / 's.db'}", results=_results(tmp_path / "run")))
    store = app.state.ctx.store
    store.add_user("barnsley", PASSWORD, "site", "Barnsley")
    store.add_user("nhse", PASSWORD, "programme")
    return TestClient(app)


def _login(client, user):
    r = login_post(client, user, PASSWORD)
    assert r.status_code == 200
    return r


def test_site_user_sees_only_its_site(client):
    assert client.get("/sites/Barnsley").url.path == "/admin/login"  # signed out
    r = _login(client, "barnsley")
    assert r.url.path == "/sites/Barnsley"
    # Barnsley's DiD log rate ratio -0.0412 (se 0.03) reads as -4.0% (-9.5% to +1.8%); Leeds' -1.2% is not shown
    assert "barnsley-01" in r.text and "leeds-01" not in r.text and "-4.0" in r.text and "-9.5 to +1.8" in r.text
    leeds = client.get("/sites/Leeds")
    assert leeds.status_code == 404 and "-1.2" not in leeds.text and "Leeds" not in leeds.text.split("<main")[1]
    assert client.get("/sites/Leeds/summary.pdf").status_code == 404
    assert client.get("/admin").status_code == 403  # survey administration is not for site users


def test_programme_staff_see_every_site(client):
    _login(client, "nhse")
    index = client.get("/sites")
    assert "/sites/Barnsley" in index.text and "/sites/Leeds" in index.text
    assert "leeds-01" in client.get("/sites/Leeds").text


def test_spc_icon_and_numbers_equal_the_tables(client, tmp_path):
    _login(client, "barnsley")
    page = client.get("/sites/Barnsley").text
    ind = pd.read_parquet(tmp_path / "run" / "tables" / "indicators.parquet")
    series = ind[ind.unit == "Barnsley"].sort_values("period_start")
    icon = xmr(series["value"].to_numpy(), series["period_start"].to_numpy(), improvement_direction="decrease").variation_icon
    assert icon == "special_cause_improvement_low" and "Improving: special cause, lower" in page
    assert "Latest 6.7 " in page  # the latest value of the series
    # the chart is drawn: 16 points, the last four below the mean coloured as improvement (NHSRplotthedots)
    card = page.split('id="spc-emergency_admissions"')[1].split("</section>")[0]
    assert card.count("<circle") - card.count('r="17"') - card.count('r="1.8"') == 16
    assert card.count('fill="#00b0f0"') >= 4


def test_one_page_pdf(client):
    from pypdf import PdfReader

    _login(client, "barnsley")
    r = client.get("/sites/Barnsley/summary.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(r.content))
    text = re.sub(r"\s+", " ", pdf.pages[0].extract_text())
    assert len(pdf.pages) == 1 and "Barnsley" in text and "barnsley-01" in text


def test_site_pages_and_pdf_show_no_small_counts_or_small_base_percentages(client, tmp_path):
    """Issue 15: respondent counts of 1-7 per site were shown (Barnsley n = 1). The same rule as the
    report: 1-7 suppressed, others rounded to 5; a survey percentage needs a base of 11."""
    from pypdf import PdfReader

    t = tmp_path / "run" / "tables"
    pd.DataFrame({"wave": [1, 2, 3, 1], "pioneer": ["Barnsley", "Barnsley", "Barnsley", "Leeds"],
                  "n": [1, 7, 13, 6]}).to_parquet(t / "survey_respondents_by_pioneer.parquet")
    pd.DataFrame({"wave": [1, 1], "group": ["all", "all"], "item": ["joint_working", "shared_records"],
                  "n": [10, 11], "pct_substantial_or_some": [30.0, 72.7]}).to_parquet(t / "survey_progress.parquet")
    _login(client, "barnsley")
    page = client.get("/sites/Barnsley").text
    respondents = page.split("Respondents from Barnsley by wave</caption>")[1].split("</table>")[0]
    cells = [int(float(c)) for c in re.findall(r"<td>([\d.]+)</td>", respondents)]
    assert cells == [1, 2, 3, 15]  # the waves, then 13 shown rounded to 15; 1 and 7 are withheld
    assert respondents.count("not shown (1 to 7)") == 2
    progress = page.split("Progress reported (all respondents, programme)</caption>")[1].split("</table>")[0]
    assert "30.0" not in progress and "72.7" in progress  # base 10 not shown, base 11 shown
    assert "not shown (base under 11)" in progress
    text = PdfReader(io.BytesIO(client.get("/sites/Barnsley/summary.pdf").content)).pages[0].extract_text()
    lines = [line.split() for line in text.splitlines()]
    rows = {r[0]: " ".join(r[1:]) for r in lines if r and r[0] in ("1", "2", "3") and ("not shown" in " ".join(r)
                                                                                    or r[1:] == ["15"])}
    assert rows == {"1": "not shown (1 to 7)", "2": "not shown (1 to 7)", "3": "15"}  # n: withheld, withheld, 15
