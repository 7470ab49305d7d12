"""HonestDiD and subgroup modes of benchmarks/impact_coverage.py (``--design honest`` and
``--design subgroups``), kept in their own module so other modes can be added beside them.

Both resample one simulated England (null scenario, built once): the wave-1 quarterly panel of
emergency admissions exactly as ``joinedup run`` builds it (``outcome_panel``), split into two-way
fixed effects (area + quarter) and residuals. Each seed draws a new outcome

    y* = area + quarter effects + programmed effect + programmed violation + v_i * residual_it,

with ``v_i`` a standard normal weight per area (a wild cluster draw: each area keeps its own serial
correlation and heteroskedasticity, as simulated). The programmed effect is ``--effect`` in every
period after the start (log scale).

* ``honest``: the wave-1 event study (window -8..16, as the pipeline) then
  :func:`joinedup.impact.honest.main_design.honest_table`'s inputs; coverage of the first
  post-period effect by the original interval, the smoothness FLCI at M = 0 and the relative-
  magnitudes C-LF set at Mbar = 1, under three violations ``delta(e)`` of parallel trends for the
  treated areas (e = period relative to the start, 0 at e = -1): ``none``; ``linear``
  (``size * (e + 1)``, a pre-trend that continues: in Delta^SD(0) and in Delta^RM(1)); ``bounded``
  (a step of ``size`` between e = -5 and -4 and another between -1 and 0: the post change equals
  the largest pre change, so it is in Delta^RM(1) but not Delta^SD(0)).
* ``subgroups``: five subgroups (as deprivation quintiles) each get their own draw of the outcome
  with the same programmed effect (the null of equal effects); wave-1 TWFE DiD per subgroup
  (cluster-robust, as :func:`joinedup.impact.subgroups.subgroup_effects` fits each group) and the
  Wald test of equal effects (:func:`joinedup.impact.subgroups.wald_equal_effects`). ``rho`` is the
  share of residual variance that the subgroups of an area share (area-level shocks common to
  every group): 0 (independent groups) and 0.5.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

_PANEL: dict[tuple, pd.DataFrame] = {}
Z = 1.959963984540054


def wave1_panel(scale: float, years: tuple[int, int]) -> pd.DataFrame:
    """Simulated England's wave-1 quarterly panel (null scenario, seed 1), with ``fit`` and ``resid``."""
    key = (scale, years)
    if key in _PANEL:
        return _PANEL[key]
    from joinedup.data import open_dataset
    from joinedup.impact.evaluate import outcome_panel
    from joinedup.indicators import compute_indicators
    from joinedup.protocol import Impact
    from joinedup.simulate import simulate

    folder = Path(tempfile.mkdtemp(prefix="joinedup-robust-"))
    try:
        simulate(folder, scale=scale, seed=1, years=years, scenario="null")
        ds = open_dataset(folder)
        spec = Impact(synthetic_control=False)
        panel = outcome_panel(ds, compute_indicators(ds, [spec.outcome], [spec.period]), spec)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    wave1 = panel[(panel["wave"].fillna(0) == 1) | ~panel["treated"]].copy()
    y, area, quarter = wave1["y"].to_numpy(), wave1["area_code"].to_numpy(), wave1["t"].to_numpy()
    a, q = np.zeros(len(y)), np.zeros(len(y))
    for _ in range(500):  # alternating projections: the two-way (area + quarter) fixed-effects fit
        a = pd.Series(y - q).groupby(area).transform("mean").to_numpy()
        q_new = pd.Series(y - a).groupby(quarter).transform("mean").to_numpy()
        done = np.abs(q_new - q).max() < 1e-12
        q = q_new
        if done:
            break
    fit = a + q
    wave1["fit"], wave1["resid"] = fit, y - fit
    wave1["rel"] = np.where(wave1["first_treated"] > 0, wave1["t"] - wave1["first_treated"], 0)
    _PANEL[key] = wave1
    return wave1


