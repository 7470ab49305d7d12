"""The whole indicator catalogue on simulated England: joinedup against pandas and hand-written SQL.

Times the engine stage of all 18 indicators (``monthly_counts`` for every one: the events aggregated
by area x month (x stratum), plus the population denominators), from one run, for:

- ``joinedup-duckdb``: joinedup's Ibis definitions on DuckDB (the baseline of every ratio);
- ``hand-sql-duckdb``: hand-written DuckDB SQL of the same aggregations (``indicators_sql.py``);
- ``pandas-oracle``: the plain pandas implementation (``joinedup.indicators.oracle``), load and
  compute timed separately;
- ``joinedup-spark``: joinedup's definitions on PySpark local (``--no-spark`` to skip);
- ``joinedup-e2e-duckdb``: the whole ``compute_indicators(ds, None, ["month", "quarter",
  "financial_year"])`` on DuckDB, statistics included (not comparable with the others: more work).

Before any timing, a check run computes the first three once and stops the benchmark (exit 1) unless
they agree for every indicator: same rows, counts exact, sums within 1e-9 relative. The timed runs'
own answers are compared again afterwards (Spark's too).

Each contender runs in a fresh Python process (``--contender NAME``), so its peak resident memory
(``ru_maxrss``, plus the peak of any live child such as Spark's JVM) is its own; imports happen
before the clock starts. The two DuckDB contenders alternate, one process per run, ``--repeats``
rounds, and report their best run (a load that changes during the benchmark falls on both alike);
pandas runs ``--pandas-repeats`` times, Spark ``--spark-repeats`` times in one process (its
session start-up reported apart), end to end ``--e2e-repeats`` processes.

    .venv/bin/python benchmarks/indicators_benchmark.py --scale 0.1 \\
        --out benchmarks/results/indicators_scale0.1.json   # also writes the .txt beside it

Without ``--data`` the simulated data are cached in ``$JOINEDUP_BENCH_CACHE`` (default
``~/.cache/joinedup-bench``) as ``indicators-scale{scale}-seed{seed}``, and the simulation time is
reported apart from the benchmark.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))  # indicators_sql

PERIODS = ["month", "quarter", "financial_year"]
BASELINE = "joinedup-duckdb"
LABELS = {
    "joinedup-duckdb": "joinedup on DuckDB",
    "hand-sql-duckdb": "hand-written SQL on DuckDB",
    "pandas-oracle": "pandas oracle (load + compute)",
    "pandas-load": "  pandas: load tables",
    "pandas-compute": "  pandas: compute",
    "joinedup-spark": "joinedup on PySpark local[2]",
    "joinedup-e2e-duckdb": "joinedup end to end on DuckDB*",
}
# Indicators whose numerator is a sum of amounts (compared to 1e-9 relative); the rest are counts.
SUMS = {"emergency_bed_days", "delayed_transfers", "delayed_transfers_nhs",
        "delayed_transfers_social_care", "delayed_transfers_both"}


# --- memory ---------------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        out += kids
        todo += kids
    return out


def _vm_hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_memory() -> dict:
    """Peak RSS of this process, and of its children (live ones by VmHWM, e.g. Spark's JVM;
    finished ones by RUSAGE_CHILDREN), in MB. The total adds the peaks, an upper bound."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    live = sum(_vm_hwm_kb(p) for p in _descendants(os.getpid())) / 1024
    done = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"python_mb": round(me, 1), "children_mb": round(live + done, 1),
            "peak_rss_mb": round(me + live + done, 1)}


# --- the contenders (each in its own process) -------------------------------------------------------


def _quiet_duckdb(con) -> None:
    con.execute("SET enable_progress_bar = false")  # display only; the same for every contender


def _joinedup_once(folder: str, engine: str) -> tuple[dict, dict, dict]:
    from joinedup.data import open_dataset
    from joinedup.indicators.catalogue import CATALOGUE
    from joinedup.indicators.compute import monthly_counts

    ds = open_dataset(folder, engine)
    if engine == "duckdb":
        _quiet_duckdb(ds.backend.con)
    events, population, seconds = {}, {}, {}
    cache: dict = {}  # as compute_indicators does: population and time span queried once
    for iid, indicator in CATALOGUE.items():
        t0 = time.perf_counter()
        monthly = monthly_counts(ds, indicator, cache)
        seconds[iid] = time.perf_counter() - t0
        events[iid] = monthly.events
        if monthly.population is not None:
            population[iid] = monthly.population
    return events, population, seconds


