"""`[cohort]` in the protocol and `joinedup cohort ...` end to end on a small simulated England.

Checks that bad input stops with a clear error, that only aggregate, disclosure-controlled tables
leave (no person_id, counts 1-7 suppressed and others multiples of 5), and that the report carries
the MDE, the trajectory chart and the effects.
"""

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.protocol import ProtocolError, load_protocol
from joinedup.simulate.cohort_scheme import add_triggered_scheme

PROTOCOL = """
[evaluation]
name = "Care navigation after an emergency admission"

[data]
source = "data"

[cohort]
enrolments = "data/enrolled.csv"
eligibility = [
  {field = "age", op = ">=", value = 65},
  {field = "emergency_admissions", months = 1, op = ">=", value = 1},
  {field = "practice_code", op = "in_scheme"},
]
bootstrap = 100
outcomes = ["emergency_admissions", "died"]
"""


@pytest.fixture(scope="module")
def project(small_england, tmp_path_factory):
    root = tmp_path_factory.mktemp("cohort_cli")
    shutil.copytree(small_england, root / "data")
    add_triggered_scheme(root / "data", trigger="admission", effect=-0.2, seed=5, months=12)
    (root / "cohort.toml").write_text(PROTOCOL)
    return root


def test_a_bad_eligibility_condition_in_the_protocol_names_the_table_and_the_condition(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(PROTOCOL.replace('{field = "age", op = ">=", value = 65}', '{field = "care_home", op = "==", value = "no"}'))
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert "[cohort] eligibility" in str(err.value) and "eligibility condition 1" in str(err.value)
    assert "no care-home flag" in str(err.value)


def test_check_reports_every_bad_enrolment_line(project, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    rows = pd.read_csv(project / "data" / "enrolled.csv").head(3)
    rows.loc[1, "person_id"] = 99_999_999
    rows.loc[2, "enrolment_date"] = "2030-01-01"
    rows = pd.concat([rows, rows.head(1)])
    rows.to_csv(bad / "enrolled.csv", index=False)
    (bad / "p.toml").write_text(PROTOCOL.replace('"data/enrolled.csv"', f'"{bad / "enrolled.csv"}"')
                                .replace('source = "data"', f'source = "{project / "data"}"'))
    got = CliRunner().invoke(app, ["cohort", "check", "--protocol", str(bad / "p.toml")])
    assert got.exit_code == 1
    for expected in ("line 3: person_id '99999999' is not a person", "line 4: enrolment_date '2030-01-01' is outside",
                     "line 5: person_id", "enrolled more than once"):
        assert expected in got.output, got.output


def test_run_writes_controlled_aggregate_tables_and_a_report(project):
    out = project / "out"
    got = CliRunner().invoke(app, ["cohort", "run", "--protocol", str(project / "cohort.toml"), "--out", str(out)])
    assert got.exit_code == 0, got.output
    tables = {p.stem: pd.read_csv(p) for p in (out / "tables").glob("*.csv")}
    # no [cohort] eq5d in this protocol: costs, but no QALYs and so no CEA tables
    assert set(tables) == {"cohort_plan", "cohort_risk_sets", "cohort_balance", "cohort_trajectory",
                           "cohort_estimates", "cohort_naive", "cohort_costs", "cohort_unit_costs"}
    for name, frame in tables.items():
        assert "person_id" not in frame.columns and "row" not in frame.columns, name
    sets = tables["cohort_risk_sets"]
    for col in ("enrolled", "candidates", "matched"):
        values = sets[col].dropna()
        assert (values % 5 == 0).all() and not values.between(1, 7).any(), col
    plan = tables["cohort_plan"].iloc[0]
    assert 0 < plan["mde_relative"] < 1
    est = tables["cohort_estimates"]
    pooled = est[(est["group"] == "pooled") & (est["outcome"] == "emergency_admissions")]
    assert set(pooled["design"]) == {"matched DiD", "outcome regression"}
    assert (est["group"] != "pooled").any()  # per site too
    page = (out / "cohort.html").read_text()
    assert "Power first" in page and "Admissions before and after enrolment" in page
    assert "programmed effect was a -20% change" in page
    assert "No EQ-5D for the cohort" in page and "Incremental cost per person over follow-up" in page
    assert (out / "figures").is_dir()


def test_plan_prints_the_mde_before_any_outcome(project):
    got = CliRunner().invoke(app, ["cohort", "plan", "--protocol", str(project / "cohort.toml")])
    assert got.exit_code == 0, got.output
    assert "Minimum detectable effect (80% power, two-sided 5%)" in got.output
