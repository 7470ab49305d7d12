"""Adult social care of a chunk: care homes, home care, direct payments and reablement.

* Permanent care home placements (residential or nursing; the person stays until death) by three
  routes: already resident at the start, from the community (an age- and risk-dependent hazard), or
  straight from an emergency discharge to a care home; whichever comes first.
* Reablement for about 3% of emergency discharges of people aged 65+ going home (about six weeks,
  linked to the spell); about 82% are still at home 91 days after discharge, the others have died or
  moved into a care home (some go on to long-term home care).
* Long-term home care and direct payments (adults of all ages) from a yearly hazard, ending at death,
  at a care home placement or after an exponential duration.

Residents' later hospital discharges are recorded as back to the care home about half the time.

Example:
    >>> # called by joinedup.simulate.chunk.simulate_chunk
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.data import codes
from joinedup.simulate import hes_codes as H
from joinedup.simulate import params
from joinedup.simulate.activity import Spells
from joinedup.simulate.dates import Period
from joinedup.simulate.population import NEVER, People

SERVICE = {name: i for i, name in enumerate(codes.SOCIAL_CARE_SERVICES)}
FUNDING = {name: i for i, name in enumerate(codes.SOCIAL_CARE_FUNDING)}
REFERRAL = {name: i for i, name in enumerate(codes.SOCIAL_CARE_REFERRALS)}
_USUAL = codes.DISDEST_CODES.index("19")
_CARE_CODES = np.array([codes.DISDEST_CODES.index(c) for c in codes.DISDEST_BY_DESTINATION["care_home"]])
# funding probabilities (la_funded, joint_nhs, self_funded) by service
_FUNDING_P = {"residential": (0.62, 0.02, 0.36), "nursing": (0.52, 0.12, 0.36),
              "home_care": (0.75, 0.05, 0.20), "direct_payment": (0.95, 0.05, 0.0),
              "reablement": (0.85, 0.15, 0.0)}


@dataclass
class Services:
    person: np.ndarray
    service: np.ndarray
    start: np.ndarray
    end: np.ndarray  # NEVER while ongoing at the end of the period
    permanent: np.ndarray
    weekly_cost: np.ndarray
    funding: np.ndarray
    referral: np.ndarray
    spell: np.ndarray  # local spell index, -1 for none

    @property
    def n(self) -> int:
        return len(self.person)


def _rows(person, service, start, end, permanent, referral, spell, rng) -> Services:
    n = len(person)
    svc = np.broadcast_to(np.asarray(service, np.int64), (n,))
    cost = np.array([params.WEEKLY_COST[s] for s in codes.SOCIAL_CARE_SERVICES])[svc]
    fund = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for s, p in _FUNDING_P.items():
        rows = svc == SERVICE[s]
        fund[rows] = np.searchsorted(np.cumsum(p) / sum(p), u[rows], side="right").clip(0, 2)
    return Services(np.asarray(person, np.int64), svc.astype(np.int64), np.asarray(start, np.int64),
                    np.asarray(end, np.int64), np.full(n, permanent), np.round(cost * rng.lognormal(-0.02, 0.2, n), 2),
                    fund, np.broadcast_to(np.asarray(referral, np.int64), (n,)).copy(),
                    np.broadcast_to(np.asarray(spell, np.int64), (n,)).copy())


def _first_event(people: People, period: Period, hazard_steps: dict, load: float, rng) -> np.ndarray:
    """Day of each person's first event of a yearly age-dependent hazard (NEVER if none)."""
    curve = params.step_curve(hazard_steps)
    ages = people.age_matrix(period)
    rows = np.flatnonzero(ages[:, -1] >= min(hazard_steps))  # only people old enough at some point
    ys, ye = period.year_starts[:-1], period.year_starts[1:]
    lo = np.maximum(people.entry[rows, None], ys[None, :])
    hi = np.minimum(people.death[rows, None], ye[None, :])
    expo = np.clip((hi - lo) / (ye - ys)[None, :], 0.0, None)
    mult = np.exp(load * people.perm[rows] - load ** 2 * params.SIGMA_PERM ** 2 / 2)
    hit = rng.random(expo.shape) < 1 - np.exp(-curve[ages[rows]] * mult[:, None] * expo)
    idx = np.flatnonzero(hit.any(axis=1))
    t = np.argmax(hit[idx], axis=1)
    first = np.full(people.n, NEVER)
    first[rows[idx]] = lo[idx, t] + (rng.random(len(idx)) * (hi[idx, t] - lo[idx, t])).astype(np.int64)
    return first


def _end(start, duration, death, stop, period) -> np.ndarray:
    end = np.minimum.reduce([start + duration, death, stop])
    return np.where(end >= period.end, NEVER, np.maximum(end, start))


