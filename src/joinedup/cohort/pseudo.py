"""Null checks: a pseudo-scheme where there is none, and the older pseudo-index design to compare with.

* :func:`pseudo_enrol_top_risk`: "enrol" the top share by risk score of the people aged 65+ in some
  areas on the first day of each of some months, where no scheme runs. Any effect found is bias.
  Their admissions fall afterwards anyway (regression to the mean): the naive before/after shows it.
* :func:`pseudo_index_match`: the design of :mod:`joinedup.economics.cohort` (WP2's MDT evaluation)
  on the same panel: every candidate control gets one pseudo-index month drawn at random from the
  enrolled's months and controls are matched on 12-month totals (prior admissions, bed days, A&E,
  risk, age, sex, LTCs) with the same MatchIt engine. Controls are not selected by the trigger, so
  the spike before enrolment is not matched and regression to the mean is read as an effect.

Example:
    >>> fake = pseudo_enrol_top_risk(panel, feat, months=[30, 31], areas=["E06000001"])  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.cohort.eligibility import top_share_mask
from joinedup.cohort.features import MonthFeatures
from joinedup.cohort.panel import Panel, month_index
from joinedup.cohort.riskset import RiskSetMatch, RiskSetSpec, matched_positions, outcome_frame
from joinedup.economics.matching import matchit

TOTALS = ("adm_12m", "bed_days_12m", "ae_12m", "risk_score", "age", "male", "ltc_count", "imd_decile")


def pseudo_enrol_top_risk(panel: Panel, feat: MonthFeatures, months, areas, share: float = 0.02,
                          min_age: int = 65, scheme: str = "pseudo (no scheme)") -> pd.DataFrame:
    """Enrolments (person_id, enrolment_date, scheme, site) of the top ``share`` by risk in ``areas``."""
    area = panel.persons["area_code"].to_numpy().astype(str)
    here = np.isin(area, np.array(list(areas), dtype=str))
    taken = np.zeros(len(panel.person_id), bool)
    out = []
    for m in months:
        base = here & (feat.age(m) >= min_age) & (feat.death_month >= m) & ~taken
        top = top_share_mask(feat.risk(m), base, share)
        taken |= top
        idx = np.flatnonzero(top)
        out.append(pd.DataFrame({"person_id": panel.person_id[idx], "enrolment_date": panel.month_start(m),
                                 "scheme": scheme, "site": area[idx]}))
    return pd.concat(out, ignore_index=True)


def _totals(feat: MonthFeatures, rows: np.ndarray, m: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"adm_12m": feat.window("emergency_admissions", m - 12, m, rows),
                         "bed_days_12m": feat.window("bed_days", m - 12, m, rows),
                         "ae_12m": feat.window("ae_attendances", m - 12, m, rows),
                         "risk_score": _risk_rows(feat, rows, m),
                         "age": _year(feat.panel, m) - feat.birth_year[rows],
                         "male": feat.male[rows], "ltc_count": feat.ltc[rows], "imd_decile": feat.imd[rows]})


def _year(panel: Panel, m: np.ndarray) -> np.ndarray:
    """Calendar year of month index ``m``."""
    return panel.first_month.year + (panel.first_month.month - 1 + np.asarray(m)) // 12


def _risk_rows(feat: MonthFeatures, rows: np.ndarray, m: np.ndarray) -> np.ndarray:
    out = np.empty(len(rows))
    for mm in np.unique(m):
        sel = m == mm
        out[sel] = feat.risk(int(mm), rows[sel])
    return out


def pseudo_index_match(panel: Panel, feat: MonthFeatures, enrolled: pd.DataFrame, spec: RiskSetSpec,
                       min_age: int = 65, seed: int = 2013) -> RiskSetMatch:
    """The pseudo-index design (random index months, 12-month totals) on ``enrolled``, for comparison."""
    rng = np.random.default_rng(seed)
    rows = panel.rows_of(enrolled["person_id"])
    month = month_index(enrolled["enrolment_date"], panel.first_month)
    practice = panel.persons["practice_code"].to_numpy().astype(str)
    scheme = np.isin(practice, np.unique(practice[rows]))
    pool = np.flatnonzero(~scheme)
    pm = rng.choice(month, size=len(pool), replace=True)
    ok = (feat.death_month[pool] >= pm) & (_year(panel, pm) - feat.birth_year[pool] >= min_age)
    pool, pm = pool[ok], pm[ok]
    all_rows, all_m = np.concatenate([rows, pool]), np.concatenate([month, pm])
    data = _totals(feat, all_rows, all_m)
    data.insert(0, "treated", np.r_[np.ones(len(rows)), np.zeros(len(pool))].astype(int))
    res = matchit("treated ~ " + " + ".join(TOTALS), data, distance="glm", ratio=spec.ratio, caliper=spec.caliper)
    t_idx, c_pos, n_ctrl = matched_positions(res.match_matrix, len(rows), spec.ratio)
    matched = np.flatnonzero(n_ctrl > 0)
    site = enrolled["site"].to_numpy().astype(str)
    pairs = pd.concat([
        pd.DataFrame({"set_id": matched, "row": rows[matched], "treated": 1, "weight": 1.0, "site": site[matched],
                      "month_index": month[matched]}),
        pd.DataFrame({"set_id": t_idx, "row": all_rows[c_pos], "treated": 0, "weight": 1.0 / n_ctrl[t_idx],
                      "site": site[t_idx], "month_index": all_m[c_pos]})], ignore_index=True)
    pairs = pd.concat([pairs, outcome_frame(feat, pairs["row"].to_numpy(), pairs["month_index"].to_numpy(),
                                            spec.followup_months)], axis=1)
    pairs.insert(1, "person_id", panel.person_id[pairs["row"].to_numpy()])
    diag = pd.DataFrame([{"design": "pseudo-index", "enrolled": len(rows), "candidates": len(pool),
                          "matched": len(matched)}])
    return RiskSetMatch(pairs, list(TOTALS), diag, spec)
