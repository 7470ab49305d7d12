"""The protocol's economics step: cost-effectiveness of community MDT case management (WP2).

1. Risk model (12-month emergency admission from prior use, age, sex, long-term conditions) with its
   discrimination and calibration; the enrolled cohort (index = enrolment) and the control pool
   (pseudo-index dates) from :mod:`joinedup.economics.cohort`.
2. Propensity-score matching (MatchIt's nearest neighbour) on prior use, age, sex, LTCs and the risk
   score, exactly within area by default: area-level programmes (the Pioneer effect itself) then act
   on both arms alike and cancel in the difference in differences.
3. Use and costs 12 months before and after the index date; the naive before/after of the enrolled
   beside the matched estimates: linear DiD, Poisson and NB2 count DiD, a two-part cost model.
4. QALYs from EQ-5D (MDT and comparison samples, baseline-adjusted), costs from the matched DiD, a
   bootstrap of each (matched sets; people), BCEA-style CEA: ICER with quadrant, NMB at £20k/£30k,
   CEAC, EVPI; one-way (unit costs, the MDT's cost, QALY gain) and scenario analyses (6-month horizon,
   discount rates, another price year).

Cost and QALY increments come from different samples (the matched cohort; the EQ-5D samples), so their
bootstrap replicates are independent and paired by position: the CE plane assumes no correlation
between them. Where the data are simulated, the programmed effects sit beside the estimates.

Example:
    >>> from joinedup.protocol import Economics
    >>> result = run_economics(ds, Economics(), truth)                        # doctest: +SKIP
    >>> result.tables["economics_estimates"]                                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from joinedup.data.codes import SOCIAL_CARE_SERVICES
from joinedup.economics.cea import bcea, bootstrap_ce
from joinedup.economics.cea.plots import ce_plane, ceac_plot, tornado_plot
from joinedup.economics.cea.sensitivity import one_way, scenarios
from joinedup.economics.cohort import default_reference_date, programme_groups, study_cohort
from joinedup.economics.costs import add_costs, unit_costs
from joinedup.economics.matching import matchit
from joinedup.economics.matching.estimate import att_frame
from joinedup.economics.models import ModelEstimate, count_did, matched_did, two_part_cost
from joinedup.economics.outcomes import before_after, outcomes
from joinedup.economics.qalys import eq5d_qalys
from joinedup.economics.risk import risk_model
from joinedup.report.charts import Figure

MEASURES = ("emergency_admissions", "bed_days", "ae_attendances", "social_care_days", "total_cost")
COUNTS = ("emergency_admissions", "bed_days", "ae_attendances")
ARMS = ("usual care", "MDT")


@dataclass
class EconomicsResult:
    """Tables (tidy, ready to write), figures, notes, and the fitted objects for further use."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    match: object = None
    cea: object = None


def _estimate_row(measure: str, design: str, est: ModelEstimate, programmed: float | None = None) -> dict:
    row = {"measure": measure, "design": design, **est.tidy().iloc[0].to_dict()}
    row.pop("outcome")
    row["programmed"] = np.nan if programmed is None else programmed
    row["covers_programmed"] = None if programmed is None else bool(est.ci_low <= programmed <= est.ci_high)
    return row


def _naive_rows(costed: pd.DataFrame) -> list[dict]:
    t = before_after(costed[costed["treated"] == 1], MEASURES)
    return [{"measure": r.measure, "design": "naive before/after (matched enrolled)", "model": "paired mean change",
             "scale": "difference", "estimate": r.difference, "ci_low": r.ci_low, "ci_high": r.ci_high,
             "n": r.n, "mean_before": r.mean_before, "mean_after": r.mean_after} for r in t.itertuples()]


def _truth(truth: dict | None) -> tuple[float | None, float | None]:
    """Programmed log rate ratio of emergency admissions and utility gain at follow-up waves."""
    if not truth:
        return None, None
    mdt = truth.get("mdt", {})
    return mdt.get("effect_log"), truth.get("scenario", {}).get("mdt_effect_utility")


