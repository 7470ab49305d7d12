"""The pipeline's process step ([process] / [programme] initiative_register): tables under the results
folder, a "Process evaluation" section whose every sentence is re-derived from the tables as written,
disclosure control on people covered and on key-informant shares, and [impact] dose = "register"."""

from __future__ import annotations

import json
from html import escape

import pandas as pd
import pytest

from joinedup.pipeline import planned_steps, run_protocol
from joinedup.process.wording import process_sentences
from joinedup.protocol import ProtocolError, load_protocol

TABLES = ("process_site_years", "process_positions", "process_moves", "process_trends", "process_delays",
          "process_dose", "process_triangulation", "process_triangulation_summary", "process_routine_costs",
          "process_unreviewed", "process_interviews_by_round")


def _protocol(tmp_path, data, extra: str):
    path = tmp_path / "protocol.toml"
    path.write_text(f'[evaluation]\nname = "Process"\n[data]\nsource = "{data}"\n{extra}\n'
                    f'[output]\nfolder = "{tmp_path / "out"}"\n')
    return load_protocol(path)


def _read(out):
    tables = {}
    for name in TABLES:
        f = out / "tables" / f"{name}.csv"
        if f.is_file() and f.stat().st_size > 1:
            try:
                tables[name] = pd.read_csv(f)
            except pd.errors.EmptyDataError:
                tables[name] = pd.DataFrame()
    return tables


def test_simulated_register_runs_as_a_step_with_wording_from_the_tables(small_england, tmp_path):
    from joinedup.data import load_dataset

    prog = load_dataset(small_england).execute(load_dataset(small_england).table("programmes"))
    coded = sorted(prog.loc[prog["programme"] == "pioneer", "site"].unique())[:2]  # coded themes at two sites
    pd.DataFrame({"site": coded, "Workforce": [3, 0]}).to_csv(tmp_path / "themes.csv", index=False)
    from tests.test_process_interviews import _panel_files

    _panel_files(tmp_path, with_roster=False)  # the interview panel's files (140 + 57 interviews)
    protocol = _protocol(tmp_path, small_england, '[indicators]\nids = ["emergency_admissions", "readmissions_30d"]\n'
                         'periods = ["financial_year"]\n[survey]\ntypology = false\n'
                         '[process]\ninitiative_register = "simulate"\nseed = 5\nthemes = "themes.csv"\n'
                         'interviews = "interviews.csv"\ninterview_rounds = "rounds.xlsx"\n')
    assert planned_steps(protocol)[-2:] == ["process", "report"]
    result = run_protocol(protocol)
    out = result.out_dir
    tables = _read(out)
    for name in ("process_site_years", "process_positions", "process_trends", "process_dose",
                 "process_triangulation", "process_triangulation_summary"):
        assert name in tables and len(tables[name]), name
    assert (out / "figures" / "process-narrowing.svg").is_file() and (out / "figures" / "process-positions.svg").is_file()
    assert (out / "register_rejects.csv").is_file()
    years = tables["process_site_years"]
    assert set(years.loc[years["theme:Workforce"] == 1, "site"]) == {coded[0]}
    html = result.report.read_text()
    assert 'id="process"' in html and "Simulated initiative register" in html
    sentences = process_sentences(tables)
    assert len(sentences) >= 5
    for s in sentences:  # every finding is re-derived from the tables on disk
        assert escape(s) in html, s
    # disclosure control: people covered rounded to 5 (or suppressed); small-base shares blanked
    people = tables["process_dose"]["people_covered"].dropna()
    assert len(people) and (people % 5 == 0).all()
    tri = tables["process_triangulation"]
    # bases are written rounded to 5 (11 and 12 informants show as 10), so the check is at < 10
    assert tri.loc[tri["informants"].fillna(0) < 10, "reported_share"].isna().all()
    assert tri["reported_share"].isna().any() and tri["reported_share"].notna().any()
    # costs are set against a routine indicator too (emergency admission cost per head)
    assert set(tri["measure"]) == {"emergency_admissions", "readmissions", "costs"}
    assert tri.loc[tri["measure"] == "costs", "routine_change"].notna().sum() >= 3
    assert "costs" in set(tables["process_triangulation_summary"]["measure"])
    costs = tables["process_routine_costs"]
    assert not {"cost", "excess_bed_days"} & set(costs.columns)  # they would give the spells back
    assert (costs["emergency_spells"].dropna() % 5 == 0).all() and costs["cost_per_head"].notna().any()
    assert costs.loc[costs["emergency_spells"].isna(), "cost_per_head"].isna().all()
    assert (out / "figures" / "process-routine-costs.svg").is_file()
    assert any(s.startswith("Emergency admission cost per head (routine data") for s in sentences)
    assert "No unreviewed site submissions or pending proposals were left out of the analyses." in sentences
    assert tables["process_interviews_by_round"]["interviews"].tolist() == [140, 57]
    assert any(s.startswith("The interview panel completed 197 interviews") for s in sentences)
    assert (out / "interview_rejects.csv").is_file()
    manifest = json.loads(result.manifest.read_text())
    assert "process" in manifest["timings_seconds"] and manifest["seeds"]["process"] == 5


def test_trend_wording_follows_the_table():
    from joinedup.process.wording import trend_sentence

    row = pd.Series({"measure": "medical_share", "slope": 0.05, "p_value": 0.2, "ci_low": -0.03, "ci_high": 0.13})
    assert trend_sentence(row).endswith("no significant trend.")
    assert trend_sentence(row.replace({0.2: 0.001})).endswith("a significant rise.")


def test_dose_register_needs_a_register(tmp_path):
    with pytest.raises(ProtocolError, match="dose = \"register\" needs an initiative register"):
        _protocol(tmp_path, "data", '[impact]\ndose = "register"\n')


def test_dose_from_a_register_file_on_the_programme(small_england, tmp_path):
    from types import SimpleNamespace

    from joinedup.data import load_dataset
    from joinedup.impact.outcomes import outcome_spec
    from joinedup.process.pipeline_step import dose_estimate
    from joinedup.process.register import validate_register
    from joinedup.process.register_io import write_register
    from joinedup.programme import programme_of
    from joinedup.simulate.initiatives import simulate_register

    ds = load_dataset(small_england)
    prog = ds.execute(ds.table("programmes"))
    pioneers = prog[prog["programme"] == "pioneer"].rename(columns={"area_code": "unit_code"})
    pioneers["start_date"] = pd.to_datetime(pioneers["start_date"]).dt.strftime("%Y-%m-%d")
    pioneers[["site", "unit_code", "start_date", "wave"]].to_csv(tmp_path / "sites.csv", index=False)
    frame, _ = simulate_register(seed=4, sites=pioneers.drop_duplicates("site")[["site", "start_date"]],
                                 last_year=2016)
    write_register(validate_register(frame).rows, tmp_path / "register.csv")
    protocol = _protocol(tmp_path, small_england, '[programme]\nname = "P"\nsites = "sites.csv"\n'
                         'initiative_register = "register.csv"\n[impact]\ndose = "register"\nperiod = "quarter"\n')
    programme = programme_of(protocol, ds)
    result = SimpleNamespace(programme=programme, spec=outcome_spec(protocol.impact, "emergency_admissions"))
    table = dose_estimate(ds, None, protocol, result)
    row = table.iloc[0]
    assert row["design"] == "dose-response (register coverage)" and row["register"] == "the register register.csv"
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"] and 0 < row["max_dose"] <= 1
    assert row["n_dosed_sites"] >= 1
    from joinedup.report.dose_section import dose_sentence
    assert f"{row['pct_change']:+.1f}%" in dose_sentence(row)
