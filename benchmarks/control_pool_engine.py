"""The economics control pool: built in pandas (before) against on the engine (after, joinedup.economics.pool).

Before: everyone old enough read into pandas, the pseudo-index draw, the eligibility and MDT-free
rules and the prior-use windows (uploaded back to the engine) in pandas
(``joinedup.economics.pool_reference.control_pool_pandas``). After: ``control_pool``, where all of
that is one engine query and only the eligible controls with their baseline come back.

Each variant runs in a fresh process on the same dataset, alternating ``--repeats`` times. In the
process the risk model and the treated index dates are made first (the same in both, not timed);
then ``control_pool`` is timed and its peak memory taken with ``joinedup.step_usage.StepMeter``
(the kernel's VmHWM reset at the step's start, plus children). Prints seconds, the step's peak MB,
the frame's own MB (``memory_usage(deep=True)``), rows, a digest of the frame (both variants must
agree), the load average beside each run, and the ratios best against best.

    .venv/bin/python benchmarks/control_pool_engine.py --data out/scale/current-0.02/out/data
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def _single(data: str, variant: str) -> dict:
    import pandas as pd

    from joinedup.data import open_dataset
    from joinedup.economics.cohort import control_pool, default_reference_date, mdt_cohort
    from joinedup.economics.pool_reference import control_pool_pandas
    from joinedup.economics.risk import risk_model
    from joinedup.step_usage import StepMeter, tree_rss_bytes

    ds = open_dataset(data)
    rm = risk_model(ds, default_reference_date(ds))
    dates = mdt_cohort(ds, with_risk=False)["index_date"]
    build = control_pool if variant == "engine" else control_pool_pandas
    meter = StepMeter()
    before_mb = round(tree_rss_bytes() / 2**20, 1)  # the risk model, the dataset, imports: the same in both
    t0 = time.perf_counter()
    with meter.step("pool"):
        pool = build(ds, seed=2013, index_dates=dates, risk=rm)
    seconds = time.perf_counter() - t0
    digest = int(pd.util.hash_pandas_object(pool, index=False).sum())
    return {"variant": variant, "seconds": round(seconds, 3), "rows": len(pool), "digest": digest,
            "peak_mb": meter.usage["pool"].get("peak_rss_mb"), "rss_before_mb": before_mb,
            "peak_over_before_mb": round(meter.usage["pool"].get("peak_rss_mb") - before_mb, 1),
            "frame_mb": round(pool.memory_usage(deep=True).sum() / 2**20, 1),
            "load": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--single")
    args = ap.parse_args()
    if args.single:
        print(json.dumps(_single(args.data, args.single)))
        return
    runs = []
    for _ in range(args.repeats):
        for variant in ("pandas", "engine"):
            out = subprocess.run([sys.executable, __file__, "--data", args.data, "--single", variant],
                                 capture_output=True, text=True, check=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
            print(runs[-1], flush=True)
    best = {v: min((r for r in runs if r["variant"] == v), key=lambda r: r["seconds"]) for v in ("pandas", "engine")}
    low = {v: min(r["peak_mb"] for r in runs if r["variant"] == v) for v in ("pandas", "engine")}
    grow = {v: min(r["peak_over_before_mb"] for r in runs if r["variant"] == v) for v in ("pandas", "engine")}
    assert best["pandas"]["digest"] == best["engine"]["digest"], "the two variants built different pools"
    print(f"same {best['engine']['rows']:,} controls both ways (digest {best['engine']['digest']}); "
          f"best seconds pandas {best['pandas']['seconds']} / engine {best['engine']['seconds']} = "
          f"{best['pandas']['seconds'] / best['engine']['seconds']:.2f}x; lowest step peak MB pandas "
          f"{low['pandas']} / engine {low['engine']} = {low['pandas'] / low['engine']:.2f}x; lowest growth over the "
          f"RSS before the step MB pandas {grow['pandas']} / engine {grow['engine']} = "
          f"{grow['pandas'] / grow['engine']:.2f}x")


if __name__ == "__main__":
    main()
