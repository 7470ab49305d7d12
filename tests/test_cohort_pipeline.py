"""`joinedup run` with a `[cohort]` table, end to end on a small simulated England (0.5% scale).

* the run writes the cohort tables (effects, costs, QALYs, CEA) and the report has the section;
* costs and QALYs: the scheme's own cost and the programmed utility gain come back, and the
  component cost DiDs add up to the total's; with no utility gain, the QALY interval holds zero;
* no patient-level row leaves: no person id of the input is in any file the run writes, nor in
  what it prints;
* on Spark the cohort step gives the same tables as on DuckDB (one test: Spark is slow).
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.cohort.evaluate import run_cohort, write_cohort_tables
from joinedup.data import open_dataset
from joinedup.protocol import load_protocol
from joinedup.simulate.cohort_scheme import add_triggered_scheme

GAIN = 0.08  # utility gain of the enrolled at 6 and 12 months
COST = 400.0  # the scheme's cost per enrolled person-year

PROTOCOL = f"""
[evaluation]
name = "Care navigation after an emergency admission"

[data]
source = "data"

[cohort]
enrolments = "data/enrolled.csv"
eq5d = "data/cohort_eq5d.csv"
scheme_cost_per_year = {COST}
eligibility = [
  {{field = "age", op = ">=", value = 65}},
  {{field = "emergency_admissions", months = 1, op = ">=", value = 1}},
  {{field = "practice_code", op = "in_scheme"}},
]
bootstrap = 200
outcomes = ["emergency_admissions", "bed_days", "died", "cost"]
"""


def _project(small_england, root: Path, gain: float, effect: float) -> Path:
    shutil.copytree(small_england, root / "data")
    add_triggered_scheme(root / "data", trigger="admission", effect=effect, seed=5, months=12, utility_gain=gain)
    (root / "cohort.toml").write_text(PROTOCOL)
    return root


@pytest.fixture(scope="module")
def run(small_england, tmp_path_factory):
    """The real CLI in a subprocess: its printed output is the run's log."""
    root = _project(small_england, tmp_path_factory.mktemp("cohort_run"), GAIN, -0.2)
    out = root / "out"
    got = subprocess.run([sys.executable, "-m", "joinedup.cli", "run", str(root / "cohort.toml"), "--out", str(out)],
                         capture_output=True, text=True, timeout=900, check=False)
    assert got.returncode == 0, got.stdout + got.stderr
    return root, out, got.stdout + got.stderr


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_csv(p) for p in (out / "tables").glob("cohort_*.csv")}


def test_the_pipeline_runs_the_cohort_design_and_reports_it(run):
    out = run[1]
    tables = _tables(out)
    assert {"cohort_plan", "cohort_estimates", "cohort_costs", "cohort_increments", "cohort_cea", "cohort_ceac",
            "cohort_qalys", "cohort_trajectory"} <= set(tables)
    page = (out / "report.html").read_text()
    section = page[page.index('id="cohort"'):]
    for expected in ("Power first", "Admissions before and after enrolment", "Costs, QALYs and cost-effectiveness",
                     "probability that the scheme is cost-effective", 'id="cohort-ce-plane-title"'):
        assert expected in section, expected
    assert {"cohort-trajectory.svg", "cohort-ce-plane.svg", "cohort-ceac.svg"} <= {p.name for p in (out / "figures").iterdir()}
    manifest = json.loads((out / "manifest.json").read_text())
    assert "cohort" in manifest["timings_seconds"] and manifest["seeds"]["cohort"] == 2013


