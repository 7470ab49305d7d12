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

``--design practice-closures``: the simulator's practice-level programme (emergency admissions
-15% in the programme practices, ramped), 10% of all practices closing part-way through
(:mod:`joinedup.simulate.practice_closures`), the impact step run as ``joinedup run`` would with
``[impact] unbalanced = "available"`` (TWFE on the rows that exist; Callaway & Sant'Anna as R did's
``allow_unbalanced_panel``); coverage of the programmed effect that the step sets beside each
estimate. ``--design rcs-survey``: a repeated-cross-section experience survey on simulated
England's areas (:mod:`joinedup.simulate.experience_survey`; programmed ATT +5 points, or 0 with
``--effect 0``), Callaway & Sant'Anna with ``panel=False`` (DRDID's ``drdid_rc``), with and without
the age and sex factor covariates that make parallel trends hold.

    .venv/bin/python benchmarks/impact_coverage.py --design practice-closures --seeds 60 \\
        --out benchmarks/results/impact_coverage_practice_closures.json
    .venv/bin/python benchmarks/impact_coverage.py --design rcs-survey --seeds 500 \\
        --out benchmarks/results/impact_coverage_rcs_survey.json

``--design honest`` and ``--design subgroups``: HonestDiD robust sets under programmed violations of
parallel trends, and subgroup TWFE and Callaway & Sant'Anna with the Wald tests of equal effects
(benchmarks/coverage_robust.py); ``--difference D`` gives subgroup 1 an effect D larger (power).
``--design subgroups-sdid-four``: synthetic DiD and the four-group design by deprivation quintile
with their joint tests of equal effects (benchmarks/coverage_subgroups_synth.py; ``--replications``
placebo draws for the SDID covariance; ``--wild-draws B`` adds the wild bootstrap references of the
SDID tests). ``--design subgroups-sc``: synthetic control per site by quintile (``--sc-methods synth
ascm``) with the placebo-in-space test of equal effects, on the same draws (summaries by site and
family-wise: benchmarks/subgroups_sc_summary.py).

Every .txt starts with the command, the commit, the date and the machine's load when the run began.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
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


def one_seed_practice(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float) -> list[dict]:
    """One seed of the practice-level programme with closing practices (module docstring)."""
    from joinedup.data import load_dataset
    from joinedup.impact.evaluate import run_impact
    from joinedup.impact.truth import load_truth
    from joinedup.protocol import Impact
    from joinedup.simulate import simulate
    from joinedup.simulate.practice_closures import close_practices, simulated_practice_programme
    from joinedup.simulate.scenario import Scenario

    folder = Path(tempfile.mkdtemp(prefix=f"joinedup-practice-{seed}-")) / "data"
    try:
        simulate(folder, scale=scale, seed=seed, years=years,
                 scenario=Scenario(name="practice", practice_effect=effect))
        closed = close_practices(folder, share=0.1, seed=seed)
        ds, truth = load_dataset(folder), load_truth(folder)
        spec = Impact(baseline=(f"{years[0]}-01-01", f"{years[0] + 2}-03-31"), biters=biters, seed=seed,
                      scale="rate", synthetic_control=False, four_groups=False, unbalanced="available")
        result = run_impact(ds, None, spec, truth=truth, programme=simulated_practice_programme(ds, truth))
        est = result.tables["impact_estimates"]
        est = est[est["programmed"].notna()]
        return [{"seed": seed, "design": r.design, "estimator": r.estimator, "estimand": r.estimand,
                 "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
                 "target": r.programmed, "closed_practices": len(closed)} for r in est.itertuples()]
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


_AREAS: dict = {}


def one_seed_survey(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float) -> list[dict]:
    """One seed of the repeated-cross-section survey: a fresh survey on one simulated England."""
    from joinedup.data import load_dataset
    from joinedup.impact.did import att_gt
    from joinedup.simulate import simulate
    from joinedup.simulate.experience_survey import experience_survey, programme_areas

    if (scale, years) not in _AREAS:  # the areas and start dates; the survey is what varies by seed
        folder = Path(tempfile.mkdtemp(prefix="joinedup-survey-")) / "data"
        simulate(folder, scale=scale, seed=1, years=years)
        _AREAS[(scale, years)] = programme_areas(load_dataset(folder))
        shutil.rmtree(folder.parent, ignore_errors=True)
    survey = experience_survey(_AREAS[(scale, years)], seed=seed, effect=effect, years=years)
    rows = []
    for label, xformla in (("no covariates", None), ("age group and sex (factors)", "~ age_group + sex")):
        res = att_gt(survey, yname="named_contact", tname="year", idname=None, gname="first_treated",
                     xformla=xformla, panel=False, est_method="dr", bstrap=False, cband=False)
        agg = res.aggregate("simple")
        lo, hi = agg.overall_att - 1.959963984540054 * agg.overall_se, agg.overall_att + 1.959963984540054 * agg.overall_se
        rows.append({"seed": seed, "design": f"experience survey, {label}", "estimator": "Callaway & Sant'Anna "
                     "(drdid_rc, panel=False)", "estimand": "overall ATT (simple)", "estimate": agg.overall_att,
                     "ci_low": lo, "ci_high": hi, "p_value": float(2 * stats.norm.sf(abs(agg.overall_att / agg.overall_se))),
                     "target": effect})
    return rows