def _unit_deltas(md: pd.DataFrame) -> dict[str, float]:
    """Weighted DiD in units of each costed item (linear), so costs can be re-priced exactly."""
    def did(col_before, col_after=None):
        after = md[col_after or col_before.replace("_before", "_after")]
        change = after - (md[col_before] if col_before in md.columns else 0.0)
        w, t = md["weights"], md["treated"] == 1
        return float(np.average(change[t], weights=w[t]) - np.average(change[~t], weights=w[~t]))
    out = {"emergency_spell": did("emergency_admissions_before"), "excess_bed_day": did("excess_bed_days_before"),
           "ae_attendance": did("ae_attendances_before")}
    for s in SOCIAL_CARE_SERVICES:
        out[f"{s}_week"] = did(f"days_{s}_before") / 7.0
    t = md["treated"] == 1
    out["mdt_case_management"] = float(np.average(md.loc[t, "mdt_days"], weights=md.loc[t, "weights"])) / 365.0
    return out


def _costed(ds, md: pd.DataFrame, uc, days: int) -> pd.DataFrame:
    keep = [c for c in md.columns if c not in ("distance",)]
    out = add_costs(outcomes(ds, md[keep].reset_index(drop=True), days), uc, days)
    out["mdt_days"] = out["mdt_days"].clip(upper=days)
    out["days_at_risk_after"] = ((out["followup_end"] - out["index_date"]).dt.days).clip(upper=days)
    out["total_cost_change"] = out["total_cost_after"] - out["total_cost_before"]
    return out


def run_economics(ds, spec, truth: dict | None = None) -> EconomicsResult:
    """Run the economic evaluation described by ``spec`` (a :class:`joinedup.protocol.Economics`)."""
    res = EconomicsResult()
    true_log, true_gain = _truth(truth)
    rm = risk_model(ds, default_reference_date(ds), spec.min_age)
    cohort = study_cohort(ds, spec.min_age, spec.lookback_days, spec.followup_days, seed=spec.seed, risk=rm)
    cohort["programme_group"] = cohort["area_code"].map(programme_groups(ds)).fillna("none")
    if spec.schemes:
        cohort = cohort[(cohort["treated"] == 0) | cohort["area_code"].isin(scheme_areas(ds, spec.schemes))]
    if cohort["treated"].sum() == 0:
        raise ValueError("no MDT-enrolled patients meet the cohort rules: nothing to evaluate")
    cs = rm.calibration_stats()
    res.tables["economics_risk"] = pd.DataFrame([{
        "reference_date": str(rm.reference_date.date()), "people": rm.n, "events": int(rm.y.sum()),
        "auc": rm.auc, "calibration_in_the_large": cs["citl"], "calibration_slope": cs["slope"],
        "hosmer_lemeshow": cs["hosmer_lemeshow"], "hl_df": cs["hl_df"], "hl_p": cs["hl_p"]}])
    res.tables["economics_risk_calibration"] = rm.calibration()

    formula = "treated ~ " + " + ".join(spec.covariates)
    exact = list(spec.exact) or None
    m = matchit(formula, cohort, distance=spec.distance, ratio=spec.ratio, replace=spec.replace,
                caliper=spec.caliper, exact=exact, mahvars=list(spec.mahvars) or None, link="linear.logit",
                seed=spec.seed)
    res.match = m
    res.tables["economics_balance"] = m.balance()
    sizes = m.sample_sizes().reset_index().rename(columns={"index": "sample"})
    res.tables["economics_sample_sizes"] = sizes
    res.figures.append(m.love_plot())

    uc = unit_costs(ds, spec.price_year)
    md = _costed(ds, m.match_data(), uc, spec.followup_days)
    rows = _naive_rows(md)
    for measure in MEASURES:
        rows.append(_estimate_row(measure, "matched DiD", matched_did(md, measure)))
    numeric = [c for c in spec.covariates if pd.api.types.is_numeric_dtype(md[c])]
    for measure in COUNTS:
        prog = true_log if measure == "emergency_admissions" else None
        for family, adjust in (("poisson", ()), ("nb2", ()), ("nb2", numeric)):
            est = count_did(md, measure, family, followup_days=spec.followup_days, adjust=adjust)
            rows.append(_estimate_row(measure, "matched DiD", est, prog))
    rows.append(_estimate_row("total_cost", "matched, after only",
                              two_part_cost(md, "total_cost", B=spec.cost_model_bootstrap, seed=spec.seed)))
    died = att_frame(md, "died")
    rows.append({"measure": "died", "design": "matched, after only", "model": "difference in proportions",
                 "scale": "difference", "estimate": died.estimate, "se": died.se, "ci_low": died.ci_low,
                 "ci_high": died.ci_high, "p_value": died.p_value, "n": died.n, "se_type": died.se_type})
    res.tables["economics_estimates"] = pd.DataFrame(rows)
    res.tables["economics_use"] = _use_table(md)
    res.tables["economics_unit_costs"] = uc.tidy()
    from joinedup.economics.sites import area_sites, site_estimates  # WP3: the same estimate per site

    res.tables["economics_sites"] = site_estimates(md, area_sites(ds))

    _cea(ds, res, md, uc, spec, true_gain)
    return res


