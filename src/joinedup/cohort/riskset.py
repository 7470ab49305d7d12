"""Risk-set (sequential) matching: each enrolment month's enrolled against who else qualified that month.

For every month m with enrolments, the candidate controls are the people who met the same eligibility
rule on the first day of m and had not been enrolled by then (a person enrolled later may be a control
earlier, as in sequential trial emulation, Thomas et al. 2020; Hernán & Robins), drawn from the source
the protocol names: ``other_practices`` (practices where the scheme enrolled nobody),
``other_areas`` (people living in local authorities where the scheme enrolled nobody: the IAU's
choice when a scheme covers whole practices of an area and spill-over within the area is likely) or
``not_yet_enrolled`` (the scheme's own practices). Enrolled and candidates are then matched by the
MatchIt-compatible engine (:func:`joinedup.economics.matching.matchit`, logistic propensity score on
the monthly history, 1:ratio nearest neighbour within a caliper) separately in each month, so both
arms share an index date and the admission spike that triggered enrolment is matched, not left to
regress to the mean. ``reuse_controls=False`` removes a person from later risk sets once used.

Example:
    >>> m = risk_set_match(panel, enrolled, RiskSetSpec(conditions=rule))       # doctest: +SKIP
    >>> m.pairs.groupby("treated").size()                                      # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from joinedup.cohort.eligibility import Condition, eligible, without_practice_rule
from joinedup.cohort.features import MonthFeatures
from joinedup.cohort.panel import Panel, month_index
from joinedup.economics.matching import matchit

ControlSource = Literal["other_practices", "other_areas", "not_yet_enrolled"]
OUTCOMES = ("emergency_admissions", "bed_days", "ae_attendances", "cost")


@dataclass(frozen=True)
class RiskSetSpec:
    conditions: list[Condition]
    controls: ControlSource = "other_practices"
    history_months: int = 12  # monthly admissions matched on, one covariate a month
    lookback_months: int = 24  # bed days, A&E and months 13-24 of admissions as totals
    followup_months: int = 12
    ratio: int = 1
    replace: bool = False  # within a risk set
    reuse_controls: bool = True  # across risk sets
    caliper: float | None = 0.2
    seed: int = 2013


@dataclass
class RiskSetMatch:
    """Matched sets (one row per enrolled and per matched control in a set) and diagnostics."""

    pairs: pd.DataFrame  # set_id, person_id, treated, weight, month, site, scheme, covariates, outcomes
    covariates: list[str]
    diagnostics: pd.DataFrame  # per risk set: enrolled, eligible candidates, matched, excluded reasons
    spec: RiskSetSpec
    trajectory_rows: dict = field(default_factory=dict, repr=False)


def covariate_frame(feat: MonthFeatures, rows: np.ndarray, m: int, spec: RiskSetSpec) -> pd.DataFrame:
    """Matching covariates of panel ``rows`` at month m: admissions month by month, totals, risk, person."""
    cols = {f"adm_m{k}": feat.window("emergency_admissions", m - k, m - k + 1, rows)
            for k in range(1, spec.history_months + 1)}
    cols["adm_older"] = feat.window("emergency_admissions", m - spec.lookback_months, m - spec.history_months, rows)
    cols["bed_days_prior"] = feat.window("bed_days", m - spec.lookback_months, m, rows)
    cols["ae_prior"] = feat.window("ae_attendances", m - spec.lookback_months, m, rows)
    cols["risk_score"] = feat.risk(m, rows)
    cols["age"] = feat.age(m)[rows]
    cols["male"] = feat.male[rows]
    cols["ltc_count"] = feat.ltc[rows]
    cols["imd_decile"] = feat.imd[rows]
    return pd.DataFrame(cols)


def outcome_frame(feat: MonthFeatures, rows: np.ndarray, m: np.ndarray, months: int) -> pd.DataFrame:
    """Use in the ``months`` before the index month and from it on, and death in follow-up."""
    out = {}
    for name in OUTCOMES:
        out[f"{name}_before"] = feat.window(name, m - months, m, rows)
        out[f"{name}_after"] = feat.window(name, m, m + months, rows)
    death = feat.death_month[rows]
    out["died_after"] = ((death >= m) & (death < m + months)).astype(float)
    out["died_before"] = 0.0
    return pd.DataFrame(out)


def _usable(covs: pd.DataFrame) -> list[str]:
    """Covariates that vary in this risk set (a constant column makes the logistic fit singular)."""
    return [c for c in covs.columns if covs[c].nunique() > 1]


def matched_positions(match_matrix: np.ndarray, n_treated: int, ratio: int):
    """Unpack matchit's match matrix (treated, in data order, x ratio -> row; -1 unmatched) into
    ``(treated index, control row, controls per treated)`` for the matched pairs.

    >>> t, c, n = matched_positions(np.array([[5], [-1], [7]]), 3, 1)
    >>> t.tolist(), c.tolist(), n.tolist()
    ([0, 2], [5, 7], [1, 0, 1])
    """
    t_idx = np.repeat(np.arange(n_treated), ratio)
    c_pos = match_matrix.ravel()
    keep = c_pos >= 0
    t_idx, c_pos = t_idx[keep], c_pos[keep]
    return t_idx, c_pos, np.bincount(t_idx, minlength=n_treated)


def risk_set_match(panel: Panel, enrolled: pd.DataFrame, spec: RiskSetSpec, features: MonthFeatures | None = None,
                   scheme_practices=None) -> RiskSetMatch:
    """Match each enrolment month's enrolled to that month's eligible, not-yet-enrolled people.

    ``enrolled``: person_id, enrolment_date, scheme, site (as from
    :func:`joinedup.cohort.enrolments.read_enrolments`). ``scheme_practices``: default, the practices of
    the enrolled (at registration).
    """
    feat = features or MonthFeatures(panel)
    rows = panel.rows_of(enrolled["person_id"])
    if (rows < 0).any():
        raise ValueError(f"person_id {enrolled['person_id'].iloc[int(np.argmax(rows < 0))]} is not in the panel")
    month = month_index(enrolled["enrolment_date"], panel.first_month)
    practice = feat.codes("practice_code")
    scheme = frozenset(practice.labels[practice.codes[rows]]) if scheme_practices is None else frozenset(scheme_practices)
    enrol_month = np.full(len(panel.person_id), np.iinfo(np.int64).max)
    enrol_month[rows] = month
    in_scheme = practice.isin(scheme)
    if spec.controls == "other_areas":  # nobody living where the scheme enrolled anyone
        area = feat.codes("area_code")
        source = ~area.isin(frozenset(area.labels[area.codes[rows]]))
    else:
        source = ~in_scheme if spec.controls == "other_practices" else in_scheme
    control_rule = spec.conditions if spec.controls == "not_yet_enrolled" else without_practice_rule(spec.conditions)
    used = np.zeros(len(panel.person_id), bool)
    parts, diag = [], []
    sites = enrolled["site"].to_numpy().astype(str)
    schemes = enrolled["scheme"].to_numpy().astype(str)
    set_base = 0
    for m in np.unique(month):
        here = np.flatnonzero(month == m)
        d = {"month": panel.month_start(m).date().isoformat(), "enrolled": len(here)}
        short = (m < spec.lookback_months) | (m + spec.followup_months > panel.n_months)
        if short:
            d.update(excluded_short_data=len(here), candidates=0, matched=0, met_rule=0)
            diag.append(d)
            continue
        at = feat.at(m)
        met = eligible(spec.conditions, at, scheme)[rows[here]]
        cand_mask = eligible(control_rule, at, scheme) & source & (enrol_month > m)
        if not spec.reuse_controls:
            cand_mask &= ~used
        cand = np.flatnonzero(cand_mask)
        d.update(excluded_short_data=0, candidates=len(cand), met_rule=int(met.sum()))
        if len(cand) == 0:
            d["matched"] = 0
            diag.append(d)
            continue
        all_rows = np.concatenate([rows[here], cand])
        covs = covariate_frame(feat, all_rows, m, spec)
        covs.insert(0, "treated", np.r_[np.ones(len(here)), np.zeros(len(cand))].astype(int))
        usable = _usable(covs.drop(columns="treated"))
        try:
            res = matchit("treated ~ " + " + ".join(usable), covs, distance="glm", ratio=spec.ratio,
                          replace=spec.replace, caliper=spec.caliper, seed=spec.seed)
        except (ValueError, np.linalg.LinAlgError) as exc:
            d.update(matched=0, note=str(exc)[:200])
            diag.append(d)
            continue
        t_idx, c_pos, n_ctrl = matched_positions(res.match_matrix, len(here), spec.ratio)
        matched_t = np.flatnonzero(n_ctrl > 0)
        set_of = set_base + np.arange(len(here))
        treated_part = pd.DataFrame({"set_id": set_of[matched_t], "row": rows[here][matched_t], "treated": 1,
                                     "weight": 1.0, "site": sites[here][matched_t], "scheme": schemes[here][matched_t],
                                     "met_rule": met[matched_t]})
        control_part = pd.DataFrame({"set_id": set_of[t_idx], "row": all_rows[c_pos], "treated": 0,
                                     "weight": 1.0 / n_ctrl[t_idx], "site": sites[here][t_idx],
                                     "scheme": schemes[here][t_idx], "met_rule": True})
        part = pd.concat([treated_part, control_part], ignore_index=True)
        part["month_index"] = m
        part = pd.concat([part, covs.iloc[np.r_[matched_t, c_pos]].reset_index(drop=True).drop(columns="treated")],
                         axis=1)
        parts.append(part)
        used[all_rows[c_pos]] = True
        set_base += len(here)
        d["matched"] = len(matched_t)
        diag.append(d)
    if not parts:
        raise ValueError("no enrolled person could be matched: " + "; ".join(
            f"{x['month']}: {x.get('note') or ('too close to the data edge' if x.get('excluded_short_data') else 'no candidates')}"
            for x in diag[:5]))
    pairs = pd.concat(parts, ignore_index=True)
    pairs = pd.concat([pairs, outcome_frame(feat, pairs["row"].to_numpy(), pairs["month_index"].to_numpy(),
                                            spec.followup_months)], axis=1)
    pairs.insert(1, "person_id", panel.person_id[pairs["row"].to_numpy()])
    pairs["index_month"] = [panel.month_start(m).date() for m in pairs["month_index"]]
    covariates = [c for c in covariate_frame(feat, np.zeros(0, dtype=np.int64), spec.lookback_months, spec).columns]
    return RiskSetMatch(pairs, covariates, pd.DataFrame(diag).fillna({"note": ""}) if diag else pd.DataFrame(), spec)


def trajectory(panel: Panel, match: RiskSetMatch, before: int = 24, after: int | None = None) -> pd.DataFrame:
    """Weighted mean emergency admissions per 1,000 people a month, by month relative to the index month.

    The picture of regression to the mean: the enrolled rise to a peak just before enrolment and fall
    after it whether or not the scheme works; matched controls should follow the same path before.

    Example:
        >>> trajectory(panel, m).pivot(index="relative_month", columns="group", values="rate_per_1000")  # doctest: +SKIP
    """
    after = match.spec.followup_months if after is None else after
    rel = np.arange(-before, after)
    p = match.pairs
    months = p["month_index"].to_numpy()[:, None] + rel[None, :]
    inside = (months >= 0) & (months < panel.n_months)
    adm = panel.admissions[p["row"].to_numpy()[:, None], np.clip(months, 0, panel.n_months - 1)].astype(float)
    alive = panel.persons["death_month"].to_numpy()[p["row"].to_numpy()][:, None] >= months
    w = p["weight"].to_numpy()[:, None] * inside * (alive | (rel[None, :] < 0))
    out = []
    for t, label in ((1, "enrolled"), (0, "matched controls")):
        sel = p["treated"].to_numpy() == t
        num = (adm[sel] * w[sel]).sum(axis=0)
        den = w[sel].sum(axis=0)
        out.append(pd.DataFrame({"relative_month": rel, "group": label,
                                 "rate_per_1000": np.where(den > 0, 1000 * num / np.maximum(den, 1e-12), np.nan)}))
    return pd.concat(out, ignore_index=True)
