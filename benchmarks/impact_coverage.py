"""Coverage and false-positive rate of the impact estimators on simulated England, null scenario.

For each seed: simulate England with no programme effects (``scenario="null"``), compute the
quarterly emergency admission rate, build the impact panel exactly as ``joinedup run`` does, and
run the wave-1 TWFE DiD (cluster-robust and wild cluster bootstrap), Callaway & Sant'Anna (overall
ATT, simple aggregation) and synthetic DiD per wave (jackknife SE: placebo SEs cost 200 refits).
Reports, per estimator, the share of 95% intervals containing 0 (coverage; expect about 95%) and
the share of p < 0.05 (false positives; expect about 5%), with binomial 95% intervals, and writes
every seed's estimates.

    .venv/bin/python benchmarks/impact_coverage.py --seeds 100 --scale 0.004 \\
        --out benchmarks/results/impact_coverage.json     # also writes .csv and .txt beside it
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from scipy import stats


def one_seed(seed: int, scale: float, years: tuple[int, int], biters: int) -> list[dict]:
    from joinedup.data import open_dataset
    from joinedup.impact.evaluate import ImpactResult, outcome_panel, staggered_did, wave1_did
    from joinedup.impact.synthetic import sdid
    from joinedup.impact.evaluate import _site_units
    from joinedup.indicators import compute_indicators
    from joinedup.protocol import Impact
    from joinedup.simulate import simulate

    folder = Path(tempfile.mkdtemp(prefix=f"joinedup-null-{seed}-"))
    try:
        simulate(folder, scale=scale, seed=seed, years=years, scenario="null")
        ds = open_dataset(folder)
        spec = Impact(biters=biters, seed=seed, synthetic_control=False,
                      baseline=(f"{years[0]}-04-01", "2013-03-31"))
        panel = outcome_panel(ds, compute_indicators(ds, [spec.outcome], [spec.period]), spec)
        out = ImpactResult()
        rows = wave1_did(panel, spec, None, out) + staggered_did(panel, spec, None, out)
        rows = [r for r in rows if not r["estimand"].startswith("overall ATT (") or "simple" in r["estimand"]]
        sites, treated, donors = _site_units(panel, spec)
        for wave in sorted(treated["wave"].astype(int).unique()):
            units = treated.index[treated["wave"] == wave].tolist()
            start = int(treated.loc[units, "first_treated"].min())
            block = sites[sites["unit"].isin(units) | sites["unit"].isin(donors)].copy()
            block["d"] = (block["unit"].isin(units) & (block["t"] >= start)).astype(int)
            est = sdid(block, "unit", "t", "y", "d", se="jackknife")
            z = est.estimate / est.se
            rows.append({"design": f"wave {wave}", "estimator": "synthetic DiD (jackknife SE)", "estimand": "ATT",
                         "estimate": est.estimate, "ci_low": est.estimate - 1.96 * est.se,
                         "ci_high": est.estimate + 1.96 * est.se, "p_value": float(2 * stats.norm.sf(abs(z)))})
        return [{"seed": seed, "design": r["design"], "estimator": r["estimator"], "estimand": r["estimand"],
                 "estimate": r["estimate"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                 "p_value": r["p_value"]} for r in rows]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _binomial_ci(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (design, estimator, estimand), g in frame.groupby(["design", "estimator", "estimand"], sort=False):
        n = len(g)
        covered = int(((g["ci_low"] <= 0) & (g["ci_high"] >= 0)).sum())
        rejected = int((g["p_value"] < 0.05).sum())
        rows.append({"design": design, "estimator": estimator, "estimand": estimand, "seeds": n,
                     "coverage": covered / n, "coverage_ci": _binomial_ci(covered, n),
                     "false_positive_rate": rejected / n, "fpr_ci": _binomial_ci(rejected, n),
                     "mean_estimate": float(g["estimate"].mean()), "sd_estimate": float(g["estimate"].std())})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.004)
    parser.add_argument("--years", type=int, nargs=2, default=(2010, 2016))
    parser.add_argument("--biters", type=int, default=999)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/impact_coverage.json"))
    args = parser.parse_args()
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    start = time.perf_counter()
    rows: list[dict] = []
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(one_seed, s, args.scale, tuple(args.years), args.biters) for s in seeds]
        for i, fut in enumerate(futures, 1):
            rows += fut.result()
            if i % 10 == 0:
                print(f"  {i}/{len(seeds)} seeds, {time.perf_counter() - start:.0f} s", flush=True)
    frame = pd.DataFrame(rows)
    summary = summarise(frame)
    elapsed = time.perf_counter() - start
    lines = [f"Impact estimators on simulated England, null scenario (no programme effect): {len(seeds)} seeds "
             f"({seeds[0]}-{seeds[-1]}), scale {args.scale}, years {args.years[0]}-{args.years[1]}, "
             f"{args.biters} bootstrap draws; {elapsed:.0f} s", "",
             f"{'estimator':<40} {'estimand':<22} {'coverage of 95% CI':>26} {'false positives':>24}"]
    for r in summary.itertuples():
        cov = f"{r.coverage:6.1%} ({r.coverage_ci[0]:.1%}-{r.coverage_ci[1]:.1%})"
        fpr = f"{r.false_positive_rate:6.1%} ({r.fpr_ci[0]:.1%}-{r.fpr_ci[1]:.1%})"
        lines.append(f"{r.estimator + ', ' + r.design:<40.40} {r.estimand:<22} {cov:>26} {fpr:>24}")
    lines.append("expected: coverage about 95%, false positives about 5% (binomial 95% intervals in brackets)")
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    args.out.write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                                    "seconds": elapsed, "summary": summary.to_dict(orient="records")}, indent=2,
                                   default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
