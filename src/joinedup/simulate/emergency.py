"""Emergency admissions before readmissions: rates, and the programme effects that thin them.

A person's rate in a year is the age curve x the area's effect (deprivation and an area random
effect) x their latent risk exp(z - var/2), with a winter peak and secular growth over the year. The
programme effects of the scenario multiply the rate in Pioneer and Vanguard areas from the site's
start, ramping up linearly over ``ramp_months``: candidates are drawn at the largest multiplier the
scenario can reach and kept with probability multiplier(date) / largest, with a uniform number drawn
for every candidate, so two scenarios with the same seed share their random numbers.

Example:
    >>> import numpy as np
    >>> from joinedup.simulate.scenario import Scenario
    >>> mult = programme_multiplier(np.array([0, 200, 400]), 1, 0, None, Scenario(), 365.25)
    >>> mult.round(3).tolist()
    [1.0, 0.978, 0.96]
"""

from __future__ import annotations

import numpy as np

from joinedup.simulate import params
from joinedup.simulate.dates import Period
from joinedup.simulate.events import seasonal_profile, yearly_events
from joinedup.simulate.geography import AreaPlan
from joinedup.simulate.population import People
from joinedup.simulate.scenario import Scenario

EMERGENCY_CURVE = params.age_curve(params.EMERGENCY_AGE) * params.EMERGENCY_SCALE
DAYS_PER_MONTH = 365.25 / 12


def programme_multiplier(days: np.ndarray, pioneer_wave: int, pioneer_start: int | None,
                         vanguard_start: int | None, scenario: Scenario, ramp_days: float) -> np.ndarray:
    """Multiplier of the emergency admission rate on each day in an area (1 outside programmes).

    The relative effect grows linearly from 0 at the start date to its full size ``ramp_days`` later;
    an area in both programmes gets both multipliers.
    """
    days = np.asarray(days, dtype=float)
    mult = np.ones(len(days))
    for start, effect in ((pioneer_start, scenario.pioneer_effect.get(pioneer_wave, 0.0)),
                          (vanguard_start, scenario.vanguard_effect)):
        if start is None or effect == 0.0:
            continue
        if ramp_days > 0:
            frac = np.clip((days - start) / ramp_days, 0.0, 1.0)
        else:
            frac = (days >= start).astype(float)
        mult *= 1.0 + effect * frac
    return mult


def area_multiplier_bound(area: AreaPlan, scenario: Scenario) -> float:
    """Largest programme multiplier the area reaches (>= 1)."""
    bound = 1.0
    if area.pioneer_start is not None:
        bound *= max(1.0, 1.0 + scenario.pioneer_effect.get(area.pioneer_wave, 0.0))
    if area.vanguard_start is not None:
        bound *= max(1.0, 1.0 + scenario.vanguard_effect)
    return bound


def emergency_rates(people: People, area: AreaPlan, period: Period) -> np.ndarray:
    """People x years index emergency admission rate per person-year (before season and trend)."""
    return EMERGENCY_CURVE[people.age_matrix(period)] * people.risk_matrix() * area.emergency_mult


def emergency_profile(period: Period) -> np.ndarray:
    return seasonal_profile(period, params.SEASON_AMPLITUDE, params.EMERGENCY_TREND)


def index_emergencies(people: People, area: AreaPlan, period: Period, scenario: Scenario,
                      rng: np.random.Generator, thin_rng: np.random.Generator,
                      practice_start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index emergency admissions (person, day) after the programme effects, sorted by person, day.
    ``practice_start``: start day of each of the area's practices in a practice-level programme (-1: none)."""
    from joinedup.simulate.practice_programme import practice_multiplier

    bound = area_multiplier_bound(area, scenario)
    in_practice_programme = practice_start is not None and (practice_start >= 0).any()
    if in_practice_programme:
        bound *= max(1.0, 1.0 + scenario.practice_effect)
    rate = emergency_rates(people, area, period) * bound
    who, when = yearly_events(rate, people.exposure(period), emergency_profile(period), rng)
    keep_u = thin_rng.random(len(who))  # drawn for every candidate: common random numbers
    mult = programme_multiplier(when, area.pioneer_wave, area.pioneer_start, area.vanguard_start, scenario,
                                scenario.ramp_months * DAYS_PER_MONTH)
    if in_practice_programme:
        mult = mult * practice_multiplier(when, practice_start[people.practice[who]], scenario.practice_effect,
                                          scenario.ramp_months * DAYS_PER_MONTH)
    keep = keep_u < mult / bound
    return who[keep], when[keep]
