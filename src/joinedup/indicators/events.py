"""Event tables behind the indicators, as Ibis expressions that run on any engine.

Every builder returns rows with the same columns: ``area_code`` (of residence), ``event_date`` (the
date that places the row in a period), ``age``, ``sex``, ``amount`` (what is counted: 1 per event, or
bed days, or delayed days) and ``hit`` (for proportions: whether the row is in the numerator).

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/demo/data")                                 # doctest: +SKIP
    >>> emergency(ds, min_age=65).count().execute()                       # doctest: +SKIP
"""

from __future__ import annotations

import ibis

from joinedup.data import Dataset
from joinedup.indicators import codelists as cl

COLUMNS = ("area_code", "event_date", "age", "sex", "amount", "hit")
DAY = ibis.interval(days=1)


def _shape(t, event_date, amount=None, hit=None, age=None, sex=None):
    # person_id rides along where the rows have one (breakdowns by the person's deprivation and
    # ethnic group join on it, indicators/breakdowns.py); the indicators themselves ignore it.
    person = {"person_id": t.person_id} if "person_id" in t.columns else {}
    return t.select(
        **person,
        area_code=t.area_code,
        event_date=event_date,
        age=(age if age is not None else t.age).cast("int32"),
        sex=sex if sex is not None else t.sex,
        amount=(amount if amount is not None else ibis.literal(1.0)).cast("float64"),
        hit=hit if hit is not None else ibis.literal(True),
    )


def _los(t):
    return t.discharge_date.delta(t.admission_date, unit="day")


def _emergency_spells(ds: Dataset, min_age: int = 0):
    """Emergency provider spells, transfers between hospitals included (for bed days and stays)."""
    adm = ds.table("admissions")
    keep = adm.admission_method == "emergency"
    return adm.filter(keep & (adm.age >= min_age)) if min_age else adm.filter(keep)


def _emergency_admissions(ds: Dataset, min_age: int = 0):
    """Emergency admissions as counted: starts of continuous inpatient spells (NHS Outcomes Framework
    2.3.i; HES guidance), so a spell that began as a transfer from another hospital is not one."""
    adm = _emergency_spells(ds, min_age)
    return adm.filter(~adm.transfer_in)


def _discharged(adm):
    """Spells with a discharge: open spells (unfinished episodes) have no length of stay yet."""
    return adm.filter(adm.discharge_date.notnull())


def emergency(ds: Dataset, min_age: int = 0):
    """Emergency admissions (CIPS starts, transfers excluded) by date of admission."""
    adm = _emergency_admissions(ds, min_age)
    return _shape(adm, adm.admission_date)


def _code_in(column, codes: tuple[str, ...]):
    """Whether an ICD-10/OPCS code starts with any of ``codes`` (3- or 4-character entries)."""
    return column.substr(0, 3).isin([c for c in codes if len(c) == 3]) | column.isin(
        [c for c in codes if len(c) == 4])


def acsc_chronic(ds: Dataset):
    """Emergency admissions for chronic ambulatory-care-sensitive conditions (NHS OF 2.3.i)."""
    adm = _emergency_admissions(ds)
    dx = adm.primary_diagnosis
    all_codes = tuple(c for codes in cl.ACSC_CHRONIC.values() for c in codes)
    bronchitis = _code_in(dx, cl.ACSC_BRONCHITIS) & adm.secondary_diagnoses.fill_null("").re_search(
        r"(^|;)(" + "|".join(cl.ACSC_BRONCHITIS_SECONDARY) + ")")
    surgical_codes = tuple(c for k in cl.ACSC_EXCLUDED_CONDITIONS for c in cl.ACSC_CHRONIC[k])
    excluded = _code_in(dx, surgical_codes) & _code_in(adm.procedure.fill_null(""), cl.ACSC_EXCLUDED_PROCEDURES)
    adm = adm.filter((_code_in(dx, all_codes) | bronchitis) & ~excluded)
    return _shape(adm, adm.admission_date)


