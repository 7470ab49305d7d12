"""The example protocol on PySpark local mode and on DuckDB at one scale (simulated England, seed
2013), every table compared as tests/test_spark_end_to_end.py compares them (floats rtol = atol =
1e-9, the rest exact); each engine's seconds and peak MB per step from its manifest.

    SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python benchmarks/spark_end_to_end.py 0.005 /tmp/spark5/w
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from joinedup.data.sources import spark_session
from joinedup.pipeline import run_protocol
from joinedup.simulate import simulate
from test_spark_end_to_end import _protocol, differing_tables

scale, work = float(sys.argv[1]), Path(sys.argv[2])
spark_session()
data = work / "data"
t0 = time.perf_counter()
simulate(data, scale=scale, seed=2013)
print(f"simulate {time.perf_counter() - t0:.1f} s", flush=True)
runs = {}
for engine in ("duckdb", "spark"):
    t0 = time.perf_counter()
    runs[engine] = run_protocol(_protocol(work, data, engine), out=work / engine)
    steps = json.loads(runs[engine].manifest.read_text())["steps"]
    print(engine, f"{time.perf_counter() - t0:.1f} s",
          {k: (round(v["seconds"], 1), v["peak_rss_mb"]) for k, v in steps.items()}, flush=True)
names = {e: sorted(p.name for p in (r.out_dir / "tables").glob("*.parquet")) for e, r in runs.items()}
print("tables", len(names["duckdb"]), len(names["spark"]), "only in one:",
      sorted(set(names["duckdb"]) ^ set(names["spark"])))
differ = differing_tables(runs["duckdb"].out_dir, runs["spark"].out_dir, names["duckdb"])
print(f"identical within tolerance: {len(names['duckdb']) - len(differ)} differ: {len(differ)}")
for d in differ:
    print(" ", d)
