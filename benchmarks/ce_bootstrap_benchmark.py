"""The CE bootstrap at WP2 scale: joinedup's ``bootstrap_ce`` against what users write.

Workload (seeded): 10,000 matched pairs (20,000 patients: one MDT patient, one matched control),
costs gamma-distributed with a shared pair effect and about £300 extra for MDT patients, QALYs
normal with a shared pair effect. 5,000 bootstrap replicates of incremental cost and QALYs,
resampling whole pairs, BCa intervals.

Baselines, all with the same seed and so the same resampled pairs (pandas ``sample`` with a
Generator and scipy both call ``rng.integers(0, n_pairs, n_pairs)`` per replicate, as joinedup does):
- the pandas loop users write: ``pairs.sample(frac=1, replace=True)``, merge back to patients,
  ``groupby`` mean (percentile intervals only). It is timed on the first ``--pandas-reps`` replicates
  and multiplied out to 5,000 -- an extrapolation, labelled as such;
- ``scipy.stats.bootstrap(paired=True, method="bca")``, one call per outcome (its statistic is a
  scalar), batched so memory stays under about a gigabyte.
Checks before timings count: identical replicates (to summation rounding) and intervals.

    .venv/bin/python benchmarks/ce_bootstrap_benchmark.py    # writes results/ce_bootstrap.json and .txt
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from joinedup.economics.cea import bootstrap_ce  # noqa: E402


def simulate(n_pairs: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frailty = rng.gamma(2.0, 0.5, n_pairs)              # shared within a pair (matching on risk)
    mdt = np.tile([1, 0], n_pairs)
    pair = np.repeat(np.arange(n_pairs), 2)
    cost = rng.gamma(2.0, 1500 * frailty[pair]) + 300 * mdt
    qaly = np.clip(0.75 - 0.1 * frailty[pair] + 0.01 * mdt + rng.normal(0, 0.12, 2 * n_pairs), -0.2, 1.0)
    return pd.DataFrame({"pair": pair, "mdt": mdt, "cost": cost, "qaly": qaly})


def pandas_loop(df: pd.DataFrame, reps: int, seed: int) -> pd.DataFrame:
    """The loop users write: resample pairs, merge back, group means, difference."""
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame({"pair": df["pair"].unique()})
    out = []
    for _ in range(reps):
        sample = pairs.sample(frac=1, replace=True, random_state=rng)
        means = sample.merge(df, on="pair").groupby("mdt")[["cost", "qaly"]].mean()
        out.append(means.loc[1] - means.loc[0])
    return pd.DataFrame(out).rename(columns={"cost": "inc_cost", "qaly": "inc_effect"}).reset_index(drop=True)


def scipy_boot(df: pd.DataFrame, B: int, seed: int, batch: int) -> dict:
    t, c = df[df.mdt == 1].sort_values("pair"), df[df.mdt == 0].sort_values("pair")
    out = {}
    for col, name in (("cost", "inc_cost"), ("qaly", "inc_effect")):
        res = stats.bootstrap((t[col].to_numpy(), c[col].to_numpy()), lambda x, y, axis=-1: x.mean(axis) - y.mean(axis),
                              paired=True, vectorized=True, n_resamples=B, batch=batch, method="bca",
                              rng=np.random.default_rng(seed))
        out[name] = res
    return out


def timed(fn, repeat: int = 1):
    best, value = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--B", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--boot-seed", type=int, default=1)
    parser.add_argument("--pandas-reps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="joinedup timing: best of this many runs")
    parser.add_argument("--scipy-batch", type=int, default=250)
    parser.add_argument("--skip-scipy", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "ce_bootstrap")
    args = parser.parse_args()

    df = simulate(args.pairs, args.seed)
    t_jd, boot = timed(lambda: bootstrap_ce(df, "cost", "qaly", "mdt", cluster="pair", B=args.B,
                                            seed=args.boot_seed, ci="bca"), args.repeat)
    table = boot.tidy("bca").set_index("quantity")
    t_pd, loop = timed(lambda: pandas_loop(df, args.pandas_reps, args.boot_seed))
    t_pd_full = t_pd * args.B / args.pandas_reps
    same_pd = {q: float(np.max(np.abs(loop[q].to_numpy() - boot.replicates[q].to_numpy()[: args.pandas_reps])))
               for q in ("inc_cost", "inc_effect")}

    result = {
        "workload": {"pairs": args.pairs, "patients": len(df), "B": args.B, "seed": args.seed,
                     "boot_seed": args.boot_seed, "resampling": "whole matched pairs", "interval": "BCa 95%"},
        "estimates": {q: {k: float(table.loc[q, k]) for k in ("estimate", "se", "lower", "upper", "acceleration")}
                      for q in ("inc_cost", "inc_effect")},
        "joinedup_s": t_jd, "joinedup_timing": f"best of {args.repeat}",
        "pandas_loop_s_extrapolated": t_pd_full, "pandas_loop_timed_reps": args.pandas_reps, "pandas_loop_timed_s": t_pd,
        "pandas_same_replicates_max_abs_diff": same_pd,
        "ratio_pandas_over_joinedup": t_pd_full / t_jd,
    }
    if not args.skip_scipy:
        t_sp, sp = timed(lambda: scipy_boot(df, args.B, args.boot_seed, args.scipy_batch))
        result.update({
            "scipy_bootstrap_s": t_sp, "scipy_batch": args.scipy_batch, "ratio_scipy_over_joinedup": t_sp / t_jd,
            "scipy_same_replicates_max_abs_diff": {
                q: float(np.max(np.abs(sp[q].bootstrap_distribution - boot.replicates[q].to_numpy()))) for q in sp},
            "scipy_bca_interval": {q: [float(v) for v in sp[q].confidence_interval] for q in sp},
            "scipy_se": {q: float(sp[q].standard_error) for q in sp},
        })
    result["machine"] = {"platform": platform.platform(), "python": platform.python_version(),
                         "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                         "load_at_end": os.getloadavg()[0]}
    result["versions"] = {p: metadata.version(p) for p in ("numpy", "pandas", "scipy")}

    est = result["estimates"]
    lines = [
        "CE bootstrap: incremental cost and QALYs, whole matched pairs resampled, BCa 95% intervals",
        f"workload: {args.pairs:,} matched pairs ({len(df):,} patients), {args.B:,} replicates, seeds {args.seed}/{args.boot_seed}",
        *(f"{q}: {v['estimate']:,.4f} (SE {v['se']:,.4f}), BCa {v['lower']:,.4f} to {v['upper']:,.4f}"
          for q, v in est.items()),
        f"joinedup bootstrap_ce (BCa):              {t_jd:8.2f} s (best of {args.repeat})",
        f"pandas sample/merge/groupby loop:         {t_pd_full:8.2f} s (extrapolated from {args.pandas_reps} "
        f"replicates timed at {t_pd:.2f} s; percentile only)",
        f"ratio pandas / joinedup: {t_pd_full / t_jd:.1f}x",
        f"pandas loop draws the same pairs; max |difference| on the timed replicates: {same_pd}",
    ]
    if not args.skip_scipy:
        lines += [
            f"scipy.stats.bootstrap (paired, BCa, x2):  {result['scipy_bootstrap_s']:8.2f} s (batch {args.scipy_batch})",
            f"ratio scipy / joinedup: {result['ratio_scipy_over_joinedup']:.1f}x",
            f"scipy same replicates, max |difference|: {result['scipy_same_replicates_max_abs_diff']}",
            f"scipy BCa intervals: {result['scipy_bca_interval']}",
        ]
    lines += [f"machine: {result['machine']}", f"versions: {result['versions']}"]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