def _violation(kind: str, rel: np.ndarray, size: float) -> np.ndarray:
    rel = np.clip(rel, -8, 16)  # the event study bins periods beyond its window into the ends
    if kind == "none":
        return np.zeros(len(rel))
    if kind == "linear":
        return size * (rel + 1)
    if kind == "bounded":
        return size * ((rel >= -4).astype(float) + (rel >= 0)) - size  # 0 at e = -1
    raise ValueError(f"unknown violation {kind!r}")


def _draw(panel: pd.DataFrame, rng, effect: float, share: float = 1.0, common=None) -> np.ndarray:
    """One outcome draw; ``common`` (an area -> sign map) mixes in a shared component."""
    signs = pd.Series(rng.standard_normal(panel["area_code"].nunique()),
                      index=panel["area_code"].unique())
    noise = np.sqrt(share) * signs[panel["area_code"]].to_numpy() * panel["resid"].to_numpy()
    if common is not None:
        noise = noise + np.sqrt(1 - share) * common[panel["area_code"]].to_numpy() * panel["resid"].to_numpy()
    post = (panel["first_treated"] > 0) & (panel["t"] >= panel["first_treated"])
    return panel["fit"].to_numpy() + effect * post.to_numpy() + noise


def one_seed_honest(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float,
                    size: float) -> list[dict]:
    """One seed, three violations: coverage rows for the original, SD(M=0) and RM(Mbar=1) sets."""
    from joinedup.impact.event_study import event_study
    from joinedup.impact.honest import honest_did
    from joinedup.impact.honest.main_design import first_post_inputs

    panel = wave1_panel(scale, years)
    rows = []
    for kind in ("none", "linear", "bounded"):
        rng = np.random.default_rng([seed, 7])  # the same noise under every violation
        d = panel.copy()
        d["y"] = _draw(d, rng, effect) + np.where(d["first_treated"] > 0, _violation(kind, d["rel"].to_numpy(), size), 0)
        es = event_study(d, weights="weight", window=(-8, 16))
        beta, sigma, n_pre = first_post_inputs(es)
        sd = honest_did(beta, sigma, n_pre, 1, restriction="SD", m_values=[0.0], seed=seed)
        rm = honest_did(beta, sigma, n_pre, 1, restriction="RM", m_values=[1.0], seed=seed)
        est, se = float(beta[n_pre]), float(np.sqrt(sigma[n_pre, n_pre]))
        design = f"violation: {kind}" + ("" if kind == "none" else f" ({size:g})")
        for estimator, lo, hi in (("original (parallel trends)", *sd.original),
                                  ("HonestDiD SD FLCI, M = 0", sd.table.lb[0], sd.table.ub[0]),
                                  ("HonestDiD RM C-LF, Mbar = 1", rm.table.lb[0], rm.table.ub[0])):
            rows.append({"seed": seed, "design": design, "estimator": estimator,
                         "estimand": "first post-period effect", "estimate": est, "std_error": se,
                         "ci_low": lo, "ci_high": hi, "p_value": 0.0 if (lo > 0 or hi < 0) else 1.0,  # "p < 0.05": the set excludes 0
                         "target": effect})
    return rows


def _subgroup_rows(seed, design, estimator, estimands, est, se, targets) -> list[dict]:
    return [{"seed": seed, "design": design, "estimator": estimator, "estimand": name, "estimate": b,
             "std_error": s, "ci_low": b - Z * s, "ci_high": b + Z * s, "p_value": 2 * norm.sf(abs(b / s)),
             "target": t} for name, b, s, t in zip(estimands, est, se, targets)]


def _test_row(seed, design, estimator, truth_equal, stat, p) -> dict:
    return {"seed": seed, "design": design, "estimator": estimator,
            "estimand": "equal effects (true)" if truth_equal else "equal effects (false: power)",
            "estimate": stat, "std_error": np.nan, "ci_low": -np.inf, "ci_high": np.inf, "p_value": p,
            "target": 0.0 if truth_equal else 1.0}


