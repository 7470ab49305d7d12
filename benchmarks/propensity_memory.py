"""Peak memory and seconds of the propensity model's IRLS (``glm_fit``) on a design the size of the
economics step's at scale 1.0 (10 million controls x 9 columns), this code against a baseline.

Each variant runs in a fresh Python process: it builds the design and the treatment, notes its RSS,
fits, and reports the peak RSS above that (``ru_maxrss``: the fit's own working memory) and the
seconds. The baseline is ``distance.py`` at git ref ``--baseline-ref`` (default HEAD~1), loaded from
``git show``; the two must give bitwise identical coefficients and scores, which the script checks.

    .venv/bin/python benchmarks/propensity_memory.py --rows 10000000 --baseline-ref HEAD~1
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE = "src/joinedup/economics/matching/distance.py"


def _child(path: str, rows: int) -> None:
    import resource

    import numpy as np

    spec = importlib.util.spec_from_file_location("distance_under_test", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    rng = np.random.default_rng(2013)
    x = np.empty((rows, 9))
    x[:, 0] = 1.0
    x[:, 1:4] = rng.poisson(0.3, size=(rows, 3))       # prior use counts
    x[:, 4] = rng.integers(65, 100, rows)               # age
    x[:, 5] = rng.integers(0, 2, rows)                  # male
    x[:, 6] = rng.poisson(1.5, rows)                    # long-term conditions
    x[:, 7] = rng.random(rows)                          # risk score
    x[:, 8] = rng.integers(0, 2, rows)                  # prior social care
    lp = -6 + 0.4 * x[:, 1] + 0.02 * (x[:, 4] - 75) + 0.3 * x[:, 6]
    y = (rng.random(rows) < 1 / (1 + np.exp(-lp))).astype(float)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open("/proc/self/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
    t0 = time.perf_counter()
    fit = mod.glm_fit(x, y)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"seconds": seconds, "fit_peak_mb": (peak - max(rss, before)) / 1024, "design_mb": x.nbytes / 2**20,
           "coef": fit.coefficients.tolist(), "eta_sum": float(fit.linear_predictor.sum()),
           "iterations": fit.iterations}
    print(json.dumps(out))


def _run(path: Path, rows: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), "--rows", str(rows)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--baseline-ref", default="HEAD~1")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        return _child(args.child, args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "distance_baseline.py"
        base.write_text(subprocess.run(["git", "show", f"{args.baseline_ref}:{MODULE}"], cwd=ROOT, check=True,
                                       capture_output=True, text=True).stdout)
        results = {"baseline": [], "this code": []}
        for _ in range(args.repeats):  # alternate, so load hits both alike
            results["baseline"].append(_run(base, args.rows))
            results["this code"].append(_run(ROOT / MODULE, args.rows))
    a, b = results["baseline"][0], results["this code"][0]
    identical = a["coef"] == b["coef"] and a["eta_sum"] == b["eta_sum"] and a["iterations"] == b["iterations"]
    print(f"glm_fit on {args.rows:,} rows x 9 columns (design {a['design_mb']:.0f} MB), "
          f"baseline {args.baseline_ref}, {args.repeats} runs each, alternating")
    for name, runs in results.items():
        print(f"{name:<10} fit peak above the design: {min(r['fit_peak_mb'] for r in runs):7.0f} MB (min), "
              f"{max(r['fit_peak_mb'] for r in runs):7.0f} MB (max); seconds {min(r['seconds'] for r in runs):6.1f} (best)")
    ratio_mem = min(r["fit_peak_mb"] for r in results["this code"]) / min(r["fit_peak_mb"] for r in results["baseline"])
    ratio_s = min(r["seconds"] for r in results["this code"]) / min(r["seconds"] for r in results["baseline"])
    print(f"ratio this code / baseline: peak {ratio_mem:.2f}x, seconds {ratio_s:.2f}x; "
          f"coefficients and scores {'bitwise identical' if identical else 'DIFFER'}")


if __name__ == "__main__":
    main()
