"""Simulated England: tables, schemas, identifiers, links, codes, determinism, truth.json.

Structural checks are exact (no tolerance): every table is written with exactly its declared Arrow
schema, identifiers are unique, every foreign key resolves, codes agree with their groups, and the same
seed gives byte-identical files. Runs are shared through test_simulate_helpers (scale 0.005 for the
main run, 0.0005 for determinism).
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from joinedup.data import codes
from joinedup.data.tables import TABLES
from joinedup.simulate import SCENARIOS, Scenario, simulate
from joinedup.simulate.runner import LARGE_TABLES
from test_simulate_helpers import in_list, one, run, sql


@pytest.fixture(scope="module")
def main():
    return run("default")


def test_every_table_has_exactly_its_declared_schema(main):
    folder, summary = main
    for name, table in TABLES.items():
        files = sorted((folder / name).glob("part-*.parquet")) if name in LARGE_TABLES else [folder / f"{name}.parquet"]
        assert files and all(f.exists() for f in files), name
        for f in files:
            assert pq.read_schema(f).equals(table.arrow_schema(), check_metadata=False), f"{name}: {f.name}"
        assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == summary.rows[name], name
    assert set(summary.rows) == set(TABLES)
    assert summary.rows_per_second > 0 and summary.seconds > 0


def test_required_columns_have_no_missing_values(main):
    folder, _ = main
    for name, table in TABLES.items():
        required = [c.name for c in table.columns if c.required]
        counts = ", ".join(f"count(*) - count({c})" for c in required)
        assert set(sql(folder, f"select {counts} from {{{name}}}")[0]) == {0}, name


def test_identifiers_are_unique(main):
    folder, _ = main
    for table, key in (("persons", "person_id"), ("admissions", "spell_id"), ("ae_attendances", "attendance_id"),
                       ("social_care_services", "service_id"), ("practices", "practice_code"),
                       ("areas", "area_code"), ("schemes", "scheme_id")):
        assert one(folder, f"select count(*) - count(distinct {key}) from {{{table}}}") == 0, table
    assert one(folder, "select count(*) - count(distinct (person_id, enrolment_date)) from {mdt_enrolments}") == 0
    assert one(folder, "select count(*) - count(distinct (person_id, sample, wave)) from {eq5d_responses}") == 0


def test_foreign_keys_resolve(main):
    folder, _ = main
    checks = [
        ("admissions", "person_id", "persons", "person_id"), ("ae_attendances", "person_id", "persons", "person_id"),
        ("social_care_services", "person_id", "persons", "person_id"),
        ("mdt_enrolments", "person_id", "persons", "person_id"),
        ("eq5d_responses", "person_id", "persons", "person_id"),
        ("social_care_services", "spell_id", "admissions", "spell_id"),
        ("persons", "practice_code", "practices", "practice_code"),
        ("admissions", "practice_code", "practices", "practice_code"),
        ("mdt_enrolments", "practice_code", "practices", "practice_code"),
    ]
    checks += [(t, "area_code", "areas", "area_code") for t in ("persons", "admissions", "ae_attendances",
               "social_care_services", "practices", "population", "programmes", "delayed_transfers")]
    for table, col, parent, key in checks:
        missing = one(folder, f"select count(*) from {{{table}}} t where t.{col} is not null and "
                              f"not exists (select 1 from {{{parent}}} p where p.{key} = t.{col})")
        assert missing == 0, f"{table}.{col} -> {parent}.{key}"
    # An admission carries the person's own area and practice.
    assert one(folder, "select count(*) from {admissions} a join {persons} p using (person_id) "
                       "where a.area_code <> p.area_code or a.practice_code <> p.practice_code") == 0


def test_codes_agree_with_their_groups(main):
    folder, _ = main
    for method, group in codes.ADMIMETH_BY_METHOD.items():
        bad = one(folder, f"select count(*) from {{admissions}} where admission_method = '{method}' "
                          f"and admimeth not in ({in_list(group)})")
        assert bad == 0, method
    for dest, group in codes.DISDEST_BY_DESTINATION.items():
        bad = one(folder, f"select count(*) from {{admissions}} where discharge_destination = '{dest}' "
                          f"and disdest not in ({in_list(group)})")
        assert bad == 0, dest
    table = TABLES["admissions"]
    for col in ("primary_diagnosis", "secondary_diagnoses", "procedure", "practice_code"):
        pattern = table.column(col).pattern.replace("{", "{{").replace("}", "}}")  # str.format escapes
        assert one(folder, f"select count(*) from {{admissions}} where {col} is not null "
                           f"and not regexp_full_match({col}, '{pattern}')") == 0, col
    assert one(folder, "select count(*) from {admissions} where discharge_date < admission_date") == 0
    # Every value of a constrained column is allowed.
    for name, t in TABLES.items():
        for c in t.columns:
            if c.allowed is not None:
                bad = one(folder, f"select count(*) from {{{name}}} where {c.name} not in ({in_list(c.allowed)})")
                assert bad == 0, f"{name}.{c.name}"


def test_deaths_and_spells_agree(main):
    folder, _ = main
    # Nobody is admitted after death; a spell ending in death ends on the death date.
    assert one(folder, "select count(*) from {admissions} a join {persons} p using (person_id) "
                       "where p.death_date is not null and a.admission_date > p.death_date") == 0
    assert one(folder, "select count(*) from {admissions} a join {persons} p using (person_id) "
                       "where a.disdest = '79' and a.discharge_date is distinct from p.death_date") == 0
    assert one(folder, "select max(n) from (select person_id, count(*) n from {admissions} "
                       "where disdest = '79' group by 1)") == 1
    # A person is in one bed at a time.
    overlaps = one(folder, """select count(*) from (select admission_date, lag(discharge_date) over
        (partition by person_id order by admission_date, spell_id) prev from {admissions}) where admission_date < prev""")
    assert overlaps == 0


def test_every_ae_admission_has_an_attendance_that_day(main):
    folder, _ = main
    missing = one(folder, """select count(*) from {admissions} a where a.admimeth = '21' and not exists
        (select 1 from {ae_attendances} e where e.person_id = a.person_id and e.arrival_date = a.admission_date
         and e.disposal = 'admitted')""")
    assert missing == 0
    assert one(folder, "select count(*) from {admissions} where admimeth = '21'") > 0
    share = one(folder, "select avg((admimeth = '21')::int) from {admissions} where admission_method = 'emergency'")
    assert 0.6 < share < 0.85  # most emergency admissions come through A&E


def test_programmes_and_schemes(main):
    folder, _ = main
    assert sql(folder, "select programme, count(distinct site) from {programmes} group by 1 order by 1") == [
        ("pioneer", 25), ("vanguard", 50)]
    assert sql(folder, "select distinct wave from {programmes} where programme = 'pioneer' order by 1") == [(1,), (2,)]
    assert one(folder, "select count(*) from {programmes} where programme = 'pioneer' and model is not null") == 0
    per_site = sql(folder, "select count(*) from {schemes} group by site")
    assert len(per_site) == 25 and all(3 <= n <= 8 for (n,) in per_site)
    assert one(folder, "select count(distinct site) from {schemes} where scheme_type = 'community_mdt'") == 10
    assert one(folder, "select count(*) from {schemes} s join (select site, min(start_date) d from {programmes} "
                       "where programme = 'pioneer' group by 1) p using (site) where s.start_date <= p.d") == 0


def test_truth_json_is_complete(main):
    folder, summary = main
    truth = json.loads((folder / "truth.json").read_text())
    assert truth["seed"] == 2013 and truth["scale"] == 0.005 and truth["years"] == [2010, 2019]
    assert truth["scenario"]["pioneer_effect"] == {"1": -0.04, "2": -0.03}
    effects = {e["name"]: e for e in truth["effects"]}
    assert set(effects) == {"pioneer_wave_1", "pioneer_wave_2", "vanguard", "practice_programme", "mdt", "mdt_utility"}
    assert effects["mdt_utility"]["absolute_change"] == truth["mdt"]["effect_utility"] == 0.02
    assert effects["pioneer_wave_1"]["relative_change"] == -0.04
    assert effects["pioneer_wave_1"]["log_rate_ratio"] == pytest.approx(-0.040822, abs=1e-6)
    assert effects["pioneer_wave_1"]["start_dates"]["Barnsley"] == "2013-11-01"
    assert effects["pioneer_wave_1"]["full_effect_dates"]["Barnsley"] == "2014-11-01"
    pioneers = dict(sql(folder, "select wave, list(distinct area_code order by area_code) from {programmes} "
                                "where programme = 'pioneer' group by 1"))
    assert truth["pioneer_areas"]["1"] == pioneers[1] and truth["pioneer_areas"]["2"] == pioneers[2]
    vanguards = one(folder, "select list(distinct area_code order by area_code) from {programmes} where programme = 'vanguard'")
    assert truth["vanguard_areas"] == vanguards
    assert len(truth["neither_programme"]) + len(set(truth["vanguard_areas"]) | set(pioneers[1] + pioneers[2])) == 152
    mdt = truth["mdt"]
    assert mdt["n_enrolled"] == summary.rows["mdt_enrolments"] > 0
    assert len(mdt["sites"]) == 10 and mdt["n_practices"] == len(mdt["practices"]) > 0
    by_practice = dict(sql(folder, "select practice_code, count(*) from {mdt_enrolments} group by 1"))
    assert {p["practice_code"]: p["n_enrolled"] for p in mdt["practices"] if p["n_enrolled"]} == by_practice
    assert truth["rows"] == summary.rows


def test_same_seed_same_bytes_other_seed_differs():
    a, _ = run("default", scale=0.0005, years=(2013, 2014), seed=7, workers=1)
    b, _ = run("default", scale=0.0005, years=(2013, 2014), seed=7, workers=2, tag="-again")  # 2 processes
    c, _ = run("default", scale=0.0005, years=(2013, 2014), seed=8, workers=1)
    for rel in ("admissions/part-00000.parquet", "persons/part-00000.parquet", "population.parquet",
                "social_care_services/part-00000.parquet", "mdt_enrolments.parquet", "eq5d_responses.parquet",
                "truth.json"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert (a / "admissions/part-00000.parquet").read_bytes() != (c / "admissions/part-00000.parquet").read_bytes()


def test_progress_reports_every_chunk(tmp_path):
    calls = []
    simulate(tmp_path, scale=0.0002, years=(2014, 2014), progress=lambda d, t, label: calls.append((d, t, label)))
    total = calls[-1][1]
    assert [d for d, _, _ in calls] == list(range(1, total + 1)) and total >= 152
    assert all(isinstance(label, str) and label for _, _, label in calls)


def test_scenarios_are_validated():
    assert SCENARIOS["null"].pioneer_effect == {1: 0.0, 2: 0.0}
    assert SCENARIOS["null"].vanguard_effect == SCENARIOS["null"].mdt_effect_admissions == 0.0
    assert SCENARIOS["default"].mdt_cost_per_patient_year > 0
    with pytest.raises(ValueError, match="above -1"):
        Scenario(pioneer_effect={1: -1.0, 2: 0.0})
    with pytest.raises(ValueError, match="above -1"):
        Scenario(mdt_effect_admissions=-1.5)
    with pytest.raises(ValueError, match="allowed: default, null"):
        simulate("unused", scale=0.001, scenario="nonsense")
    with pytest.raises(ValueError, match="scale must be positive"):
        simulate("unused", scale=0)


def test_dataset_passes_the_schema_validator(main):
    validate = pytest.importorskip("joinedup.data.validate")  # the project's own validator, if present
    folder, _ = main
    report = validate.validate_dataset(folder)
    assert report.ok, "\n".join(str(p) for p in report.problems)
