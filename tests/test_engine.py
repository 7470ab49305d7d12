"""The data engine: the same definitions give row-for-row identical results on DuckDB and Spark."""

import ibis
import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.data.sources import DataSourceError
from joinedup.overview import compute_overview


def test_ibis_can_create_overwrite_and_drop_on_duckdb():
    # Regression guard for the sqlglot pin: sqlglot >= 30.18 breaks every DROP Ibis emits on DuckDB.
    con = ibis.duckdb.connect()
    con.create_table("t", pd.DataFrame({"a": [1, 2]}))
    con.create_table("t", pd.DataFrame({"a": [3]}), overwrite=True)
    assert con.table("t").to_pandas()["a"].tolist() == [3]
    con.drop_table("t")
    assert "t" not in con.list_tables()


def test_missing_folder_and_missing_table_are_clear_errors(tiny, tmp_path):
    with pytest.raises(DataSourceError, match="does not exist"):
        open_dataset(tmp_path / "nowhere")
    ds = open_dataset(tiny)
    (tiny / "areas.parquet").rename(tiny / "areas_old.parquet")
    ds = open_dataset(tiny)
    with pytest.raises(DataSourceError, match="table 'areas' is not in the dataset"):
        ds.table("areas")


def test_table_stored_twice_is_refused(tiny):
    (tiny / "admissions").mkdir()
    (tiny / "admissions.parquet").rename(tiny / "admissions" / "part-0.parquet")
    pd.read_parquet(tiny / "admissions" / "part-0.parquet").to_csv(tiny / "admissions.csv", index=False)
    with pytest.raises(DataSourceError, match="stored more than once"):
        open_dataset(tiny)


def test_part_file_folders_are_read_as_one_table(tiny):
    (tiny / "admissions").mkdir()
    frame = pd.read_parquet(tiny / "admissions.parquet")
    (tiny / "admissions.parquet").unlink()
    frame.iloc[:1].to_parquet(tiny / "admissions" / "part-00000.parquet")
    frame.iloc[1:].to_parquet(tiny / "admissions" / "part-00001.parquet")
    ds = open_dataset(tiny)
    assert ds.table("admissions").count().execute() == 2


@pytest.mark.spark
def test_overview_definitions_agree_on_duckdb_and_spark(tiny, spark_backend):
    duck = compute_overview(open_dataset(tiny, "duckdb"))
    spark = compute_overview(open_dataset(tiny, "spark"))
    assert duck.keys() == spark.keys()
    for name in duck:
        assert len(duck[name]) > 0, name
        pd.testing.assert_frame_equal(duck[name], spark[name], check_dtype=False, obj=name)


def test_a_warehouse_reached_by_ibis_url_gives_the_same_results(tiny, tmp_path):
    # A real SQLite database file stands in for a customer's warehouse: a third engine, by URL.
    import pyarrow as pa

    from joinedup.data import validate_dataset
    from joinedup.data.tables import TABLES
    from tiny_dataset import ROWS

    db = tmp_path / "warehouse.sqlite"
    con = ibis.sqlite.connect(str(db))
    for name, rows in ROWS.items():
        con.create_table(name, pa.Table.from_pylist(rows, schema=TABLES[name].arrow_schema()))
    url = f"sqlite:///{db}"
    assert validate_dataset(url).ok
    warehouse = compute_overview(open_dataset(url))
    duck = compute_overview(open_dataset(tiny))
    for name in duck:
        pd.testing.assert_frame_equal(duck[name], warehouse[name], check_dtype=False, obj=name)
    import sqlite3

    with sqlite3.connect(db) as raw:  # another client changes the warehouse
        raw.execute("UPDATE admissions SET age = 150 WHERE spell_id = 11")
    problems = validate_dataset(url).problems
    assert [(p.table, p.column, p.rule) for p in problems] == [("admissions", "age", "<= 120")]
    assert problems[0].examples[0].startswith("spell_id=11")
