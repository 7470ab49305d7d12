"""Null checks of the cohort design over seeds: coverage and false positives of the matched estimate.

For each seed: simulate England (small scale), then
1. pseudo-enrol the top 2% by risk in half of the areas in two months a year apart, where no scheme runs;
   match by risk sets (rule: 65+, top 2% by risk) and by the pseudo-index design;
2. add an admission-triggered scheme with no effect (the null scenario) and match by risk sets and by
   the pseudo-index design;
3. the same scheme with a programmed -25% effect: coverage of the realised effect (the enrolled's
   admissions removed by the thinning, per matched enrolled person), both designs.
Records each estimate, whether its 95% interval holds the truth, and the naive before/after; the
summary gives coverage and the false-positive share (null rows) with Monte-Carlo SEs. One seed takes
about 20-25 s at scale 0.003 on 2 cores; rows are saved after every seed, so ``--resume`` continues.

    nice -n 10 timeout 1200 .venv/bin/python benchmarks/cohort_coverage.py --seeds 40 --resume
    # -> results/cohort_coverage.csv (one row per seed, check and design), .txt and .json (summary)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from joinedup.cohort.eligibility import parse_conditions  # noqa: E402
from joinedup.cohort.estimate import did, naive_before_after  # noqa: E402
from joinedup.cohort.features import MonthFeatures  # noqa: E402
from joinedup.cohort.panel import monthly_panel  # noqa: E402
from joinedup.cohort.pseudo import pseudo_enrol_top_risk, pseudo_index_match  # noqa: E402
from joinedup.cohort.riskset import RiskSetSpec, risk_set_match  # noqa: E402
from joinedup.data import open_dataset  # noqa: E402
from joinedup.economics.risk import risk_model  # noqa: E402
from joinedup.simulate import simulate  # noqa: E402
from joinedup.simulate.cohort_scheme import add_triggered_scheme  # noqa: E402

TOP = [{"field": "age", "op": ">=", "value": 65}, {"field": "risk_score", "op": "top_share", "value": 0.02}]
ADMITTED = [{"field": "age", "op": ">=", "value": 65},
            {"field": "emergency_admissions", "months": 1, "op": ">=", "value": 1},
            {"field": "practice_code", "op": "in_scheme"}]


def _row(seed, check, design, est, truth, naive=None):
    return {"seed": seed, "check": check, "design": design, "estimate": est.estimate, "se": est.se,
            "ci_low": est.ci_low, "ci_high": est.ci_high, "truth": truth, "enrolled": est.enrolled,
            "covers": bool(est.ci_low <= truth <= est.ci_high),
            "excludes_zero": bool(not (est.ci_low <= 0 <= est.ci_high)),
            "false_positive": bool(truth == 0 and not (est.ci_low <= 0 <= est.ci_high)),
            "naive_relative_change": None if naive is None else naive["relative_change"]}


def _loaded(folder):
    ds = open_dataset(folder)
    panel = monthly_panel(ds)
    return panel, MonthFeatures(panel, risk_model(ds, "2013-01-01").params)


def one_seed(seed: int, scale: float, work: Path) -> list[dict]:
    base = work / f"s{seed}"
    simulate(base, scale=scale, seed=seed, years=(2012, 2016))
    panel, feat = _loaded(base)
    areas = sorted(panel.persons["area_code"].unique())
    fake = pseudo_enrol_top_risk(panel, feat, months=[30, 42], areas=areas[: len(areas) // 2])
    spec = RiskSetSpec(conditions=parse_conditions(TOP))
    m = risk_set_match(panel, fake, spec, feat)
    rows = [_row(seed, "top 2% pseudo-enrolled, no scheme", "risk-set", did(m.pairs, "emergency_admissions"), 0.0,
                 naive_before_after(m.pairs)),
            _row(seed, "top 2% pseudo-enrolled, no scheme", "pseudo-index",
                 did(pseudo_index_match(panel, feat, fake, spec).pairs, "emergency_admissions"), 0.0)]
    for effect in (0.0, -0.25):
        folder = work / f"s{seed}_{effect}"
        shutil.copytree(base, folder)
        enrolled = add_triggered_scheme(folder, trigger="admission", effect=effect, seed=seed + 100)
        p2, f2 = _loaded(folder)
        spec2 = RiskSetSpec(conditions=parse_conditions(ADMITTED))
        m2 = risk_set_match(p2, enrolled, spec2, f2)
        t = m2.pairs[m2.pairs["treated"] == 1]
        r, mi = t["row"].to_numpy(), t["month_index"].to_numpy()
        realised = float((f2.window("emergency_admissions", mi, mi + 12, r)
                          - feat.window("emergency_admissions", mi, mi + 12, r)).mean())
        check = f"admission-triggered scheme, effect {effect}"
        rows.append(_row(seed, check, "risk-set", did(m2.pairs, "emergency_admissions"), realised,
                         naive_before_after(m2.pairs)))
        # the older design on the same enrolments: its truth is the realised effect of the people it kept
        pm = pseudo_index_match(p2, f2, enrolled, spec2).pairs
        tp = pm[pm["treated"] == 1]
        r, mi = tp["row"].to_numpy(), tp["month_index"].to_numpy()
        realised_pi = float((f2.window("emergency_admissions", mi, mi + 12, r)
                             - feat.window("emergency_admissions", mi, mi + 12, r)).mean())
        rows.append(_row(seed, check, "pseudo-index", did(pm, "emergency_admissions"), realised_pi))
        shutil.rmtree(folder)
    shutil.rmtree(base)
    return rows


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per check and design: mean estimate and truth, coverage and false positives with Monte-Carlo SEs."""
    summary = frame.groupby(["check", "design"]).agg(
        runs=("seed", "size"), mean_estimate=("estimate", "mean"), mean_truth=("truth", "mean"),
        mean_se=("se", "mean"), sd_estimate=("estimate", "std"),
        coverage=("covers", "mean"), false_positive_rate=("false_positive", "mean"),
        share_excluding_0=("excludes_zero", "mean"), mean_naive_relative_change=("naive_relative_change", "mean")).reset_index()
    n = summary["runs"]
    summary.insert(summary.columns.get_loc("coverage") + 1, "coverage_mcse",
                   np.sqrt(summary["coverage"] * (1 - summary["coverage"]) / n))
    fp = summary["false_positive_rate"]
    summary.insert(summary.columns.get_loc("false_positive_rate") + 1, "false_positive_mcse", np.sqrt(fp * (1 - fp) / n))
    null = summary["mean_truth"].eq(0) & summary["check"].str.contains("no scheme|effect 0.0")
    summary.loc[~null, ["false_positive_rate", "false_positive_mcse"]] = np.nan
    return summary.round(4)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=0.003)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "cohort_coverage")
    ap.add_argument("--resume", action="store_true", help="keep the seeds already in <out>.csv")
    args = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    t0 = time.perf_counter()
    rows_csv = args.out.with_suffix(".csv")
    rows_csv.parent.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(rows_csv) if args.resume and rows_csv.exists() else pd.DataFrame()
    seen = set(done["seed"]) if len(done) else set()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if seed in seen:
                continue
            got = pd.DataFrame(one_seed(seed, args.scale, Path(tmp)))
            done = pd.concat([done, got], ignore_index=True)
            done.to_csv(rows_csv, index=False)  # every seed kept at once: a stopped run resumes (--resume)
            print(f"seed {seed} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    frame = done[done["seed"].between(args.first_seed, args.first_seed + args.seeds - 1)]
    summary = summarise(frame)
    text = (f"Cohort design null checks: {frame['seed'].nunique()} seeds from {args.first_seed}, scale {args.scale} "
            f"(this call {time.perf_counter() - t0:.0f} s)\n"
            f"command: {' '.join(['.venv/bin/python', 'benchmarks/cohort_coverage.py', *sys.argv[1:]])}\n"
            "coverage: share of 95% intervals holding the truth (realised effect; 0 where there is no scheme); "
            "false_positive_rate: share excluding 0 where the truth is 0; *_mcse: Monte-Carlo SE sqrt(p(1-p)/runs)\n"
            + summary.to_string(index=False))
    print(text)
    args.out.with_suffix(".txt").write_text(text + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(
        {"seeds": int(frame["seed"].nunique()), "first_seed": args.first_seed, "scale": args.scale,
         "summary": json.loads(summary.to_json(orient="records"))}, indent=2) + "\n")


if __name__ == "__main__":
    main()
