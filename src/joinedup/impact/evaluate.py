"""The protocol's impact step: every comparative design on one area x period panel.

From the indicator table, :func:`run_impact` builds the panel of the protocol's outcome (Pioneer
areas treated from the period containing their start date; Vanguard areas, a co-intervention, out
of the comparison pool by default), optionally keeps only matched comparison areas, and runs:

1. the published local-authority design: wave-1 Pioneers against comparison areas, baseline
   (e.g. April 2010 - March 2013) against the periods after the start, two-way fixed effects with
   cluster-robust SEs and a wild cluster bootstrap;
2. Callaway & Sant'Anna group-time effects for both waves (staggered adoption) with the simple,
   dynamic (event study), group and calendar aggregations and a seeded multiplier bootstrap;
3. an event-study TWFE for comparison with (2);
4. synthetic control for each Pioneer site (outcome-only, as one unit: its areas' events over its
   population) with placebo-in-space inference, and synthetic DiD for each wave.

Where the data are simulated (``truth.json`` beside them), each estimate is set beside the effect
the simulation programmed, averaged the same way (see :mod:`joinedup.impact.truth`).

Example:
    >>> from joinedup.protocol import Impact
    >>> result = run_impact(ds, indicator_table, Impact())              # doctest: +SKIP
    >>> result.tables["impact_estimates"][["design", "estimate", "ci_low", "ci_high"]]  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from joinedup.impact.panel import area_panel
from joinedup.impact.truth import programmed_effect
from joinedup.report.charts import Figure

ESTIMATE_COLUMNS = ["design", "estimator", "estimand", "estimate", "std_error", "ci_low", "ci_high",
                    "p_value", "pct_change", "pct_low", "pct_high", "n_treated_areas", "n_comparison_areas",
                    "programmed", "covers_programmed"]


@dataclass
class ImpactResult:
    """Tables (tidy, ready to write), figures and notes of the impact step."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    programme: object = None  # the joinedup.programme.Programme evaluated: its name and unit for the report
    spec: object = None  # [impact] narrowed to the first outcome (the one the figures show)
    fits: dict = field(default_factory=dict)  # model fits the multiplicity adjustment reuses (not written)


def _pct(value: float, scale: str, baseline: float) -> float:
    """Percentage change (log: of the rate; logit: of the odds; rate or pp: relative to the baseline)."""
    return float(100 * np.expm1(value)) if scale in ("log", "logit") else float(100 * value / baseline)


def _row(design, estimator, estimand, est, se, lo, hi, p, scale, baseline, n_t, n_c, truth) -> dict:
    row = {"design": design, "estimator": estimator, "estimand": estimand, "estimate": est, "std_error": se,
           "ci_low": lo, "ci_high": hi, "p_value": p, "pct_change": _pct(est, scale, baseline),
           "pct_low": _pct(lo, scale, baseline), "pct_high": _pct(hi, scale, baseline),
           "n_treated_areas": n_t, "n_comparison_areas": n_c, "programmed": np.nan, "covers_programmed": None}
    if truth is not None and np.isfinite(truth):
        row["programmed"] = truth
        row["covers_programmed"] = bool(lo <= truth <= hi)
    return row


def _programme(ds, spec, programme):
    """The programme evaluated: the one given, else the built-in Pioneers (Vanguards per the protocol)."""
    if programme is not None:
        return programme
    from joinedup.programme import builtin_programme
    return builtin_programme(ds.execute(ds.table("programmes")), spec.exclude_vanguards)


