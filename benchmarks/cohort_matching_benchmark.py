"""Risk-set matching at scale: 25,000 enrolments over 24 monthly risk sets in a population of 1,000,000.

Workload (seeded, synthetic panel, no disk): 1,000,000 people with sex, age, LTCs, deprivation and
practice; 60 months of emergency admissions (Poisson with a gamma frailty and an age gradient), bed
days and A&E attendances. The scheme runs in 40% of practices; in each of months 24-47 about 1,042
people aged 65+ with an emergency admission the month before are enrolled (25,000 in all). The
eligibility rule is that trigger; controls come from the other practices. Each risk set is matched
1:1 with joinedup's ``matchit`` (logistic score on 12 monthly admissions, totals, risk, age, sex,
LTCs, deprivation; caliper 0.2 SD), then follow-up outcomes are read for every matched row.

Baselines in the same run:

1. the pseudo-index design (:func:`joinedup.cohort.pseudo.pseudo_index_match`, one ``matchit`` over
   every 65+ control with a random index month, 12-month totals): the design being replaced;
2. what users write for a risk set's history: a pandas ``groupby`` over the long table of admission
   events per month (counts per person in each of the 12 months before), timed on 3 risk sets and
   multiplied by 8 (labelled an extrapolation); joinedup reads the same windows from cumulative sums.

    .venv/bin/python benchmarks/cohort_matching_benchmark.py   # writes results/cohort_matching.json, .txt
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from joinedup.cohort.eligibility import parse_conditions  # noqa: E402
from joinedup.cohort.features import MonthFeatures  # noqa: E402
from joinedup.cohort.panel import NEVER_MONTH, Panel  # noqa: E402
from joinedup.cohort.pseudo import pseudo_index_match  # noqa: E402
from joinedup.cohort.riskset import RiskSetSpec, risk_set_match  # noqa: E402

RULE = [{"field": "age", "op": ">=", "value": 65},
        {"field": "emergency_admissions", "months": 1, "op": ">=", "value": 1},
        {"field": "practice_code", "op": "in_scheme"}]
RISK = pd.Series({"const": -3.0, "emergency_admissions": 0.5, "bed_days": 0.02, "ae_attendances": 0.2,
                  "age": 0.03, "male": 0.1, "ltc_count": 0.2})


def synthetic_panel(n: int, months: int, seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    birth = rng.integers(1915, 2012, n)
    age0 = 2012 - birth
    ltc = rng.poisson(np.clip((age0 - 30) / 20, 0.1, None)).clip(0, 12)
    frailty = rng.gamma(0.6, 1 / 0.6, n)
    rate = 0.0025 * np.exp(0.035 * np.clip(age0 - 40, 0, None)) * (1 + 0.3 * ltc) * frailty
    adm = rng.poisson(np.minimum(rate, 2.0)[:, None] * np.ones(months)).astype(np.int16)
    beds = adm.astype(np.int32) * rng.integers(1, 12, n, dtype=np.int32)[:, None]  # a length of stay per person
    ae = adm.copy()
    practice = rng.integers(0, 2000, n)
    death = np.where(rng.random(n) < 0.01 * np.clip(age0 - 60, 0, None) / 10, rng.integers(0, months, n), NEVER_MONTH)
    persons = pd.DataFrame({"sex": np.where(rng.random(n) < 0.5, "M", "F"), "birth_year": birth, "ltc_count": ltc,
                            "practice_code": np.char.add("P", practice.astype(str)), "area_code": practice // 20,
                            "imd_decile": rng.integers(1, 11, n), "death_month": death})
    return Panel(pd.Timestamp("2012-01-01"), np.arange(n, dtype=np.int64), adm, beds,
                 np.zeros((n, months), dtype=np.float32), ae, persons)


def enrol(panel: Panel, enrolments: int, first: int, months: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed + 1)
    practice = panel.persons["practice_code"].to_numpy()
    scheme = np.isin(practice, np.array([f"P{i}" for i in range(0, 2000, 5)] + [f"P{i}" for i in range(1, 2000, 5)]))
    birth = panel.persons["birth_year"].to_numpy()
    death = panel.persons["death_month"].to_numpy()
    taken = np.zeros(len(birth), bool)
    per_month = enrolments // months
    out = []
    for m in range(first, first + months):
        k = per_month + (1 if m - first < enrolments - per_month * months else 0)
        year = 2012 + m // 12
        hit = np.flatnonzero(scheme & (year - birth >= 65) & (panel.admissions[:, m - 1] > 0) & (death >= m) & ~taken)
        pick = rng.choice(hit, size=min(k, len(hit)), replace=False)
        taken[pick] = True
        out.append(pd.DataFrame({"person_id": pick, "enrolment_date": pd.Timestamp(year, m % 12 + 1, 1),
                                 "scheme": "bench", "site": "all"}))
    return pd.concat(out, ignore_index=True)


def pandas_history(events: pd.DataFrame, person_rows: np.ndarray, m: int, history: int) -> pd.DataFrame:
    """The baseline: monthly counts in the 12 months before m from the long event table, by groupby."""
    window = events[(events["month"] >= m - history) & (events["month"] < m) & events["person"].isin(person_rows)]
    counts = window.groupby(["person", "month"]).size().unstack(fill_value=0)
    return counts.reindex(index=person_rows, columns=range(m - history, m), fill_value=0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=1_000_000)
    ap.add_argument("--enrolments", type=int, default=25_000)
    ap.add_argument("--seed", type=int, default=2014)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "cohort_matching")
    args = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    t0 = time.perf_counter()
    panel = synthetic_panel(args.people, 60, args.seed)
    enrolled = enrol(panel, args.enrolments, 24, 24, args.seed)
    t_data = time.perf_counter() - t0
    spec = RiskSetSpec(conditions=parse_conditions(RULE))
    feat = MonthFeatures(panel, RISK)

    t0 = time.perf_counter()
    match = risk_set_match(panel, enrolled, spec, feat)
    t_riskset = time.perf_counter() - t0
    matched = int(match.pairs["treated"].sum())
    d = match.diagnostics

    t0 = time.perf_counter()
    pseudo = pseudo_index_match(panel, feat, enrolled, spec)
    t_pseudo = time.perf_counter() - t0

    rows, months = np.nonzero(panel.admissions)
    events = pd.DataFrame({"person": np.repeat(rows, panel.admissions[rows, months]),
                           "month": np.repeat(months, panel.admissions[rows, months])})
    sample = [24, 35, 47]
    t0 = time.perf_counter()
    for m in sample:
        cand = np.flatnonzero(feat.age(m) >= 65)
        pandas_history(events, cand, m, 12)
    t_pandas = (time.perf_counter() - t0) * 24 / len(sample)
    t0 = time.perf_counter()
    for m in sample:
        cand = np.flatnonzero(feat.age(m) >= 65)
        np.column_stack([feat.window("emergency_admissions", m - k, m - k + 1, cand) for k in range(1, 13)])
    t_cum = (time.perf_counter() - t0) * 24 / len(sample)

    result = {
        "workload": {"people": args.people, "months": 60, "risk_sets": int(len(d)), "enrolments": len(enrolled),
                     "candidates_per_set_mean": float(d["candidates"].mean()), "matched_enrolled": matched,
                     "seed": args.seed},
        "seconds": {"make_synthetic_data": round(t_data, 2), "risk_set_matching": round(t_riskset, 2),
                    "baseline_pseudo_index_design": round(t_pseudo, 2),
                    "history_24_sets_pandas_groupby_extrapolated_from_3": round(t_pandas, 2),
                    "history_24_sets_cumulative_sums_extrapolated_from_3": round(t_cum, 2)},
        "ratios": {"risk_set_over_pseudo_index": round(t_riskset / t_pseudo, 2),
                   "pandas_history_over_cumulative_sums": round(t_pandas / max(t_cum, 1e-9), 1)},
        "target": "risk-set matching under 60 s", "met": t_riskset < 60,
        "pseudo_index_matched": int(pseudo.pairs["treated"].sum()),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
    }
    text = "\n".join([
        f"Risk-set matching: {len(enrolled):,} enrolments over {len(d)} monthly risk sets, {args.people:,} people",
        f"  mean eligible candidates per risk set: {d['candidates'].mean():,.0f}; enrolled matched: {matched:,}",
        f"  risk-set matching (eligibility, features, 24 matchit fits, outcomes): {t_riskset:.1f} s "
        f"(target < 60 s: {'met' if t_riskset < 60 else 'NOT met'})",
        f"  baseline, pseudo-index design (one matchit on {len(pseudo.pairs):,} matched rows): {t_pseudo:.1f} s; "
        f"ratio {t_riskset / t_pseudo:.2f}",
        f"  monthly histories of the 65+ for 24 sets: pandas groupby {t_pandas:.1f} s (extrapolated from 3) vs "
        f"cumulative sums {t_cum:.2f} s (extrapolated from 3): ratio {t_pandas / max(t_cum, 1e-9):.1f}",
        f"  synthetic data: {t_data:.1f} s; machine: {platform.platform()}, {os.cpu_count()} CPUs",
    ])
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    args.out.with_suffix(".txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
