"""Who answers EQ-5D-5L questionnaires in simulated England, and when.

The MDT evaluation sends questionnaires (waves 0, 1, 2: at the index date, 6 and 12 months later) to

* every patient enrolled in MDT case management, from the enrolment date (``sample = mdt``);
* a comparison sample (``sample = comparison``): in the areas with MDTs, at the area's first MDT
  adoption and each following 1 April (the MDTs' own calendar), the top 2% of patients aged 65+ by
  the MDTs' risk score in every practice that has no MDT then nor in the next 12 months; that day is
  their pseudo-index date. A person joins the comparison sample once.

Both groups are picked by the same rule on the same (recent, high) admission counts, so both regress to
the mean afterwards and a comparison of changes is fair. A questionnaire is sent to those alive at the
wave and returned, within four weeks, with probability 70% (independently by wave).

Example:
    >>> import numpy as np
    >>> c = Cohort(np.array([4, 9]), np.array([100, 200]), np.array([MDT, COMPARISON]), np.array([830, 200]))
    >>> c.n, c.sample.tolist()
    (2, [0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.simulate.dates import Period, day
from joinedup.simulate.geography import AreaPlan
from joinedup.simulate.mdt import Enrolments, pick_top
from joinedup.simulate.population import NEVER, People

MDT, COMPARISON = 0, 1  # indices into codes.EQ5D_SAMPLES
WAVE_DAYS = np.array([0, 182, 365])  # target day of each wave after the index date
RETURN_DAYS = 28  # a questionnaire comes back 0-27 days after it is sent
RESPONSE_RATE = 0.70  # per wave: 30% non-response
FOLLOW_UP_DAYS = int(WAVE_DAYS[-1]) + RETURN_DAYS  # a comparison practice has no MDT for this long


@dataclass
class Cohort:
    """People in the EQ-5D sample, one row each: who, their (pseudo-)index day, sample, and until when
    they are case-managed (the index day for the comparison sample: never)."""

    person: np.ndarray
    index: np.ndarray
    sample: np.ndarray
    managed_until: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person)


@dataclass
class Questionnaires:
    """Returned questionnaires: the cohort row they belong to, their wave and the day completed."""

    row: np.ndarray  # index into the Cohort
    wave: np.ndarray
    day: np.ndarray

    @property
    def n(self) -> int:
        return len(self.row)


def comparison_rounds(area: AreaPlan, first: int, last: int, period: Period) -> list[tuple[int, np.ndarray]]:
    """(day, practices) of each comparison round among the chunk's practices [first, last).

    Example:
        >>> # an area whose practices 0 and 2 adopt an MDT on day 16000 and 16365: practice 1 serves
        >>> # from day 16000; practice 2 is too close to its own MDT until after it
        >>> import dataclasses
        >>> from joinedup.simulate.geography import build_world
        >>> from joinedup.simulate.scenario import SCENARIOS
        >>> world = build_world(0.0005, 7, Period.of(2013, 2014), SCENARIOS["null"])
        >>> area = dataclasses.replace(world.areas[0], mdt_adoption=np.array([16000, -1, 16365]))
        >>> [(d, p.tolist()) for d, p in comparison_rounds(area, 0, 3, world.period)]
        [(16000, [1]), (16161, [1])]
    """
    adopted = area.mdt_adoption
    if not len(adopted) or adopted.max() < 0:
        return []
    start = int(adopted[adopted >= 0].min())
    days = [start] + [day(y, 4, 1) for y in range(period.first_year, period.last_year + 1)
                      if start < day(y, 4, 1) < period.end]
    out = []
    for d in days:
        # No MDT on the day nor during the follow-up: a practice adopting later still serves until then.
        free = (adopted[first:last] < 0) | (adopted[first:last] > d + FOLLOW_UP_DAYS)
        if free.any():
            out.append((d, first + np.flatnonzero(free)))
    return out


def comparison_cohort(people: People, area: AreaPlan, part: int, period: Period, who: np.ndarray,
                      when: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(person, pseudo-index day) of the chunk's comparison sample, in round order.

    Example:
        >>> # see joinedup.simulate.chunk.simulate_chunk
    """
    first, last = area.parts[part]
    taken = np.zeros(people.n, dtype=bool)
    persons, days = [], []
    for d, practices in comparison_rounds(area, first, last, period):
        in_round = np.zeros(len(area.practice_codes), dtype=bool)
        in_round[practices] = True
        chosen = pick_top(people, period, d, in_round, taken, who, when, rng)
        taken[chosen] = True
        persons.append(chosen)
        days.append(np.full(len(chosen), d, dtype=np.int64))
    if not persons:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(persons).astype(np.int64), np.concatenate(days)


def build_cohort(enrolments: Enrolments, comparison: tuple[np.ndarray, np.ndarray]) -> Cohort:
    """Enrolled patients first (in enrolment order), then the comparison sample.

    Example:
        >>> c = build_cohort(Enrolments.empty(), (np.array([7]), np.array([16000])))
        >>> c.sample.tolist(), c.managed_until.tolist()
        ([1], [16000])
    """
    person, index = comparison
    return Cohort(
        np.concatenate([enrolments.person, person]).astype(np.int64),
        np.concatenate([enrolments.start, index]).astype(np.int64),
        np.concatenate([np.full(len(enrolments.person), MDT), np.full(len(person), COMPARISON)]),
        np.concatenate([np.where(enrolments.end >= NEVER, NEVER, enrolments.end), index]).astype(np.int64),
    )


def questionnaires(cohort: Cohort, people: People, period: Period, rng: np.random.Generator) -> Questionnaires:
    """The questionnaires returned: sent at each wave to those alive, completed 0-27 days later by 70%.

    A questionnaire counts only if completed before death and inside the simulated period.

    Example:
        >>> # see joinedup.simulate.chunk.simulate_chunk
    """
    n = cohort.n
    sent = cohort.index[:, None] + WAVE_DAYS[None, :]
    completed = sent + rng.integers(0, RETURN_DAYS, (n, len(WAVE_DAYS)))
    returned = rng.random((n, len(WAVE_DAYS))) < RESPONSE_RATE
    ok = returned & (completed < people.death[cohort.person][:, None]) & (completed < period.end)
    row, wave = np.nonzero(ok)  # by cohort row, then wave
    return Questionnaires(row.astype(np.int64), wave.astype(np.int64), completed[row, wave])