def outcome_panel(ds, indicators: pd.DataFrame | None, spec, exclude: tuple[str, ...] | None = None,
                  programme=None) -> pd.DataFrame:
    """The area x period panel of the protocol's outcome (computed here if the table lacks it).
    ``exclude`` overrides the programme's choice of co-intervention programmes to drop;
    ``programme`` (a :class:`joinedup.programme.Programme`) defaults to the built-in Pioneers."""
    programme = _programme(ds, spec, programme)
    if programme.unit == "practice":  # events by registered practice over list sizes
        from joinedup.impact.practice_panel import practice_indicator_table
        indicators = practice_indicator_table(ds, spec.outcome, spec.period)
    have = indicators is not None and ((indicators["indicator"] == spec.outcome)
                                       & (indicators["period"] == spec.period)).any()
    if not have:
        from joinedup.indicators import compute_indicators
        indicators = compute_indicators(ds, [spec.outcome], [spec.period])
    if exclude is None:
        exclude = programme.exclude
    with warnings.catch_warnings():  # dropped areas are reported in the result's notes instead
        warnings.simplefilter("ignore", UserWarning)
        panel = area_panel(indicators, programme.table, spec.outcome, spec.period, programme=programme.key,
                           exclude=exclude, scale=spec.scale, zeros="drop_area")
    # A programme area starting after the data is neither treated nor a fair comparison.
    return panel[~panel["programme_area"] | panel["treated"]]


def run_impact(ds, indicators: pd.DataFrame | None, spec, truth: dict | None = None,
               programme=None) -> ImpactResult:
    """Run every design the protocol's ``[impact]`` section asks for (see the module docstring) on
    ``programme`` (a :class:`joinedup.programme.Programme`; default the built-in Pioneers), for each
    of its outcomes (:mod:`joinedup.impact.outcomes`), with the primary family's p-values adjusted
    (:mod:`joinedup.impact.multiplicity`). Every table gains an ``outcome`` column; the figures are
    the first outcome's."""
    from joinedup.impact.multiplicity import adjust
    from joinedup.indicators.catalogue import CATALOGUE
    from joinedup.impact.outcomes import is_proportion, outcome_ids, outcome_spec, scale_label

    programme = _programme(ds, spec, programme)
    ids = outcome_ids(spec)
    parts = []
    for oid in ids:
        one = run_impact_one(ds, indicators, outcome_spec(spec, oid), None if is_proportion(oid) else truth,
                             programme)
        parts.append((oid, one))
    out = ImpactResult(programme=programme, spec=outcome_spec(spec, ids[0]), figures=parts[0][1].figures)
    for oid, one in parts:
        prefix = "" if len(ids) == 1 else f"{CATALOGUE[oid].title}: "
        out.notes += [prefix + n for n in one.notes]
        for name, frame in one.tables.items():
            frame = frame.copy()
            frame.insert(0, "outcome", oid)
            if name == "impact_estimates":
                frame.insert(1, "scale", scale_label(spec, oid))
            out.tables[name] = frame if name not in out.tables else pd.concat([out.tables[name], frame],
                                                                             ignore_index=True)
    primary = spec.primary_outcomes or ids
    rw = None
    if spec.primary_design == "twfe_wave1":  # outcomes resampled together (Romano-Wolf)
        from joinedup.impact.romano_wolf import twfe_romano_wolf

        fits = {oid: one.fits["twfe_wave1"] for oid, one in parts if oid in primary}
        rw = twfe_romano_wolf(fits, B=spec.biters, seed=spec.seed,
                              weights=boot_weights(min(f.n_clusters for f in fits.values())))
    else:
        out.notes.append(f"Romano-Wolf adjustment needs outcomes resampled together, which the wild cluster "
                         f"bootstrap of the wave-1 TWFE design does; the primary design {spec.primary_design} "
                         "is adjusted by Holm only.")
    out.tables["impact_estimates"] = adjust(out.tables["impact_estimates"], primary, spec.primary_design, rw)
    return out


