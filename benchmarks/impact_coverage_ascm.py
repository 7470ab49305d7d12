"""The ``--design ascm-conformal`` job of benchmarks/impact_coverage.py (kept apart so that file's
other modes are edited independently).

For each seed: simulate England (``--effect 0`` runs the null scenario; otherwise the default
scenario's programmed Pioneer effect), build the impact panel as ``joinedup run`` does, and for each
Pioneer site fit ridge ASCM and the outcome-matching synthetic control with conformal intervals
(:mod:`joinedup.impact.augmented`, the step's own code). One row per site and method: the
constant-effect conformal interval and its p-value against the effect the simulation programmed for
that site (averaged over its post periods). The programmed effect ramps up over 12 months, so the
constant-effect null is a simplification; the interval is judged on the average it reports.

    .venv/bin/python benchmarks/impact_coverage.py --design ascm-conformal --seeds 2 --scale 0.003 \\
        --years 2012 2016 --out benchmarks/results/impact_coverage_ascm.json
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def one_seed_ascm(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float) -> list[dict]:
    from joinedup.data import open_dataset
    from joinedup.impact.augmented import synthetic_extras
    from joinedup.impact.co_interventions import without_co_intervention_units
    from joinedup.impact.evaluate import ImpactResult, outcome_panel
    from joinedup.impact.truth import load_truth
    from joinedup.indicators import compute_indicators
    from joinedup.protocol import Impact
    from joinedup.simulate import simulate

    folder = Path(tempfile.mkdtemp(prefix=f"joinedup-ascm-{seed}-"))
    try:
        simulate(folder, scale=scale, seed=seed, years=years, scenario="null" if effect == 0 else "default")
        ds = open_dataset(folder)
        spec = Impact(seed=seed, augmented_synthetic_control=True, conformal_intervals=True,
                      baseline=(f"{years[0]}-01-01", "2013-09-30"))
        panel = outcome_panel(ds, compute_indicators(ds, [spec.outcome], [spec.period]), spec)
        out = ImpactResult()
        truth = load_truth(folder) if effect != 0 else None
        synthetic_extras(without_co_intervention_units(panel), spec, truth, out)
        table = out.tables["impact_synth_conformal"]
        avg = table[table["t"].isna()]
        names = {"synth": "synthetic control, outcomes (conformal)", "ascm": "ridge ASCM (conformal)"}
        return [{"seed": seed, "design": "each site", "estimator": names[r.method], "estimand": "constant effect",
                 "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high, "p_value": r.p_value,
                 "target": 0.0 if effect == 0 else r.programmed} for r in avg.itertuples()]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
