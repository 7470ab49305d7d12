"""`joinedup run`: outputs, manifest, report, determinism and clear failure on bad data."""

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.data.validate import DataValidationError
from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol

runner = CliRunner()


def protocol_for(tmp_path, data, out="out"):
    path = tmp_path / "protocol.toml"
    path.write_text(f'[evaluation]\nname = "Tiny evaluation"\n[data]\nsource = "{data}"\n'
                    f'[output]\nfolder = "{tmp_path / out}"\n')
    return load_protocol(path)


def strip_timestamp(html: str) -> str:
    return re.sub(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC\.", "", html)


def test_run_writes_tables_figures_report_and_manifest(tiny, tmp_path):
    result = run_protocol(protocol_for(tmp_path, tiny))
    out = result.out_dir
    for name in ("emergency_by_month", "population_by_year", "area_groups", "table_rows"):
        assert (out / "tables" / f"{name}.parquet").is_file() and (out / "tables" / f"{name}.csv").is_file()
    assert len(list((out / "figures").glob("*.svg"))) == 4
    manifest = json.loads(result.manifest.read_text())
    assert len(manifest["protocol"]["sha256"]) == 64
    assert manifest["data"]["tables"]["admissions"]["rows"] == 2
    assert len(manifest["data"]["tables"]["admissions"]["sha256"]) == 64
    assert manifest["versions"]["duckdb"] == "1.5.6"
    assert set(manifest["timings_seconds"]) == {"validate", "overview", "report"}
    html = result.report.read_text()
    assert "<h2 id=\"overview\">Data overview</h2>" in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # nothing fetched from a network
    assert html.count('role="img"') == 4 and html.count("<details>") == 4


def test_small_counts_never_reach_tables_or_report(tiny, tmp_path):
    result = run_protocol(protocol_for(tmp_path, tiny))
    monthly = pd.read_csv(result.out_dir / "tables" / "emergency_by_month.csv")
    # the tiny dataset has one admission per group and month: every such count is suppressed
    assert monthly["admissions"].isna().all() and monthly["suppressed"].all()
    # a sub-national rate of 1-7 events is suppressed with its count (HES guide): persons x rate / 1000
    # would give the admission back
    assert monthly["rate_per_1000"].isna().all()
    by_year = pd.read_csv(result.out_dir / "tables" / "population_by_year.csv")
    assert (by_year["persons"] % 5 == 0).all()  # 406 and 422 persons rounded to 405 and 420
    assert set(by_year["persons"]) == {405, 420}
    html = result.report.read_text()
    assert ">suppressed<" in html


def test_same_inputs_give_identical_outputs(tiny, tmp_path):
    protocol = protocol_for(tmp_path, tiny)
    first = run_protocol(protocol, out=tmp_path / "a")
    second = run_protocol(protocol, out=tmp_path / "b")
    for path in sorted((first.out_dir / "tables").iterdir()) + sorted((first.out_dir / "figures").iterdir()):
        twin = second.out_dir / path.relative_to(first.out_dir)
        assert path.read_bytes() == twin.read_bytes(), path.name
    assert strip_timestamp(first.report.read_text()) == strip_timestamp(second.report.read_text())


def test_bad_data_stops_the_run_and_says_where(tiny, tmp_path):
    frame = pd.read_parquet(tiny / "admissions.parquet")
    frame.loc[0, "sex"] = "X"
    frame.to_parquet(tiny / "admissions.parquet")
    with pytest.raises(DataValidationError, match=r"admissions.sex: rule 'allowed values'"):
        run_protocol(protocol_for(tmp_path, tiny))
    assert "admissions.sex" in (tmp_path / "out" / "validation.txt").read_text()
    assert not (tmp_path / "out" / "report.html").exists()


def test_cli_run_and_validate_data(tiny, tmp_path):
    protocol = protocol_for(tmp_path, tiny)
    result = runner.invoke(app, ["run", str(protocol.path), "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert f"Report: {(tmp_path / 'cli' / 'report.html').resolve()}" in result.output
    assert runner.invoke(app, ["validate-data", str(tiny)]).exit_code == 0
    frame = pd.read_parquet(tiny / "persons.parquet")
    frame.loc[1, "birth_year"] = 1850
    frame.to_parquet(tiny / "persons.parquet")
    bad = runner.invoke(app, ["validate-data", str(tiny)])
    assert bad.exit_code == 1 and "persons.birth_year: rule '>= 1890'" in bad.output


def test_cli_reports_protocol_errors_without_a_traceback(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('[evaluation]\nname = "x"\n[data]\nengin = "duckdb"\n')
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 1
    assert "[data] engin: unknown key" in result.output and "Traceback" not in result.output
