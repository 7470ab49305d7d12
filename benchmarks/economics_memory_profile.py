"""Peak memory of the economics step's three large stages, one after the other in one process:
the risk model, the study cohort (enrolled and control pool) and the propensity matching.

The process's RSS is sampled every 50 ms; each stage prints its seconds, its peak and what stays
held after it. Run on a dataset a scale run kept (``scale_run.py --work``) and its protocol:

    .venv/bin/python benchmarks/economics_memory_profile.py /tmp/scale1/current-1.0/protocol.toml \
        /tmp/scale1/current-1.0/out/data [--skip-matching]
"""

import os
import sys
import threading
import time

from joinedup.data import open_dataset
from joinedup.economics.cohort import default_reference_date, programme_groups, study_cohort
from joinedup.economics.matching import matchit
from joinedup.economics.risk import risk_model
from joinedup.protocol import load_protocol

peak = {"mb": 0}


def rss_mb() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))


def _sample() -> None:
    while True:
        peak["mb"] = max(peak["mb"], rss_mb())
        time.sleep(0.05)


def stage(name, fn):
    peak["mb"] = rss_mb()
    t = time.perf_counter()
    out = fn()
    print(f"{name:14s} {time.perf_counter() - t:7.1f} s  peak {peak['mb']:6d} MB  after {rss_mb():6d} MB", flush=True)
    return out


if __name__ == "__main__":
    threading.Thread(target=_sample, daemon=True).start()
    spec = load_protocol(sys.argv[1]).economics
    ds = open_dataset(sys.argv[2])
    rm = stage("risk_model", lambda: risk_model(ds, default_reference_date(ds), spec.min_age))
    cohort = stage("study_cohort", lambda: study_cohort(ds, spec.min_age, spec.lookback_days, spec.followup_days,
                                                        seed=spec.seed, risk=rm))
    print(f"cohort rows {len(cohort):,}, enrolled {int(cohort['treated'].sum()):,}, "
          f"{cohort.memory_usage(deep=True).sum() // 2**20:,} MB in pandas", flush=True)
    if "--skip-matching" not in sys.argv:
        cohort["programme_group"] = cohort["area_code"].map(programme_groups(ds)).fillna("none")
        stage("matchit", lambda: matchit("treated ~ " + " + ".join(spec.covariates), cohort, distance=spec.distance,
                                         ratio=spec.ratio, replace=spec.replace, caliper=spec.caliper,
                                         exact=list(spec.exact) or None, mahvars=list(spec.mahvars) or None,
                                         link="linear.logit", seed=spec.seed))
