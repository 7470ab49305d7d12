"""Arrow tables of a chunk, with exactly the canonical schemas, and run-wide unique identifiers.

Identifiers are built from the area index, the chunk (part) index and a local number, so they are
unique across the run and the same whatever order chunks are simulated in:
``person_id = area * 10**9 + part * 10**7 + local``; spells, attendances and services use
``area * 10**11 + part * 10**9 + local``.

Example:
    >>> person_ids(3, 1, np.arange(2)).tolist()
    [3010000000, 3010000001]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from joinedup.data import codes
from joinedup.data.tables import TABLES
from joinedup.simulate import casemix
from joinedup.simulate import hes_codes as H
from joinedup.simulate.activity import Spells
from joinedup.simulate.ae import Attendances
from joinedup.simulate.dates import Period
from joinedup.simulate.eq5d import Answers
from joinedup.simulate.eq5d_sample import Cohort, Questionnaires
from joinedup.simulate.geography import AreaPlan
from joinedup.simulate.mdt import Enrolments
from joinedup.simulate.population import NEVER, People
from joinedup.simulate.social_care import Services

PERSONS_PER_PART = 10**7
EVENTS_PER_PART = 10**9
COMORBIDITY_RECORDED = 0.85  # share of spells that list the person's long-term conditions


def person_ids(area: int, part: int, local: np.ndarray) -> np.ndarray:
    if len(local) and int(np.max(local)) >= PERSONS_PER_PART:
        raise ValueError("too many people in one chunk for the identifier scheme")
    return area * 10**9 + part * PERSONS_PER_PART + np.asarray(local, np.int64)


def event_ids(area: int, part: int, local: np.ndarray) -> np.ndarray:
    if len(local) and int(np.max(local)) >= EVENTS_PER_PART:
        raise ValueError("too many events in one chunk for the identifier scheme")
    return area * 10**11 + part * EVENTS_PER_PART + np.asarray(local, np.int64)


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32(), mask=missing)


def _table(name: str, arrays: list[pa.Array]) -> pa.Table:
    return pa.Table.from_arrays(arrays, schema=TABLES[name].arrow_schema())


def _repeat(value: str, n: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), n)


SEX = np.array(codes.SEXES)  # F, M


def persons_table(people: People, area: AreaPlan, part: int, period: Period,
                  traits: tuple[np.ndarray, np.ndarray]) -> pa.Table:
    """Persons of a chunk; ``traits`` = (LSOA IMD decile, ethnic group index), simulate.deprivation."""
    never = people.death >= NEVER
    decile, ethnic = traits
    return _table("persons", [
        pa.array(person_ids(area.index, part, np.arange(people.n))),
        casemix.take_strings(SEX, people.sex.astype(np.int64)),
        pa.array(people.birth_year.astype(np.int32)),
        _repeat(area.code, people.n),
        casemix.take_strings(np.array(area.practice_codes), people.practice.astype(np.int64)),
        pa.array(people.ltc.astype(np.int32)),
        _dates(np.where(never, 0, people.death), never),
        pa.array(decile.astype(np.int32)),
        casemix.take_strings(np.array(codes.ETHNIC_GROUPS), ethnic.astype(np.int64)),
    ])


def admissions_table(s: Spells, people: People, area: AreaPlan, part: int, period: Period,
                     comorb: np.ndarray, rng: np.random.Generator) -> pa.Table:
    age = period.age_at(s.adm, people.birth_year[s.person], people.birth_doy[s.person])
    code = np.empty(s.n, dtype=np.int64)
    spec = np.full(s.n, -1)
    ext = np.full(s.n, -1)
    for kind in np.unique(s.kind):
        rows = s.kind == kind
        cat = casemix.CATALOGUES[_catalogue(kind)]
        e = s.entry[rows]
        code[rows] = cat.code[e]
        spec[rows] = cat.secondary[e]
        ext[rows] = casemix.external_cause(cat.injury[e], cat.fall[e], age[rows], rng)
    with_ltc = np.where((rng.random(s.n) < COMORBIDITY_RECORDED) & (age >= 16), comorb[s.person], -1)
    return _table("admissions", [
        pa.array(event_ids(area.index, part, np.arange(s.n))),
        pa.array(person_ids(area.index, part, s.person)),
        _repeat(area.code, s.n),
        casemix.take_strings(np.array(area.practice_codes), people.practice[s.person].astype(np.int64)),
        _dates(s.adm), _dates(s.disc),
        casemix.take_strings(np.array(codes.ADMISSION_METHODS), H.method_of(s.admimeth)),
        casemix.take_strings(H.ADMIMETH, s.admimeth),
        casemix.take_strings(casemix.CODES, code),
        casemix.secondary_diagnoses(ext, spec, with_ltc),
        casemix.take_strings(casemix.PROCS, s.proc),
        casemix.take_strings(H.DESTINATIONS, H.destination_of(s.disdest)),
        casemix.take_strings(H.DISDEST, s.disdest),
        pa.array(np.minimum(age, 120).astype(np.int32)),
        casemix.take_strings(SEX, people.sex[s.person].astype(np.int64)),
        pa.array(s.cost.astype(np.float64)),
        pa.array(event_ids(area.index, part, cips_start(s))),
        pa.array(np.isin(H.ADMIMETH[s.admimeth], H.TRANSFER_ADMIMETH)),
    ])


def cips_start(s: Spells) -> np.ndarray:
    """Local index of the first spell of each spell's continuous inpatient spell, by the HES rule the
    importer applies: a person's next spell (by admission, then discharge) joins the previous one when
    admitted 0-2 days after its discharge as a transfer (ADMIMETH 2B/81; the simulator discharges to no
    hospital as a transfer, DISDEST 49-53 or 84, and admits from none, ADMISORC 49-53 or 87)."""
    order = np.lexsort((s.disc, s.adm, s.person))
    person, adm, disc = s.person[order], s.adm[order], s.disc[order]
    transfer = np.isin(H.ADMIMETH[s.admimeth[order]], H.TRANSFER_ADMIMETH)
    linked = np.zeros(s.n, dtype=bool)
    gap = adm[1:] - disc[:-1]
    linked[1:] = (person[1:] == person[:-1]) & (gap >= 0) & (gap <= 2) & transfer[1:]
    starts = np.maximum.accumulate(np.where(linked, 0, np.arange(s.n)))
    out = np.empty(s.n, dtype=np.int64)
    out[order] = order[starts]
    return out


def _catalogue(kind: int) -> str:
    from joinedup.simulate.activity import CATALOGUE_OF_KIND

    return CATALOGUE_OF_KIND[kind]


def ae_table(a: Attendances, people: People, area: AreaPlan, part: int, period: Period) -> pa.Table:
    age = period.age_at(a.day, people.birth_year[a.person], people.birth_doy[a.person])
    return _table("ae_attendances", [
        pa.array(event_ids(area.index, part, np.arange(a.n))),
        pa.array(person_ids(area.index, part, a.person)),
        _repeat(area.code, a.n),
        _dates(a.day),
        pa.array(a.department.astype(np.int32)),
        casemix.take_strings(np.array(codes.AE_DISPOSALS), a.disposal),
        pa.array(np.clip(age, 0, 120).astype(np.int32)),
        casemix.take_strings(SEX, people.sex[a.person].astype(np.int64)),
    ])


def social_care_table(v: Services, area: AreaPlan, part: int) -> pa.Table:
    order = np.lexsort((v.service, v.start, v.person))
    v = Services(*(getattr(v, f)[order] for f in Services.__dataclass_fields__))
    ongoing = v.end >= NEVER
    spell_ids = event_ids(area.index, part, np.maximum(v.spell, 0))
    return _table("social_care_services", [
        pa.array(event_ids(area.index, part, np.arange(v.n))),
        pa.array(person_ids(area.index, part, v.person)),
        _repeat(area.code, v.n),
        casemix.take_strings(np.array(codes.SOCIAL_CARE_SERVICES), v.service),
        _dates(v.start),
        _dates(np.where(ongoing, 0, v.end), ongoing),
        pa.array(v.permanent.astype(bool)),
        pa.array(v.weekly_cost.astype(np.float64)),
        casemix.take_strings(np.array(codes.SOCIAL_CARE_FUNDING), v.funding),
        casemix.take_strings(np.array(codes.SOCIAL_CARE_REFERRALS), v.referral),
        pa.array(spell_ids, type=pa.int64(), mask=v.spell < 0),
    ])


def mdt_table(e: Enrolments, area: AreaPlan, part: int) -> pa.Table:
    ongoing = e.end >= NEVER
    codes_arr = np.array(area.practice_codes)
    return _table("mdt_enrolments", [
        pa.array(person_ids(area.index, part, e.person)),
        casemix.take_strings(codes_arr, e.practice),
        casemix.take_strings(np.array([f"MDT-{c}" for c in area.practice_codes]), e.practice),
        _dates(e.start),
        _dates(np.where(ongoing, 0, e.end), ongoing),
    ])


def eq5d_table(c: Cohort, q: Questionnaires, a: Answers, area: AreaPlan, part: int) -> pa.Table:
    """One row per returned questionnaire, by sample, person and wave."""
    order = np.lexsort((q.wave, c.person[q.row], c.sample[q.row]))
    row = q.row[order]
    levels = a.levels[order].astype(np.int32)
    return _table("eq5d_responses", [
        pa.array(person_ids(area.index, part, c.person[row])),
        casemix.take_strings(np.array(codes.EQ5D_SAMPLES), c.sample[row].astype(np.int64)),
        _dates(c.index[row]),
        pa.array(q.wave[order].astype(np.int32)),
        _dates(q.day[order]),
        *(pa.array(levels[:, k]) for k in range(5)),
        pa.array(a.utility[order].astype(np.float64)),
    ])
