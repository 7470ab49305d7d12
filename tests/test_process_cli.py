"""`joinedup process REGISTER`: tables, figures and rejects written; narrowing reported; bad input
named with exit 1; people covered under disclosure control."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.simulate.initiatives import simulate_register

runner = CliRunner()


def test_process_command_writes_tables_and_reports_the_narrowing(tmp_path):
    frame, _ = simulate_register(seed=1, scenario="narrowing")
    frame.loc[5, "stage"] = "live"  # one bad row: rejected, not fatal
    frame.to_csv(tmp_path / "register.csv", index=False)
    result = runner.invoke(app, ["process", str(tmp_path / "register.csv"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 rejected" in result.output and "trend in medical_share: +" in result.output
    out = tmp_path / "out"
    rejects = pd.read_csv(out / "register_rejects.csv")
    assert rejects["line"].tolist() == [7] and "stage 'live'" in rejects["reason"].iloc[0]
    trends = pd.read_csv(out / "tables" / "process_trends.csv").set_index("measure")
    assert trends.at["medical_share", "p_value"] < 0.05 and trends.at["breadth", "slope"] < 0
    dose = pd.read_csv(out / "tables" / "process_dose.csv")
    people = dose["people_covered"].dropna()
    assert (people % 5 == 0).all()
    for name in ("process-narrowing", "process-positions", "process-delays"):
        assert (out / "figures" / f"{name}.svg").is_file()


def test_process_command_names_bad_input(tmp_path):
    result = runner.invoke(app, ["process", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "does not exist" in result.output
    pd.DataFrame({"site": ["A"]}).to_csv(tmp_path / "short.csv", index=False)
    result = runner.invoke(app, ["process", str(tmp_path / "short.csv"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "missing column(s) initiative_id" in result.output
