"""The impact step's augmented synthetic control and conformal intervals, per programme site.

``[impact] augmented_synthetic_control = true`` fits ridge ASCM (Ben-Michael, Feller & Rothstein
2021; :mod:`joinedup.impact.synthetic.ascm`) for each site, on the same site-as-one-unit panel and
donors as the synthetic control. ``[impact] conformal_intervals = true`` adds Chernozhukov, Wüthrich
& Zhu (2021) conformal intervals (:mod:`joinedup.impact.synthetic.conformal`): per post period, and
for a constant effect over the post periods (the site's ``ci_low``/``ci_high``), for the
outcome-matching synthetic control (V = identity on every pre-period outcome: CWZ's setting; its
point estimate can differ from the predictor-based fit of ``impact_synth_sites``) and, when ASCM is
on, for ASCM.

Tables (each gains ``outcome`` in :func:`joinedup.impact.evaluate.run_impact`):
``impact_ascm_sites`` (site, wave, estimate, ci_low, ci_high, p_value, pct_change, lambda,
pre_rmspe, n_negative_weights, programmed, covers_programmed), ``impact_ascm_gaps`` and
``impact_synth_conformal`` (site, method, estimand, t, estimate, ci_low, ci_high,
p_value, programmed, covers_programmed; ``estimand`` "period effect" with its period ``t``, or
"average (constant effect)" with ``t`` empty).

Example:
    >>> from joinedup.protocol import Impact
    >>> spec = Impact(augmented_synthetic_control=True, conformal_intervals=True)
    >>> synthetic_extras(panel, spec, truth, out)                      # doctest: +SKIP
    >>> out.tables["impact_ascm_sites"][["site", "estimate", "ci_low", "ci_high"]]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.impact.truth import programmed_effect

ALPHA = 0.05  # as every other interval of the impact step


def synthetic_extras(panel: pd.DataFrame, spec, truth, out) -> None:
    """Add the ASCM and conformal tables (and notes) to ``out`` for each site with a full panel."""
    from joinedup.impact.evaluate import _pct, _site_units
    from joinedup.impact.synthetic.ascm import ascm
    from joinedup.impact.synthetic.conformal import conformal_intervals

    sites, treated, donors = _site_units(panel, spec)
    if treated.empty or len(donors) < 2:
        return  # synthetic DiD has said why
    data = sites[["unit", "t", "y"]]
    methods = ["synth"] + (["ascm"] if spec.augmented_synthetic_control else [])
    site_rows, gap_frames, conformal_rows = [], [], []
    infinite = set()
    for site in sorted(treated.index):
        start = int(treated.loc[site, "first_treated"])
        site_post = panel[(panel["site"] == site) & (panel["t"] >= start)]
        truth_all = programmed_effect(truth, site_post, spec.scale, spec.period)
        cis = {}
        fit = None
        if spec.augmented_synthetic_control:
            fit = ascm(data, "unit", "t", "y", site, start, donors=donors)
        if spec.conformal_intervals:
            for method in methods:
                res = conformal_intervals(data, "unit", "t", "y", site, start, method=method, alpha=ALPHA,
                                          donors=donors, lambda_=fit.lambda_ if fit is not None else None)
                cis[method] = res
                for r in res.periods.itertuples():
                    rows = site_post[site_post["t"] == r.time]
                    conformal_rows.append(_ci_row(site, method, int(r.time), r.estimate, r.ci_low, r.ci_high,
                                                  r.p_value, programmed_effect(truth, rows, spec.scale, spec.period)))
                    if not np.isfinite(r.ci_low) or not np.isfinite(r.ci_high):
                        infinite.add((site, method))
                a = res.average
                conformal_rows.append(_ci_row(site, method, None, a["estimate"], a["ci_low"], a["ci_high"],
                                              a["p_value"], truth_all))
        if fit is not None:
            base = float(np.mean(fit.treated[fit.pre]))
            ci = cis.get("ascm")
            lo, hi, p = (ci.average["ci_low"], ci.average["ci_high"], ci.average["p_value"]) if ci else (np.nan,) * 3
            row = {"site": site, "wave": int(treated.loc[site, "wave"]), "estimate": fit.att, "ci_low": lo,
                   "ci_high": hi, "p_value": p, "pct_change": _pct(fit.att, spec.scale, base),
                   "lambda": fit.lambda_, "pre_rmspe": fit.pre_rmspe,
                   "n_negative_weights": int((fit.weights < 0).sum()), **_truth(truth_all, lo, hi)}
            site_rows.append(row)
            gap_frames.append(fit.gaps().assign(site=site))
    if site_rows:
        out.tables["impact_ascm_sites"] = pd.DataFrame(site_rows)
        out.tables["impact_ascm_gaps"] = pd.concat(gap_frames, ignore_index=True)
        out.notes.append("Ridge-augmented synthetic control (ASCM, Ben-Michael, Feller & Rothstein 2021) per site: "
                         "the synthetic control's weights corrected by a ridge regression on the pre-period "
                         "outcomes, lambda by leave-one-period-out cross-validation (largest within one SE of "
                         "the best); weights may be negative.")
    if conformal_rows:
        table = pd.DataFrame(conformal_rows)
        table["t"] = table["t"].astype("Int64")  # empty for the average
        out.tables["impact_synth_conformal"] = table
        note = ("Conformal intervals (Chernozhukov, Wüthrich & Zhu 2021) per site: by period, and for an effect "
                "constant over the post periods (moving-block permutations), refitting the outcome-matching "
                "synthetic control" + (" and ASCM" if spec.augmented_synthetic_control else "") +
                " under each null.")
        if infinite:
            note += (f" With fewer than {round(1 / ALPHA) - 1} periods before a site's start, a per-period "
                     f"95% interval cannot exclude any value and is unbounded ({len(infinite)} site-method "
                     "pair(s) here).")
        out.notes.append(note)


def _truth(programmed: float, lo: float, hi: float) -> dict:
    if programmed is None or not np.isfinite(programmed):
        return {"programmed": np.nan, "covers_programmed": None}
    if np.isnan(lo) or np.isnan(hi):  # no interval asked for
        return {"programmed": programmed, "covers_programmed": None}
    return {"programmed": programmed, "covers_programmed": bool(lo <= programmed <= hi)}


def _ci_row(site, method, t, est, lo, hi, p, programmed) -> dict:
    estimand = "average (constant effect)" if t is None else "period effect"
    return {"site": site, "method": method, "estimand": estimand, "t": t, "estimate": float(est), "ci_low": float(lo),
            "ci_high": float(hi), "p_value": float(p), **_truth(programmed, lo, hi)}
