"""Hospital spells of a chunk: emergency, elective, maternity and other admissions.

Order of construction (each step reads the previous ones):

1. candidate spells: index emergencies (after programme and MDT effects), electives, deliveries
   (one per simulated birth) with antenatal and postnatal stays, baby spells, transfers in;
2. case mix and length of stay;
3. overlaps removed (a person is in one bed at a time; deliveries win), stays cut at death
   (a death during a stay is a death in hospital);
4. readmissions 1-30 days after emergency discharges alive;
5. final emergency admissions of people dying in hospital (~45% of deaths, scaled by the programme
   and MDT multipliers so emergency admissions as a whole move with the effect);
6. HES codes and costs.

Example:
    >>> # see joinedup.simulate.chunk.simulate_chunk, which calls build_spells
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.simulate import casemix, params
from joinedup.simulate import hes_codes as H
from joinedup.simulate.costs import spell_cost
from joinedup.simulate.dates import Period
from joinedup.simulate.events import seasonal_profile, yearly_events
from joinedup.simulate.population import NEVER, People

BIG = np.int64(1 << 22)  # > any day number: person * BIG + day is a sortable key
ELECTIVE_CURVE = params.age_curve(params.ELECTIVE_AGE) * params.ELECTIVE_SCALE
READMIT_CURVE = params.step_curve(params.READMISSION)
CATALOGUE_OF_KIND = ["emergency", "emergency", "death", "elective", "delivery", "antenatal", "postnatal",
                     "baby", "emergency"]


@dataclass
class Spells:
    person: np.ndarray
    adm: np.ndarray
    disc: np.ndarray
    kind: np.ndarray
    entry: np.ndarray  # index into the catalogue of the kind
    proc: np.ndarray = None
    day_case: np.ndarray = None
    died: np.ndarray = None
    admimeth: np.ndarray = None
    disdest: np.ndarray = None
    cost: np.ndarray = None

    def take(self, idx) -> Spells:
        return Spells(**{k: (v[idx] if v is not None else None) for k, v in self.__dict__.items()})

    @staticmethod
    def concat(parts: list[Spells]) -> Spells:
        keys = parts[0].__dict__
        return Spells(**{k: (np.concatenate([getattr(p, k) for p in parts])
                             if getattr(parts[0], k) is not None else None) for k in keys})

    @property
    def n(self) -> int:
        return len(self.person)


def _new(person, adm, kind, entry=None) -> Spells:
    n = len(person)
    return Spells(np.asarray(person, np.int64), np.asarray(adm, np.int64), np.zeros(n, np.int64),
                  np.full(n, kind, np.int64), np.full(n, -1, np.int64) if entry is None else entry)


def _draw_casemix(s: Spells, age: np.ndarray, rng: np.random.Generator) -> None:
    """Catalogue entry, procedure, day case and length of stay of every spell, in place."""
    group = casemix.age_group(age)
    s.proc = np.full(s.n, -1)
    s.day_case = np.zeros(s.n, dtype=bool)
    los = np.zeros(s.n, dtype=np.int64)
    for kind in np.unique(s.kind):
        rows = np.flatnonzero(s.kind == kind)
        cat = casemix.CATALOGUES[CATALOGUE_OF_KIND[kind]]
        fresh = rows[s.entry[rows] < 0]
        s.entry[fresh] = cat.draw(group[fresh], rng)
        e = s.entry[rows]
        s.proc[rows] = cat.procedure(e, rng)
        if kind in H.EMERGENCY_KINDS or kind == H.TRANSFER:
            los[rows] = casemix.negative_binomial(casemix.emergency_los_mean(age[rows]) * cat.los[e], 0.8, rng)
        elif kind == H.ELECTIVE:
            s.day_case[rows] = rng.random(len(rows)) < cat.day_case[e]
            los[rows] = np.where(s.day_case[rows], 0, 1 + casemix.negative_binomial(cat.los[e] - 0.7, 1.5, rng))
        else:
            los[rows] = casemix.negative_binomial(cat.los[e], 2.0, rng)
    s.disc = s.adm + los


def _candidates(people: People, period: Period, em_who, em_when, rng) -> Spells:
    """Every spell but readmissions and final admissions, before overlaps are resolved."""
    parts = [_new(em_who, em_when, H.EM_INDEX)]
    # Electives and transfers in (ADMIMETH 81/99) share one draw; each event is a transfer with
    # probability transfer rate / total rate.
    elective = ELECTIVE_CURVE[people.age_matrix(period)] * people.risk_matrix(params.ELECTIVE_RISK)
    flat = seasonal_profile(period, 0.0, params.ELECTIVE_TREND)
    who, when = yearly_events(elective + params.OTHER_TRANSFER_RATE, people.exposure(period), flat, rng)
    t = period.year(when) - period.first_year
    p_transfer = params.OTHER_TRANSFER_RATE / (elective[who, t] + params.OTHER_TRANSFER_RATE)
    transfer = rng.random(len(who)) < p_transfer
    parts.append(_new(who[~transfer], when[~transfer], H.ELECTIVE))
    parts.append(_new(who[transfer], when[transfer], H.TRANSFER))
    babies = np.flatnonzero(people.mother >= 0)
    mothers, born = people.mother[babies], people.entry[babies]
    parts.append(_new(mothers, born, H.DELIVERY))
    ante = rng.random(len(babies)) < params.ANTENATAL_PER_BIRTH
    a_day = born[ante] - rng.integers(7, 150, int(ante.sum()))
    ok = (a_day >= people.entry[mothers[ante]]) & (a_day >= period.start)
    parts.append(_new(mothers[ante][ok], a_day[ok], H.ANTENATAL))
    post = rng.random(len(babies)) < params.POSTNATAL_PER_BIRTH
    parts.append(_new(mothers[post], born[post] + rng.integers(3, 43, int(post.sum())), H.POSTNATAL))
    baby = rng.random(len(babies)) < params.BABY_ADMISSION_SHARE
    parts.append(_new(babies[baby], born[baby], H.BABY))
    s = Spells.concat(parts)
    return s.take(np.flatnonzero(s.adm < period.end))


def _sort(s: Spells) -> Spells:
    """By person, admission day, deliveries and births first."""
    fixed = np.isin(s.kind, (H.DELIVERY, H.BABY))
    return s.take(np.argsort((s.person * BIG + s.adm) * 2 + ~fixed, kind="stable"))


def _resolve_overlaps(s: Spells) -> Spells:
    """Drop spells overlapping a delivery/birth, then spells starting before an earlier one ends."""
    s = _sort(s)
    fixed = np.isin(s.kind, (H.DELIVERY, H.BABY))
    f = np.flatnonzero(fixed)
    if len(f):
        # The latest fixed spell of the same person admitted no later than this spell's discharge.
        pos = np.searchsorted(s.person[f] * BIG + s.adm[f], s.person * BIG + s.disc, side="right") - 1
        cand = f[np.maximum(pos, 0)]
        clash = ((pos >= 0) & ~fixed & (s.person[cand] == s.person) & (s.disc[cand] > s.adm)
                 & (s.adm[cand] < s.disc))
        s = s.take(np.flatnonzero(~clash))
    key = s.person * BIG + s.disc
    prev = np.concatenate([[-1], np.maximum.accumulate(key)[:-1]]) if s.n else key
    same = prev // BIG == s.person
    fixed = np.isin(s.kind, (H.DELIVERY, H.BABY))
    clash = same & (prev % BIG > s.adm) & ~fixed
    return s.take(np.flatnonzero(~clash))


def _cut_at_death(s: Spells, death: np.ndarray) -> Spells:
    d = death[s.person]
    s = s.take(np.flatnonzero(s.adm < d))
    d = death[s.person]
    s.died = s.disc >= d
    s.disc = np.minimum(s.disc, d)
    return s


def _readmissions(s: Spells, people: People, period: Period, rng) -> Spells:
    """Emergency readmissions 1-30 days after emergency discharges alive (none after a death)."""
    nxt = np.concatenate([s.adm[1:], [NEVER]])
    nxt = np.where(np.concatenate([s.person[1:] == s.person[:-1], [False]]), nxt, NEVER)
    age = period.age_at(s.adm, people.birth_year[s.person], people.birth_doy[s.person])
    src = np.flatnonzero(np.isin(s.kind, (H.EM_INDEX,)) & ~s.died
                         & (rng.random(s.n) < READMIT_CURVE[np.minimum(age, params.MAX_AGE)]))
    gap = 1 + np.floor((params.READMIT_MAX_GAP - 0.01) * rng.random(len(src)) ** 1.8).astype(np.int64)
    adm = s.disc[src] + gap
    limit = np.minimum(np.minimum(nxt[src], people.death[s.person[src]]), period.end)
    ok = adm < limit
    src, adm = src[ok], adm[ok]
    repeat = rng.random(len(src)) < 0.4  # same condition again
    r = _new(s.person[src], adm, H.EM_READMIT, np.where(repeat, s.entry[src], -1))
    _draw_casemix(r, age[src], rng)
    r.disc = np.minimum(r.disc, nxt[src])
    return r


def _final_admissions(s: Spells, people: People, period: Period, death_mult: np.ndarray, rng) -> Spells:
    """Emergency admissions ending in death for people who die in hospital but not during a stay."""
    dying = (people.death < period.end) & (people.death >= period.start)
    dying[s.person[s.died]] = False
    p = params.HOSPITAL_DEATH_SHARE * death_mult
    who = np.flatnonzero(dying & (rng.random(people.n) < p))
    last = np.full(people.n, np.iinfo(np.int64).min)
    np.maximum.at(last, s.person, s.disc)
    f = _new(who, people.death[who], H.EM_DEATH)
    age = period.age_at(people.death[who], people.birth_year[who], people.birth_doy[who])
    _draw_casemix(f, age, rng)
    los = f.disc - f.adm
    f.adm = np.maximum.reduce([people.death[who] - los, last[who], people.entry[who], np.full(len(who), period.start)])
    f.disc = people.death[who].copy()
    f.died = np.ones(len(who), dtype=bool)
    return f


def build_spells(people: People, period: Period, em_who, em_when, death_mult: np.ndarray,
                 rng: np.random.Generator) -> Spells:
    """All hospital spells of the chunk's people, sorted by person and admission date.

    ``death_mult`` is each person's programme x MDT multiplier on the day they die.
    """
    s = _candidates(people, period, em_who, em_when, rng)
    age = period.age_at(s.adm, people.birth_year[s.person], people.birth_doy[s.person])
    _draw_casemix(s, age, rng)
    s = _cut_at_death(_resolve_overlaps(s), people.death)
    r = _readmissions(s, people, period, rng)
    r.died = r.disc >= people.death[r.person]
    r.disc = np.minimum(r.disc, people.death[r.person])
    s = Spells.concat([s, r])
    s = Spells.concat([s, _final_admissions(s, people, period, death_mult, rng)])
    s = s.take(np.lexsort((s.kind, s.disc, s.person * BIG + s.adm)))
    age = period.age_at(s.adm, people.birth_year[s.person], people.birth_doy[s.person])
    s.admimeth = H.admimeth(s.kind, rng)
    p_care = params.step_curve(params.CARE_HOME_FROM_HOSPITAL)[np.minimum(age, params.MAX_AGE)]
    to_care = (H.METHOD_OF_KIND[s.kind] == 0) & (rng.random(s.n) < p_care)
    s.disdest = H.disdest(s.kind, age, s.died, to_care, rng)
    s.cost = spell_cost(s.kind, s.disc - s.adm, s.day_case, s.proc >= 0, rng)
    return s
