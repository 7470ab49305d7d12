"""Throughput of the simulator: scale 0.02 (the demo, the baseline) against a larger scale.

Each scale runs in a fresh Python process, so its peak resident memory (the process plus its worker
processes, from resource.getrusage) is its own. Prints rows per table, seconds, rows per second, peak
RSS and the ratio of rows per second between the two runs; ``--out`` also writes them as JSON.

    .venv/bin/python benchmarks/simulate_throughput.py --scale 0.1 --out bench.json

Rows/s at the larger scale close to the baseline's means the cost grows linearly with the number of
people; peak RSS that stays flat means memory is bounded by the chunk, not the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASELINE_SCALE = 0.02


def _single(scale: float, seed: int, workers: int | None, out_dir: str) -> dict:
    """Run one simulation in this process and measure it."""
    from joinedup.simulate import simulate

    t0 = time.perf_counter()
    summary = simulate(out_dir, scale=scale, seed=seed, workers=workers)
    wall = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "scale": scale, "seed": seed, "workers": workers, "rows": summary.rows,
        "total_rows": sum(summary.rows.values()), "seconds": round(wall, 2),
        "rows_per_second": round(sum(summary.rows.values()) / wall),
        "cpu_seconds": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 2),
        # ru_maxrss is in kilobytes on Linux; workers are measured as children.
        "peak_rss_mb": round(me.ru_maxrss / 1024, 1), "peak_rss_workers_mb": round(kids.ru_maxrss / 1024, 1),
        "output_mb": round(sum(f.stat().st_size for f in Path(out_dir).rglob("*") if f.is_file()) / 2**20, 1),
    }


def _measure(scale: float, seed: int, workers: int | None, keep: Path | None) -> dict:
    out_dir = Path(keep) / f"scale-{scale}" if keep else Path(tempfile.mkdtemp(prefix="joinedup-bench-"))
    try:
        cmd = [sys.executable, __file__, "--single", str(scale), "--seed", str(seed), "--dir", str(out_dir)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if not keep:
            shutil.rmtree(out_dir, ignore_errors=True)


def _machine() -> dict:
    import numpy
    import pyarrow

    return {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__, "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _report(results: list[dict]) -> None:
    tables = list(results[0]["rows"])
    head = f"{'table':<22}" + "".join(f"{'scale ' + str(r['scale']):>16}" for r in results)
    print(head)
    for t in tables:
        print(f"{t:<22}" + "".join(f"{r['rows'][t]:>16,}" for r in results))
    for key, label in (("total_rows", "total rows"), ("seconds", "seconds"), ("cpu_seconds", "cpu seconds"),
                       ("rows_per_second", "rows/second"), ("peak_rss_mb", "peak RSS MB"),
                       ("peak_rss_workers_mb", "peak RSS workers MB"), ("output_mb", "output MB")):
        print(f"{label:<22}" + "".join(f"{r[key]:>16,}" for r in results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.1, help="the larger scale to compare (default 0.1)")
    parser.add_argument("--seed", type=int, default=2013)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: simulate's)")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    parser.add_argument("--keep", type=Path, default=None, help="keep the simulated data under this folder")
    parser.add_argument("--single", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=str, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single is not None:
        print(json.dumps(_single(args.single, args.seed, args.workers, args.dir)))
        return
    machine = _machine()
    results = [_measure(s, args.seed, args.workers, args.keep) for s in (BASELINE_SCALE, args.scale)]
    ratio = results[1]["rows_per_second"] / results[0]["rows_per_second"]
    _report(results)
    print(f"rows/s ratio (scale {args.scale} / scale {BASELINE_SCALE}): {ratio:.2f}")
    print(f"machine: {machine['processor']}, {machine['cpus']} CPUs, load average at start "
          f"{machine['load_average_at_start']}")
    if args.out:
        args.out.write_text(json.dumps({"machine": machine, "runs": results, "ratio_rows_per_second": ratio},
                                       indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
