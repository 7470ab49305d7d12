"""``truth.json``: what the simulation was built with, for checking estimators against.

Every effect is listed with the outcome it changes, who it applies to, its size (relative change,
rate ratio and log rate ratio), when it starts and when it reaches its full size; the areas of each
programme; the MDT sites, practices, adoption dates and numbers enrolled; the EQ-5D sample and the
realised MDT utility effect; and the calibration constants. The format is documented in docs/simulation.md.

Example:
    >>> ramp_end("2013-11-01", 12)
    '2014-11-01'
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from joinedup.data.tables import TABLES
from joinedup.simulate import eq5d_sample as S
from joinedup.simulate import params
from joinedup.simulate.dates import to_iso
from joinedup.simulate.geography import World

FORMAT = "joinedup-simulation-truth"
VERSION = 1
OUTCOME = "emergency admissions (admissions.admission_method = 'emergency'), counted by admission_date"


def ramp_end(start: str, months: int) -> str:
    d = dt.date.fromisoformat(start)
    total = d.year * 12 + d.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, min(d.day, 28)).isoformat() if months else start


def _effect(name: str, size: float, applies_to: str, starts: dict[str, str], months: int, areas: list[str]) -> dict:
    return {
        "name": name, "outcome": OUTCOME, "applies_to": applies_to,
        "relative_change": size, "rate_ratio": 1.0 + size, "log_rate_ratio": math.log1p(size),
        "ramp_months": months,
        "ramp": "linear on the relative scale: 1 + relative_change * min(1, days since start / (ramp_months * 30.44))",
        "start_dates": starts, "full_effect_dates": {k: ramp_end(v, months) for k, v in starts.items()},
        "areas": areas,
    }


def eq5d_summary(table, effect_sum: float = 0.0, effect_n: int = 0) -> dict:
    """Questionnaires and mean utility by sample and wave, and the realised MDT utility effect.

    Example:
        >>> summary = eq5d_summary(TABLES["eq5d_responses"].arrow_schema().empty_table(), 2.0, 100)
        >>> summary["by_sample_and_wave"]["mdt_wave_0"], summary["realised_effect"]
        ({'n': 0, 'mean_utility': None}, 0.02)
    """
    sample = np.asarray(table.column("sample").to_pylist(), dtype=object)
    wave = table.column("wave").to_numpy()
    value = table.column("utility").to_numpy()
    groups = {}
    for name in ("mdt", "comparison"):
        for w in (0, 1, 2):
            here = (sample == name) & (wave == w)
            groups[f"{name}_wave_{w}"] = {"n": int(here.sum()),
                                          "mean_utility": round(float(value[here].mean()), 4) if here.any() else None}
    return {"by_sample_and_wave": groups, "managed_follow_up_questionnaires": effect_n,
            "realised_effect": round(effect_sum / effect_n, 5) if effect_n else None}


def _eq5d(world: World, summary: dict) -> dict:
    return {
        "effect_utility": world.scenario.mdt_effect_utility,
        "value_set": "EQ-5D-5L England (Devlin et al., Health Economics 2018;27:7-22); range -0.285 to 1",
        "samples": "mdt: every enrolment, index = enrolment_date; comparison: at the area's first MDT adoption "
                   "and each following 1 April, the top 2% of patients 65+ by the MDT score in each practice with "
                   "no MDT then nor in the next 12 months, once per person, index = that day",
        "waves_days_after_index": S.WAVE_DAYS.tolist(), "return_days": S.RETURN_DAYS,
        "response_rate": S.RESPONSE_RATE,
        "effect_mechanism": "at waves 1-2 of enrolled patients while case-managed, latent ill-health is lowered so "
                            "that expected utility rises by effect_utility (less only where the ceiling of 1 "
                            "binds); realised_effect is the mean difference with and without it on the same "
                            "random numbers. Fewer admissions (mdt effect) raise utility a little more.",
        **summary,
    }


def build_truth(world: World, rows: dict[str, int], enrolled: dict[int, np.ndarray],
                eq5d: dict | None = None) -> dict:
    """The truth document of a run; ``enrolled`` maps area index to enrolments by practice; ``eq5d``
    is :func:`eq5d_summary` of the run's questionnaires."""
    sc = world.scenario
    wave_areas = {w: sorted(a.code for a in world.areas if a.pioneer_wave == w) for w in (1, 2)}
    vanguard = sorted(a.code for a in world.areas if a.vanguard_start is not None)
    pioneer = sorted(wave_areas[1] + wave_areas[2])
    both = sorted(set(pioneer) & set(vanguard))
    neither = sorted(a.code for a in world.areas if a.code not in set(pioneer) | set(vanguard))
    effects = []
    for w in (1, 2):
        starts = {a.pioneer_site: to_iso(a.pioneer_start) for a in world.areas if a.pioneer_wave == w}
        effects.append(_effect(f"pioneer_wave_{w}", sc.pioneer_effect[w],
                               f"all residents of the Pioneer wave-{w} areas, from the site's start date",
                               dict(sorted(starts.items())), sc.ramp_months, wave_areas[w]))
    v_starts = {a.code: to_iso(a.vanguard_start) for a in world.areas if a.vanguard_start is not None}
    effects.append(_effect("vanguard", sc.vanguard_effect,
                           "all residents of areas with a Vanguard, from the area's first Vanguard start "
                           "(start_dates are by area code)", v_starts, sc.ramp_months, vanguard))
    from joinedup.simulate.practice_programme import practice_programme_table
    p_sites = practice_programme_table(world)
    effects.append(_effect("practice_programme", sc.practice_effect,
                           "registered patients of the practices in the practice-level programme (areas in neither "
                           "area programme), from the practice's start date (start_dates are by practice code)",
                           dict(zip(p_sites["unit_code"], p_sites["start_date"])), sc.ramp_months,
                           sorted(p_sites["unit_code"])))
    effects[-1]["sites"] = {s: sorted(g["unit_code"]) for s, g in p_sites.groupby("site")}
    mdt = _effect("mdt", sc.mdt_effect_admissions,
                  "patients enrolled in MDT case management, from enrolment_date to end_date (or the end of "
                  "the period); no ramp", {}, 0, sorted({a.code for a in world.areas if a.mdt_site}))
    mdt["ramp"] = "none: full effect from enrolment_date"
    effects.append(mdt)
    effects.append({
        "name": "mdt_utility", "outcome": "EQ-5D-5L utility (eq5d_responses.utility, England value set)",
        "applies_to": "questionnaires of enrolled patients (sample = 'mdt') at waves 1 and 2, while case-managed",
        "absolute_change": sc.mdt_effect_utility, "ramp": "none: from the 6-month wave",
        "areas": mdt["areas"],
    })
    practices = []
    for a in world.areas:
        for p in np.flatnonzero(a.mdt_adoption >= 0):
            practices.append({
                "practice_code": a.practice_codes[p], "area_code": a.code, "site": a.mdt_site,
                "mdt_id": f"MDT-{a.practice_codes[p]}", "adoption_date": to_iso(int(a.mdt_adoption[p])),
                "n_enrolled": int(enrolled.get(a.index, np.zeros(len(a.practice_codes)))[p]),
            })
    return {
        "format": FORMAT, "version": VERSION,
        "seed": world.seed, "scale": world.scale,
        "years": [world.period.first_year, world.period.last_year],
        "period": {"start": to_iso(world.period.start), "end": to_iso(world.period.end - 1)},
        "scenario": sc.model_dump(mode="json"),
        "effects": effects,
        "combination": "multiplicative: an area in both programmes gets both multipliers; an enrolled "
                       "patient in a programme area gets the programme and MDT multipliers",
        "mechanism": "index emergency admissions are thinned (or supplemented) by the multiplier on their "
                     "date; readmissions follow their index admission and in-hospital deaths are scaled by "
                     "the multiplier on the day of death, so all emergency admissions move with the effect. "
                     "Elective, maternity, other admissions, deaths and the population are not affected.",
        "pioneer_areas": {"1": wave_areas[1], "2": wave_areas[2]},
        "pioneer_sites": {s: sorted(a.code for a in world.areas if a.pioneer_site == s)
                          for s in sorted({a.pioneer_site for a in world.areas if a.pioneer_site})},
        "vanguard_areas": vanguard, "both_programmes": both, "neither_programme": neither,
        "mdt": {
            "effect_relative": sc.mdt_effect_admissions,
            "effect_log": math.log1p(sc.mdt_effect_admissions),
            "cost_per_patient_year": sc.mdt_cost_per_patient_year,
            "enrolment_rule": "at adoption and each following 1 April: top 2% (at least 1) of the practice's "
                              "patients aged 65+ by score = emergency admissions in the previous 365 days + "
                              "0.35 * min(ltc_count, 6) + 0.04 * (age - 65), not already enrolled; ends at "
                              "death or after 730 days",
            "sites": [{"site": s, "scheme_id": m["scheme_id"], "scheme_start": to_iso(m["start"]),
                       "areas": m["areas"]} for s, m in sorted(world.mdt_sites.items())],
            "practices": practices,
            "n_practices": len(practices),
            "n_enrolled": int(sum(p["n_enrolled"] for p in practices)),
            "effect_utility": sc.mdt_effect_utility,
        },
        "eq5d": _eq5d(world, eq5d if eq5d is not None else
                      eq5d_summary(TABLES["eq5d_responses"].arrow_schema().empty_table())),
        "calibration": {
            "emergency_trend_per_year": params.EMERGENCY_TREND, "season_amplitude": params.SEASON_AMPLITUDE,
            "area_sd": params.AREA_SD, "imd_log_rate_per_point": params.EMERGENCY_IMD,
            "latent_risk": {"sigma_permanent": params.SIGMA_PERM, "sigma_ar": params.SIGMA_AR, "rho": params.RHO},
            "hospital_death_share": params.HOSPITAL_DEATH_SHARE,
        },
        "rows": rows,
    }