def one_seed_subgroups(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float,
                       difference: float = 0.0, groups: int = 5) -> list[dict]:
    """One seed: ``groups`` subgroup panels; TWFE each with the independent Wald test, and
    Callaway & Sant'Anna each with the joint (influence-function) Wald test. Subgroup 1's effect is
    ``effect + difference`` (``difference`` 0: the null of equal effects)."""
    from joinedup.impact.subgroups import wald_equal_effects
    from joinedup.impact.subgroups_cs import cs_groups, joint_wald_equal_effects
    from joinedup.impact.twfe import twfe_did

    panel = wave1_panel(scale, years)
    first, last = pd.Timestamp(f"{years[0]}-04-01"), pd.Timestamp("2013-03-31")
    starts = pd.to_datetime(panel["period_start"])
    start = panel.loc[panel["treated"], "first_treated"].min()
    keep = ((starts >= first) & (starts <= last)) | (panel["t"] >= start)  # the published design's periods
    effects = [effect + difference] + [effect] * (groups - 1)
    names = [f"subgroup {g + 1} ATT" for g in range(groups)]
    equal = difference == 0
    rows = []
    for rho in (0.0, 0.5):
        rng = np.random.default_rng([seed, 11])
        common = pd.Series(rng.standard_normal(panel["area_code"].nunique()),
                           index=panel["area_code"].unique())
        design = f"subgroups, shared area share rho = {rho:g}" + ("" if equal else f", difference {difference:+g}")
        est, se, panels = [], [], {}
        for g in range(groups):
            d = panel[keep].copy()
            d["y"] = _draw(d, rng, effects[g], share=1 - rho, common=common if rho else None)
            d["treated_post"] = (d["treated"] & (d["t"] >= start)).astype(int)
            res = twfe_did(d, weights="weight", scale="log")
            est.append(res.estimate)
            se.append(res.se)
            panels[names[g]] = d
            rows.append({"seed": seed, "design": design, "estimator": "TWFE DiD by subgroup (cluster-robust)",
                         "estimand": names[g], "estimate": res.estimate, "std_error": res.se, "ci_low": res.ci[0],
                         "ci_high": res.ci[1], "p_value": res.p, "target": effects[g]})
        stat, df, p = wald_equal_effects(est, se)
        rows.append(_test_row(seed, design, f"TWFE, Wald test of equal effects, independent ({df} df)", equal,
                              stat, p))
        cs, cov = cs_groups(panels)
        rows += _subgroup_rows(seed, design, "Callaway & Sant'Anna by subgroup (IF SE)", names, cs["estimate"],
                               cs["std_error"], effects)
        stat, df, p = joint_wald_equal_effects(cs["estimate"], cov)
        rows.append(_test_row(seed, design, f"CS, Wald test of equal effects, joint IF covariance ({df} df)",
                              equal, stat, p))
        stat, df, p = joint_wald_equal_effects(cs["estimate"], cov, n_clusters=int(cs["n_treated_areas"].min()))
        rows.append(_test_row(seed, design, f"CS, joint IF covariance, Hotelling F reference ({df} df)",
                              equal, stat, p))
        stat, df, p = wald_equal_effects(cs["estimate"], cs["std_error"])
        rows.append(_test_row(seed, design, f"CS, Wald test of equal effects, independent ({df} df)", equal,
                              stat, p))
    return rows


def robust_job(args):
    """(job, extra arguments, description) for impact_coverage.py's ``main``."""
    effect = -0.04 if args.effect is None else args.effect
    if args.design == "honest":
        return one_seed_honest, (effect, args.violation_size), (
            f"HonestDiD, wave-1 event study resampled from simulated England (programmed effect {effect:+.2f} "
            f"log, violations none / linear / bounded of size {args.violation_size:g}); coverage of the first "
            "post-period effect; 'false positives' column: share of sets excluding 0 (power here)")
    difference = args.difference
    truth = ("equal programmed effects" if difference == 0 else
             f"programmed effects equal except subgroup 1's, {difference:+.2f} log more")
    return one_seed_subgroups, (effect, difference), (
        f"5 subgroups with {truth} ({effect:+.2f} log), wave-1 TWFE and Callaway & Sant'Anna each, resampled "
        "from simulated England; coverage of each subgroup's effect, and the tests of equal effects' rejection "
        "rate (size where the effects are equal, power where they differ)")
