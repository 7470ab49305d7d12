"""Simulate one chunk (an area, or a group of its practices) from its own random streams.

The chunk's generator streams come from ``SeedSequence([seed, 2, area_index, part])``, one child
stream per step, so chunks are independent of each other and of the order they run in, and a step
that draws a different number of values under another scenario leaves the other steps' streams alone.

Example:
    >>> from joinedup.simulate.dates import Period
    >>> from joinedup.simulate.geography import build_world
    >>> from joinedup.simulate.scenario import SCENARIOS
    >>> world = build_world(0.0005, 7, Period.of(2013, 2014), SCENARIOS["default"])
    >>> result = simulate_chunk(world, 0, 0)
    >>> result.tables["persons"].num_rows > 0
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from joinedup.simulate import eq5d, eq5d_sample, output
from joinedup.simulate.activity import build_spells
from joinedup.simulate.ae import build_attendances
from joinedup.simulate.casemix import person_comorbidities
from joinedup.simulate.deprivation import chunk_traits
from joinedup.simulate.emergency import DAYS_PER_MONTH, index_emergencies, programme_multiplier
from joinedup.simulate.geography import World
from joinedup.simulate.mdt import apply_effect, enrol, enrolment_multiplier
from joinedup.simulate.population import population_counts, simulate_people
from joinedup.simulate.practice_programme import practice_multiplier, practice_starts
from joinedup.simulate.social_care import build_services

# Append new streams at the end: a child's numbers depend only on its position, so the streams before
# it (and the tables drawn from them) stay the same.
STREAMS = ("people", "emergency", "thin_programme", "mdt", "mdt_extra", "thin_mdt", "spells", "casemix",
           "social_care", "ae", "output", "eq5d")


@dataclass
class ChunkResult:
    area_index: int
    part: int
    tables: dict[str, pa.Table]
    population: np.ndarray  # years x sex x band
    adults: np.ndarray  # years
    list_sizes: np.ndarray  # people registered at the start, by practice of the area
    enrolled: np.ndarray  # enrolments by practice of the area
    eq5d_effect: tuple[float, int] = (0.0, 0)  # realised MDT utility effect: sum and count (see eq5d)


def streams(seed: int, area_index: int, part: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence([seed, 2, area_index, part]).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children)}


def simulate_chunk(world: World, area_index: int, part: int) -> ChunkResult:
    """Simulate the people of one chunk and everything that happens to them."""
    area, period, scenario = world.areas[area_index], world.period, world.scenario
    rng = streams(world.seed, area_index, part)
    people = simulate_people(world, area, part, rng["people"])
    p_start = practice_starts(world.seed, area, period.first_year, period.last_year, scenario)
    who, when = index_emergencies(people, area, period, scenario, rng["emergency"], rng["thin_programme"],
                                  p_start)
    enrolments = enrol(people, area, part, period, who, when, rng["mdt"])
    effect = scenario.mdt_effect_admissions
    who, when = apply_effect(enrolments, people.n, who, when, effect, period, rng["mdt_extra"], rng["thin_mdt"])
    everyone = np.arange(people.n)
    death_mult = (programme_multiplier(people.death, area.pioneer_wave, area.pioneer_start, area.vanguard_start,
                                       scenario, scenario.ramp_months * DAYS_PER_MONTH)
                  * practice_multiplier(people.death, p_start[people.practice], scenario.practice_effect,
                                        scenario.ramp_months * DAYS_PER_MONTH)
                  * enrolment_multiplier(enrolments, people.n, everyone, people.death, effect, period))
    spells = build_spells(people, period, who, when, death_mult, rng["spells"])
    services = build_services(people, spells, period, rng["social_care"])
    attendances = build_attendances(people, period, spells, rng["ae"])
    comorb = person_comorbidities(people.ltc, rng["casemix"])
    cohort = eq5d_sample.build_cohort(enrolments, eq5d_sample.comparison_cohort(
        people, area, part, period, who, when, rng["eq5d"]))
    quest = eq5d_sample.questionnaires(cohort, people, period, rng["eq5d"])
    answers = eq5d.answer(cohort, quest, people, period, spells, scenario.mdt_effect_utility, rng["eq5d"])
    counts, adults = population_counts(people, period)
    n_prac = len(area.practice_codes)
    start_people = people.entry <= period.start
    tables = {
        "persons": output.persons_table(people, area, part, period,
                                        chunk_traits(world, area, part, people.perm)),
        "admissions": output.admissions_table(spells, people, area, part, period, comorb, rng["output"]),
        "ae_attendances": output.ae_table(attendances, people, area, part, period),
        "social_care_services": output.social_care_table(services, area, part),
        "mdt_enrolments": output.mdt_table(enrolments, area, part),
        "eq5d_responses": output.eq5d_table(cohort, quest, answers, area, part),
    }
    return ChunkResult(
        area_index, part, tables, counts, adults,
        np.bincount(people.practice[start_people], minlength=n_prac),
        np.bincount(enrolments.practice, minlength=n_prac),
        (answers.effect_sum, answers.effect_n),
    )
