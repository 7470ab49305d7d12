"""Open a dataset on any engine through Ibis: DuckDB (default), PySpark, or any Ibis URL.

A dataset folder holds one Parquet file (``areas.parquet``) or folder of part files
(``admissions/part-00000.parquet``) per canonical table; CSV files (``areas.csv``) are accepted too
and read as text, so that :mod:`joinedup.data.validate` can report every value that is not of its
declared type instead of letting a reader coerce it.

Example:
    >>> ds = open_dataset("out/demo/data")                     # doctest: +SKIP
    >>> ds.table("admissions").count().execute()              # doctest: +SKIP
    3401122
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from joinedup.data.tables import TABLES
from joinedup.options import Engine, check_option


class DataSourceError(ValueError):
    """The dataset location or its layout is wrong (missing folder, missing table, unreadable file)."""


@dataclass(frozen=True)
class TableFile:
    """Where one table lives on disk and in what format."""

    name: str
    path: Path
    format: str  # "parquet" or "csv"

    @property
    def glob(self) -> str:
        if self.path.is_dir():
            return str(self.path / f"*.{self.format}")
        return str(self.path)


def find_table_files(folder: str | Path) -> dict[str, TableFile]:
    """The canonical tables present in ``folder``, by name.

    Raises DataSourceError if the folder does not exist or holds a table twice.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataSourceError(f"data folder {str(folder)!r} does not exist or is not a folder")
    found: dict[str, TableFile] = {}
    for name in TABLES:
        candidates = []
        for fmt in ("parquet", "csv"):
            single, parts = folder / f"{name}.{fmt}", folder / name
            if single.is_file():
                candidates.append(TableFile(name, single, fmt))
            if parts.is_dir() and any(parts.glob(f"*.{fmt}")):
                candidates.append(TableFile(name, parts, fmt))
        if len(candidates) > 1:
            where = ", ".join(str(c.path) for c in candidates)
            raise DataSourceError(f"table {name!r} is stored more than once in {folder}: {where}")
        if candidates:
            found[name] = candidates[0]
    return found


_SPARK = None

# The runtime settings joinedup's answers depend on: dates read and grouped in UTC; Spark 4's ANSI
# mode off, as the Spark path was built and checked against DuckDB (ANSI turns a division by zero,
# an overflow or a failed cast into an error); and Spark <-> pandas transfers through Arrow (Ibis
# collects every result with toPandas() and registers memtables with createDataFrame(pandas):
# columnar batches instead of pickled rows).
RESULT_SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false",
                   "spark.sql.execution.arrow.pyspark.enabled": "true"}


def spark_session():
    """The Spark session joinedup runs on, one per process (start-up costs seconds).

    A session already active (a Databricks notebook or job, ``spark-submit`` on EMR) is used as it
    is, its resources and partitioning untouched; only :data:`RESULT_SETTINGS` are set on it.
    Otherwise a local one is started: ``local[2]``, quiet, bound to loopback, 4 shuffle partitions.

    Example:
        >>> spark_session().conf.get("spark.sql.session.timeZone")                  # doctest: +SKIP
        'UTC'
    """
    global _SPARK
    if _SPARK is None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
        try:
            from pyspark.sql import SparkSession
        except ModuleNotFoundError as exc:
            from joinedup.connection import missing_extra

            raise DataSourceError(f"engine spark: {missing_extra(exc) or exc}") from None

        active = SparkSession.getActiveSession()
        if active is not None:
            # getOrCreate() would also force joinedup's local shuffle partitions onto a cluster's session
            for key, value in RESULT_SETTINGS.items():
                active.conf.set(key, value)
            _SPARK = active
            return _SPARK
        builder = (SparkSession.builder.master("local[2]").appName("joinedup")
                   .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", "4").config("spark.driver.memory", "4g"))
        for key, value in RESULT_SETTINGS.items():
            builder = builder.config(key, value)
        _SPARK = builder.getOrCreate()
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


def memtable(frame, schema=None):
    """``ibis.memtable(frame, schema=schema)``, with every Arrow-backed text column in one piece.

    pandas keeps a text column (pandas 3's default ``str``, or ``string``) as a chunked Arrow array,
    one chunk per frame that ``concat`` or ``merge`` put together. On Spark, Ibis registers a
    memtable with ``createDataFrame(pandas)``; through Arrow that gets a ChunkedArray for such a
    column, fails ("Cannot convert pyarrow.lib.ChunkedArray to pyarrow.lib.Array") and falls back to
    pickled rows with a warning. Rebuilt from its values, a column is one chunk; values and dtype
    are unchanged.
    """
    import pandas as pd

    text = {c: pd.array(frame[c].to_numpy(dtype=object), dtype=frame[c].dtype) for c in frame.columns
            if isinstance(frame[c].dtype, pd.StringDtype) and frame[c].dtype.storage == "pyarrow"}
    return ibis.memtable(frame.assign(**text) if text else frame, schema=schema)


@dataclass
class Dataset:
    """Canonical tables on one Ibis backend. ``table(name)`` returns an Ibis table expression."""

    backend: Any
    engine: str
    location: str
    files: dict[str, TableFile] = field(default_factory=dict)
    _tables: dict[str, Any] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self._tables)

    def has(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str):
        if name not in self._tables:
            have = ", ".join(sorted(self._tables)) or "none"
            raise DataSourceError(f"table {name!r} is not in the dataset at {self.location} (it has: {have})")
        return self._tables[name]

    def execute(self, expr):
        """Run an Ibis expression on this dataset's backend and return a pandas DataFrame."""
        return self.backend.execute(expr)


