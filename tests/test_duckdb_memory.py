"""The DuckDB memory cap (data/duckdb_memory.py): every connection joinedup opens carries it, the
protocol and the environment set it, a bad size is a clear error, and a tight cap changes no answer
(DuckDB spills to disk instead)."""

import json
import os
import threading
import time

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.data import duckdb_memory, open_dataset
from joinedup.data.validate import _open_for_validation
from joinedup.indicators import compute_indicators
from joinedup.protocol import ProtocolError, load_protocol
from tiny_dataset import write_tiny_dataset


@pytest.fixture(autouse=True)
def _unconfigured(monkeypatch):
    monkeypatch.delenv(duckdb_memory.ENVIRONMENT_VARIABLE, raising=False)
    duckdb_memory.configure(None)
    yield
    duckdb_memory.configure(None)


def _limit(backend) -> str:
    return backend.raw_sql("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()


def test_connections_carry_the_default_the_environment_or_the_configured_cap(small_england, monkeypatch):
    expected = {"4GB": "3.7 GiB", "1GB": "953.6 MiB", "512MiB": "512.0 MiB"}
    limit, spill = _limit(open_dataset(small_england).backend)
    assert limit == expected["4GB"] and "joinedup-duckdb-spill-" in spill
    monkeypatch.setenv(duckdb_memory.ENVIRONMENT_VARIABLE, "1GB")
    assert _limit(open_dataset(small_england).backend)[0] == expected["1GB"]
    assert _limit(_open_for_validation(small_england, "duckdb").backend)[0] == expected["1GB"]
    duckdb_memory.configure("512 MiB")  # the protocol's key wins over the environment
    assert _limit(open_dataset(small_england).backend)[0] == expected["512MiB"]
    raw = duckdb.connect(config=duckdb_memory.duckdb_config())
    assert raw.sql("select current_setting('memory_limit')").fetchone()[0] == expected["512MiB"]


def test_connections_give_freed_memory_back_to_the_system(small_england):
    """DuckDB's background allocator threads return the memory a finished query freed; without them
    the economics step carried gigabytes of finished queries into its pandas work at scale 1.0
    (benchmarks/results/economics_memory_scale1.0.txt)."""
    ask = "select current_setting('allocator_background_threads')"
    assert open_dataset(small_england).backend.raw_sql(ask).fetchone()[0] is True
    assert _open_for_validation(small_england, "duckdb").backend.raw_sql(ask).fetchone()[0] is True
    assert duckdb.connect(config=duckdb_memory.duckdb_config()).sql(ask).fetchone()[0] is True


def test_connections_keep_no_second_copy_of_the_files_they_read(small_england):
    """The kernel's page cache already holds local files; DuckDB's external file cache would keep
    another copy in the process for the rest of the run (370 MB at scale 1.0)."""
    backend = open_dataset(small_england).backend
    assert backend.raw_sql("select current_setting('enable_external_file_cache')").fetchone()[0] is False
    backend.raw_sql("select count(*), sum(length(area_code)) from read_parquet("
                    f"'{small_england}/admissions/*.parquet')").fetchall()
    cached = backend.raw_sql("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory() "
                             "where tag = 'EXTERNAL_FILE_CACHE'").fetchone()[0]
    assert cached == 0
    default = duckdb.connect()  # DuckDB's own default, for contrast: the same read is cached
    default.sql(f"select count(*), sum(length(area_code)) from read_parquet('{small_england}/admissions/*.parquet')").fetchall()
    assert default.sql("select sum(memory_usage_bytes) from duckdb_memory() "
                       "where tag = 'EXTERNAL_FILE_CACHE'").fetchone()[0] > 0


@pytest.mark.parametrize("bad", ["lots", "4", "-1GB", "0GB", "4 GBs", "4GB; drop table x"])
def test_a_bad_size_is_refused_naming_what_was_given(bad, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="is not a size such as '4GB'"):
        duckdb_memory.parse_memory_limit(bad)
    path = tmp_path / "p.toml"
    path.write_text(f'[evaluation]\nname = "x"\n[data]\nmemory_limit = "{bad}"\n')
    with pytest.raises(ProtocolError, match=r"\[data\] memory_limit: .*is not a size"):
        load_protocol(path)
    monkeypatch.setenv(duckdb_memory.ENVIRONMENT_VARIABLE, bad)
    with pytest.raises(ValueError, match=f"environment variable {duckdb_memory.ENVIRONMENT_VARIABLE}"):
        duckdb_memory.memory_limit()


def _spill_files_while(folder, work):
    """Run ``work()``; return it and the spill files seen in ``folder`` meanwhile (DuckDB removes them)."""
    seen, done = set(), threading.Event()

    def watch():
        while not done.is_set():
            seen.update(os.listdir(folder))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        return work(), seen
    finally:
        done.set()
        watcher.join()


def test_a_tight_cap_spills_and_gives_the_same_indicators(small_england):
    # At 40 MB and two threads these queries spill on this data (64 MB does not, 20 MB fails with
    # DuckDB's out-of-memory error): the spill files must appear and the table must not change.
    free = compute_indicators(open_dataset(small_england), None, ["financial_year"])
    duckdb_memory.configure("40MB")
    ds = open_dataset(small_england)
    ds.backend.raw_sql("SET threads = 2")  # memory per thread: the same on a machine with more cores
    tight, spilled = _spill_files_while(duckdb_memory.spill_folder(),
                                        lambda: compute_indicators(ds, None, ["financial_year"]))
    assert any(name.startswith("duckdb_temp") for name in spilled), spilled
    keys = [k for k in ["indicator", "period", "level", "area_code", "site", "wave"] if k in free.columns]
    pd.testing.assert_frame_equal(free.sort_values(keys).reset_index(drop=True),
                                  tight.sort_values(keys).reset_index(drop=True), check_exact=True)


def test_the_run_applies_the_protocols_cap_and_records_it(tmp_path):
    data = write_tiny_dataset(tmp_path / "tiny")
    protocol = tmp_path / "p.toml"
    protocol.write_text(f'[evaluation]\nname = "tiny"\n\n[data]\nsource = "{data}"\nmemory_limit = "1GB"\n\n'
                        '[indicators]\nids = ["emergency_admissions"]\nperiods = ["quarter"]\n\n'
                        '[survey]\ntypology = false\n')
    result = CliRunner().invoke(app, ["run", str(protocol), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["data"]["duckdb_memory_limit"] == "1GB"
    assert duckdb_memory.memory_limit() == "1GB"