def _hand_sql_once(folder: str) -> tuple[dict, dict, dict]:
    import duckdb
    import indicators_sql as hand

    from joinedup.data.duckdb_memory import duckdb_config

    # the settings joinedup's own connections run with (memory cap, spill folder, allocator threads), so
    # the two contenders differ in their SQL only: with DuckDB's default cap (80% of RAM) the hand SQL
    # held 18 GB at scale 1.0 where joinedup is capped at 4 GB
    con = duckdb.connect(config=duckdb_config())
    _quiet_duckdb(con)
    events, seconds = {}, {}
    for iid in hand.EVENTS:
        t0 = time.perf_counter()
        events[iid] = con.sql(hand.query(iid, folder)).df()
        seconds[iid] = time.perf_counter() - t0
    t0 = time.perf_counter()
    src = hand.sources(folder)
    pops = {name: con.sql(sql.format(**src)).df() for name, sql in hand.POPULATION.items()}
    seconds["(population, 5 queries)"] = time.perf_counter() - t0
    population = {i: pops[p] for i, p in hand.POPULATION_OF.items() if p}
    con.close()
    return events, population, seconds


def _pandas_once(folder: str) -> tuple[dict, dict, dict]:
    from joinedup.indicators.catalogue import CATALOGUE
    from joinedup.indicators.oracle import load_tables, oracle_monthly

    t0 = time.perf_counter()
    tables = load_tables(folder)
    seconds = {"(load tables)": time.perf_counter() - t0}
    events = {}
    for iid in CATALOGUE:
        t0 = time.perf_counter()
        events[iid] = oracle_monthly(tables, iid)
        seconds[iid] = time.perf_counter() - t0
    return events, {}, seconds


def _e2e_once(folder: str) -> tuple[dict, dict, dict]:
    from joinedup.data import open_dataset
    from joinedup.indicators import compute_indicators

    ds = open_dataset(folder, "duckdb")
    _quiet_duckdb(ds.backend.con)
    table = compute_indicators(ds, None, PERIODS)
    return {}, {}, {"(rows in the tidy table)": len(table)}


def _warm_imports(name: str) -> None:
    """Import what a contender needs before the clock starts (imports are not what is measured)."""
    import duckdb  # noqa: F401

    if name.startswith("joinedup"):
        import ibis.backends.duckdb  # noqa: F401

        import joinedup.data
        import joinedup.indicators.compute
        import joinedup.indicators.methods
    if name == "hand-sql-duckdb":
        import indicators_sql  # noqa: F401
    if name == "pandas-oracle":
        import joinedup.indicators.oracle  # noqa: F401


def run_contender(name: str, folder: str, repeats: int, save: str | None) -> dict:
    """Run one contender ``repeats`` times in this process; return timings and memory."""
    _warm_imports(name)
    extra = {}
    if name == "joinedup-spark":
        import ibis.backends.pyspark  # noqa: F401

        from joinedup.data.sources import spark_session

        t0 = time.perf_counter()
        spark_session()
        extra["spark_startup_seconds"] = round(time.perf_counter() - t0, 2)
    once = {"joinedup-duckdb": lambda: _joinedup_once(folder, "duckdb"),
            "joinedup-spark": lambda: _joinedup_once(folder, "spark"),
            "hand-sql-duckdb": lambda: _hand_sql_once(folder),
            "pandas-oracle": lambda: _pandas_once(folder),
            "joinedup-e2e-duckdb": lambda: _e2e_once(folder)}[name]
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        events, population, parts = once()
        runs.append({"seconds": time.perf_counter() - t0, "parts": parts})
    best = min(runs, key=lambda r: r["seconds"])
    out = {"contender": name, "repeats": repeats, "seconds": round(best["seconds"], 3),
           "all_seconds": [round(r["seconds"], 3) for r in runs],
           "parts_of_best": {k: round(v, 3) if isinstance(v, float) else v for k, v in best["parts"].items()},
           **extra, **peak_memory(), "load_average_after": [round(x, 2) for x in os.getloadavg()]}
    if name == "pandas-oracle":
        load = best["parts"]["(load tables)"]
        out["load_seconds"], out["compute_seconds"] = round(load, 3), round(best["seconds"] - load, 3)
    if save and events:
        pd.to_pickle({"events": events, "population": population}, save)
    return out


