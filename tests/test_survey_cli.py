"""`joinedup survey simulate` and `joinedup survey analyse` through the CLI, on files."""

import pandas as pd
from typer.testing import CliRunner

from joinedup.cli import app

runner = CliRunner()
FILES = {
    "response_rates": ["wave", "invited", "eligible", "complete", "partial", "rr1", "rr2", "pioneers_responding"],
    "respondents_by_org": ["wave", "org_type", "n"], "respondents_by_pioneer": ["wave", "pioneer", "n"],
    "panel_participation": ["waves_answered", "panelists"],
    "progress": ["wave", "group", "item", "n", "pct_substantial_or_some"],
    "barriers": ["wave", "item", "n", "pct_significant", "rank"],
    "helpfulness": ["wave", "item", "n", "pct_very_or_fairly"],
    "involvement": ["wave", "org_type", "item", "n", "pct_very"],
    "codes_by_org": ["wave", "question", "code", "org_type", "n_respondents", "n_coded", "pct"],
}


def test_simulate_then_analyse(tmp_path):
    data, out = tmp_path / "ki", tmp_path / "out"
    assert runner.invoke(app, ["survey", "simulate", "--out", str(data), "--seed", "3"]).exit_code == 0
    args = ["survey", "analyse", "--out", str(out)]
    for name in ("invitations", "responses", "codes", "codebook"):
        args += [f"--{name}", str(data / f"{name}.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for name, columns in FILES.items():
        assert pd.read_csv(out / f"{name}.csv").columns.tolist() == columns, name
    change = pd.read_csv(out / "change.csv")
    assert {"item", "estimate", "ci_low", "ci_high", "p_value"} <= set(change.columns)
    progress = pd.read_csv(out / "progress.csv")
    assert (progress.pct_substantial_or_some.dropna() * 10 % 1 == 0).all()  # one decimal place
    assert "<svg" in (out / "survey.html").read_text()


def test_bad_file_is_named(tmp_path):
    from joinedup.simulate.ki_panel import simulate_ki_panel

    sim = simulate_ki_panel(1, n_panel=60)
    inv = sim["invitations"].copy()
    inv.loc[3, "org_type"] = "council"  # file line 5 (header is line 1)
    inv.to_csv(tmp_path / "invitations.csv", index=False)
    sim["responses"].to_csv(tmp_path / "responses.csv", index=False)
    result = runner.invoke(app, ["survey", "analyse", "--invitations", str(tmp_path / "invitations.csv"),
                                 "--responses", str(tmp_path / "responses.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "invitations.csv, line 5, column 'org_type': 'council'" in result.output
    assert not (tmp_path / "o").exists()  # nothing written from bad input


def test_analyse_from_the_service_database(tmp_path):
    from joinedup.survey.roster import read_roster
    from joinedup.survey.store import SurveyStore
    from tests.test_survey_store import ROSTER

    url = f"sqlite:///{tmp_path / 's.db'}"
    store = SurveyStore(url)
    store.create()
    store.upsert_panelists(read_roster(ROSTER))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    store.set_wave_status(1, "open")
    tokens = store.issue_tokens(1)
    store.save_response(tokens["p1"], {"pioneer": "barnsley", "org_type": "ccg", "is_lead": "yes",
                                       "prog_quality": "some", "bar_financial": "significant"}, final=True)
    store.save_response(tokens["p2"], {"pioneer": "barnsley", "org_type": "la", "is_lead": "no",
                                       "prog_quality": "none", "bar_financial": "minor"}, final=True)
    store.save_response(tokens["p3"], {"prog_quality": "some"}, final=False)
    out = tmp_path / "out"
    result = runner.invoke(app, ["survey", "analyse", "--store", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    rates = pd.read_csv(out / "response_rates.csv").iloc[0]
    assert (rates.invited, rates.eligible, rates.complete, rates.partial) == (4, 4, 2, 1)
    progress = pd.read_csv(out / "progress.csv").set_index(["group", "item"])
    assert progress.loc[("all", "prog_quality"), "pct_substantial_or_some"] == 50.0
    assert progress.loc[("lead", "prog_quality"), "pct_substantial_or_some"] == 100.0


def test_unknown_question_name_is_an_error(tmp_path):
    from joinedup.simulate.ki_panel import simulate_ki_panel

    sim = simulate_ki_panel(1, n_panel=60)
    sim["invitations"].to_csv(tmp_path / "invitations.csv", index=False)
    sim["responses"].rename(columns={"prog_costs": "prog_cost"}).to_csv(tmp_path / "responses.csv", index=False)
    result = runner.invoke(app, ["survey", "analyse", "--invitations", str(tmp_path / "invitations.csv"),
                                 "--responses", str(tmp_path / "responses.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "unknown question name(s) 'prog_cost'" in result.output
    assert not (tmp_path / "o").exists()


def test_analyse_csvs_leave_with_disclosure_control(tmp_path):
    """Issue 15: `survey analyse` wrote respondents per Pioneer of 1-7 as they were (sub-national)."""
    data, out = tmp_path / "ki", tmp_path / "out"
    assert runner.invoke(app, ["survey", "simulate", "--out", str(data), "--seed", "3"]).exit_code == 0
    result = runner.invoke(app, ["survey", "analyse", "--out", str(out), "--invitations", str(data / "invitations.csv"),
                                 "--responses", str(data / "responses.csv")])
    assert result.exit_code == 0, result.output
    pioneer = pd.read_csv(out / "respondents_by_pioneer.csv")
    assert pioneer["n"].isna().sum() > 10  # most Pioneers have 1-7 respondents a wave: suppressed
    assert not pioneer["n"].between(1, 7).any() and (pioneer["n"].dropna() % 5 == 0).all()
