"""A simulated practice-level programme: some GP practices start a scheme (e.g. frailty MDTs run by a
primary care network) on one of two dates, and the emergency admissions of their registered patients
change by ``Scenario.practice_effect`` from then, ramping up over ``ramp_months`` like the area
programmes.

Only practices of areas in neither area-level programme (no Pioneer, no Vanguard) take part, so a
practice's programmed effect is its own: ``practice_share`` of them, drawn from a stream of their
own (the other streams, and so every other table, are unchanged by it). Wave 1 starts on 1 April of
the middle year of the period, wave 2 a year later; a site is the practices of one area and wave
(as a PCN would be). With ``practice_effect == 0`` (the default scenarios) nobody takes part.

Example:
    >>> from joinedup.simulate.scenario import Scenario
    >>> Scenario(practice_effect=-0.2).practice_share
    0.25
"""

from __future__ import annotations

import numpy as np

from joinedup.simulate.dates import day, to_iso


def practice_starts(seed: int, area, first_year: int, last_year: int, scenario) -> np.ndarray:
    """Start day of each of the area's practices in the programme (-1: not in it)."""
    n = len(area.practice_codes)
    out = np.full(n, -1, dtype=np.int64)
    if scenario.practice_effect == 0 or area.pioneer_start is not None or area.vanguard_start is not None:
        return out
    rng = np.random.default_rng(np.random.SeedSequence([seed, 31, area.index]))
    chosen = rng.random(n) < scenario.practice_share
    wave = np.where(rng.random(n) < 0.5, 1, 2)
    year1 = first_year + (last_year - first_year + 1) // 2
    starts = {1: day(year1, 4, 1), 2: day(min(year1 + 1, last_year), 4, 1)}
    out[chosen] = [starts[int(w)] for w in wave[chosen]]
    return out


def practice_multiplier(days: np.ndarray, start: np.ndarray, effect: float, ramp_days: float) -> np.ndarray:
    """Multiplier of each event's rate from its practice's start day (``start`` < 0: none)."""
    days = np.asarray(days, dtype=float)
    if effect == 0:
        return np.ones(len(days))
    frac = np.clip((days - start) / ramp_days, 0.0, 1.0) if ramp_days > 0 else (days >= start).astype(float)
    return np.where(start >= 0, 1.0 + effect * np.where(days >= start, frac, 0.0), 1.0)


def practice_programme_table(world):
    """The programme as a sites file: ``site, unit_code, start_date, wave`` (empty without one)."""
    import pandas as pd  # not at the top: simulation workers run without pandas

    rows = []
    first, last = world.period.first_year, world.period.last_year
    for area in world.areas:
        starts = practice_starts(world.seed, area, first, last, world.scenario)
        year1 = first + (last - first + 1) // 2
        for code, s in zip(area.practice_codes, starts):
            if s >= 0:
                wave = 1 if s == day(year1, 4, 1) else 2
                rows.append({"site": f"{area.name} PCN wave {wave}", "unit_code": code,
                             "start_date": to_iso(int(s)), "wave": wave})
    return pd.DataFrame(rows, columns=["site", "unit_code", "start_date", "wave"])