def run_impact_one(ds, indicators: pd.DataFrame | None, spec, truth: dict | None = None,
                   programme=None) -> ImpactResult:
    """Every design for one outcome (``spec.outcome`` a single id on its panel scale)."""
    programme = _programme(ds, spec, programme)
    out = ImpactResult(programme=programme)
    if programme.unit == "practice":
        from joinedup.impact.practice_panel import practice_truth
        indicators = None  # outcome_panel builds the practice table
        truth = practice_truth(truth, ds)
    elif indicators is None or not ((indicators["indicator"] == spec.outcome)
                                  & (indicators["period"] == spec.period)).any():
        from joinedup.indicators import compute_indicators
        indicators = compute_indicators(ds, [spec.outcome], [spec.period])
    four = four_groups(ds, indicators, spec, truth, programme, out) if spec.four_groups else []
    panel = outcome_panel(ds, indicators, spec, programme=programme)
    from joinedup.impact.co_interventions import (
        co_intervention_note,
        co_intervention_panel,
        own_effect_truth,
        without_co_intervention_units,
    )
    panel = co_intervention_panel(panel, programme)  # dated exposures to other programmes, if covariates
    truth = own_effect_truth(truth, programme)  # then the estimand is the programme's own effect
    dropped = panel.attrs.get("dropped_areas") or []
    if dropped:
        out.notes.append(f"{len(dropped)} area(s) with a period without events were dropped on the log scale: "
                         + ", ".join(map(str, dropped)))
    missing = panel.attrs.get("missing_cells") or 0
    if missing:
        out.notes.append(f"{missing} {programme.unit_word}-period cell(s) in "
                         f"{len(panel.attrs.get('incomplete_areas') or [])} {programme.unit_word}(s) had no one "
                         "eligible (a proportion with no denominator): they are missing, not zero; TWFE, the "
                         "event study and Callaway & Sant'Anna use the cells that exist, synthetic control "
                         "only units observed in every period.")
    treated = panel[panel["treated"]]
    unit = programme.unit_word
    excluded = " and ".join(programme.exclude_names.get(e, e) for e in programme.exclude)
    out.notes.append(f"{treated['site'].nunique()} {programme.name} sites ({treated['area_code'].nunique()} {unit}s) "
                     f"against {panel.loc[~panel['treated'], 'area_code'].nunique()} comparison {unit}s"
                     + (f"; {unit}s also in {excluded} are left out." if excluded else "."))
    out.notes += co_intervention_note(programme)
    from joinedup.impact.panel_policy import fixed_effects_note, prepare
    out.notes += [n for n in [fixed_effects_note(panel, spec.unbalanced)] if n]  # "error" stops here, by name
    complete = spec.unbalanced != "available"  # else: baseline level and trend from the periods that exist
    cov_panel = prepare(panel, "covariates", spec.unbalanced)[0] if complete else panel
    # Comparison units are chosen from the periods before the first start only (analysis plan).
    from joinedup.impact.balance import balance_plot
    from joinedup.impact.comparison_choice import (
        balance_on_all,
        choose_comparison,
        comparison_covariates,
        comparison_units,
    )
    covs = comparison_covariates(ds, cov_panel, programme.unit, complete_baseline=complete)
    from joinedup.impact.comparison import COVARIATES
    sparse = covs[list(COVARIATES)].isna().any(axis=1)
    if sparse.any():  # too few cells before the start for a baseline level and trend
        out.notes.append(f"{int(sparse.sum())} {programme.unit_word}(s) observed in fewer than two periods before "
                         "the start have no baseline level or trend: they are left out of the balance table"
                         + (" and of matching, so of the matched designs." if spec.matched_controls
                            else ", not out of the designs."))
        covs = covs[~sparse]
    matching = choose_comparison(covs, spec)
    balance = balance_on_all(matching, covs)
    out.figures.append(balance_plot(balance, id="impact-love-plot"))
    if matching is not None:
        panel = matching.matched_panel(panel)
    out.tables["impact_balance"] = balance
    out.tables["impact_comparison_units"] = comparison_units(matching, covs)
    rows = wave1_did(panel, spec, truth, out) + staggered_did(panel, spec, truth, out) + four
    if spec.synthetic_control:
        pool = without_co_intervention_units(panel)  # the synthetic designs take no covariates
        rows += synthetic_did(pool, spec, truth, out) + synthetic_control(pool, spec, truth, out)
        if spec.augmented_synthetic_control or spec.conformal_intervals:
            from joinedup.impact.augmented import synthetic_extras
            synthetic_extras(pool, spec, truth, out)
    out.tables["impact_estimates"] = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    return out


def boot_weights(n_clusters: int) -> str:
    """Webb's six-point weights below 12 clusters (Webb 2014), Rademacher above."""
    return "webb" if n_clusters < 12 else "rademacher"


def _baseline_mean(panel: pd.DataFrame) -> float:
    pre = panel[panel["treated"] & ~panel["post"]]
    return float(np.average(pre["y"], weights=pre["weight"])) if len(pre) else float("nan")


