"""WP3: relate what sites did (WP1: typology, schemes, key-informant reports) to what they achieved
(WP1 impact by site, WP2 MDT estimates by site), from the controlled output tables.

* :func:`site_table`: one row per site joining its typology group, schemes, key-informant measures,
  impact estimate (log rate ratio with its 95% interval, as a percentage change too) and its MDT
  estimates (matched DiD of emergency admissions and of total cost) where it ran MDTs.
* :func:`moderator_fits`: a random-effects meta-regression of the site effects on each moderator in
  turn (typology group; reported progress on unplanned admissions; share of barriers rated
  significant), REML with Knapp-Hartung, as metafor's ``rma(yi, vi, mods = ~ x, method = "REML",
  test = "knha")``. One moderator at a time: with a dozen or two sites, several at once would fit noise.
* :func:`self_report_check`: does a site whose key informants report progress on reducing unplanned
  admissions show a fall in its routine indicator (its change against the rest of England from the year
  before it started to the latest year)?

Warning thresholds follow the Cochrane Handbook (section 10.11.5.1: meta-regression "should generally
not be considered when there are fewer than ten studies"), and Higgins & Thompson (2004) on false
positives when few studies are explored with several moderators.

Example:
    >>> joined = site_table(tables)                                              # doctest: +SKIP
    >>> moderator_fits(joined)                                                   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.synthesis.meta import meta_regression

MIN_SITES = 10  # Cochrane Handbook 10.11.5.1: fewer than ten studies, no meta-regression worth trusting
MODERATORS = {"typology_group": "Typology group", "pct_progress_unplanned": "Reported progress on unplanned admissions (%)",
              "pct_barriers_significant": "Barriers rated significant (%)"}
PROGRESS_MAJORITY = 50.0  # "leads report progress": at least half the answers say substantial or some


def _schemes(registry: pd.DataFrame | None) -> pd.Series:
    if registry is None or registry.empty:
        return pd.Series(dtype=object)
    from joinedup.report.labels import label

    return registry.groupby("site")["scheme_type"].agg(lambda s: ", ".join(sorted({label(v) for v in s})))


def _mdt(econ: pd.DataFrame | None) -> pd.DataFrame:
    """Wide per-site MDT estimates: ``mdt_n``, ``mdt_admissions[_low|_high]``, ``mdt_cost[_low|_high]``."""
    if econ is None or econ.empty:
        return pd.DataFrame(columns=["site"])
    parts = []
    for measure, name in (("emergency_admissions", "mdt_admissions"), ("total_cost", "mdt_cost")):
        part = econ[econ["measure"] == measure].set_index("site")
        parts.append(part[["estimate", "ci_low", "ci_high"]].set_axis([name, f"{name}_low", f"{name}_high"], axis=1))
    n = econ[econ["measure"] == "emergency_admissions"].set_index("site")["n_treated"].rename("mdt_n")
    return pd.concat([n, *parts], axis=1).reset_index().rename(columns={"index": "site"})


def site_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per site with an impact estimate (see the module docstring); the pooled MDT estimate
    is not a site and stays in ``economics_sites``."""
    sites = tables["synthesis_sites"]
    out = sites[["site", "wave", "n_areas", "estimate", "ci_low", "ci_high", "se"]].copy()
    for col, src in (("pct_change", "estimate"), ("pct_low", "ci_low"), ("pct_high", "ci_high")):
        out[col] = 100 * np.expm1(out[src])
    clusters = tables.get("typology_clusters")
    out["typology_group"] = (out["site"].map(clusters.set_index("site")["cluster"]).astype("Int64")
                             if clusters is not None else pd.NA)
    out["schemes"] = out["site"].map(_schemes(tables.get("typology_registry"))).fillna("")
    survey = tables.get("survey_site_measures")
    for col in ("respondents", "pct_progress_unplanned", "pct_barriers_significant"):
        out[col] = out["site"].map(survey.set_index("site")[col]) if survey is not None else np.nan
    mdt = _mdt(tables.get("economics_sites"))
    mdt = mdt[mdt["site"] != "All sites"] if "site" in mdt else mdt
    return out.merge(mdt, on="site", how="left")


def _design(frame: pd.DataFrame, moderator: str) -> pd.DataFrame:
    if moderator == "typology_group":  # dummies, the smallest group number as reference (R's treatment coding)
        groups = frame[moderator].astype(int)
        levels = sorted(groups.unique())
        return pd.DataFrame({f"group {g}": (groups == g).astype(float) for g in levels[1:]})
    return frame[[moderator]].astype(float).rename(columns={moderator: moderator})


