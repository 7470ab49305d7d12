"""Synthetic control: joinedup against pysyncon, side by side in one run.

(a) One Proposition 99 fit with the ADH 2010 specification (smoking_adh2010.csv: lnincome,
    retprice, age15to24 over 1980-88, beer 1984-88, cigsale 1975/1980/1988; V chosen on 1970-88).
    pysyncon runs its default (Nelder-Mead from equal V, SLSQP inner solver) once.
(b) Placebo-in-space for 25 treated areas in a simulated panel of 150 areas x 40 quarters (seeded;
    two waves like the Pioneers: 14 areas from quarter 16, 11 from quarter 21; 125 never-treated
    donors). Per treated area: its own fit plus one placebo fit per donor (125), so 25 x 126 = 3,150
    fits for a tool without sharing.
    (b1) outcome-only (every pre quarter matched, V = identity);
    (b2) nested V on predictors (three area covariates and the outcome in four pre quarters).

Checks before timings count: at the same V both tools must give the same donor weights (max abs
difference reported, target 1e-3) and, for the nested fits, joinedup's pre-period MSPE must not be
above pysyncon's. pysyncon's full workloads would take hours (b1) to weeks (b2). In (b1) it is timed
on a subset of fits (``--pysyncon-b1-fits``) and the mean time per fit is multiplied by the number of
fits; in (b2) one fit runs with Nelder-Mead capped (``--pysyncon-b2-maxiter``) to compare losses, and
a full fit is priced as 1000 inner solves (its Nelder-Mead maxiter) x the time of one: a lower bound.
Every such number is labelled an extrapolation. joinedup runs every fit (b1) or every fit that a shared
placebo set needs (b2, see below), single process unless ``--jobs``.

    .venv/bin/python benchmarks/impact_synth_benchmark.py            # writes results/impact_synth.*
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXT = Path(__file__).resolve().parents[1] / "tests" / "data" / "external"
ADH_SPECIAL = [("lnincome", range(1980, 1989)), ("retprice", range(1980, 1989)),
               ("age15to24", range(1980, 1989)), ("beer", range(1984, 1989)),
               ("cigsale", [1975]), ("cigsale", [1980]), ("cigsale", [1988])]
COVARIATES = ["age65", "deprivation", "ltc"]


# --- data ---------------------------------------------------------------------------------------------


def simulate_panel(seed: int = 2013, n_areas: int = 150, quarters: int = 40) -> tuple[pd.DataFrame, dict]:
    """Emergency admissions per 1,000 a month (about 7.5-7.9), two factors, 25 treated areas."""
    rng = np.random.default_rng(seed)
    t = np.arange(quarters)
    factors = np.column_stack([t / quarters, np.sin(2 * np.pi * t / 4), rng.normal(0, 1, quarters).cumsum() / 6])
    load = rng.normal(0, 1, size=(n_areas, 3)) * [0.6, 0.08, 0.15]
    level = rng.normal(7.7, 0.25, size=n_areas)
    y = level[:, None] + load @ factors.T + rng.normal(0, 0.06, size=(n_areas, quarters))
    areas = [f"A{i:03d}" for i in range(n_areas)]
    treated = rng.choice(n_areas, size=25, replace=False)
    start = {areas[i]: (16 if k < 14 else 21) for k, i in enumerate(treated)}
    for i in treated:
        y[i, start[areas[i]]:] -= 0.15           # the programme lowers admissions a little
    cov = {"age65": 0.18 + 0.03 * load[:, 0] + rng.normal(0, 0.005, n_areas),
           "deprivation": 20 + 6 * load[:, 2] / 0.15 + rng.normal(0, 1, n_areas),
           "ltc": 0.25 + 0.02 * level - 0.1 + rng.normal(0, 0.005, n_areas)}
    frame = pd.DataFrame({"area": np.repeat(areas, quarters), "quarter": np.tile(t + 1, n_areas),
                          "admissions": y.ravel()})
    for name, values in cov.items():
        frame[name] = np.repeat(values, quarters) + rng.normal(0, 0.001, n_areas * quarters)
    return frame, {a: s + 1 for a, s in start.items()}   # quarters are numbered from 1


# --- pysyncon -----------------------------------------------------------------------------------------


def pysyncon_fit(X0: pd.DataFrame, X1: pd.Series, Z0: pd.DataFrame, Z1: pd.Series, custom_V=None,
                 maxiter: int = 1000):
    from pysyncon import Synth

    s = Synth()
    s.fit(X0=X0, X1=X1, Z0=Z0, Z1=Z1, custom_V=custom_V, optim_options={"maxiter": maxiter})
    return s


def matrices(frame, treated, donors, start, spec):
    """X0/X1 (raw predictors) and Z0/Z1 (pre-period outcome) as pysyncon takes them."""
    wide = frame.pivot(index="quarter", columns="area", values="admissions")
    pre = wide.loc[wide.index < start]
    if spec == "outcome":
        X = pre.copy()
    else:
        means = frame[frame["quarter"] < start].groupby("area")[COVARIATES].mean().T
        X = pd.concat([means, pre.iloc[[0, 4, 9, len(pre) - 1]]])
        X.index = [str(i) for i in X.index]
    return X[donors], X[treated], pre[donors], pre[treated]


def outcome_custom_v(X0, X1):
    """pysyncon always divides predictors by their SD; V = SD^2 turns that back into raw outcomes."""
    return (pd.concat([X0, X1], axis=1).std(axis=1) ** 2).to_numpy()


# --- joinedup -----------------------------------------------------------------------------------------


def nested_kwargs(start):
    pre = list(range(1, start))
    return dict(predictors=COVARIATES, special_predictors=[("admissions", q) for q in
                                                           (pre[0], pre[4], pre[9], pre[-1])])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(HERE / "results" / "impact_synth.json"))
    ap.add_argument("--pysyncon-b1-fits", type=int, default=6, help="pysyncon fits timed in (b1)")
    ap.add_argument("--pysyncon-b2-maxiter", type=int, default=10,
                    help="Nelder-Mead iterations allowed to pysyncon's one timed (b2) fit")
    ap.add_argument("--jobs", type=int, default=1, help="joinedup worker processes in (b)")
    args = ap.parse_args()

    from joinedup.impact import placebo_in_space, synth
    from joinedup.impact.synthetic.fit import SynthOptions, fit_columns
    from joinedup.impact.synthetic._prep import prepare

    out: dict = {"machine": machine(), "load_at_start": os.getloadavg()[0]}
    lines: list[str] = []

    # (a) one ADH fit --------------------------------------------------------------------------------
    smoking = pd.read_csv(EXT / "smoking_adh2010.csv")
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        ours = synth(smoking, "state", "year", "cigsale", "California", 1989,
                     special_predictors=ADH_SPECIAL, time_optimize_ssr=range(1970, 1989))
        runs.append(time.perf_counter() - t0)
    from pysyncon import Dataprep, Synth

    donors = sorted(u for u in smoking["state"].unique() if u != "California")
    dp = Dataprep(foo=smoking, predictors=[], predictors_op="mean",
                  time_predictors_prior=range(1980, 1989),
                  special_predictors=[(c, p, "mean") for c, p in ADH_SPECIAL],
                  dependent="cigsale", unit_variable="state", time_variable="year",
                  treatment_identifier="California", controls_identifier=donors,
                  time_optimize_ssr=range(1970, 1989))
    t0 = time.perf_counter()
    theirs = Synth()
    theirs.fit(dataprep=dp)                      # pysyncon's defaults: Nelder-Mead from equal V
    t_py = time.perf_counter() - t0
    w_py = pd.Series(theirs.W, index=theirs.W_names)
    # the inner problem at pysyncon's own V, solved by joinedup
    at_their_v = synth(smoking, "state", "year", "cigsale", "California", 1989,
                       special_predictors=ADH_SPECIAL, time_optimize_ssr=range(1970, 1989),
                       v=theirs.V)
    same_v_diff = float((at_their_v.weights - w_py.reindex(at_their_v.weights.index)).abs().max())
    a = {"joinedup_seconds": min(runs), "joinedup_runs": runs, "pysyncon_seconds": t_py,
         "ratio": t_py / min(runs), "joinedup_loss_v": ours.loss_v, "pysyncon_loss_v": theirs.loss_V,
         "joinedup_weights": ours.weights[ours.weights > 1e-4].round(4).to_dict(),
         "pysyncon_weights": w_py[w_py > 1e-4].round(4).to_dict(),
         "same_v_max_weight_diff": same_v_diff,
         "same_v_loss_v": [at_their_v.loss_v, theirs.loss_V]}
    out["a_prop99_adh"] = a

    # (b) placebo-in-space, 25 treated areas ------------------------------------------------------------
    frame, starts = simulate_panel()
    treated = list(starts)
    pool = sorted(set(frame["area"]) - set(treated))
    b: dict = {}
    for spec in ("outcome", "nested"):
        kw = {"v": "outcome"} if spec == "outcome" else {}
        t0 = time.perf_counter()
        if spec == "outcome":
            res = placebo_in_space(frame, "area", "quarter", "admissions", treated, starts,
                                   donors=pool, n_jobs=args.jobs, **kw)
        else:
            res = {}
            for when in sorted(set(starts.values())):
                group = [u for u in treated if starts[u] == when]
                res.update(placebo_in_space(frame, "area", "quarter", "admissions", group, when,
                                            donors=pool, n_jobs=args.jobs, **nested_kwargs(when)))
        t_shared = time.perf_counter() - t0
        n_fits_shared = len(treated) + len(pool) * len(set(starts.values()))
        per_fit = t_shared / n_fits_shared
        # pysyncon on a subset of the same fits: the first treated area's own fit and its placebos
        first = treated[0]
        when = starts[first]
        fits = [(first, pool)] + [(d, [u for u in pool if u != d]) for d in pool]
        n_py = args.pysyncon_b1_fits if spec == "outcome" else 1
        diffs, loss_gaps, t_py_fits = [], [], []
        prep = prepare(frame, "area", "quarter", "admissions", first, when, pool,
                       None if spec == "outcome" else COVARIATES,
                       None if spec == "outcome" else nested_kwargs(when)["special_predictors"],
                       "mean", None, None, scale=spec != "outcome", outcome_only=spec == "outcome")
        col = {u: i for i, u in enumerate(prep.units)}
        for unit_, dons in fits[:n_py]:
            X0, X1, Z0, Z1 = matrices(frame, unit_, dons, when, spec)
            t1 = time.perf_counter()
            if spec == "outcome":
                s = pysyncon_fit(X0, X1, Z0, Z1, outcome_custom_v(X0, X1))
            else:   # capped: its full Nelder-Mead (maxiter 1000) would take hours a fit
                s = pysyncon_fit(X0, X1, Z0, Z1, maxiter=args.pysyncon_b2_maxiter)
            t_py_fits.append(time.perf_counter() - t1)
            if spec == "nested":   # one inner solve, to price an outer evaluation
                t2 = time.perf_counter()
                pysyncon_fit(X0, X1, Z0, Z1, np.ones(len(X1)))
                one_eval = time.perf_counter() - t2
            ref = res[first].treated_fit if unit_ == first else next(
                f for f in res[first].placebo_fits if f.treated_unit == unit_)
            # same V: joinedup's inner solver at pysyncon's V against pysyncon's weights
            v = np.ones(len(X1)) if spec == "outcome" else s.V
            same = fit_columns(prep, col[unit_], np.array([col[d] for d in dons]),
                               SynthOptions("outcome" if spec == "outcome" else v))
            diffs.append(float(np.abs(same.weights.reindex(dons).to_numpy() - s.W).max()))
            loss_gaps.append(ref.loss_v - s.loss_V)
        py_per_fit = float(np.mean(t_py_fits))
        total_fits = len(treated) * (1 + len(pool))
        if spec == "nested":
            # pysyncon's default outer search is Nelder-Mead with maxiter 1000: at least 1000 inner
            # solves; a lower bound on a full fit, not a measurement
            py_per_fit = 1000 * one_eval
            b["nested_pysyncon_capped"] = {"maxiter": args.pysyncon_b2_maxiter,
                                           "seconds": float(t_py_fits[0]), "loss_v": s.loss_V,
                                           "joinedup_loss_v": ref.loss_v,
                                           "one_inner_solve_seconds": one_eval}
        b[spec] = {"joinedup_seconds_shared": t_shared, "joinedup_fits_shared": n_fits_shared,
                   "joinedup_seconds_per_fit": per_fit,
                   "joinedup_seconds_all_fits_equivalent": per_fit * total_fits,
                   "pysyncon_fits_timed": len(t_py_fits) if spec == "outcome" else 0,
                   "pysyncon_seconds_timed": float(np.sum(t_py_fits)),
                   "pysyncon_seconds_per_fit": py_per_fit,
                   "pysyncon_seconds_all_fits_EXTRAPOLATED": py_per_fit * total_fits,
                   "fits_without_sharing": total_fits,
                   "ratio_per_fit": py_per_fit / per_fit,
                   "ratio_end_to_end_EXTRAPOLATED": py_per_fit * total_fits / t_shared,
                   "same_v_max_weight_diff": max(diffs),
                   "joinedup_minus_pysyncon_loss_v": loss_gaps,
                   "treated_ranks": {u: res[u].rank for u in treated},
                   "treated_att_mean": float(np.mean([res[u].treated_fit.att for u in treated]))}
        print(spec, json.dumps(b[spec], default=str)[:600], flush=True)
    out["b_placebo_25_areas"] = b
    out["load_at_end"] = os.getloadavg()[0]

    lines += report(out)
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, default=str))
    path.with_suffix(".txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def report(o: dict) -> list[str]:
    a, b = o["a_prop99_adh"], o["b_placebo_25_areas"]
    m = o["machine"]
    lines = [f"Synthetic control: joinedup against pysyncon {m['pysyncon']}",
             f"machine: {m['cpu']}, {m['cpus']} CPUs; Python {m['python']}; numpy {m['numpy']}, "
             f"scipy {m['scipy']}, pandas {m['pandas']}",
             f"load average (1 min): {o['load_at_start']:.2f} at start, {o['load_at_end']:.2f} at end",
             "",
             "(a) Proposition 99, ADH 2010 specification, one fit",
             f"  joinedup  {a['joinedup_seconds']:8.2f} s (best of 3: {', '.join(f'{r:.2f}' for r in a['joinedup_runs'])})"
             f"  pre-period MSPE {a['joinedup_loss_v']:.4f}  weights {a['joinedup_weights']}",
             f"  pysyncon  {a['pysyncon_seconds']:8.2f} s  pre-period MSPE {a['pysyncon_loss_v']:.4f}  "
             f"weights {a['pysyncon_weights']}",
             f"  pysyncon / joinedup = {a['ratio']:.1f}x",
             f"  check: at pysyncon's V, joinedup's weights differ from pysyncon's by at most "
             f"{a['same_v_max_weight_diff']:.2e} (MSPE {a['same_v_loss_v'][0]:.6f} vs "
             f"{a['same_v_loss_v'][1]:.6f}); joinedup's own V reaches a "
             f"{'lower' if a['joinedup_loss_v'] < a['pysyncon_loss_v'] else 'higher'} MSPE",
             ""]
    for spec, title in (("outcome", "(b1) outcome-only"), ("nested", "(b2) nested V on predictors")):
        r = b[spec]
        if spec == "nested":
            c = b["nested_pysyncon_capped"]
            py_line = (f"  pysyncon  one fit capped at {c['maxiter']} Nelder-Mead iterations: "
                       f"{c['seconds']:.1f} s, MSPE {c['loss_v']:.6f} (joinedup, uncapped: "
                       f"{c['joinedup_loss_v']:.6f}); one inner solve {c['one_inner_solve_seconds']:.2f} s, "
                       f"so a full fit (>= 1000 solves) is EXTRAPOLATED at >= "
                       f"{r['pysyncon_seconds_per_fit']:.0f} s and {r['fits_without_sharing']} fits at >= "
                       f"{r['pysyncon_seconds_all_fits_EXTRAPOLATED'] / 3600:.0f} h")
        else:
            py_line = (f"  pysyncon  {r['pysyncon_seconds_per_fit'] * 1e3:8.1f} ms a fit, timed on "
                       f"{r['pysyncon_fits_timed']} fits ({r['pysyncon_seconds_timed']:.1f} s); EXTRAPOLATED "
                       f"to {r['fits_without_sharing']} fits: "
                       f"{r['pysyncon_seconds_all_fits_EXTRAPOLATED']:.0f} s")
        lines += [f"{title}: placebo-in-space for 25 treated areas, 125 donors, 40 quarters",
                  f"  joinedup  {r['joinedup_seconds_shared']:8.2f} s for {r['joinedup_fits_shared']} fits "
                  f"(placebo sets shared per wave); {r['joinedup_seconds_per_fit'] * 1e3:.2f} ms a fit, "
                  f"{r['joinedup_seconds_all_fits_equivalent']:.1f} s for all {r['fits_without_sharing']} fits",
                  py_line,
                  f"  pysyncon / joinedup per fit = {r['ratio_per_fit']:.1f}x"
                  f"{' (EXTRAPOLATED lower bound)' if spec == 'nested' else ' (measured per fit)'}; "
                  f"end to end (EXTRAPOLATED pysyncon) = {r['ratio_end_to_end_EXTRAPOLATED']:.0f}x",
                  f"  check: same V, max weight difference {r['same_v_max_weight_diff']:.2e}; joinedup MSPE "
                  f"minus pysyncon's on the compared fits: "
                  f"{', '.join(f'{x:+.2e}' for x in r['joinedup_minus_pysyncon_loss_v'][:6])}"
                  f"{' ...' if len(r['joinedup_minus_pysyncon_loss_v']) > 6 else ''}",
                  f"  treated areas ranked first: {sum(v == 1 for v in r['treated_ranks'].values())} of 25; "
                  f"mean ATT {r['treated_att_mean']:+.3f} (true -0.150)", ""]
    return lines


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cpus": os.cpu_count(), "python": platform.python_version(),
            **{p: metadata.version(p) for p in ("numpy", "scipy", "pandas", "pysyncon")},
            "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())