def falls_65plus(ds: Dataset):
    """Emergency admissions of people 65+ for an injury caused by a fall (W00-W19)."""
    adm = _emergency_admissions(ds, 65)
    adm = adm.filter(adm.primary_diagnosis.re_search(cl.INJURY_PRIMARY_PATTERN)
                     & adm.secondary_diagnoses.fill_null("").re_search(cl.FALL_EXTERNAL_PATTERN))
    return _shape(adm, adm.admission_date)


def emergency_bed_days(ds: Dataset):
    """Bed days of emergency spells (zero-day stays count 0), by date of discharge; open spells wait."""
    adm = _discharged(_emergency_spells(ds))
    return _shape(adm, adm.discharge_date, amount=_los(adm))


def emergency_los_65plus(ds: Dataset):
    """Length of stay of each emergency spell of a person 65+, by date of discharge; open spells wait."""
    adm = _discharged(_emergency_spells(ds, 65))
    return _shape(adm, adm.discharge_date, amount=_los(adm))


def ae_attendances(ds: Dataset):
    """A&E attendances (all department types) by date of arrival."""
    ae = ds.table("ae_attendances")
    return _shape(ae, ae.arrival_date)


def _discharged_alive(ds: Dataset):
    """Spells ending alive, maternity excluded (the denominator of discharge measures); open spells
    have not ended."""
    adm = _discharged(ds.table("admissions"))
    return adm.filter((adm.discharge_destination != "died") & (adm.admission_method != "maternity"))


def readmissions_30d(ds: Dataset):
    """Discharges alive (emergency or elective) and whether an emergency admission followed within
    30 days (0-29 days after discharge), by date of discharge.

    Transfers follow the HES continuous inpatient spell (CIPS): a spell that ends in a transfer to
    another hospital is not a discharge (its CIPS goes on), and a spell that began as a transfer is
    never a readmission, so a transfer can never be a day-0 readmission.
    """
    index = _discharged_alive(ds)
    index = index.filter(index.admission_method.isin(["emergency", "elective"]))
    index = index.filter(~index.spell_id.isin(_transferred_out(ds)))
    em = ds.table("admissions")
    em = em.filter((em.admission_method == "emergency") & ~em.transfer_in).select(
        r_person=em.person_id, r_date=em.admission_date, r_spell=em.spell_id, r_cips=em.cips_id)
    window = [index.person_id == em.r_person, em.r_date >= index.discharge_date,
              em.r_date < index.discharge_date + 30 * DAY, em.r_spell != index.spell_id,
              em.r_cips != index.cips_id]
    # A membership test on the matched spell ids: cheaper than a semi-join joined back.
    readmitted = index.inner_join(em, window).select("spell_id")
    return _shape(index, index.discharge_date, hit=index.spell_id.isin(readmitted.spell_id))


def _transferred_out(ds: Dataset):
    """Ids of spells followed, in their CIPS, by a transfer in: admitted on or after this spell's
    discharge, and later than this spell (same-day ties broken by spell id)."""
    adm = ds.table("admissions")
    nxt = adm.filter(adm.transfer_in).select(n_cips=adm.cips_id, n_spell=adm.spell_id,
                                             n_date=adm.admission_date)
    later = (nxt.n_date > adm.admission_date) | ((nxt.n_date == adm.admission_date)
                                                 & (nxt.n_spell > adm.spell_id))
    pairs = adm.inner_join(nxt, [adm.cips_id == nxt.n_cips, nxt.n_spell != adm.spell_id,
                                 nxt.n_date >= adm.discharge_date, later])
    return pairs.select("spell_id").spell_id


def discharges_usual_residence(ds: Dataset):
    """Discharges alive (maternity excluded) and whether to the usual place of residence."""
    adm = _discharged_alive(ds)
    return _shape(adm, adm.discharge_date, hit=adm.discharge_destination == "usual_residence")


def weekend_discharges(ds: Dataset):
    """Discharges alive (maternity excluded) and whether on a Saturday or Sunday."""
    adm = _discharged_alive(ds)
    return _shape(adm, adm.discharge_date, hit=adm.discharge_date.day_of_week.index() >= 5)