def test_costs_include_the_scheme_and_qalys_recover_the_programmed_gain(run):
    tables = _tables(run[1])
    costs = tables["cohort_costs"].set_index(["outcome", "design"])["estimate"]
    # the scheme's cost: 400 a person-year while alive in follow-up, none for controls
    assert 0.85 * COST < costs[("scheme_cost", "matched DiD")] <= COST
    # the DiD is linear: the components add up to the total
    parts = sum(costs[(p, "matched DiD")] for p in ("emergency_cost", "ae_cost", "social_care_cost", "scheme_cost"))
    assert parts == pytest.approx(costs[("total_cost", "matched DiD")], rel=1e-9)
    inc = tables["cohort_increments"].set_index("quantity")
    q = inc.loc["incremental QALYs (EQ-5D, baseline-adjusted)"]
    assert q["lower"] > 0 and q["lower"] <= 0.75 * GAIN <= q["upper"]  # trapezium: 0 at enrolment, gain at 6, 12 months
    cea = tables["cohort_cea"]
    assert set(cea["wtp"]) == {20_000.0, 30_000.0}
    assert cea["inc_effect"].iloc[0] == pytest.approx(q["estimate"], abs=3 * q["se"])
    assert cea["ceac"].between(0, 1).all() and (cea["evpi"] >= 0).all()
    ceac = tables["cohort_ceac"]
    assert ceac["ceac"].is_monotonic_increasing  # more QALYs at a positive cost: rises with the threshold
    assert tables["cohort_qalys"]["people"].min() >= 10


def _ids_in_text(text: str, ids: set[int]) -> set[int]:
    return {int(t) for t in re.findall(r"(?<![\d.])\d{5,}(?![\d.])", text)} & ids


def test_no_person_id_leaves_through_any_output_or_the_log(run):
    root, out, log = run
    ids = set(pd.read_parquet(root / "data" / "persons", columns=["person_id"])["person_id"].astype(int))
    ids = {i for i in ids if i >= 10_000}  # shorter ids cannot be told from counts and years
    assert len(ids) > 100_000
    enrolled = set(pd.read_csv(root / "data" / "enrolled.csv")["person_id"])
    assert len(enrolled & ids) > 0.95 * len(enrolled)  # the check would see (nearly all of) the enrolled
    found = {}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 20
    for path in files:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".xlsx":
            frame = pd.concat(pd.read_excel(path, sheet_name=None).values(), ignore_index=True)
        else:
            frame = None
        if frame is not None:
            values = frame.select_dtypes("number").to_numpy().ravel()
            hit = {int(v) for v in values[np.isfinite(values)] if float(v).is_integer()} & ids
            hit |= _ids_in_text(frame.select_dtypes(exclude="number").astype(str).to_csv(), ids)
        else:
            hit = _ids_in_text(path.read_bytes().decode("utf-8", errors="replace"), ids)
        if hit:
            found[str(path.relative_to(out))] = sorted(hit)[:3]
    found_log = _ids_in_text(log, ids)
    assert not found and not found_log, (found, found_log)


def test_null_utility_gain_gives_a_qaly_interval_holding_zero(small_england, tmp_path):
    root = _project(small_england, tmp_path, 0.0, 0.0)
    p = load_protocol(root / "cohort.toml")
    cohort = p.cohort.model_copy(update={"scheme_cost_per_year": None, "outcomes": ["emergency_admissions"]})
    result = run_cohort(open_dataset(root / "data"), cohort, p.resolve(cohort.enrolments), None,
                        p.resolve(cohort.eq5d))
    inc = result.economics.tables["cohort_increments"].set_index("quantity")
    q = inc.loc["incremental QALYs (EQ-5D, baseline-adjusted)"]
    assert q["lower"] <= 0 <= q["upper"]
    costs = result.economics.tables["cohort_costs"].set_index(["outcome", "design"])["estimate"]
    assert costs[("scheme_cost", "matched DiD")] == 0
    assert any("scheme_cost_per_year" in n for n in result.economics.notes)


@pytest.mark.spark
def test_the_cohort_step_gives_the_same_tables_on_spark(run, spark_backend, tmp_path):
    root, out, _ = run
    p = load_protocol(root / "cohort.toml")
    result = run_cohort(open_dataset(root / "data", "spark"), p.cohort, p.resolve(p.cohort.enrolments), None,
                        p.resolve(p.cohort.eq5d))
    written = write_cohort_tables(result, tmp_path)
    duck = _tables(out)
    assert set(written) == set(duck)
    for name in written:
        spark = pd.read_csv(tmp_path / "tables" / f"{name}.csv")
        pd.testing.assert_frame_equal(spark, duck[name], check_exact=False, rtol=1e-9, atol=1e-9, obj=name)