def wave1_did(panel, spec, truth, out) -> list[dict]:
    """The published design: wave 1 against comparison areas, baseline years against after the start."""
    from joinedup.impact.event_study import event_study
    from joinedup.impact.twfe import twfe_did, wild_cluster_bootstrap

    first, last = (pd.Timestamp(d) for d in spec.baseline)
    wave1 = panel[(panel["wave"].fillna(0) == 1) | ~panel["treated"]]
    starts = pd.to_datetime(wave1["period_start"])
    in_baseline = (starts >= first) & (starts <= last)
    start = wave1.loc[wave1["treated"], "first_treated"].min()
    d = wave1[in_baseline | (wave1["t"] >= start)].copy()
    d["treated_post"] = (d["treated"] & (d["t"] >= start)).astype(int)
    from joinedup.impact.co_interventions import exposure_terms
    res = twfe_did(d, weights="weight", scale=spec.scale, covariates=exposure_terms(d), unbalanced=spec.unbalanced)
    boot = wild_cluster_bootstrap(res, B=spec.biters, weights=boot_weights(res.n_clusters), seed=spec.seed)
    out.fits["twfe_wave1"] = res
    n_t, n_c = int(d.loc[d["treated"], "area_code"].nunique()), int(d.loc[~d["treated"], "area_code"].nunique())
    expected = programmed_effect(truth, d[d["treated_post"] == 1], spec.scale, spec.period)
    base = _baseline_mean(d)
    rows = [
        _row("wave 1, baseline vs after the start", "TWFE DiD (cluster-robust)", "ATT", res.estimate,
             res.se, *res.ci, res.p, spec.scale, base, n_t, n_c, expected),
        _row("wave 1, baseline vs after the start", "TWFE DiD (wild cluster bootstrap)", "ATT", res.estimate,
             np.nan, *boot.ci, boot.p, spec.scale, base, n_t, n_c, expected),
    ]
    es = event_study(wave1, weights="weight", window=(-8, 16), covariates=exposure_terms(wave1),
                     unbalanced=spec.unbalanced)
    out.tables["impact_twfe_event_study"] = es.tidy()
    out.figures.append(es.plot(id="impact-twfe-event-study"))
    if getattr(spec, "honest", False):  # robustness to violations of parallel trends (HonestDiD)
        from joinedup.impact.honest.main_design import honest_table

        try:
            out.tables["impact_honest"] = honest_table(es, seed=spec.seed)
        except ValueError as err:  # e.g. no period after the start in the data: say so, run the rest
            out.notes.append(f"HonestDiD sensitivity not run: {err}.")
    return rows


def staggered_did(panel, spec, truth, out) -> list[dict]:
    """Callaway & Sant'Anna for both waves; areas weighted by their baseline population."""
    from joinedup.impact.did import att_gt
    from joinedup.impact.panel_policy import prepare

    panel, allow_unbalanced, note = prepare(panel, "callaway_santanna", spec.unbalanced)
    if note:
        out.notes.append(note)
    pre_pop = panel[~panel["post"] | ~panel["treated"]].groupby("area_code")["population"].mean()
    # an area with no cell before its start (missing cells) is weighted by its mean over all periods
    pre_pop = pre_pop.reindex(panel["area_code"].unique()).fillna(panel.groupby("area_code")["population"].mean())
    data = panel.assign(area_weight=panel["area_code"].map(pre_pop), area_id=panel["area_code"].factorize()[0])
    from joinedup.impact.co_interventions import membership_formula
    res = att_gt(data, yname="y", tname="t", idname="area_id", gname="first_treated",
                 xformla=membership_formula(data), control_group=spec.control_group, est_method=spec.est_method,
                 anticipation=spec.anticipation, base_period=spec.base_period, weightsname="area_weight",
                 biters=spec.biters, seed=spec.seed, allow_unbalanced_panel=allow_unbalanced)
    out.tables["impact_att_gt"] = res.tidy()
    n_t = int(panel.loc[panel["treated"], "area_code"].nunique())
    n_c = int(panel.loc[~panel["treated"], "area_code"].nunique())
    base = _baseline_mean(panel)
    rows = []
    for kind in ("simple", "dynamic", "group", "calendar"):
        agg = res.aggregate(kind)
        if kind != "simple":
            out.tables[f"impact_cs_{kind}"] = agg.tidy()
        lo, hi = agg.overall_ci
        post = panel[panel["treated"] & (panel["t"] >= panel["first_treated"])]
        expected = programmed_effect(truth, post, spec.scale, spec.period) if kind == "simple" else None
        rows.append(_row("waves 1 and 2, staggered", f"Callaway & Sant'Anna ({spec.est_method})",
                         f"overall ATT ({kind})", agg.overall_att, agg.overall_se, lo, hi,
                         float(2 * _norm_sf(abs(agg.overall_att / agg.overall_se))), spec.scale, base,
                         n_t, n_c, expected))
    out.figures.append(res.aggregate("dynamic").plot(id="impact-cs-event-study"))
    return rows