def scheme_areas(ds, scheme_ids) -> set[str]:
    """Areas of the sites running the given community MDT schemes (unknown ids are an error)."""
    reg = ds.execute(ds.table("schemes"))
    unknown = sorted(set(scheme_ids) - set(reg["scheme_id"]))
    if unknown:
        raise ValueError(f"[economics] schemes: unknown scheme id(s) {', '.join(unknown)}")
    chosen = reg[reg["scheme_id"].isin(scheme_ids)]
    not_mdt = chosen.loc[chosen["scheme_type"] != "community_mdt", "scheme_id"].tolist()
    if not_mdt:
        raise ValueError(f"[economics] schemes: {', '.join(not_mdt)} are not community MDT schemes")
    prog = ds.execute(ds.table("programmes").select("site", "area_code"))
    return set(prog.loc[prog["site"].isin(chosen["site"]), "area_code"])


def _use_table(md: pd.DataFrame) -> pd.DataFrame:
    """Weighted mean use and cost per arm before and after the index date (matched sample)."""
    rows = []
    for arm, label in enumerate(ARMS):
        g = md[md["treated"] == arm]
        for measure in (*MEASURES, "mdt_cost"):
            for side in ("before", "after"):
                col = f"{measure}_{side}"
                if col in g.columns:
                    rows.append({"arm": label, "measure": measure, "window": side, "people": len(g),
                                 "mean": float(np.average(g[col], weights=g["weights"]))})
    return pd.DataFrame(rows)


def _qaly_increment(ds, horizon: float, rate: float, spec, cache: dict):
    key = (round(horizon, 1), rate)  # 182/365 days is the 6-month wave
    if key not in cache:
        cache[key] = eq5d_qalys(ds, key[0], rate)
    return cache[key]


def _cea(ds, res: EconomicsResult, md: pd.DataFrame, uc, spec, true_gain) -> None:
    if not ds.has("eq5d_responses"):
        res.notes.append("No EQ-5D questionnaires (eq5d_responses): costs and use only, no QALYs or CEA.")
        return
    cache: dict = {}
    try:
        q = _qaly_increment(ds, spec.followup_days / 365.0, spec.discount_rate, spec, cache)
    except ValueError as exc:  # too few questionnaires (small data): report costs and use without a CEA
        res.notes.append(f"No QALYs, so no cost-effectiveness analysis: {exc}.")
        return
    rng = np.random.default_rng(spec.seed)
    cboot = bootstrap_ce(md, "total_cost_change", "total_cost_change", "treated", cluster=_cluster(md),
                         B=spec.bootstrap, seed=rng, ci=spec.ci, weights="weights")
    people = q.people.assign(zero=0.0)
    qboot = bootstrap_ce(people, "zero", "qaly_adjusted", "treated", B=spec.bootstrap, seed=rng, ci=spec.ci)
    effects = pd.DataFrame({ARMS[0]: qboot.replicates["effect_control"], ARMS[1]: qboot.replicates["effect_treated"]})
    costs = pd.DataFrame({ARMS[0]: cboot.replicates["cost_control"], ARMS[1]: cboot.replicates["cost_treated"]})
    cea = bcea(effects, costs, ref=ARMS[1], wtp=spec.wtp)
    res.cea = cea
    programmed_qaly = None if true_gain is None else 0.75 * true_gain  # trapezium: 0 at baseline, gain at 6 and 12 months
    inc = pd.concat([cboot.tidy().iloc[[0]], qboot.tidy().iloc[[1]]], ignore_index=True)
    inc.loc[0, "quantity"], inc.loc[1, "quantity"] = "incremental cost (matched DiD, £)", "incremental QALYs (EQ-5D)"
    inc.loc[1, "estimate"] = q.adjusted.estimate  # the regression estimate (equal to the mean difference)
    inc["programmed"] = [np.nan, np.nan if programmed_qaly is None else programmed_qaly]
    inc["covers_programmed"] = [None, None if programmed_qaly is None else
                                bool(inc.loc[1, "lower"] <= programmed_qaly <= inc.loc[1, "upper"])]
    res.tables["economics_increments"] = inc
    summary = pd.concat([cea.at(w) for w in sorted({20_000.0, 30_000.0, float(spec.wtp)})], ignore_index=True)
    summary["evpi"] = [cea.evpi_at(w) for w in summary["wtp"]]
    res.tables["economics_cea"] = summary
    res.tables["economics_ceac"] = cea.tidy("ceac")
    res.tables["economics_qalys"] = q.counts.merge(
        q.people.groupby("sample").agg(mean_u0=("u0", "mean"), mean_qaly=("qaly", "mean")).reset_index(), on="sample")
    res.figures += [ce_plane(cea, spec.wtp), ceac_plot(cea)]
    at_wtp = summary[summary["wtp"] == float(spec.wtp)].iloc[0]
    _sensitivity(ds, res, md, uc, spec, q, cache, anchor=(float(at_wtp["inc_cost"]), float(at_wtp["inc_effect"])))


