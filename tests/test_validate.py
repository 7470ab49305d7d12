"""Loading bad data stops with an error naming table, column, rows and rule; nothing is changed."""

import datetime as dt
import hashlib

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from joinedup.data import DataValidationError, load_dataset, validate_dataset
from joinedup.data.tables import TABLES
from tiny_dataset import ROWS, write_tiny_dataset


def rewrite(folder, name, mutate, schema=None):
    rows = [dict(r) for r in ROWS[name]]
    rows = mutate(rows) or rows
    table = pa.Table.from_pylist(rows, schema=schema or TABLES[name].arrow_schema())
    pq.write_table(table, folder / f"{name}.parquet")


def only_problem(report):
    assert len(report.problems) == 1, report.summary()
    return report.problems[0]


def test_tiny_dataset_is_valid(tiny):
    report = validate_dataset(tiny)
    assert report.ok and not report.problems, report.summary()
    assert report.rows["admissions"] == 2


def test_value_outside_allowed_list_names_table_column_row_and_rule(tiny):
    rewrite(tiny, "admissions", lambda rows: rows[1].update(admission_method="urgent"))
    problems = validate_dataset(tiny).problems
    allowed = [p for p in problems if p.rule == "allowed values"]
    assert len(allowed) == 1
    p = allowed[0]
    assert (p.table, p.column, p.rows) == ("admissions", "admission_method", 1)
    assert "row 2 of" in p.examples[0] and "admissions.parquet" in p.examples[0]
    assert "'urgent'" in p.examples[0]
    # the cross-column check sees the same row: the code no longer belongs to the method
    assert any(p.rule == "admimeth_matches_method" for p in problems)


def test_unparseable_date_in_csv_is_a_type_error_not_a_missing_value(tmp_path):
    folder = write_tiny_dataset(tmp_path / "csv", fmt="csv")
    frame = pd.read_csv(folder / "admissions.csv", dtype=str)
    frame.loc[1, "admission_date"] = "2015-02-30"
    frame.to_csv(folder / "admissions.csv", index=False)
    p = only_problem(validate_dataset(folder))
    assert (p.table, p.column, p.rule, p.rows) == ("admissions", "admission_date", "type date", 1)
    assert p.examples[0].startswith("row 2 of") and "'2015-02-30'" in p.examples[0]


def test_duplicate_primary_key(tiny):
    rewrite(tiny, "admissions", lambda rows: rows[1].update(spell_id=10))
    p = only_problem(validate_dataset(tiny))
    assert (p.column, p.rule) == ("spell_id", "primary key unique")
    assert "spell_id=10 appears 2 times" in p.examples[0]


def test_orphan_foreign_key(tiny):
    rewrite(tiny, "ae_attendances", lambda rows: rows[0].update(person_id=99))
    p = only_problem(validate_dataset(tiny))
    assert (p.table, p.column, p.rule) == ("ae_attendances", "person_id", "exists in persons.person_id")
    assert "person_id=99" in p.examples[0]


def test_missing_required_value_and_bad_pattern(tiny):
    def mutate(rows):
        rows[0].update(primary_diagnosis="J44.1")
        rows[1].update(cips_id=None)  # cost may be missing (HES carries none); the CIPS id may not

    schema = TABLES["admissions"].arrow_schema()
    nullable = pa.schema([f.with_nullable(True) for f in schema])
    rewrite(tiny, "admissions", mutate, nullable)
    rules = {(p.column, p.rule): p for p in validate_dataset(tiny).problems}
    assert ("cips_id", "required") in rules and rules[("cips_id", "required")].rows == 1
    pattern = [p for (c, r), p in rules.items() if c == "primary_diagnosis" and r.startswith("pattern")]
    assert pattern and "'J44.1'" in pattern[0].examples[0]


def test_row_rule_across_columns(tiny):
    rewrite(tiny, "admissions", lambda rows: rows[0].update(discharge_date=dt.date(2012, 12, 31)))
    p = only_problem(validate_dataset(tiny))
    assert (p.table, p.column, p.rule) == ("admissions", None, "discharge_after_admission")
    assert p.examples[0].startswith("row 1 of")


def test_missing_column_missing_table_and_wrong_stored_type(tiny):
    frame = pd.DataFrame(ROWS["practices"]).drop(columns="list_size")
    frame.to_parquet(tiny / "practices.parquet")
    (tiny / "unit_costs.parquet").unlink()
    frame = pd.DataFrame(ROWS["persons"]).astype({"ltc_count": "float64"})
    frame["death_date"] = pd.to_datetime(frame["death_date"]).dt.date
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tiny / "persons.parquet")
    rules = {(p.table, p.column, p.rule) for p in validate_dataset(tiny).problems}
    assert ("practices", "list_size", "column_present") in rules
    assert ("unit_costs", None, "table_present") in rules
    assert ("persons", "ltc_count", "type int32") in rules


def test_loading_bad_data_raises_and_leaves_files_untouched(tiny):
    rewrite(tiny, "admissions", lambda rows: rows[1].update(age=130))
    before = hashlib.sha256((tiny / "admissions.parquet").read_bytes()).hexdigest()
    with pytest.raises(DataValidationError) as err:
        load_dataset(tiny)
    assert "admissions.age: rule '<= 120' broken by 1 row(s)" in str(err.value)
    assert hashlib.sha256((tiny / "admissions.parquet").read_bytes()).hexdigest() == before


def test_valid_csv_loads_with_declared_types(tmp_path):
    folder = write_tiny_dataset(tmp_path / "csv", fmt="csv")
    ds = load_dataset(folder)
    adm = ds.execute(ds.table("admissions").order_by("spell_id"))
    assert str(ds.table("admissions").admission_date.type()) == "date"
    assert list(adm.spell_id) == [10, 11] and adm.cost.sum() == pytest.approx(4750.0)


@pytest.mark.spark
def test_spark_reports_the_same_rule_by_primary_key(tiny, spark_backend):
    rewrite(tiny, "admissions", lambda rows: rows[1].update(admission_method="urgent"))
    problems = validate_dataset(tiny, engine="spark").problems
    allowed = [p for p in problems if p.rule == "allowed values"]
    assert len(allowed) == 1 and allowed[0].column == "admission_method"
    assert allowed[0].examples[0].startswith("spell_id=11")
