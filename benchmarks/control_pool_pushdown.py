"""The economics control pool's persons: age filter in pandas (before) against in the engine (after).

``control_pool`` used to read the whole ``persons`` table into pandas and keep those old enough;
at scale 1.0 that is about 56 million rows on the driver. It now filters ``birth_year`` in the
engine. Each variant runs in a fresh process (its own peak RSS from ``resource.getrusage``), on the
same dataset, alternating ``--repeats`` times; prints seconds, peak MB, rows, and the ratios.

    .venv/bin/python benchmarks/control_pool_pushdown.py --data out/scale/current-0.02/out/data
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def _single(data: str, variant: str) -> dict:
    import pandas as pd

    from joinedup.data import open_dataset
    from joinedup.economics.cohort import _persons

    ds = open_dataset(data)
    max_birth_year = 2019 - 65
    t0 = time.perf_counter()
    if variant == "pandas":  # what control_pool did before
        people = _persons(ds)
        people = people[people["birth_year"] <= max_birth_year]
    else:
        people = _persons(ds, max_birth_year=max_birth_year)
    seconds = time.perf_counter() - t0
    digest = int(pd.util.hash_pandas_object(people.sort_values("person_id"), index=False).sum())
    return {"variant": variant, "seconds": round(seconds, 3), "rows": len(people), "digest": digest,
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


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
    assert best["pandas"]["digest"] == best["engine"]["digest"], "the two variants kept different people"
    print(f"same {best['engine']['rows']:,} people both ways; seconds pandas/engine "
          f"{best['pandas']['seconds'] / best['engine']['seconds']:.2f}x, peak MB {best['pandas']['peak_mb']} "
          f"against {best['engine']['peak_mb']} ({best['pandas']['peak_mb'] / best['engine']['peak_mb']:.2f}x)")


if __name__ == "__main__":
    main()