def _cluster(md: pd.DataFrame) -> str | None:
    return "subclass" if "subclass" in md.columns and md["subclass"].notna().all() else None


def _anchored(value: float, at_base: float, anchor: float) -> float:
    """``value`` moved onto the CEA's base case: in proportion to the model's own base, or by the
    same difference when that base is too close to zero to divide by."""
    if at_base != 0 and np.sign(at_base) == np.sign(anchor):  # never flip the direction of a change
        return anchor * value / at_base
    return anchor + value - at_base


def _sensitivity(ds, res, md, uc, spec, q, cache, anchor: tuple[float, float] | None = None) -> None:
    """One-way ranges on unit costs and the QALY gain; scenarios on horizon, discounting, price year.

    ``anchor`` is the CEA's (incremental cost, incremental QALYs): the repricing model is scaled so
    its base case is exactly that, so the base-case ICER is one number in ``economics_cea`` and
    ``economics_scenarios`` (the model alone re-prices the matched unit deltas and uses the regression
    QALY estimate, which differ a little from the bootstrap means the CEA reports).
    """
    deltas = {12: _unit_deltas(md)}
    short = _costed(ds, md.drop(columns=[c for c in md.columns if c.endswith(("_before", "_after"))]
                                + ["died", "days_at_risk_after", "total_cost_change"], errors="ignore"),
                    uc, 182)
    deltas[6] = _unit_deltas(short)
    qalys = {(12, spec.discount_rate): q.adjusted.estimate}
    for horizon, rate in ((6, spec.discount_rate), (12, 0.0), (12, 0.015)):
        qalys[(horizon, rate)] = _qaly_increment(ds, horizon / 12, rate, spec, cache).adjusted.estimate
    base = {item: uc.cost(item) for item in deltas[12]}
    base.update({"qaly_gain_scale": 1.0, "horizon_months": 12.0, "discount_rate": spec.discount_rate})

    def raw(p):
        d = deltas[int(p["horizon_months"])]
        cost = sum(p[item] * d[item] for item in d)
        return cost, p["qaly_gain_scale"] * qalys[(int(p["horizon_months"]), p["discount_rate"])]

    raw_base = raw(base)

    def model(p):
        cost, effect = raw(p)
        if anchor is None:
            return cost, effect
        return _anchored(cost, raw_base[0], anchor[0]), _anchored(effect, raw_base[1], anchor[1])

    lo, hi = q.adjusted.lower / q.adjusted.estimate, q.adjusted.upper / q.adjusted.estimate
    ranges = {item: (0.75 * base[item], 1.25 * base[item]) for item in deltas[12]}
    ranges["qaly_gain_scale"] = (min(lo, hi), max(lo, hi))
    res.tables["economics_one_way"] = one_way(model, base, ranges, wtp=spec.wtp)
    res.figures.append(tornado_plot(res.tables["economics_one_way"]))
    changes = {"6-month horizon": {"horizon_months": 6.0}, "QALYs undiscounted": {"discount_rate": 0.0},
               "QALYs discounted at 1.5%": {"discount_rate": 0.015}}
    years = sorted(int(y) for y in ds.execute(ds.table("unit_costs").select("year").distinct())["year"])
    other = years[-1] if years[-1] != uc.price_year else None
    if other is not None:
        later = unit_costs(ds, other)
        changes[f"unit costs of {other}/{str(other + 1)[2:]}"] = {i: later.cost(i) for i in deltas[12]}
    res.tables["economics_scenarios"] = scenarios(model, base, changes, wtp=spec.wtp)