def deaths_in_hospital(ds: Dataset):
    """Deaths of residents and whether the person died in hospital (a spell ending in death that day)."""
    persons = ds.table("persons")
    dead = persons.filter(persons.death_date.notnull())
    adm = ds.table("admissions")
    in_hospital = adm.filter(adm.discharge_destination == "died").select(
        h_person=adm.person_id, h_date=adm.discharge_date)
    hospital = dead.inner_join(in_hospital, [dead.person_id == in_hospital.h_person,
                                             dead.death_date == in_hospital.h_date]).select("person_id")
    age = dead.death_date.year() - dead.birth_year
    return _shape(dead, dead.death_date, hit=dead.person_id.isin(hospital.person_id), age=age)


def _permanent_care_home(ds: Dataset):
    sc = ds.table("social_care_services")
    return sc.filter(sc.service_type.isin(["residential", "nursing"]) & sc.permanent)


def care_home_admissions_65plus(ds: Dataset):
    """Council-supported permanent admissions to residential and nursing care, 65+ (ASCOF 2A(2))."""
    sc = _permanent_care_home(ds)
    sc = sc.filter(sc.funding.isin(["la_funded", "joint_nhs"]))
    persons = ds.table("persons").select("person_id", "birth_year", p_sex="sex")
    joined = sc.join(persons, "person_id")
    age = joined.start_date.year() - joined.birth_year
    joined = joined.mutate(age=age).filter(ibis._.age >= 65)
    return _shape(joined, joined.start_date, sex=joined.p_sex)


def _reablement_from_hospital(ds: Dataset):
    """Reablement services referred from a hospital discharge (naming the spell)."""
    sc = ds.table("social_care_services")
    return sc.filter((sc.service_type == "reablement") & (sc.referral_source == "hospital_discharge")
                     & sc.spell_id.notnull())


def _reablement_after_discharge(ds: Dataset):
    """Reablement starting from a hospital discharge of a person 65+, with the discharge."""
    sc = _reablement_from_hospital(ds)
    adm = ds.table("admissions").select("spell_id", "discharge_date", "age", "sex")
    joined = sc.join(adm, "spell_id")
    return joined.filter(joined.age >= 65)


def reablement_at_home_91d(ds: Dataset):
    """65+ discharged into reablement and whether still at home 91 days later (ASCOF 2B(1)):
    alive, and no permanent residential or nursing placement in the 91 days."""
    reab = _reablement_after_discharge(ds)
    persons = ds.table("persons").select("person_id", "death_date")
    reab = reab.left_join(persons, "person_id")
    home = _permanent_care_home(ds).select(c_person="person_id", c_start="start_date")
    day91 = reab.discharge_date + 91 * DAY
    # One pass: each reablement row with the count of permanent placements in its 91 days. (A
    # "moved" subquery built from the same join made the engine scan admissions twice.)
    j = reab.left_join(home, [reab.person_id == home.c_person, home.c_start > reab.discharge_date,
                              home.c_start <= day91])
    keys = ["service_id", "person_id", "area_code", "discharge_date", "age", "sex", "death_date"]
    reab = j.group_by(keys).aggregate(moves=j.c_person.count())
    alive = reab.death_date.isnull() | (reab.death_date > reab.discharge_date + 91 * DAY)
    return _shape(reab, reab.discharge_date, hit=alive & (reab.moves == 0))


def reablement_coverage(ds: Dataset):
    """65+ discharged alive from hospital and whether they went into reablement (ASCOF 2B(2))."""
    adm = _discharged_alive(ds)
    adm = adm.filter(adm.age >= 65)
    # The 65+ condition is the discharge's own, so the reablement side needs no join to admissions.
    reab = _reablement_from_hospital(ds)
    return _shape(adm, adm.discharge_date, hit=adm.spell_id.isin(reab.spell_id))


def delayed_transfers(responsible: str | None):
    """Delayed days in the month (all organisations, or one), from the SitReps."""

    def build(ds: Dataset):
        dt = ds.table("delayed_transfers")
        if responsible:
            dt = dt.filter(dt.responsible_org == responsible)
        return _shape(dt, dt.month, amount=dt.delayed_days, age=ibis.literal(None, "int32"),
                      sex=ibis.literal(None, "string"))

    return build
