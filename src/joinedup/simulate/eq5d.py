"""EQ-5D-5L answers and utilities of the MDT evaluation samples, and the MDT's effect on them.

Each questionnaire has a latent ill-health ``s`` (higher = worse): age, sex, long-term conditions,
the person's latent risk (permanent and this year's part, the same risk that drives their admissions),
emergency admissions in the weeks before (a drop that fades over about 45 days), nearness of death,
a person effect and occasion noise (``params.EQ5D_*``). Each dimension is answered by an ordered logit
on ``loading * s`` plus a person-by-dimension effect; the utility is the England EQ-5D-5L value of the
five levels (:data:`joinedup.data.codes.EQ5D5L_ENGLAND`, Devlin et al. 2018). Utility therefore falls
with age and conditions, slowly over follow-up, and around admissions.

MDT effect: at the follow-up waves of enrolled patients, while case-managed, ``s`` is lowered by the
amount that raises the questionnaire's *expected* utility (given ``s``) by exactly
``scenario.mdt_effect_utility`` (less only where the ceiling of 1 binds). The answers with and without
the effect share their random numbers, so the realised effect (mean difference) is known exactly and
written to ``truth.json``; the scenario's effect changes nothing else.

Example:
    >>> import numpy as np
    >>> utility(np.array([[1, 1, 1, 1, 1], [5, 5, 5, 5, 5], [2, 1, 1, 1, 1]])).round(3).tolist()
    [1.0, -0.285, 0.942]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.data import codes
from joinedup.simulate import hes_codes as H
from joinedup.simulate import params
from joinedup.simulate.activity import BIG, Spells
from joinedup.simulate.dates import Period
from joinedup.simulate.eq5d_sample import Cohort, Questionnaires
from joinedup.simulate.population import NEVER, People

# decrement[d, level - 1] of each dimension, and the step between successive levels
DECREMENT = np.array([codes.EQ5D5L_ENGLAND[d] for d in codes.EQ5D_DIMENSIONS])
STEP = np.diff(DECREMENT, axis=1)  # dims x 4
LOADING = np.array(params.EQ5D_LOADING)
CUTS = np.array(params.EQ5D_CUTS)  # dims x 4
DELTA_BOUND = 8.0  # largest shift of s the effect may use (the ceiling of 1 binds before this)


@dataclass
class Answers:
    levels: np.ndarray  # questionnaires x 5, 1..5
    utility: np.ndarray
    effect_sum: float  # sum over case-managed follow-up questionnaires of utility(with) - utility(without)
    effect_n: int


def utility(levels: np.ndarray) -> np.ndarray:
    """England EQ-5D-5L value of rows of five levels (mobility ... anxiety/depression).

    Example:
        >>> float(utility(np.array([[3, 2, 3, 2, 1]]))[0].round(3))
        0.748
    """
    levels = np.asarray(levels)
    return 1.0 - DECREMENT[np.arange(5)[None, :], levels - 1].sum(axis=1)


def expected_utility(s: np.ndarray, dim_effect: np.ndarray) -> np.ndarray:
    """Expected utility given latent ill-health ``s`` and person-by-dimension effects (n x 5).

    Example:
        >>> expected_utility(np.array([-3.0, 0.0, 3.0]), np.zeros((3, 5))).round(2).tolist()
        [1.0, 0.83, 0.08]
    """
    x = LOADING[None, :, None] * s[:, None, None] + dim_effect[:, :, None] - CUTS[None, :, :]
    above = 1.0 / (1.0 + np.exp(-x))  # P(level > k) for k = 1..4
    return 1.0 - (above * STEP[None, :, :]).sum(axis=(1, 2))


def shift_for(s: np.ndarray, dim_effect: np.ndarray, effect: float, iterations: int = 50) -> np.ndarray:
    """The shift ``delta`` of ``s`` with E[u | s - delta] = E[u | s] + effect (bisection, vectorised).

    Example:
        >>> s, v = np.array([0.0, 2.0]), np.zeros((2, 5))
        >>> (expected_utility(s - shift_for(s, v, 0.02), v) - expected_utility(s, v)).round(6).tolist()
        [0.02, 0.02]
    """
    target = expected_utility(s, dim_effect) + effect
    lo = np.full(len(s), -DELTA_BOUND)
    hi = np.full(len(s), DELTA_BOUND)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        short = expected_utility(s - mid, dim_effect) < target  # expected utility rises with delta
        lo = np.where(short, mid, lo)
        hi = np.where(short, hi, mid)
    return (lo + hi) / 2


def _recent_emergencies(person: np.ndarray, days: np.ndarray, spells: Spells) -> np.ndarray:
    """Sum over each person's emergency admissions in the 365 days up to ``days`` of exp(-age/45 days)."""
    em = H.METHOD_OF_KIND[spells.kind] == 0
    key = spells.person[em] * BIG + spells.adm[em]  # spells are sorted by person, then admission
    lo = np.searchsorted(key, person * BIG + days - 365, side="left")
    hi = np.searchsorted(key, person * BIG + days, side="right")
    count = hi - lo
    rows = np.repeat(np.arange(len(person)), count)
    pos = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(count.sum())
    since = days[rows] - spells.adm[em][pos]  # 0..365
    return np.bincount(rows, np.exp(-since / params.EQ5D_ADMISSION_DAYS), minlength=len(person))


