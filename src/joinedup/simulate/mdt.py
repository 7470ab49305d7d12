"""Community MDT case management: who is enrolled, when, and what it does to their admissions.

A practice's MDT enrols, at adoption and each following 1 April, the top 2% of its patients aged 65+
(by an observed risk score: emergency admissions in the previous 12 months, long-term conditions and
age) not already enrolled. Enrolment ends at death or after two years. Enrolled patients' emergency
admissions after enrolment are thinned (for a reduction) or supplemented (for an increase) by the
scenario's ``mdt_effect_admissions``, before readmissions, A&E and social care are derived. Because
people are picked on a high recent count, their admissions fall afterwards even with no effect
(regression to the mean): the trap MDT evaluations must avoid.

Example:
    >>> import numpy as np
    >>> score(np.array([0, 3]), np.array([1, 4]), np.array([70, 85])).round(2).tolist()
    [0.55, 5.2]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.simulate.dates import Period, day
from joinedup.simulate.geography import AreaPlan
from joinedup.simulate.population import NEVER, People

TOP_SHARE = 0.02
ENROLMENT_DAYS = 730
LOOKBACK_DAYS = 365


@dataclass
class Enrolments:
    person: np.ndarray  # local person index
    practice: np.ndarray  # area practice index
    start: np.ndarray
    end: np.ndarray  # NEVER while ongoing at the end of the period

    @classmethod
    def empty(cls) -> Enrolments:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z.copy(), z.copy(), z.copy())

    def window_end(self, period: Period) -> np.ndarray:
        """Last day (exclusive) the effect applies: end of enrolment, or of the period."""
        return np.minimum(self.end, period.end)


def score(prior_admissions: np.ndarray, ltc: np.ndarray, age: np.ndarray) -> np.ndarray:
    """The MDT's observed risk score (a simple additive tool, as practices used)."""
    return prior_admissions + 0.35 * np.minimum(ltc, 6) + 0.04 * (age - 65)


def _rounds(area: AreaPlan, first: int, last: int, period: Period) -> list[tuple[int, np.ndarray]]:
    """(day, practices) of each enrolment round in the chunk's practices."""
    by_day: dict[int, list[int]] = {}
    for p in range(first, last):
        adopted = int(area.mdt_adoption[p])
        if adopted < 0:
            continue
        by_day.setdefault(adopted, []).append(p)
        for year in range(period.first_year, period.last_year + 1):
            april = day(year, 4, 1)
            if adopted < april < period.end:
                by_day.setdefault(april, []).append(p)
    return [(d, np.array(sorted(ps))) for d, ps in sorted(by_day.items())]


def pick_top(people: People, period: Period, d: int, in_round: np.ndarray, taken: np.ndarray, who: np.ndarray,
             when: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The top 2% (at least 1) by :func:`score` of each round practice's patients 65+ on day ``d``.

    ``in_round`` flags the area's practices holding a round that day; people flagged in ``taken`` are
    passed over (but still count in the 2%). Ties are broken at random. Used for MDT enrolment and for
    the EQ-5D comparison sample, so both groups are picked by the same rule.

    Example:
        >>> # see enrol below, and joinedup.simulate.eq5d_sample.comparison_cohort
    """
    here = in_round[people.practice] & (people.entry <= d) & (people.death > d)
    idx = np.flatnonzero(here)
    age = period.age_at(np.full(len(idx), d), people.birth_year[idx], people.birth_doy[idx])
    old = idx[age >= 65]
    age_old = age[age >= 65]
    k = np.maximum(1, np.round(TOP_SHARE * np.bincount(people.practice[old], minlength=len(in_round))))
    free = ~taken[old]
    cand, cand_age = old[free], age_old[free]
    if len(cand) == 0:
        return cand
    recent = (when >= d - LOOKBACK_DAYS) & (when < d)
    prior = np.bincount(who[recent], minlength=people.n)[cand]
    s = score(prior, people.ltc[cand], cand_age)
    order = np.lexsort((rng.random(len(cand)), -s, people.practice[cand]))
    cand, prac = cand[order], people.practice[cand][order]
    first_of = np.searchsorted(prac, prac, side="left")
    rank = np.arange(len(cand)) - first_of
    return cand[rank < k[prac]]


def enrol(people: People, area: AreaPlan, part: int, period: Period, who: np.ndarray, when: np.ndarray,
          rng: np.random.Generator) -> Enrolments:
    """Enrolments of the chunk's people, from their emergency admissions so far."""
    first, last = area.parts[part]
    rounds = _rounds(area, first, last, period)
    if not rounds:
        return Enrolments.empty()
    enrolled = np.zeros(people.n, dtype=bool)
    out = []
    n_practices = len(area.practice_codes)
    for d, practices in rounds:
        in_round = np.zeros(n_practices, dtype=bool)
        in_round[practices] = True
        chosen = pick_top(people, period, d, in_round, enrolled, who, when, rng)
        if len(chosen) == 0:
            continue
        enrolled[chosen] = True
        end = np.minimum(d + ENROLMENT_DAYS, people.death[chosen])
        end = np.where(end >= period.end, NEVER, end)
        out.append((chosen, people.practice[chosen], np.full(len(chosen), d), end))
    if not out:
        return Enrolments.empty()
    cols = [np.concatenate(c).astype(np.int64) for c in zip(*out)]
    return Enrolments(*cols)


def enrolment_multiplier(enrolments: Enrolments, n_people: int, who: np.ndarray, when: np.ndarray,
                         effect: float, period: Period) -> np.ndarray:
    """Multiplier (1 + effect inside an enrolment window, else 1) for events (who, when)."""
    start = np.full(n_people, NEVER)
    stop = np.full(n_people, NEVER)
    start[enrolments.person] = enrolments.start
    stop[enrolments.person] = enrolments.window_end(period)
    inside = (when >= start[who]) & (when < stop[who])
    return np.where(inside, 1.0 + effect, 1.0)


def apply_effect(enrolments: Enrolments, n_people: int, who: np.ndarray, when: np.ndarray, effect: float,
                 period: Period, rng: np.random.Generator, thin_rng: np.random.Generator):
    """Emergency admissions after the MDT effect: thinned, or with extra events near existing ones."""
    keep_u = thin_rng.random(len(who))  # always drawn: same numbers whatever the effect
    mult = enrolment_multiplier(enrolments, n_people, who, when, effect, period)
    if effect <= 0:
        keep = keep_u < mult
        return who[keep], when[keep]
    inside = np.flatnonzero(mult > 1.0)
    copies = rng.poisson(effect, len(inside))
    src = np.repeat(inside, copies)
    start = np.zeros(n_people, dtype=np.int64)
    stop = np.zeros(n_people, dtype=np.int64)
    start[enrolments.person] = enrolments.start
    stop[enrolments.person] = enrolments.window_end(period)
    p = who[src]
    new_when = np.clip(when[src] + rng.integers(-30, 31, len(src)), start[p], stop[p] - 1)
    who2, when2 = np.concatenate([who, p]), np.concatenate([when, new_when])
    order = np.lexsort((when2, who2))
    return who2[order], when2[order]
