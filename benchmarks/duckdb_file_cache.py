"""DuckDB's external file cache on or off: the indicators' seconds and the memory the process keeps.

Each run is a fresh process (so one run's memory does not flatter the next) that opens the dataset
with joinedup's DuckDB settings, sets ``enable_external_file_cache`` as asked, computes every
indicator at every period, frees what it can (``release_freed_memory``) and reports its seconds,
its RSS after, and what DuckDB says its file cache holds. Runs alternate on/off; the ratio is off/on.

    .venv/bin/python benchmarks/duckdb_file_cache.py DATA_FOLDER [--runs 2]
"""
import argparse
import json
import subprocess
import sys

CHILD = """
import json, sys, time
from joinedup.data import open_dataset
from joinedup.indicators import compute_indicators
from joinedup.step_usage import release_freed_memory
ds = open_dataset(sys.argv[1])
ds.backend.raw_sql(f"SET enable_external_file_cache={sys.argv[2]}")
t = time.perf_counter()
compute_indicators(ds, None, ["month", "quarter", "financial_year"])
seconds = time.perf_counter() - t
release_freed_memory()
cache = ds.backend.raw_sql("select coalesce(sum(memory_usage_bytes), 0) from duckdb_memory() "
                           "where tag = 'EXTERNAL_FILE_CACHE'").fetchone()[0]
rss = int(open("/proc/self/statm").read().split()[1]) * 4096
print(json.dumps({"seconds": seconds, "rss_after_mb": rss / 2**20, "file_cache_mb": cache / 2**20}))
"""


def run(data: str, setting: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, data, setting], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    results = {"true": [], "false": []}
    for _ in range(a.runs):
        for setting in ("true", "false"):
            results[setting].append(run(a.data, setting))
            r = results[setting][-1]
            print(f"file cache {'on ' if setting == 'true' else 'off'}  {r['seconds']:7.1f} s  "
                  f"RSS after {r['rss_after_mb']:7.0f} MB  DuckDB file cache {r['file_cache_mb']:6.0f} MB", flush=True)
    best = {k: min(r["seconds"] for r in v) for k, v in results.items()}
    rss = {k: min(r["rss_after_mb"] for r in v) for k, v in results.items()}
    print(f"best seconds off/on = {best['false'] / best['true']:.2f}x; "
          f"RSS after, off - on = {rss['false'] - rss['true']:+.0f} MB")


if __name__ == "__main__":
    main()