def _merge_runs(name: str, runs: list[dict]) -> dict:
    """One contender's runs, each from its own process: best time, peak memory over all."""
    best = min(runs, key=lambda r: r["seconds"])
    out = dict(best)
    out["repeats"] = len(runs)
    out["all_seconds"] = [s for r in runs for s in r["all_seconds"]]
    for key in ("peak_rss_mb", "python_mb", "children_mb"):
        out[key] = max(r[key] for r in runs)
    out["processes"] = len(runs)
    return out


# --- comparing answers --------------------------------------------------------------------------------


def _layout(iid: str, columns) -> tuple[list[str], list[str], list[str]]:
    """(keys, exact columns, approximate columns) of one indicator's monthly counts."""
    metrics = [c for c in ("numerator", "denominator", "n") if c in columns]
    keys = [c for c in columns if c not in metrics]
    return (keys, [], metrics) if iid in SUMS else (keys, metrics, [])


def _canonical(frame: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    frame = frame[keys + values].copy()
    for col in keys:
        if col == "month":
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        elif col in ("area_code", "sex"):
            frame[col] = frame[col].astype("string")
        else:
            frame[col] = frame[col].astype("float64")
    for col in values:
        frame[col] = frame[col].astype("float64")
    return frame.sort_values(keys, na_position="first").reset_index(drop=True)


def compare_frames(what: str, ref: pd.DataFrame, other: pd.DataFrame, keys, exact, approx) -> list[str]:
    if set(ref.columns) != set(other.columns):
        return [f"{what}: columns differ: {sorted(ref.columns)} against {sorted(other.columns)}"]
    if len(ref) != len(other):
        return [f"{what}: {len(ref)} rows against {len(other)}"]
    if len(ref) == 0:
        return [f"{what}: no rows"]
    a, b = _canonical(ref, keys, exact + approx), _canonical(other, keys, exact + approx)
    problems = []
    for col in keys:
        same = (a[col] == b[col]).fillna(False) | (a[col].isna() & b[col].isna())
        if not same.all():
            i = int(np.flatnonzero(~same.to_numpy())[0])
            problems.append(f"{what}: key {col} differs at sorted row {i}: {a.iloc[i].to_dict()} against "
                            f"{b.iloc[i].to_dict()}")
            return problems
    for col in exact:
        bad = a[col].to_numpy() != b[col].to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.append(f"{what}: {col} differs in {int(bad.sum())} rows, first {a.iloc[i].to_dict()} "
                            f"against {b.iloc[i].to_dict()}")
    for col in approx:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        bad = ~np.isclose(x, y, rtol=1e-9, atol=0.0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.append(f"{what}: {col} differs beyond 1e-9 relative in {int(bad.sum())} rows, first "
                            f"{a.iloc[i].to_dict()} against {b.iloc[i].to_dict()}")
    return problems


def compare_results(ref_name: str, ref: dict, name: str, other: dict) -> tuple[list[str], int]:
    """Every indicator's monthly counts (and population, where both have it); (problems, rows)."""
    problems, rows = [], 0
    for iid, frame in ref["events"].items():
        if iid not in other["events"]:
            problems.append(f"{iid}: missing from {name}")
            continue
        keys, exact, approx = _layout(iid, frame.columns)
        problems += compare_frames(f"{iid} ({ref_name} vs {name})", frame, other["events"][iid],
                                   keys, exact, approx)
        rows += len(frame)
        if iid in ref["population"] and iid in other["population"]:
            pop = ref["population"][iid]
            keys = [c for c in pop.columns if c != "population"]
            problems += compare_frames(f"{iid} population ({ref_name} vs {name})", pop,
                                       other["population"][iid], keys, [], ["population"])
        elif (iid in ref["population"]) != (iid in other["population"]) and other["population"]:
            problems.append(f"{iid}: population present in only one of {ref_name}, {name}")
    return problems, rows


def run_check(folder: str, oracle: bool = True) -> dict:
    """Compute joinedup, hand SQL and (with ``oracle``) pandas once each and compare them, before any timing."""
    t0 = time.perf_counter()
    results = {}
    contenders = [("joinedup-duckdb", lambda: _joinedup_once(folder, "duckdb")),
                  ("hand-sql-duckdb", lambda: _hand_sql_once(folder))]
    if oracle:  # at scale 0.02 and over the oracle takes longer than everything else together
        contenders.append(("pandas-oracle", lambda: _pandas_once(folder)))
    for name, once in contenders:
        events, population, _ = once()
        results[name] = {"events": events, "population": population}
    problems, rows = [], 0
    for name in [n for n, _ in contenders[1:]]:
        p, rows = compare_results(BASELINE, results[BASELINE], name, results[name])
        problems += p
    per_indicator = {i: len(f) for i, f in results[BASELINE]["events"].items()}
    return {"identical": not problems, "problems": problems, "rows_compared_per_contender": rows,
            "compared": [n for n, _ in contenders],
            "rows_per_indicator": per_indicator, "seconds": round(time.perf_counter() - t0, 1)}


# --- the parent run ----------------------------------------------------------------------------------


def _spawn(args: list[str], timeout: float | None) -> tuple[dict | None, str]:
    """Run this script as a subprocess; return (its JSON result, or None, and why not)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        result_file = f.name
    cmd = [sys.executable, str(Path(__file__).resolve()), *args, "--result-file", result_file]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return None, f"did not finish within {timeout:.0f} s (killed)"
    try:
        text = Path(result_file).read_text()
        Path(result_file).unlink()
        if done.returncode == 0 or text:
            return json.loads(text), ""
    except (OSError, json.JSONDecodeError):
        pass
    why = "killed by the kernel (out of memory?)" if done.returncode in (-9, 137) else f"exit {done.returncode}"
    return None, f"{why}: {done.stderr.strip()[-2000:]}"


def _simulate(scale: float, seed: int, folder: Path) -> dict:
    from joinedup.simulate import simulate

    t0 = time.perf_counter()
    summary = simulate(folder, scale=scale, seed=seed, workers=os.cpu_count())
    return {"scale": scale, "seed": seed, "workers": os.cpu_count(),
            "seconds": round(time.perf_counter() - t0, 1), "rows": summary.rows, **peak_memory()}


def prepare_data(args) -> tuple[str, dict | None]:
    """The data folder, and how it was simulated (None for ``--data``)."""
    if args.data:
        return str(args.data), None
    cache = Path(os.environ.get("JOINEDUP_BENCH_CACHE", Path.home() / ".cache" / "joinedup-bench"))
    folder = cache / f"indicators-scale{args.scale}-seed{args.seed}"
    record = cache / f"{folder.name}.simulation.json"
    if folder.is_dir() and record.is_file():
        sim = json.loads(record.read_text())
        sim["reused_from_cache"] = True
        print(f"reusing {folder} (simulated earlier in {sim['seconds']} s)", flush=True)
        return str(folder), sim
    shutil.rmtree(folder, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"simulating England at scale {args.scale} (seed {args.seed}) into {folder} ...", flush=True)
    sim, why = _spawn(["--simulate", str(folder), "--scale", str(args.scale), "--seed", str(args.seed)], None)
    if sim is None:
        raise SystemExit(f"simulation failed: {why}")
    record.write_text(json.dumps(sim, indent=2) + "\n")
    sim["reused_from_cache"] = False
    print(f"simulated in {sim['seconds']} s", flush=True)
    return str(folder), sim


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info(folder: str) -> dict:
    cpuinfo, meminfo = _read("/proc/cpuinfo"), _read("/proc/meminfo")
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "")
    mem_kb = next((int(ln.split()[1]) for ln in meminfo.splitlines() if ln.startswith("MemTotal")), 0)
    versions = {}
    for pkg in ("duckdb", "ibis-framework", "sqlglot", "pyspark", "pandas", "numpy", "pyarrow"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30,
                              check=False).stderr
        versions["java"] = java.strip().splitlines()[0] if java else None
    except (OSError, subprocess.SubprocessError):
        versions["java"] = None
    code = {p: hashlib.sha256((ROOT / "src/joinedup/indicators" / p).read_bytes()).hexdigest()[:12]
            for p in ("events.py", "compute.py", "catalogue.py", "oracle.py")}
    code["benchmarks/indicators_sql.py"] = hashlib.sha256((HERE / "indicators_sql.py").read_bytes()).hexdigest()[:12]
    data_mb = sum(f.stat().st_size for f in Path(folder).rglob("*.parquet")) / 2**20
    return {"cpus": os.cpu_count(), "cpu_model": model, "ram_gb": round(mem_kb / 2**20, 1),
            "platform": platform.platform(), "python": platform.python_version(), "versions": versions,
            "source_sha256_12": code, "data_folder": folder, "data_parquet_mb": round(data_mb, 1),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def _ratio(a, b):
    return a / b if a and b else None


def report(result: dict) -> str:
    runs, base = result["contenders"], result["contenders"].get(BASELINE, {}).get("seconds")
    lines = [(f"Indicator catalogue ({result['n_indicators']} indicators), engine stage "
              f"(monthly_counts for every indicator), simulated England scale {result['scale']}"),
             (f"data: {result['rows'].get('admissions', '?'):,} admissions, "
              f"{result['rows'].get('ae_attendances', '?'):,} A&E attendances, "
              f"{result['rows'].get('persons', '?'):,} persons (10 years)")]
    sim = result.get("simulation")
    if sim:
        how = "earlier, reused from cache" if sim.get("reused_from_cache") else "in this run"
        lines.append(f"simulation (not in any timing): {sim['seconds']} s ({how})")
    m = result["machine"]
    lines.append(f"machine: {m['cpu_model']}, {m['cpus']} CPUs, {m['ram_gb']} GB RAM; Python {m['python']}; "
                 + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v))
    loads = [r["load_average_after"][0] for r in result["contenders"].values() if r.get("load_average_after")]
    lines.append(f"load average (1 min) at start: {m['load_average_at_start'][0]}; after each contender: "
                 f"{min(loads, default=0):.2f} to {max(loads, default=0):.2f} ({m['cpus']} CPUs)")
    chk = result["check"]
    lines.append(f"check before timing: {', '.join(chk.get('compared', ['joinedup-duckdb', 'hand-sql-duckdb', 'pandas-oracle']))} agree on all "
                 f"{result['n_indicators']} indicators ({chk['rows_compared_per_contender']:,} rows each)"
                 if chk.get("identical") else f"check before timing FAILED: {chk}")
    lines.append("")
    n_in = sum(result["rows"].values())  # input rows: admissions, A&E, persons, social care
    lines.append(f"rows/s = the {n_in:,} input rows (admissions, A&E, persons, social care) / seconds")
    lines.append(f"{'contender':<34}{'seconds':>10}  {'runs (s)':<28}{'peak RSS MB':>12}{'vs joinedup':>13}"
                 f"{'rows/s':>14}")
    order = ["joinedup-duckdb", "hand-sql-duckdb", "pandas-oracle", "pandas-load", "pandas-compute",
             "joinedup-spark", "joinedup-e2e-duckdb"]
    for name in order:
        r = runs.get(name)
        if r is None:
            continue
        if r.get("failed"):
            lines.append(f"{LABELS[name]:<34}{'--':>10}  {r['failed']}")
            continue
        ratio = _ratio(r["seconds"], base)
        runs_s = ", ".join(f"{s:.2f}" for s in r.get("all_seconds", [])) if r.get("all_seconds") else ""
        rss = f"{r['peak_rss_mb']:,.0f}" if r.get("peak_rss_mb") else ""
        lines.append(f"{LABELS[name]:<34}{r['seconds']:>10.2f}  {runs_s:<28}{rss:>12}"
                     f"{(f'{ratio:.2f}x' if ratio else ''):>13}{round(n_in / r['seconds']) if r['seconds'] else 0:>14,}")
    lines.append("")
    if runs.get("joinedup-spark", {}).get("spark_startup_seconds") is not None:
        s = runs["joinedup-spark"]
        lines.append(f"Spark: session start-up {s['spark_startup_seconds']} s (not included); peak RSS is "
                     f"the Python driver ({s['python_mb']:,.0f} MB) plus the JVM ({s['children_mb']:,.0f} MB)")
    lines.append(f"* end to end = compute_indicators(ds, None, {PERIODS}) (engine stage, period sums over "
                 "all reporting units, statistics): more work than the other rows")
    pd_r = runs.get("pandas-oracle", {})
    hand = runs.get("hand-sql-duckdb", {}).get("seconds")
    t = result["targets"]
    if pd_r.get("seconds") and base:
        lines.append(f"pandas / joinedup = {t['pandas_over_joinedup']:.2f}x (target >= 10x): "
                     f"{'met' if t['pandas_target_met'] else 'NOT met'}  "
                     f"[compute only: {t['pandas_compute_over_joinedup']:.2f}x]")
    else:
        lines.append(f"pandas / joinedup: not measured ({pd_r.get('failed')})")
    if hand and base:
        lines.append(f"joinedup / hand SQL = {t['joinedup_over_hand_sql']:.2f}x (target <= 1.1x, issue 21): "
                     f"{'met' if t['hand_sql_target_met'] else 'NOT met'}")
    if result.get("answers_after_timing"):
        lines.append("answers of the timed runs against joinedup-duckdb's: " + "; ".join(
            f"{k}: {'identical' if not v else 'DIFFERENT'}" for k, v in result["answers_after_timing"].items()))
    lines.append("")
    lines.append("per indicator, seconds in the best run:")
    per = {n: runs[n].get("parts_of_best", {}) for n in ("joinedup-duckdb", "hand-sql-duckdb", "pandas-oracle",
                                                         "joinedup-spark") if n in runs and not runs[n].get("failed")}
    names = list(per)
    both = BASELINE in per and "hand-sql-duckdb" in per
    out_rows = result["check"].get("rows_per_indicator", {})
    lines.append(f"{'indicator':<36}" + "".join(f"{n:>18}" for n in names)
                 + (f"{'joinedup/hand':>15}{'out rows/s':>12}" if both else ""))
    rows = list(dict.fromkeys(k for p in per.values() for k in p))
    for k in rows:
        line = f"{k:<36}" + "".join(
            f"{per[n][k]:>18.3f}" if isinstance(per[n].get(k), float) else f"{'':>18}" for n in names)
        j, h = (per[n].get(k) for n in (BASELINE, "hand-sql-duckdb")) if both else (None, None)
        if isinstance(j, float) and isinstance(h, float) and j and h:
            line += f"{j / h:>14.2f}x" + (f"{round(out_rows[k] / j):>12,}" if k in out_rows else "")
        lines.append(line)
    return "\n".join(lines)


def main_run(args) -> None:
    from joinedup.indicators.catalogue import CATALOGUE

    folder, sim = prepare_data(args)
    import duckdb

    rows = {t: duckdb.sql(f"SELECT count(*) FROM read_parquet('{folder}/{t}/*.parquet')").fetchone()[0]
            for t in ("admissions", "ae_attendances", "persons", "social_care_services")}
    result = {"benchmark": "indicators", "scale": args.scale if not args.data else None, "seed": args.seed,
              "n_indicators": len(CATALOGUE), "rows": rows, "simulation": sim,
              "machine": machine_info(folder), "contenders": {}}
    if args.data:
        result["scale"] = args.scale_label or f"data at {args.data}"

    print(f"checking that joinedup, hand SQL{' and pandas' if args.oracle else ''} give the same answers ...",
          flush=True)
    check, why = _spawn(["--contender", "check", "--data", folder] + ([] if args.oracle else ["--no-oracle"]), None)
    if check is None or not check["identical"]:
        detail = why if check is None else "\n".join(check["problems"][:40])
        raise SystemExit(f"CHECK FAILED: the contenders do not give the same answers; nothing was timed.\n{detail}")
    result["check"] = check
    print(f"  identical ({check['rows_compared_per_contender']:,} rows per contender, {check['seconds']} s)",
          flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="joinedup-indicators-bench-"))
    # The two DuckDB contenders alternate, one fresh process per run, so that a change in the
    # machine's load during the benchmark falls on both alike; the best run of each is kept.
    rounds = [[("joinedup-duckdb", 1, None), ("hand-sql-duckdb", 1, None)]] * args.repeats
    if args.pandas_repeats > 0 and args.oracle:  # --pandas-repeats 0 leaves the (slow) pandas oracle out of the timing
        rounds += [[("pandas-oracle", args.pandas_repeats, args.pandas_timeout)]]
    if args.spark:  # one process: the JVM's start-up is timed apart; repeats share the session
        rounds += [[("joinedup-spark", args.spark_repeats, args.spark_timeout)]]
    rounds += [[("joinedup-e2e-duckdb", 1, None)]] * args.e2e_repeats
    collected: dict[str, list[dict]] = {}
    failed: dict[str, str] = {}
    try:
        for step in rounds:
            for name, repeats, timeout in step:
                if name in failed:
                    continue
                n = len(collected.get(name, [])) + 1
                print(f"timing {name} (process {n}, {repeats} run{'s' if repeats > 1 else ''}) ...", flush=True)
                save = workdir / f"{name}.pkl"
                args_ = ["--contender", name, "--data", folder, "--repeats", str(repeats)]
                r, why = _spawn(args_ + ([] if save.exists() else ["--save", str(save)]), timeout)
                if r is None:
                    failed[name] = why
                    print(f"  FAILED: {why}", flush=True)
                    continue
                collected.setdefault(name, []).append(r)
                print(f"  {r['seconds']:.2f} s, peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True)
        for name in dict.fromkeys(n for step in rounds for n, _, _ in step):
            if name in failed:
                result["contenders"][name] = {"failed": failed[name], "completed_runs": collected.get(name, [])}
            elif name in collected:
                result["contenders"][name] = _merge_runs(name, collected[name])
        # The timed runs' own answers, against joinedup-duckdb's (Spark included).
        ref_file = workdir / f"{BASELINE}.pkl"
        answers = {}
        for name in ("hand-sql-duckdb", "pandas-oracle", "joinedup-spark"):
            f = workdir / f"{name}.pkl"
            if ref_file.exists() and f.exists():
                answers[name], _ = compare_results(BASELINE, pd.read_pickle(ref_file), name, pd.read_pickle(f))
        result["answers_after_timing"] = answers
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    runs = result["contenders"]
    p = runs.get("pandas-oracle", {})
    if p.get("seconds"):
        runs["pandas-load"] = {"seconds": p["load_seconds"]}
        runs["pandas-compute"] = {"seconds": p["compute_seconds"]}
    base = runs.get(BASELINE, {}).get("seconds")
    hand = runs.get("hand-sql-duckdb", {}).get("seconds")
    pandas_over = _ratio(p.get("seconds"), base)
    over_hand = _ratio(base, hand)
    result["targets"] = {
        "pandas_over_joinedup": pandas_over, "pandas_compute_over_joinedup": _ratio(p.get("compute_seconds"), base),
        "pandas_target_met": bool(pandas_over and pandas_over >= 10),
        "joinedup_over_hand_sql": over_hand, "hand_sql_target_met": bool(over_hand and over_hand <= 1.1),
        "spark_over_joinedup_duckdb": _ratio(runs.get("joinedup-spark", {}).get("seconds"), base),
    }
    text = report(result)
    print("\n" + text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
        args.out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    if any(result["answers_after_timing"].values()):
        for name, problems in result["answers_after_timing"].items():
            for line in problems[:20]:
                print(f"DIFFERENT ANSWERS ({name}): {line}", file=sys.stderr)
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="simulation scale (default 0.1)")
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--data", type=Path, default=None, help="use this simulated data folder")
    parser.add_argument("--scale-label", default=None, help="how to describe --data in the report")
    parser.add_argument("--spark", action=argparse.BooleanOptionalAction, default=True,
                        help="also time joinedup on PySpark local (default on)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each DuckDB contender (best is kept)")
    parser.add_argument("--pandas-repeats", type=int, default=1)
    parser.add_argument("--oracle", action=argparse.BooleanOptionalAction, default=True,
                        help="check against the pandas oracle before timing (--no-oracle: joinedup against hand "
                             "SQL only, for scales where the oracle alone would take most of the time budget; "
                             "also leaves the oracle out of the timing)")
    parser.add_argument("--spark-repeats", type=int, default=1)
    parser.add_argument("--e2e-repeats", type=int, default=3)
    parser.add_argument("--pandas-timeout", type=float, default=1800, help="give pandas up after this (s)")
    parser.add_argument("--spark-timeout", type=float, default=3600)
    parser.add_argument("--out", type=Path, default=None, help="write JSON here (and the table beside it as .txt)")
    parser.add_argument("--contender", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--save", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--simulate", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--result-file", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.simulate or args.contender:
        if args.simulate:
            out = _simulate(args.scale, args.seed, Path(args.simulate))
        elif args.contender == "check":
            out = run_check(str(args.data), args.oracle)
        else:
            out = run_contender(args.contender, str(args.data), args.repeats, args.save)
        Path(args.result_file).write_text(json.dumps(out, default=str))
        return
    main_run(args)


if __name__ == "__main__":
    main()