def _binomial_ci(k: int, n: int) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    return float(ci.low), float(ci.high)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (design, estimator, estimand), g in frame.groupby(["design", "estimator", "estimand"], sort=False):
        n = len(g)
        target = g["target"] if "target" in g.columns else 0.0  # the null scenario's truth is 0
        covered = int(((g["ci_low"] <= target) & (g["ci_high"] >= target)).sum())
        rejected = int((g["p_value"] < 0.05).sum())
        rows.append({"design": design, "estimator": estimator, "estimand": estimand, "seeds": n,
                     "coverage": covered / n, "coverage_ci": _binomial_ci(covered, n),
                     "false_positive_rate": rejected / n, "fpr_ci": _binomial_ci(rejected, n),
                     "mean_estimate": float(g["estimate"].mean()), "sd_estimate": float(g["estimate"].std()),
                     "mean_target": float(target.mean()) if isinstance(target, pd.Series) else 0.0})
    return pd.DataFrame(rows)


def provenance() -> list[str]:
    """The command, commit, date and machine load of this run: the .txt's first lines."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [f"command: python {shlex.join(['benchmarks/' + Path(sys.argv[0]).name, *sys.argv[1:]])}",
            (f"commit: {commit}; date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; machine: {platform.node()}, "
             f"{os.cpu_count()} CPUs, load average at start {load} (1, 5, 15 min)"), ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=0.004)
    parser.add_argument("--years", type=int, nargs=2, default=(2010, 2016))
    parser.add_argument("--biters", type=int, default=999)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/impact_coverage.json"))
    parser.add_argument("--design", choices=["null-areas", "practice-closures", "rcs-survey", "ascm-conformal",
                                             "honest", "subgroups", "subgroups-sdid-four", "subgroups-sc"],
                        default="null-areas")
    parser.add_argument("--violation-size", type=float, default=0.02,
                        help="honest: the programmed violation of parallel trends per period (log scale)")
    parser.add_argument("--difference", type=float, default=0.0,
                        help="subgroups: subgroup 1's effect minus the others' (log scale; 0 = equal effects)")
    parser.add_argument("--replications", type=int, default=200,
                        help="subgroups-sdid-four: placebo replications of the joint SDID covariance "
                             "(the module's default 200)")
    parser.add_argument("--sdid-covariance", choices=["jackknife", "placebo"], default="jackknife",
                        help="subgroups-sdid-four: the joint SDID covariance (the module's default jackknife)")
    parser.add_argument("--wild-draws", type=int, default=0,
                        help="subgroups-sdid-four: B of the wild bootstrap references of the SDID tests "
                             "(subgroups_sdid_wild, WCR and WCU; 0: not run)")
    parser.add_argument("--wave1-sites", type=int, default=None,
                        help="subgroups-sdid-four: keep only this many wave-1 sites (by unit id) in the SDID "
                             "panels and skip the four-group design (the wild reference's size by site count)")
    parser.add_argument("--rho", type=float, nargs="+", default=[0.0, 0.5],
                        help="subgroups-sdid-four: shares of residual variance the groups of an area share")
    parser.add_argument("--sc-methods", nargs="+", choices=["synth", "ascm"], default=["synth"],
                        help="subgroups-sc: synthetic control and/or ridge ASCM per site by quintile")
    parser.add_argument("--sc-scaled", action="store_true",
                        help="subgroups-sc: also the scaled statistics (noise-weighted H_s, and H_s with each "
                             "unit's own noise only) and H and H_s on demeaned effects (post-start mean gap less "
                             "pre-start mean gap), from the same fits as the raw H")
    parser.add_argument("--noise", "--sc-noise", dest="sc_noise", choices=["pattern", "iid", "swap"],
                        default="pattern",
                        help="subgroups-sc and subgroups-sdid-four: 'pattern' (default) rescales each unit's "
                             "realised residuals by a "
                             "random weight; 'iid' draws new normal noise every year at each unit's residual "
                             "level; 'swap' gives each unit another unit's realised residuals, rescaled to its "
                             "own level, then weights them as 'pattern'")
    parser.add_argument("--effect", type=float, default=None,
                        help="programmed effect (practice-closures: relative, default -0.15; rcs-survey: "
                             "points on the probability scale, default 0.05)")
    args = parser.parse_args()
    if args.design == "practice-closures":
        effect = -0.15 if args.effect is None else args.effect
        job, extra, what = one_seed_practice, (effect,), (
            f"practice-level programme (programmed {effect:+.0%} on emergency admissions), 10% of practices "
            "closing part-way, [impact] unbalanced = \"available\"; coverage of the programmed effect")
    elif args.design == "rcs-survey":
        effect = 0.05 if args.effect is None else args.effect
        job, extra, what = one_seed_survey, (effect,), (
            f"repeated-cross-section experience survey (programmed ATT {effect:+.2f}, probability scale); "
            "coverage of the programmed ATT")
    elif args.design == "ascm-conformal":  # benchmarks/impact_coverage_ascm.py
        from impact_coverage_ascm import one_seed_ascm
        effect = 1.0 if args.effect is None else args.effect  # any non-zero: the programmed effect
        job, extra, what = one_seed_ascm, (effect,), (
            "ridge ASCM and synthetic control per site with conformal constant-effect intervals; "
            + ("null scenario" if effect == 0 else "coverage of each site's programmed effect"))
    elif args.design in ("honest", "subgroups"):  # benchmarks/coverage_robust.py
        from coverage_robust import robust_job

        job, extra, what = robust_job(args)
    elif args.design == "subgroups-sdid-four":  # benchmarks/coverage_subgroups_synth.py
        from coverage_subgroups_synth import synth_job

        job, extra, what = synth_job(args)
    elif args.design == "subgroups-sc":  # benchmarks/coverage_subgroups_synth.py, synthetic control per site
        from coverage_subgroups_synth import sc_job

        job, extra, what = sc_job(args)
    else:
        job, extra, what = one_seed, (), "null scenario (no programme effect)"
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    header = provenance()
    start = time.perf_counter()
    rows: list[dict] = []
    with ProcessPoolExecutor(args.workers) as pool:
        futures = [pool.submit(job, s, args.scale, tuple(args.years), args.biters, *extra) for s in seeds]
        for i, fut in enumerate(futures, 1):
            rows += fut.result()
            if i % 10 == 0:
                print(f"  {i}/{len(seeds)} seeds, {time.perf_counter() - start:.0f} s", flush=True)
    frame = pd.DataFrame(rows)
    summary = summarise(frame)
    elapsed = time.perf_counter() - start
    width = max(72, *(len(r.estimator + ", " + r.design) for r in summary.itertuples()))
    lines = [f"Impact estimators on simulated England, {what}: {len(seeds)} seeds "
             f"({seeds[0]}-{seeds[-1]}), scale {args.scale}, years {args.years[0]}-{args.years[1]}, "
             f"{args.biters} bootstrap draws; {elapsed:.0f} s", "",
             f"{'estimator':<{width}} {'estimand':<22} {'coverage of 95% CI':>26} {'false positives':>24}"]
    for r in summary.itertuples():
        cov = f"{r.coverage:6.1%} ({r.coverage_ci[0]:.1%}-{r.coverage_ci[1]:.1%})"
        fpr = f"{r.false_positive_rate:6.1%} ({r.fpr_ci[0]:.1%}-{r.fpr_ci[1]:.1%})"
        lines.append(f"{r.estimator + ', ' + r.design:<{width}} {r.estimand:<22} {cov:>26} {fpr:>24}")
    lines.append("expected: coverage about 95%; 'false positives' is the share with p < 0.05, about 5% only where "
                 "the programmed effect is 0 (binomial 95% intervals in brackets)")
    if args.design != "null-areas":
        lines.append("mean estimate vs mean programmed: " + "; ".join(
            f"{r.estimator}, {r.design}: {r.mean_estimate:.4f} vs {r.mean_target:.4f}" for r in summary.itertuples()))
    text = "\n".join(header + lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    args.out.write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                                    "seconds": elapsed, "summary": summary.to_dict(orient="records")}, indent=2,
                                   default=float), encoding="utf-8")


if __name__ == "__main__":
    main()
