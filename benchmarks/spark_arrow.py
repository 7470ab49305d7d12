"""Spark -> pandas with and without Arrow: the same joinedup Spark work, timed both ways in one run.

``spark.sql.execution.arrow.pyspark.enabled`` decides how PySpark's ``DataFrame.toPandas()`` and
``SparkSession.createDataFrame(pandas)`` move data between the JVM and Python: Arrow record batches,
or pickled rows. Ibis 12's PySpark backend collects every result with ``toPandas()`` (``execute``,
and ``to_pyarrow``, which converts that pandas frame to Arrow) and registers every ``ibis.memtable``
with ``createDataFrame(pandas)``; it does not set the option itself. So on joinedup's Spark paths the
setting changes every transfer, and nothing else.

The work: ``compute_indicators(ds, None, periods)`` on PySpark local[2] (all 18 indicators, every
level, the periods given), ``--inner`` times in one process (the first run includes the JVM's
warm-up; the best is reported too). Each setting runs in its own Python process (a Spark session
lives as long as its process): the process starts joinedup's ``spark_session()`` and then sets the
option to the value under test (a runtime SQL setting, read at every ``toPandas``). ``--rounds``
alternates the order (false, true / true, false, ...), so that a load that changes during the run
falls on both alike.

Every process counts its transfers (``toPandas`` through Arrow or through rows, ``createDataFrame``
through Arrow or through rows, and any Arrow fallback warning), so a silent fallback to rows shows.
The tables of the two settings are compared exactly (values and dtypes); the benchmark fails unless
they are identical.

    SPARK_LOCAL_IP=127.0.0.1 .venv/bin/python benchmarks/spark_arrow.py --scale 0.005 \\
        --out benchmarks/results/spark_arrow_scale0.005.txt

Without ``--data`` the simulated England (years ``--years``) is cached in ``$JOINEDUP_BENCH_CACHE``
(default ``~/.cache/joinedup-bench``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OPTION = "spark.sql.execution.arrow.pyspark.enabled"


# --- one setting, in its own process ------------------------------------------------------------


def _instrument(stats: dict) -> None:
    """Count (and time) every Spark <-> pandas transfer, and which way it went."""
    from pyspark.sql import SparkSession
    from pyspark.sql.classic.dataframe import (
        DataFrame,  # PySpark 4: the class Ibis's DataFrames are
    )

    def wrap(cls, name, key, timed=False):
        original = getattr(cls, name)

        def wrapper(*args, **kwargs):
            stats[key] = stats.get(key, 0) + 1
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if timed:
                    stats[key + "_seconds"] = stats.get(key + "_seconds", 0.0) + time.perf_counter() - t0

        setattr(cls, name, wrapper)

    wrap(DataFrame, "toPandas", "toPandas", timed=True)  # includes running the query
    wrap(DataFrame, "_collect_as_arrow", "toPandas_via_arrow")
    wrap(DataFrame, "collect", "collect")  # toPandas's row path, and Ibis's own small queries
    wrap(SparkSession, "createDataFrame", "createDataFrame", timed=True)
    wrap(SparkSession, "_create_from_pandas_with_arrow", "createDataFrame_via_arrow")


def run_child(mode: str, folder: str, periods: list[str], inner: int, save: str) -> dict:
    import ibis.backends.pyspark  # noqa: F401  (imports are not what is measured)

    from joinedup.data import open_dataset
    from joinedup.data.sources import spark_session
    from joinedup.indicators import compute_indicators

    t0 = time.perf_counter()
    spark = spark_session()
    startup = time.perf_counter() - t0
    default = spark.conf.get(OPTION)  # what joinedup's session sets
    spark.conf.set(OPTION, mode)
    assert spark.conf.get(OPTION) == mode
    stats: dict = {}
    _instrument(stats)
    runs, fallbacks = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(inner):
            before = dict(stats)
            t0 = time.perf_counter()
            table = compute_indicators(open_dataset(folder, "spark"), None, periods)
            seconds = time.perf_counter() - t0
            runs.append({"seconds": round(seconds, 2),
                         **{k: (round(v - before.get(k, 0), 2) if isinstance(v, float) else v - before.get(k, 0))
                            for k, v in stats.items()}})
        fallbacks = sorted({str(w.message).splitlines()[0][:160] for w in caught if "Arrow" in str(w.message)})
    table.to_pickle(save)
    return {"mode": mode, "session_default": default, "startup_seconds": round(startup, 2), "runs": runs,
            "rows": len(table), "arrow_warnings": fallbacks, "load_after": [round(x, 2) for x in os.getloadavg()]}


# --- the parent ---------------------------------------------------------------------------------------


def _data(args) -> str:
    if args.data:
        return args.data
    from joinedup.simulate import simulate

    cache = Path(os.environ.get("JOINEDUP_BENCH_CACHE", Path.home() / ".cache" / "joinedup-bench"))
    folder = cache / f"spark-arrow-scale{args.scale}-seed{args.seed}-{args.years[0]}-{args.years[1]}"
    if not (folder / "complete").exists():
        print(f"simulating England at scale {args.scale} into {folder} ...", flush=True)
        simulate(folder / "data", scale=args.scale, seed=args.seed, years=tuple(args.years))
        (folder / "complete").write_text("")
    return str(folder / "data")


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "uptime: unavailable"


def _spawn(mode: str, folder: str, args, save: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--data", folder, "--inner", str(args.inner),
           "--save", str(save), "--periods", *args.periods]
    env = {**os.environ, "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False, timeout=args.timeout)
    last = done.stdout.strip().splitlines()[-1:] if done.stdout.strip() else []
    if done.returncode != 0 or not last:
        raise SystemExit(f"child {mode} failed (rc {done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(last[0])


def main(args) -> int:
    folder = _data(args)
    lines = [f"# {' '.join(['benchmarks/spark_arrow.py'] + sys.argv[1:])}",
             f"# {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {os.cpu_count()} CPUs, {platform.platform()}, "
             f"Python {platform.python_version()}; "
             + ", ".join(f"{p} {metadata.version(p)}" for p in ("pyspark", "ibis-framework", "pandas", "pyarrow")),
             f"# data: {folder}; the work: compute_indicators(ds, None, {args.periods}) on PySpark local[2]",
             f"# load before: {_uptime()}"]
    print("\n".join(lines), flush=True)
    order = []
    for r in range(args.rounds):
        order += ["false", "true"] if r % 2 == 0 else ["true", "false"]
    results: dict[str, list[dict]] = {"false": [], "true": []}
    tables: dict[str, pd.DataFrame] = {}
    tmp = Path(args.tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    for i, mode in enumerate(order):
        save = tmp / f"table_{mode}_{i}.pkl"
        res = _spawn(mode, folder, args, save)
        results[mode].append(res)
        tables.setdefault(mode, pd.read_pickle(save))
        line = f"arrow={mode:5}: runs {[r['seconds'] for r in res['runs']]} s; per run: " + json.dumps(
            {k: v for k, v in res["runs"][-1].items() if k != "seconds"}) + \
            f"; session start-up {res['startup_seconds']} s; load after {res['load_after']}"
        if res["arrow_warnings"]:
            line += f"; Arrow warnings: {res['arrow_warnings']}"
        print(line, flush=True)
        lines.append(line)
    keys = ["indicator", "period", "level", "unit", "period_start"]
    a, b = (tables[m].sort_values(keys).reset_index(drop=True) for m in ("false", "true"))
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_dtype=True)
        same = f"tables identical (values and dtypes): {len(a)} rows x {a.shape[1]} columns"
    except AssertionError as exc:
        same = f"TABLES DIFFER: {str(exc).splitlines()[:6]}"
    first = {m: min(r["runs"][0]["seconds"] for r in results[m]) for m in results}
    best = {m: min(x["seconds"] for r in results[m] for x in r["runs"]) for m in results}
    tp = {m: min(x.get("toPandas_seconds", 0.0) for r in results[m] for x in r["runs"][-1:]) for m in results}
    summary = [
        same,
        (f"first run in a process (includes JVM warm-up): rows {first['false']} s, Arrow {first['true']} s, "
         f"rows / Arrow = {first['false'] / first['true']:.2f}"),
        f"best run: rows {best['false']} s, Arrow {best['true']} s, rows / Arrow = {best['false'] / best['true']:.2f}",
        f"time inside toPandas (query + transfer), last run: rows {tp['false']:.2f} s, Arrow {tp['true']:.2f} s",
        f"# load after: {_uptime()}",
    ]
    print("\n".join(summary), flush=True)
    lines += summary
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n")
        Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n")
    return 0 if same.startswith("tables identical") else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.005)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--years", type=int, nargs=2, default=[2012, 2016])
    parser.add_argument("--data", help="a dataset folder (default: simulate one, cached)")
    parser.add_argument("--periods", nargs="+", default=["month", "quarter", "financial_year"])
    parser.add_argument("--inner", type=int, default=2, help="runs per process")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of processes (false, true), order alternating")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--tmp", default="/tmp/joinedup_spark_arrow")
    parser.add_argument("--out", help="write the report here (and the raw figures beside it as .json)")
    parser.add_argument("--child", choices=["false", "true"], help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.data, args.periods, args.inner, args.save)), flush=True)
        sys.exit(0)
    sys.exit(main(args))