def build_services(people: People, spells: Spells, period: Period, rng: np.random.Generator) -> Services:
    """Every social care episode of the chunk's people; updates ``spells.disdest`` for care homes."""
    age_start = period.age_at(np.full(people.n, period.start), people.birth_year, people.birth_doy)
    risk = np.exp(0.5 * people.perm - 0.125 * params.SIGMA_PERM ** 2)
    # Care home residents at the start (entered up to four years before).
    prev_p = params.step_curve(params.CARE_HOME_PREVALENCE)[np.clip(age_start, 0, params.MAX_AGE)] * risk
    prevalent = (people.entry == period.start) & (age_start >= 65) & (rng.random(people.n) < prev_p)
    entry = np.where(prevalent, period.start - rng.integers(30, 4 * 365, people.n), NEVER)
    route = np.where(prevalent, REFERRAL["community"], -1)
    spell_of = np.full(people.n, -1)
    community = _first_event(people, period, params.CARE_HOME_HAZARD, 0.5, rng)
    take = community < entry
    entry, route = np.where(take, community, entry), np.where(take, REFERRAL["community"], route)
    # Straight from hospital: the first emergency discharge alive to a care home.
    em = np.isin(spells.kind, H.EMERGENCY_KINDS) & ~spells.died
    to_care = np.flatnonzero(em & np.isin(spells.disdest, _CARE_CODES))
    first_spell = np.full(people.n, np.iinfo(np.int64).max)
    np.minimum.at(first_spell, spells.person[to_care], to_care)
    has = first_spell < spells.n
    first_spell = np.where(has, first_spell, -1)
    hosp_day = np.full(people.n, NEVER)
    hosp_day[has] = spells.disc[first_spell[has]]
    take = hosp_day < entry
    entry = np.where(take, hosp_day, entry)
    route = np.where(take, REFERRAL["hospital_discharge"], route)
    spell_of = np.where(take, first_spell, spell_of)

    # Reablement after emergency discharges home of people aged 65+ not in a care home.
    age_disc = period.age_at(spells.disc, people.birth_year[spells.person], people.birth_doy[spells.person])
    eligible = em & (age_disc >= 65) & (spells.disdest == _USUAL) & (spells.disc < entry[spells.person])
    reab = np.flatnonzero(eligible & (rng.random(spells.n) < params.REABLEMENT_SHARE / 0.84))
    r_person, r_start = spells.person[reab], spells.disc[reab]
    r_death = people.death[r_person]
    to_ch = (rng.random(len(reab)) < params.REABLEMENT_CARE_HOME) & (r_death > r_start + 91)
    ch_day = r_start + rng.integers(42, 91, len(reab))
    cand = np.full(people.n, NEVER)
    np.minimum.at(cand, r_person[to_ch], ch_day[to_ch])
    take = cand < entry
    entry = np.where(take, cand, entry)
    route = np.where(take, REFERRAL["other"], route)
    spell_of = np.where(take, -1, spell_of)
    entry = np.where(entry < people.death, entry, NEVER)
    in_period = entry < period.end

    out = []
    r_end = _end(r_start, np.clip(np.round(rng.normal(42, 10, len(reab))), 14, 84).astype(np.int64),
                 r_death, np.maximum(entry[r_person], r_start), period)
    out.append(_rows(r_person, SERVICE["reablement"], r_start, r_end, False, REFERRAL["hospital_discharge"], reab, rng))
    follow = (r_end != NEVER) & (r_end < r_death) & (r_end < entry[r_person]) & (rng.random(len(reab)) < params.REABLEMENT_HOME_CARE)
    f_dur = rng.exponential(params.HOME_CARE_MEAN_YEARS * 365.25, int(follow.sum())).astype(np.int64)
    out.append(_rows(r_person[follow], SERVICE["home_care"], r_end[follow],
                     _end(r_end[follow], f_dur, r_death[follow], entry[r_person[follow]], period),
                     True, REFERRAL["hospital_discharge"], reab[follow], rng))
    # Permanent placements.
    who = np.flatnonzero(in_period)
    age_in = period.age_at(np.maximum(entry[who], period.start), people.birth_year[who], people.birth_doy[who])
    nursing = rng.random(len(who)) < params.NURSING_SHARE + 0.1 * (age_in >= 85)
    service = np.where(nursing, SERVICE["nursing"], SERVICE["residential"])
    end = np.where(people.death[who] < period.end, people.death[who], NEVER)
    out.append(_rows(who, service, entry[who], end, True, route[who], spell_of[who], rng))
    # Long-term home care and direct payments from the community.
    for name, hazard, years in (("home_care", params.HOME_CARE_HAZARD, params.HOME_CARE_MEAN_YEARS),
                                ("direct_payment", params.DIRECT_PAYMENT_HAZARD, params.DIRECT_PAYMENT_MEAN_YEARS)):
        start = _first_event(people, period, hazard, 0.5, rng)
        p = np.flatnonzero((start < entry) & (start < period.end))
        dur = rng.exponential(years * 365.25, len(p)).astype(np.int64)
        referral = np.where(rng.random(len(p)) < 0.85, REFERRAL["community"], REFERRAL["other"])
        out.append(_rows(p, SERVICE[name], start[p], _end(start[p], dur, people.death[p], entry[p], period),
                         True, referral, -1, rng))
    _record_returns(spells, entry, rng)
    return Services(*(np.concatenate([getattr(o, f) for o in out]) for f in Services.__dataclass_fields__))


def _record_returns(spells: Spells, entry: np.ndarray, rng) -> None:
    """Residents' discharges home are often recorded as to a care home (it is their home)."""
    back = ((spells.disdest == _USUAL) & (spells.disc > entry[spells.person])
            & (rng.random(spells.n) < params.CARE_HOME_RETURN))
    spells.disdest[back] = _CARE_CODES[rng.choice(3, size=int(back.sum()), p=[0.15, 0.35, 0.5])]
