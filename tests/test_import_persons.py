"""`joinedup import persons` and the cohort design on imported data.

Simulated England with a triggered scheme -> HES layout (`--format hes`: HES APC, HES A&E and the
persons spine as a GP registration extract) -> `import hes-apc`, `hes-ae`, `persons` with one key ->
`joinedup cohort check` and `cohort run` on the imported tables, against the same run on the
simulator's own persons, admissions and A&E tables (the tables the importers can give; areas,
unit costs and social care are absent in both, so the two see the same information).
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.data import validate_dataset
from joinedup.data.importers import pseudonym
from joinedup.data.importers.persons import import_persons
from joinedup.simulate.cohort_scheme import add_triggered_scheme
from joinedup.simulate.hes_layout import write_hes_layout

KEY = "persons round trip key, long enough"

PROTOCOL = """
[evaluation]
name = "Care navigation after an emergency admission"

[data]
source = "{data}"

[cohort]
enrolments = "{data}/enrolled.csv"
eligibility = [
  {{field = "age", op = ">=", value = 65}},
  {{field = "emergency_admissions", months = 1, op = ">=", value = 1}},
  {{field = "practice_code", op = "in_scheme"}},
]
bootstrap = 50
"""


def _ids(values):
    return [pseudonym(KEY.encode(), str(v)) for v in values]


@pytest.fixture(scope="module")
def imported(small_england, tmp_path_factory):
    root = tmp_path_factory.mktemp("persons_import")
    shutil.copytree(small_england, root / "sim")
    add_triggered_scheme(root / "sim", trigger="admission", effect=-0.2, seed=5, months=12)
    written = write_hes_layout(root / "sim", root / "hes")
    (root / "key.txt").write_text(KEY)
    runner = CliRunner()
    outputs = {}
    for command, files in (("hes-apc", written["hes_apc"]), ("hes-ae", written["hes_ae"]),
                           ("persons", written["persons"])):
        got = runner.invoke(app, ["import", command, "--in", *map(str, files), "--out", str(root / "imp"),
                                  "--key-file", str(root / "key.txt")])
        assert got.exit_code == 0, got.output
        outputs[command] = got.output
    # the simulator's own tables, limited to those the importers write
    (root / "ref").mkdir()
    for name in ("persons", "admissions", "ae_attendances"):
        shutil.copytree(root / "sim" / name, root / "ref" / name)
    enrolled = pd.read_csv(root / "sim" / "enrolled.csv")
    enrolled.to_csv(root / "ref" / "enrolled.csv", index=False)
    # the enrolment list a scheme holds carries NHS numbers (plus one row without): `import enrolments`
    # gives them the same pseudonyms with the same key
    listed = enrolled.rename(columns={"person_id": "NHS_NUMBER"}).astype(str)
    listed = pd.concat([listed, listed.head(1).assign(NHS_NUMBER=" ")], ignore_index=True)
    listed.to_csv(root / "scheme_list.csv", index=False)
    got = runner.invoke(app, ["import", "enrolments", "--in", str(root / "scheme_list.csv"), "--out",
                              str(root / "imp"), "--key-file", str(root / "key.txt")])
    assert got.exit_code == 0, got.output
    outputs["enrolments"] = got.output
    for name in ("imp", "ref"):
        (root / f"{name}.toml").write_text(PROTOCOL.format(data=root / name))
    return root, written, outputs


def test_enrolment_list_gets_the_same_pseudonyms(imported):
    root, _, outputs = imported
    enrolled = pd.read_csv(root / "sim" / "enrolled.csv")
    got = pd.read_csv(root / "imp" / "enrolled.csv")
    assert got["person_id"].tolist() == _ids(enrolled["person_id"].astype(str))
    pd.testing.assert_frame_equal(got.drop(columns="person_id"), enrolled.drop(columns="person_id"))
    assert f"wrote {len(enrolled):,} rows, rejected 1" in outputs["enrolments"]
    rejects = pd.read_csv(root / "imp" / "rejects" / "enrolled.csv")
    assert rejects[["row", "field", "reason"]].values.tolist() == [[len(enrolled) + 2, "NHS_NUMBER",
                                                                    "no person identifier"]]


def test_enrolment_list_without_an_identifier_column_is_refused(tmp_path):
    (tmp_path / "list.csv").write_text("patient,enrolment_date,scheme,site\n1,2016-01-01,MDT,A\n")
    (tmp_path / "key.txt").write_text(KEY)
    got = CliRunner().invoke(app, ["import", "enrolments", "--in", str(tmp_path / "list.csv"), "--out",
                                   str(tmp_path / "out"), "--key-file", str(tmp_path / "key.txt")])
    assert got.exit_code == 2
    assert "list.csv: no person identifier column" in got.output and "NHS_NUMBER" in got.output
    assert not (tmp_path / "out" / "enrolled.csv").exists()


def test_persons_spine_comes_back_through_the_pseudonym(imported):
    root, written, outputs = imported
    assert written["persons"][0].read_text().splitlines()[0] == (
        "NHS_NUMBER,SEX,YEAR_OF_BIRTH,GPPRAC,RESLADST_ONS,DATE_OF_DEATH,LTC_COUNT")
    sim = pd.read_parquet(root / "sim" / "persons")
    imp = pd.read_parquet(root / "imp" / "persons.parquet")
    assert f"persons: read {len(sim):,} records, wrote {len(sim):,} rows" in outputs["persons"]
    expected = sim.assign(person_id=_ids(sim["person_id"]), death_date=pd.to_datetime(sim["death_date"]))
    cols = ["person_id", "sex", "birth_year", "area_code", "practice_code", "ltc_count", "death_date"]
    pd.testing.assert_frame_equal(
        expected[cols].sort_values("person_id", ignore_index=True),
        imp.assign(death_date=pd.to_datetime(imp["death_date"]))[cols].sort_values("person_id", ignore_index=True),
        check_dtype=False)
    # the same key links every imported admission and attendance to a person on the spine
    adm = pd.read_parquet(root / "imp" / "admissions.parquet")
    ae = pd.read_parquet(root / "imp" / "ae_attendances.parquet")
    assert set(adm["person_id"]) <= set(imp["person_id"]) and set(ae["person_id"]) <= set(imp["person_id"])
    report = validate_dataset(root / "imp", tables=["persons", "admissions", "ae_attendances"])
    assert report.ok, report.summary()


def test_cohort_check_accepts_the_imported_dataset(imported):
    root, *_ = imported
    got = CliRunner().invoke(app, ["cohort", "check", "--protocol", str(root / "imp.toml")])
    assert got.exit_code == 0, got.output
    n = len(pd.read_csv(root / "imp" / "enrolled.csv"))
    assert f"{n:,} enrolments" in got.output and ": OK" in got.output


def test_cohort_check_names_the_missing_spine(imported, tmp_path):
    root, *_ = imported
    (tmp_path / "d").mkdir()
    shutil.copy(root / "imp" / "admissions.parquet", tmp_path / "d")
    shutil.copy(root / "imp" / "ae_attendances.parquet", tmp_path / "d")
    shutil.copy(root / "imp" / "enrolled.csv", tmp_path / "d")
    (tmp_path / "p.toml").write_text(PROTOCOL.format(data=tmp_path / "d"))
    got = CliRunner().invoke(app, ["cohort", "check", "--protocol", str(tmp_path / "p.toml")])
    assert got.exit_code == 1
    assert "the cohort design needs table(s) persons" in got.output and "import persons" in got.output


def test_cohort_run_on_imported_data_gives_the_simulators_estimate(imported):
    root, *_ = imported
    tables = {}
    for name in ("ref", "imp"):
        got = CliRunner().invoke(app, ["cohort", "run", "--protocol", str(root / f"{name}.toml"),
                                       "--out", str(root / f"out_{name}")])
        assert got.exit_code == 0, got.output
        tables[name] = {p.stem: pd.read_csv(p) for p in (root / f"out_{name}" / "tables").glob("*.csv")}
    # no unit costs, no social care, no admission costs in either: costs are said to be unavailable
    for name in ("ref", "imp"):
        assert "cohort_costs" not in tables[name]
        page = (root / f"out_{name}" / "cohort.html").read_text()
        assert "No unit_costs table: costs are not available" in page and "No areas table" in page
    assert "Admissions carry no cost" in (root / "out_imp" / "cohort.html").read_text()
    ref, imp = tables["ref"]["cohort_estimates"], tables["imp"]["cohort_estimates"]
    assert "cost" not in set(imp["outcome"])
    pd.testing.assert_frame_equal(tables["ref"]["cohort_plan"], tables["imp"]["cohort_plan"])
    # the matched sets differ only in controls that tie exactly on every matching covariate (next test);
    # on this seed those controls have the same admissions and bed days after, not the same A&E or deaths
    for outcome in ("emergency_admissions", "bed_days"):
        a, b = (t[t["outcome"] == outcome].reset_index(drop=True) for t in (ref, imp))
        assert len(a) > 1
        np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a["se"], b["se"], rtol=1e-9, atol=1e-9)  # per-site SEs of ~0 are float noise
    for outcome in ("ae_attendances", "died"):  # one tied control in ~700 sets moves the mean a little
        a, b = (t[(t["outcome"] == outcome) & (t["group"] == "pooled")].reset_index(drop=True) for t in (ref, imp))
        np.testing.assert_allclose(a["estimate"], b["estimate"], atol=0.01)


def test_matched_sets_differ_only_where_controls_tie(imported):
    """Pseudonyms order people differently from the simulator's ids, and exact ties in the matching
    distance are broken by that order: any control that differs must be identical on every matching
    covariate to the one it replaces."""
    from joinedup.cohort.enrolments import read_enrolments
    from joinedup.cohort.evaluate import _fit_risk, spec_from
    from joinedup.cohort.features import MonthFeatures
    from joinedup.cohort.panel import monthly_panel
    from joinedup.cohort.riskset import risk_set_match
    from joinedup.cohort.tables import cohort_dataset
    from joinedup.economics.cohort import data_period
    from joinedup.protocol import load_protocol

    root, *_ = imported
    pairs = {}
    for name in ("ref", "imp"):
        p = load_protocol(root / f"{name}.toml")
        ds = cohort_dataset(root / name)
        panel = monthly_panel(ds)
        enrolled = read_enrolments(p.resolve(p.cohort.enrolments), panel.person_id, data_period(ds))
        match = risk_set_match(panel, enrolled, spec_from(p.cohort), MonthFeatures(panel, _fit_risk(ds, p.cohort)))
        pairs[name] = match.pairs.sort_values(["set_id", "treated"], kind="stable", ignore_index=True)
        covariates = match.covariates
    ref, imp = pairs["ref"], pairs["imp"]
    ref = ref.assign(person_id=_ids(ref["person_id"]))
    assert len(ref) == len(imp) and (ref["set_id"].to_numpy() == imp["set_id"].to_numpy()).all()
    treated = ref["treated"] == 1
    assert (ref.loc[treated, "person_id"].to_numpy() == imp.loc[treated, "person_id"].to_numpy()).all()
    differ = ref["person_id"].to_numpy() != imp["person_id"].to_numpy()
    assert differ.mean() < 0.01
    np.testing.assert_allclose(ref.loc[differ, covariates].to_numpy(float), imp.loc[differ, covariates].to_numpy(float))


def test_bad_rows_go_to_rejects_with_file_row_field_and_reason(tmp_path):
    extract = tmp_path / "pds.csv"
    extract.write_text(
        "NHS_NUMBER,GENDER,DOB,PRACTICE_CODE,LA_CODE,DOD,LTC_COUNT\n"
        "9000000001,1,1950-01-01,A81001,E06000001,,2\n"      # kept
        "9000000002,0,1950-01-01,A81001,E06000001,,\n"       # sex not known
        "9000000003,2,31/02/1940,A81001,E06000001,,\n"       # no such date
        "9000000004,2,01/02/1940,A81001,E06000001,2015-13-01,\n"  # bad death date
        "9000000005,1,1940-01-01,A81001,E06000001,,\n"       # same person, different details
        "9000000005,2,1940-01-01,A81001,E06000001,,\n"
        "9000000006,F,19400101,X1,E06000001,,\n"            # not a practice code
        "9000000007,M,19400101,A81002,E06000002,,\n"         # identical rows: kept once
        "9000000007,M,19400101,A81002,E06000002,,\n"
        "9000000008,M,19400101,A81002,W06000002,,31\n")      # Welsh area, LTC count out of range
    report = import_persons([extract], tmp_path / "out", KEY.encode())
    assert report.read == 10 and report.written == 2
    assert report.deduplicated == {"identical rows (all fields)": 1}
    assert report.rejected == {
        "date of death does not parse or is before the birth year": 1,
        "date or year of birth does not parse (or is before 1890 or after 2100)": 1,
        "long-term-condition count is not a whole number 0-30": 1,
        "not an English local authority ONS code (E########)": 1,
        "not an ODS practice code": 1,
        "person appears on more than one row with different details": 2,
        "sex is not 1/M (male) or 2/F (female)": 1}
    assert {k: v for k, v in report.cleaned.items() if v} == {
        "no long-term-condition count in the extract (0 written)": 1}
    rejects = pd.read_csv(tmp_path / "out" / "rejects" / "persons.csv", dtype=str)
    assert list(rejects.columns) == ["source_file", "row", "field", "value", "reason"]
    assert set(zip(rejects["row"], rejects["field"])) == {
        ("2", "SEX"), ("3", "DATE_OF_BIRTH/YEAR_OF_BIRTH"), ("4", "DATE_OF_DEATH"), ("5", "NHS_NUMBER"),
        ("6", "NHS_NUMBER"), ("7", "GPPRAC"), ("10", "RESLADST_ONS"), ("10", "LTC_COUNT")}
    assert not rejects["value"].fillna("").str.contains("9000000").any()  # no NHS number in the rejects
    kept = pd.read_parquet(tmp_path / "out" / "persons.parquet").sort_values("birth_year", ignore_index=True)
    assert kept["person_id"].tolist() == _ids(["9000000007", "9000000001"])
    assert kept["ltc_count"].tolist() == [0, 2] and kept["sex"].tolist() == ["M", "M"]


def test_ethnic_category_and_imd_decile_are_read_when_the_extract_has_them(tmp_path):
    """NHS Data Dictionary ethnic category codes map to the ONS 2021 groups (Chinese, R, is Asian in
    2021); not stated (Z), not known (99), unknown codes and invalid deciles are written empty and
    counted, and never cost the person their row."""
    extract = tmp_path / "pds.csv"
    rows = [("A", "1"), ("R", "10"), ("N", ""), ("Z", "11"), ("99", "x"), ("Q", "5"), ("", "3"), ("g", "2")]
    extract.write_text("NHS_NUMBER,SEX,YEAR_OF_BIRTH,GPPRAC,RESLADST_ONS,ETHNIC_CATEGORY,IMD_DECILE\n" + "".join(
        f"90000000{i:02d},1,{1940 + i},A81001,E06000001,{eth},{imd}\n" for i, (eth, imd) in enumerate(rows)))
    report = import_persons([extract], tmp_path / "out", KEY.encode())
    assert report.written == len(rows) and not report.rejected
    assert report.cleaned["ethnic category not stated, not known or not a Data Dictionary code (written empty)"] == 3
    assert report.cleaned["IMD decile not a whole number 1-10 (written empty)"] == 2
    kept = pd.read_parquet(tmp_path / "out" / "persons.parquet").sort_values("birth_year", ignore_index=True)
    assert kept["ethnic_group"].fillna("").tolist() == ["white", "asian", "black", "", "", "", "", "mixed"]
    assert kept["lsoa_imd_decile"].astype("Float64").tolist() == [1, 10, pd.NA, pd.NA, pd.NA, 5, 3, 2]
    assert validate_dataset(tmp_path / "out", "duckdb", ["persons"]).ok


def test_a_missing_column_stops_the_import_naming_it(tmp_path):
    extract = tmp_path / "pds.csv"
    extract.write_text("NHS_NUMBER,SEX,GPPRAC,RESLADST_ONS\n9000000001,1,A81001,E06000001\n")
    got = CliRunner().invoke(app, ["import", "persons", "--in", str(extract), "--out", str(tmp_path / "o")],
                             env={"JOINEDUP_PSEUDONYM_KEY": KEY})
    assert got.exit_code == 2
    assert "column DATE_OF_BIRTH or DOB or YEAR_OF_BIRTH or BIRTH_YEAR is missing" in got.output
