"""The whole indicator step (``compute_indicators`` at month, quarter and financial year) on DuckDB:
this code against the code at a git ref, alternating fresh processes, same data, same run.

    .venv/bin/python benchmarks/indicators_e2e_ab.py ~/.cache/joinedup-bench/indicators-scale0.01-seed2013 \\
        --baseline-ref 2b51d2c --rounds 2

Prints each run's seconds, rows and peak RSS with the 1-minute load average before it, and the ratio
of the best runs (baseline / this code; over 1: this code is faster). Imports happen before the clock.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _single(folder: str) -> None:
    import resource

    import scipy.stats  # noqa: F401  (imports before the clock)

    import joinedup.indicators.compute
    import joinedup.indicators.methods  # noqa: F401
    from joinedup.data import open_dataset
    from joinedup.indicators import compute_indicators

    ds = open_dataset(folder, "duckdb")
    ds.backend.con.execute("SET enable_progress_bar = false")
    t0 = time.perf_counter()
    table = compute_indicators(ds, None, ["month", "quarter", "financial_year"])
    print(f"{time.perf_counter() - t0:.2f} {len(table)} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("--baseline-ref", required=False)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.single:
        _single(args.data)
        return
    base = Path(tempfile.mkdtemp(prefix="joinedup-ab-"))
    try:
        labels = {"this": None}
        if args.baseline_ref:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline_ref, "src"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            labels = {"baseline": str(base / "src"), "this": None}
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            for label, path in labels.items():
                env = dict(os.environ, **({"PYTHONPATH": path} if path else {}))
                load = os.getloadavg()[0]
                out = subprocess.run([sys.executable, __file__, args.data, "--single"], env=env, capture_output=True,
                                     text=True, check=True, timeout=900).stdout.split()
                seconds = float(out[0])
                best[label] = min(best.get(label, seconds), seconds)
                print(f"{label:<9} load {load:5.2f}  {seconds:8.2f} s  {int(out[1]):,} rows  peak {out[2]} MB", flush=True)
        if "baseline" in best:
            print(f"best: baseline {best['baseline']:.2f} s, this {best['this']:.2f} s, "
                  f"ratio {best['baseline'] / best['this']:.2f}x")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