def moderator_fits(joined: pd.DataFrame, method: str = "REML", knha: bool = True) -> pd.DataFrame:
    """One meta-regression per moderator with at least 3 sites and 2 distinct values; the coefficient
    rows (intercept left out) with k, QM and its p-value, residual tau2, R2 and ``few_sites`` (k below
    :data:`MIN_SITES`)."""
    rows = []
    for moderator in MODERATORS:
        if moderator not in joined:
            continue
        frame = joined.dropna(subset=[moderator, "estimate", "se"]).reset_index(drop=True)
        if len(frame) < 3 or frame[moderator].nunique() < 2:
            continue
        x = _design(frame, moderator)
        if len(frame) <= x.shape[1] + 1:
            continue
        fit = meta_regression(frame["estimate"], frame["se"] ** 2, x, method, knha)
        for coef in fit.coefficients.iloc[1:].itertuples():
            rows.append({"moderator": moderator, "term": coef.term, "k": fit.k, "estimate": coef.estimate,
                         "se": coef.se, "ci_lower": coef.ci_lower, "ci_upper": coef.ci_upper,
                         "p_value": coef.p_value, "qm": fit.qm, "qm_p": fit.qm_p, "tau2": fit.tau2, "r2": fit.r2,
                         "few_sites": fit.k < MIN_SITES})
    out = pd.DataFrame(rows, columns=["moderator", "term", "k", "estimate", "se", "ci_lower", "ci_upper",
                                      "p_value", "qm", "qm_p", "tau2", "r2", "few_sites"])
    # a percentage moderator read per 10 points, as a percentage change in the site's rate ratio
    per = np.where(out["moderator"] == "typology_group", 1.0, 10.0)
    for col, src in (("per_10_pct", "estimate"), ("per_10_low", "ci_lower"), ("per_10_high", "ci_upper")):
        out[col] = 100 * np.expm1(per * out[src].astype(float))
    return out


def _fy_value(ind: pd.DataFrame, unit: str, when: pd.Timestamp) -> float:
    row = ind[(ind["unit_name"] == unit) & (ind["period_start"] <= when) & (ind["period_end"] >= when)]
    return float(row["value"].iloc[0]) if len(row) else float("nan")


def routine_changes(indicators: pd.DataFrame, starts: pd.DataFrame, indicator: str = "emergency_admissions",
                    comparison: str = "Rest of England") -> pd.DataFrame:
    """Per site: the indicator's financial-year rate in the year before the site started and in the
    latest year, its percentage change, the comparison's change over the same years, and the
    difference (percentage points; negative = fell more than the comparison)."""
    columns = ["site", "baseline_year_start", "site_change_pct", "comparison_change_pct", "relative_change_pts"]
    ind = indicators[(indicators["indicator"] == indicator) & (indicators["period"] == "financial_year")].copy()
    if ind.empty:  # no indicators computed: nothing to compare the self-reports with
        return pd.DataFrame(columns=columns)
    ind["period_start"], ind["period_end"] = pd.to_datetime(ind["period_start"]), pd.to_datetime(ind["period_end"])
    latest = ind["period_start"].max()
    comp = comparison if (ind["unit_name"] == comparison).any() else "England"
    rows = []
    for site, start in zip(starts["site"], pd.to_datetime(starts["start"])):
        before = start - pd.Timedelta(days=365)
        if before < ind["period_start"].min() or latest <= before:
            continue
        s0, s1 = _fy_value(ind, site, before), _fy_value(ind, site, latest)
        c0, c1 = _fy_value(ind, comp, before), _fy_value(ind, comp, latest)
        site_pct, comp_pct = 100 * (s1 / s0 - 1), 100 * (c1 / c0 - 1)
        rows.append({"site": site, "baseline_year_start": ind.loc[(ind["period_start"] <= before)
                                                                  & (ind["period_end"] >= before), "period_start"].min(),
                     "site_change_pct": site_pct, "comparison_change_pct": comp_pct,
                     "relative_change_pts": site_pct - comp_pct})
    return pd.DataFrame(rows, columns=columns)


def self_report_check(joined: pd.DataFrame, routine: pd.DataFrame) -> pd.DataFrame:
    """Per site with a reported-progress share: the share, whether most say progress, the routine
    change against the comparison, whether it fell, and whether the two agree."""
    frame = joined[["site", "pct_progress_unplanned", "estimate", "ci_low", "ci_high"]].merge(
        routine, on="site", how="inner").dropna(subset=["pct_progress_unplanned", "relative_change_pts"])
    frame["reports_progress"] = frame["pct_progress_unplanned"] >= PROGRESS_MAJORITY
    frame["indicator_fell"] = frame["relative_change_pts"] < 0
    frame["agree"] = frame["reports_progress"] == frame["indicator_fell"]
    return frame.reset_index(drop=True)


def rank_correlation(check: pd.DataFrame) -> dict:
    """Spearman correlation of reported progress with the routine change (a site reporting more
    progress should show a larger fall: a negative rho), with its p-value and the number of sites.

    Example:
        >>> rank_correlation(pd.DataFrame({"pct_progress_unplanned": [10, 50, 90],
        ...                                "relative_change_pts": [3.0, 0.0, -2.0]}))["rho"]
        -1.0
    """
    n = len(check)
    if n < 3:
        return {"rho": float("nan"), "p_value": float("nan"), "n": n}
    rho, p = stats.spearmanr(check["pct_progress_unplanned"], check["relative_change_pts"])
    return {"rho": float(rho), "p_value": float(p), "n": n}