def four_groups(ds, indicators, spec, truth, programme=None, out=None) -> list[dict]:
    """The programme only, the other programme (the first exclusion) only and both, each against
    units in neither programme (every unit kept)."""
    from joinedup.impact.four_groups import four_group_did, group_and_post

    programme = _programme(ds, spec, programme)
    if programme.other is None:
        if out is not None:
            out.notes.append("The four-group design needs a second programme (an exclude file): not run.")
        return []
    panel = outcome_panel(ds, indicators, spec, exclude=(), programme=programme)
    programmes = programme.table
    result = four_group_did(panel, programmes, programme=programme.key, other=programme.other)
    group, post = group_and_post(panel, programmes, programme.key, programme.other)
    base = float(panel.loc[group == "neither", "y"].mean())
    rows = []
    for r in result.itertuples():
        treated_rows = panel[(group == r.group) & post.to_numpy()]
        rows.append(_row("four groups: " + r.group.replace("_", " "), "TWFE DiD (cluster-robust)",
                         "ATT against areas in neither", r.estimate, r.std_error, r.ci_low, r.ci_high, r.p_value,
                         spec.scale, base, r.n_areas, r.n_neither,
                         programmed_effect(truth, treated_rows, spec.scale, spec.period)))
    return rows


def _norm_sf(z: float) -> float:
    from scipy import stats
    return float(stats.norm.sf(z))


def site_panel(panel: pd.DataFrame, scale: str, multiplier: float) -> pd.DataFrame:
    """Pioneer sites as single units (their areas' events over their population) beside the comparison
    areas, for synthetic control: ``unit, t, y, first_treated, wave, site``."""
    treated = panel[panel["treated"]]
    sums = treated.groupby(["site", "t"], as_index=False).agg(
        numerator=("numerator", "sum"), population=("population", "sum"),
        first_treated=("first_treated", "min"), wave=("wave", "min"))
    from joinedup.impact.panel import empirical_logit

    rate = sums["numerator"] / sums["population"] * multiplier
    sums["y"] = (np.log(rate) if scale == "log" else empirical_logit(sums["numerator"], sums["population"])
                 if scale == "logit" else rate)
    sums = sums.rename(columns={"site": "unit"})
    controls = panel.loc[~panel["treated"], ["area_code", "t", "y", "first_treated"]].rename(
        columns={"area_code": "unit"})
    return pd.concat([sums[["unit", "t", "y", "first_treated", "wave"]], controls], ignore_index=True)


def _site_units(panel, spec, out=None):
    from joinedup.impact.panel_policy import prepare
    from joinedup.indicators.catalogue import CATALOGUE

    panel, _, note = prepare(panel, "synthetic", spec.unbalanced)
    if note and out is not None and note not in out.notes:
        out.notes.append(note)

    # prepare() left only units seen in every period (synthetic control weighs every period), so the
    # sites' sums are complete too
    sites = site_panel(panel, spec.scale, CATALOGUE[spec.outcome].multiplier)
    treated = sites[sites["first_treated"] > 0].drop_duplicates("unit").set_index("unit")
    donors = sorted(sites.loc[sites["first_treated"] == 0, "unit"].unique())
    return sites, treated, donors