def connect(engine: Engine = "duckdb"):
    """A fresh Ibis backend for an engine."""
    check_option("engine", engine)
    if engine == "duckdb":
        from joinedup.data.duckdb_memory import duckdb_config

        return ibis.duckdb.connect(**duckdb_config())
    return ibis.pyspark.connect(spark_session())


def open_dataset(location: str | Path, engine: Engine = "duckdb", *, as_text: bool = False) -> Dataset:
    """Open a dataset folder (or an Ibis connection URL such as ``postgres://...``).

    ``as_text=True`` (DuckDB only) reads every column of every table as text, for validation.
    """
    location = str(location)
    if "://" in location:
        try:
            backend = ibis.connect(location)
            present = set(backend.list_tables())
        except Exception as exc:  # the driver's own class: psycopg, pyodbc, ... (no traceback for a URL)
            from joinedup.connection import is_connection_failure, missing_extra, unreachable_message

            if isinstance(exc, ModuleNotFoundError) and missing_extra(exc):
                raise DataSourceError(f"data source {location.split('://')[0]}: {missing_extra(exc)}") from None
            if not is_connection_failure(exc):
                raise
            raise DataSourceError(unreachable_message("data source", location, exc)) from None
        tables = {n: backend.table(n) for n in TABLES if n in present}
        return Dataset(backend, backend.name, location, {}, tables)
    files = find_table_files(location)
    backend = connect(engine)
    tables = {}
    for name, tf in files.items():
        table = _register(backend, engine, tf)
        if tf.format == "csv" and not as_text:
            table = _typed(table, name)
        tables[name] = table
    return Dataset(backend, engine, location, files, tables)


def _typed(table, name: str):
    """Cast text columns to their declared types (run validation first: a bad value fails here)."""
    from joinedup.data.schema import IBIS_TYPES

    casts = {
        c.name: table[c.name].cast(IBIS_TYPES[c.dtype])
        for c in TABLES[name].columns
        if c.name in table.columns and c.dtype != "string"
    }
    return table.mutate(**casts) if casts else table


def _register(backend, engine: str, tf: TableFile):
    """Register one table file with the backend under the table's canonical name.

    CSV is always read as text, never type-sniffed: a reader's guess could silently coerce values.
    """
    try:
        if tf.format == "csv":
            if engine == "duckdb":
                return backend.read_csv(tf.glob, table_name=tf.name, all_varchar=True, header=True)
            return backend.read_csv(tf.glob, table_name=tf.name, header=True, inferSchema=False)
        return backend.read_parquet(tf.glob, table_name=tf.name)
    except Exception as exc:  # the reader's own message is kept; the location is added
        raise DataSourceError(f"cannot read table {tf.name!r} from {tf.path}: {exc}") from exc
