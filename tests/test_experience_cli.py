"""`joinedup experience simulate | estimate | p3ceq-form` and `joinedup serve --instrument ID=PATH`
(docs/person-centred.md), on the shared small simulated England (scale 0.005)."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.p3ceq_placeholder import write_placeholder
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.cli_survey import instrument_paths

runner = CliRunner()


def test_simulate_then_estimate_writes_tables_rejects_and_says_what_it_cannot_estimate(small_england, tmp_path):
    folder = tmp_path / "published"
    r = runner.invoke(app, ["experience", "simulate", str(small_england), "--out", str(folder), "--effect", "0.05",
                            "--seed", "7"])
    assert r.exit_code == 0, r.output
    assert "10 GPPS files, 5 ASCOF files" in r.output
    out = tmp_path / "out"
    r = runner.invoke(app, ["experience", "estimate", str(folder), "--starts", str(folder / "programme_starts.csv"),
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    est = pd.read_csv(out / "tables" / "experience_estimates.csv").set_index("measure")
    assert set(est.index) == {"preferred_gp", "satisfaction", "easy_information", "care_quality_of_life"}
    truth = pd.Series(0.05, index=est.index).where(est.index != "care_quality_of_life", 0.5)  # 1A: points
    assert ((est["ci_low"] <= truth) & (truth <= est["ci_high"])).all(), est
    assert (out / "rejects" / "experience_measures.csv").is_file()
    r = runner.invoke(app, ["experience", "estimate", str(folder), "--starts", str(folder / "programme_starts.csv"),
                            "--out", str(tmp_path / "o2"), "--era", "2018-2023"])
    assert r.exit_code == 0 and "preferred_gp: no estimate: " in r.output and "no programme unit has a year" in r.output
    r = runner.invoke(app, ["experience", "estimate", str(tmp_path), "--starts", str(folder / "programme_starts.csv"),
                            "--out", str(tmp_path / "o3")])
    assert r.exit_code == 1 and "no gpps/*.csv or ascof/*.csv files" in r.output


def test_p3ceq_form_builds_the_instrument_and_paper_copy(tmp_path):
    licensed = write_placeholder(tmp_path / "licensed.csv")
    r = runner.invoke(app, ["experience", "p3ceq-form", str(licensed), "--out", str(tmp_path / "p3ceq.xlsx"),
                            "--paper", str(tmp_path / "p3ceq.html")])
    assert r.exit_code == 0, r.output
    assert "19 questions" in r.output and "[Placeholder" in (tmp_path / "p3ceq.html").read_text()
    r = runner.invoke(app, ["experience", "p3ceq-form", str(tmp_path / "none.csv"), "--out", str(tmp_path / "x.xlsx")])
    assert r.exit_code == 1 and "licensed by its developers" in r.output
    assert instrument_paths([f"p3ceq={tmp_path / 'p3ceq.xlsx'}"]) == {"p3ceq": tmp_path / "p3ceq.xlsx"}
    with pytest.raises(ValueError, match="no file"):
        instrument_paths([f"p3ceq={tmp_path / 'absent.xlsx'}"])
