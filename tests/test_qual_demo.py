"""The demo (``make demo`` / ``seed_demo``) seeds a workbench project of SIMULATED transcripts from the
simulated sites, labelled as simulated, with codings by two coders and the demo survey's free-text
answers, so ``joinedup serve`` shows the workbench at once; seeding twice adds nothing.
"""

from fastapi.testclient import TestClient
from tests.test_web_admin import login_post

from joinedup.qual.demo import LABEL, PROJECT, seed_workbench
from joinedup.qual.projects import Workbench
from joinedup.survey.demo import DEMO_PASSWORD, seed_demo
from joinedup.web.app import create_app
from joinedup.web.config import WebSettings


def test_demo_seeds_a_labelled_simulated_project(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    seed_demo(url)
    client = TestClient(create_app(WebSettings(store_url=url)))
    login_post(client, "demo", DEMO_PASSWORD)
    wb = Workbench(client.app.state.ctx.store)
    pid = wb.project_id(PROJECT)
    assert "simulated" in PROJECT.lower()
    page = client.get("/coding").text
    assert PROJECT in page
    interviews = [s for s in wb.sources(pid) if s["kind"] == "transcript"]
    survey = [s for s in wb.sources(pid) if s["kind"] == "survey"]
    assert len(interviews) == 6 and len(survey) > 0
    for s in interviews:
        src = wb.source(pid, s["id"])
        assert s["name"].startswith("SIMULATED") and src["text"].startswith(LABEL) and len(src["turns"]) == 6
    cases = {c["name"]: c["attributes"] for c in wb.cases(pid)}
    assert all(a["data"] == "simulated" for n, a in cases.items() if n.startswith("SIMULATED"))
    sites = {a["site"] for a in cases.values()}
    assert len(sites) >= 6
    coders = {c["coder"] for c in wb.visible_codings(pid, "demo", "lead")}
    assert coders == {"demo", "coder"}
    assert client.get(f"/coding/{pid}/sources/{interviews[0]['id']}").status_code == 200
    assert "Workforce" in client.get(f"/coding/{pid}/frequencies?by=site").text
    assert client.get(f"/coding/{pid}/agreement").status_code == 200
    coder = TestClient(client.app)
    assert login_post(coder, "coder", DEMO_PASSWORD).url.path == "/coding"
    assert PROJECT in coder.get("/coding").text
    n = len(wb.sources(pid))
    assert seed_workbench(client.app.state.ctx.store, ["Leeds"], DEMO_PASSWORD) == pid and len(wb.sources(pid)) == n