def site_predictors(starts: dict) -> tuple[list[tuple], np.ndarray]:
    """The per-site synthetic control's predictors and V: the outcome's means over blocks of up to
    four periods before the first start (periods numbered from 1), equally weighted.

    Example:
        >>> special, v = site_predictors({"S1": 7, "S2": 8})
        >>> [block for _, block, _ in special], v.tolist()
        ([[1, 2], [3, 4, 5, 6]], [0.5, 0.5])
    """
    # A fixed V: every predictor is the same outcome, so there is nothing for a nested V search to
    # weigh, and it costs ~1 s a fit. Matching every pre-period instead lets ~80 donors interpolate a
    # large site exactly (pre-MSPE 0), which leaves the post/pre MSPE ratio meaningless.
    pre = list(range(1, min(starts.values())))
    blocks = [pre[max(0, i - 4):i] for i in range(len(pre), 0, -4)][::-1]
    special = [("y", block, "mean") for block in blocks]
    return special, np.full(len(special), 1 / len(special))


def synthetic_control(panel, spec, truth, out) -> list[dict]:
    """Synthetic control per Pioneer site with placebo-in-space (site table, gaps, placebo plot)."""
    from joinedup.impact.synthetic import placebo_in_space

    sites, treated, donors = _site_units(panel, spec)  # synthetic DiD has said what was left out
    if treated.empty or len(donors) < 2:
        return []
    starts = treated["first_treated"].astype(int).to_dict()
    special, v = site_predictors(starts)
    results = placebo_in_space(sites[["unit", "t", "y"]], "unit", "t", "y", list(starts), starts,
                               v=v, special_predictors=special, donors=donors, prefit_filter=spec.placebo_prefit)
    site_rows, gaps = [], []
    for site, res in results.items():
        fit = res.treated_fit
        gaps.append(fit.gaps().assign(site=site))
        post = panel[(panel["site"] == site) & (panel["t"] >= starts[site])]
        base = float(np.mean(fit.treated[fit.times < starts[site]]))
        site_rows.append({"site": site, "wave": int(treated.loc[site, "wave"]),
                          "att": fit.att, "pct_change": _pct(fit.att, spec.scale, base),
                          "pre_rmspe": float(np.sqrt(fit.pre_mspe)), "post_pre_mspe_ratio": fit.mspe_ratio,
                          "rank": res.rank, "n_placebos": res.n_placebos, "p_value": res.p_value,
                          "programmed": programmed_effect(truth, post, spec.scale, spec.period)})
    out.tables["impact_synth_sites"] = pd.DataFrame(site_rows)
    out.tables["impact_synth_gaps"] = pd.concat(gaps, ignore_index=True)
    out.figures.append(results[sorted(results)[0]].plot())
    return []


def synthetic_did(panel, spec, truth, out) -> list[dict]:
    """Synthetic DiD for each wave, the wave's sites as units, placebo standard errors."""
    from joinedup.impact.synthetic import sdid

    sites, treated, donors = _site_units(panel, spec, out)
    if treated.empty or len(donors) < 2:
        out.notes.append(f"Synthetic control and synthetic DiD not run: {len(treated)} site(s) and {len(donors)} "
                         "comparison unit(s) are observed in every period.")
        return []
    rows = []
    for wave in sorted(treated["wave"].astype(int).unique()):
        units = treated.index[treated["wave"] == wave].tolist()
        start = int(treated.loc[units, "first_treated"].min())
        block = sites[sites["unit"].isin(units) | sites["unit"].isin(donors)].copy()
        block["d"] = (block["unit"].isin(units) & (block["t"] >= start)).astype(int)
        est = sdid(block, "unit", "t", "y", "d", se="placebo", replications=200, seed=spec.seed)
        half = 1.959963984540054 * est.se
        post = panel[(panel["wave"] == wave) & panel["treated"] & (panel["t"] >= start)]
        base = float(block.loc[block["unit"].isin(units) & (block["t"] < start), "y"].mean())
        rows.append(_row(f"wave {wave}, sites as units", "synthetic DiD (placebo SE)", "ATT", est.estimate,
                         est.se, est.estimate - half, est.estimate + half,
                         float(2 * _norm_sf(abs(est.estimate / est.se))), spec.scale, base, len(units),
                         len(donors), programmed_effect(truth, post, spec.scale, spec.period)))
    return rows
