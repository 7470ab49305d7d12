"""A&E attendances of a chunk.

Every emergency admission through A&E (ADMIMETH 21) has an attendance on its admission day with
disposal ``admitted``. Other attendances follow a U-shaped age curve, load on the latent risk (the
same people use A&E and beds), peak slightly in summer and grow over time; none falls during a
hospital stay. A few people who die outside hospital die in A&E (disposal ``died``).

Example:
    >>> bool(AE_CURVE[0] > AE_CURVE[40] < AE_CURVE[90])
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.data import codes
from joinedup.simulate import params
from joinedup.simulate.activity import BIG, Spells
from joinedup.simulate.dates import Period
from joinedup.simulate.events import seasonal_profile, yearly_events
from joinedup.simulate.population import People

AE_CURVE = params.age_curve(params.AE_AGE) * params.AE_SCALE
DISPOSAL = {name: i for i, name in enumerate(codes.AE_DISPOSALS)}
_OTHER_DISPOSALS = (("discharged", 0.73), ("referred", 0.18), ("transferred", 0.02), ("left", 0.07))
_ADMIMETH_21 = codes.ADMIMETH_CODES.index("21")


@dataclass
class Attendances:
    person: np.ndarray
    day: np.ndarray
    department: np.ndarray
    disposal: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person)


def build_attendances(people: People, period: Period, spells: Spells, rng: np.random.Generator) -> Attendances:
    """All A&E attendances of the chunk's people, sorted by person and day."""
    via_ae = np.flatnonzero(spells.admimeth == _ADMIMETH_21)
    admitted = Attendances(spells.person[via_ae], spells.adm[via_ae], np.ones(len(via_ae), np.int64),
                           np.full(len(via_ae), DISPOSAL["admitted"]))
    rate = AE_CURVE[people.age_matrix(period)] * people.risk_matrix(params.AE_RISK)
    profile = seasonal_profile(period, -0.03, params.AE_TREND)
    who, when = yearly_events(rate, people.exposure(period), profile, rng)
    # Nobody attends A&E from a hospital bed: drop attendances inside a stay.
    pos = np.searchsorted(spells.person * BIG + spells.adm, who * BIG + when, side="right") - 1
    inside = np.zeros(len(who), dtype=bool)
    if spells.n:
        last = np.maximum(pos, 0)
        inside = (pos >= 0) & (spells.person[last] == who) & (spells.disc[last] > when) & (spells.adm[last] <= when)
    who, when = who[~inside], when[~inside]
    names, p = zip(*_OTHER_DISPOSALS)
    disposal = np.array([DISPOSAL[n] for n in names])[rng.choice(len(names), size=len(who), p=np.array(p) / sum(p))]
    department = rng.choice(np.array([1, 2, 3]), size=len(who), p=[0.72, 0.03, 0.25])
    other = Attendances(who, when, department, disposal)
    # Deaths in A&E among deaths outside hospital.
    died_in_hospital = np.zeros(people.n, dtype=bool)
    died_in_hospital[spells.person[spells.died]] = True
    dead = np.flatnonzero((people.death < period.end) & ~died_in_hospital
                          & (rng.random(people.n) < params.AE_DEATH_SHARE))
    deaths = Attendances(dead, people.death[dead], np.ones(len(dead), np.int64), np.full(len(dead), DISPOSAL["died"]))
    parts = (admitted, other, deaths)
    out = Attendances(*(np.concatenate([getattr(a, f) for a in parts]) for f in Attendances.__dataclass_fields__))
    order = np.argsort(out.person * BIG + out.day, kind="stable")
    return Attendances(*(getattr(out, f)[order] for f in Attendances.__dataclass_fields__))
