"""Spark results reach pandas through Arrow (``spark.sql.execution.arrow.pyspark.enabled`` in
``spark_session()``), and come back exactly as DuckDB's do, dates and nulls included.

Ibis's PySpark backend collects every result with ``DataFrame.toPandas()`` and registers every
memtable with ``SparkSession.createDataFrame(pandas)``; PySpark takes Arrow for them only when the
setting is on, and silently falls back to pickled rows (with a warning) when a type does not convert.
So the test counts the Arrow transfers that completed: without the setting, or after a fallback,
it fails, whatever the values. Without the setting the values differ too: PySpark 4.0's row path
registers a pandas nullable ``Int64`` column of a memtable as all nulls (``visits`` 2 comes back
NaN), where Arrow keeps it.
"""

import datetime as dt

import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.data.sources import memtable


@pytest.fixture
def arrow_transfers(monkeypatch):
    """How many Spark -> pandas (``toPandas``) and pandas -> Spark (``createDataFrame``) transfers
    went through Arrow and returned."""
    from pyspark.sql import SparkSession
    from pyspark.sql.classic.dataframe import DataFrame

    counts = {"toPandas": 0, "createDataFrame": 0}

    def spy(cls, name, key):
        original = getattr(cls, name)

        def counted(*args, **kwargs):
            out = original(*args, **kwargs)
            counts[key] += 1
            return out

        monkeypatch.setattr(cls, name, counted)

    spy(DataFrame, "_collect_as_arrow", "toPandas")
    spy(SparkSession, "_create_from_pandas_with_arrow", "createDataFrame")
    return counts


def _persons_seen(ds):
    """The tiny persons (a date with a null, a nullable integer and text) joined to a memtable of
    dates, numbers and text with nulls, its text in two Arrow chunks (as ``concat`` leaves it), on
    the dataset's engine."""
    seen = pd.concat([pd.DataFrame({"person_id": [1, 2], "seen_on": [dt.date(2014, 5, 1), None],
                                    "visits": pd.array([2, None], dtype="Int64"), "score": [0.25, None],
                                    "team": ["north", None]}),
                      pd.DataFrame({"person_id": [3], "seen_on": [dt.date(2016, 2, 29)],
                                    "visits": pd.array([1], dtype="Int64"), "score": [1.5], "team": ["south"]})],
                     ignore_index=True)
    seen = memtable(seen, schema={"person_id": "int64", "seen_on": "date", "visits": "int64", "score": "float64",
                                  "team": "string"})
    p = ds.table("persons")
    t = p.left_join(seen, "person_id")
    return t.select("person_id", "death_date", "lsoa_imd_decile", "ethnic_group", "seen_on", "visits", "score",
                    "team").order_by("person_id")


@pytest.mark.spark
def test_spark_results_come_through_arrow_and_equal_duckdb(tiny, spark_backend, arrow_transfers):
    spark, duck = open_dataset(tiny, "spark"), open_dataset(tiny, "duckdb")
    got = spark.execute(_persons_seen(spark))
    assert arrow_transfers["createDataFrame"] >= 1 and arrow_transfers["toPandas"] >= 1, arrow_transfers
    want = duck.execute(_persons_seen(duck))
    assert got["death_date"].isna().sum() == 1 and got["seen_on"].isna().sum() == 1
    assert got["visits"].isna().sum() == 1 and got["team"].isna().sum() == 1
    pd.testing.assert_frame_equal(got, want)  # values and dtypes

    # joinedup's bulk fetches (monthly_counts, engine_periods) take to_pyarrow, also a toPandas on Spark
    before = arrow_transfers["toPandas"]
    got = spark.backend.to_pyarrow(_persons_seen(spark)).to_pandas()
    assert arrow_transfers["toPandas"] > before
    pd.testing.assert_frame_equal(got, duck.backend.to_pyarrow(_persons_seen(duck)).to_pandas())


@pytest.mark.spark
def test_a_cluster_session_keeps_its_partitions_and_gets_the_result_settings(tmp_path):
    """On Databricks or EMR a session is already active: joinedup uses it without forcing its own
    local shuffle partitions on it, and sets only the settings its results depend on. A fresh
    process, as a notebook is (joinedup's session is one per process)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json\n"
        "from pyspark.sql import SparkSession\n"
        "s = (SparkSession.builder.master('local[1]').appName('a cluster')\n"
        "     .config('spark.sql.shuffle.partitions', '37').config('spark.ui.enabled', 'false')\n"
        "     .config('spark.sql.session.timeZone', 'Europe/London').getOrCreate())\n"
        "from joinedup.data.sources import RESULT_SETTINGS, spark_session\n"
        "j = spark_session()\n"
        "keys = ['spark.sql.shuffle.partitions', 'spark.app.name', *RESULT_SETTINGS]\n"
        "print(json.dumps({'same': j is s, **{k: j.conf.get(k) for k in keys}}))\n"
        "s.stop()\n")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    conf = json.loads(run.stdout.strip().splitlines()[-1])
    assert conf == {"same": True, "spark.sql.shuffle.partitions": "37", "spark.app.name": "a cluster",
                    "spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false",
                    "spark.sql.execution.arrow.pyspark.enabled": "true"}