def mean_severity(cohort: Cohort, q: Questionnaires, people: People, period: Period,
                  spells: Spells) -> np.ndarray:
    """The systematic part of latent ill-health of each questionnaire (before person and occasion noise).

    Example:
        >>> # see answer, which adds the person effect and occasion noise to it
    """
    p, d = cohort.person[q.row], q.day
    age = period.age_at(d, people.birth_year[p], people.birth_doy[p])
    year = np.clip(period.year(d) - period.first_year, 0, period.n_years - 1)
    risk = params.EQ5D_PERM * people.perm[p] + params.EQ5D_AR * people.ar[p, year]
    dying = people.death[p] < NEVER
    to_death = np.where(dying, people.death[p] - d, 10**6)
    return (params.EQ5D_AGE * (age - 80) / 10 + params.EQ5D_FEMALE * (people.sex[p] == 0)
            + params.EQ5D_LTC * (np.minimum(people.ltc[p], 8) - 3) + risk
            + params.EQ5D_ADMISSION * _recent_emergencies(p, d, spells)
            + params.EQ5D_DEATH * np.exp(-to_death / params.EQ5D_DEATH_DAYS))


def answer(cohort: Cohort, q: Questionnaires, people: People, period: Period, spells: Spells, effect: float,
           rng: np.random.Generator) -> Answers:
    """Draw the five answers of every questionnaire, with the MDT effect where it applies.

    Example:
        >>> # see joinedup.simulate.chunk.simulate_chunk, which calls answer for each chunk
    """
    person_effect = rng.normal(0.0, params.EQ5D_SD_PERSON, cohort.n)
    dim_effect = rng.normal(0.0, params.EQ5D_SD_DIMENSION, (cohort.n, 5))[q.row]
    occasion = rng.normal(0.0, params.EQ5D_SD_OCCASION, q.n)
    u = rng.random((q.n, 5))  # the same numbers with and without the effect
    s = mean_severity(cohort, q, people, period, spells) + person_effect[q.row] + occasion
    managed = (q.wave >= 1) & (q.day < cohort.managed_until[q.row])
    shifted = s.copy()
    if effect != 0.0 and managed.any():
        shifted[managed] -= shift_for(s[managed], dim_effect[managed], effect)
    noise = np.log(u) - np.log1p(-u)  # standard logistic
    levels = _levels(shifted, dim_effect, noise)
    value = utility(levels)
    without = utility(_levels(s[managed], dim_effect[managed], noise[managed]))
    return Answers(levels, value, float((value[managed] - without).sum()), int(managed.sum()))


def _levels(s: np.ndarray, dim_effect: np.ndarray, noise: np.ndarray) -> np.ndarray:
    y = LOADING[None, :] * s[:, None] + dim_effect + noise
    return 1 + (y[:, :, None] > CUTS[None, :, :]).sum(axis=2)
