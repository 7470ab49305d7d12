"""Known truths: regression to the mean with no intervention, and programmed effects that show.

Runs at scale 0.004 over 2012-2019 with the same seed under the null scenario and under scenarios with
one large effect each (Pioneer -30%, MDT -50%); sharing the seed, the scenarios share their random
numbers up to the effect, so differences are the effect plus little noise. Bands: the Pioneer ratio
must land within ±0.1 of 0.7 (its sampling error at this scale is about ±0.03); the MDT ratio within
±0.12 of 0.5 (about 300 admissions of a few hundred enrolees: sampling error about ±0.05).
"""

from __future__ import annotations

import json

import pytest

from test_simulate_helpers import EFFECT_SCALE, EFFECT_YEARS, in_list, one, run


def _effect_run(name):
    return run(name, scale=EFFECT_SCALE, years=EFFECT_YEARS)[0]


@pytest.fixture(scope="module")
def null():
    return _effect_run("null")


def test_regression_to_the_mean_without_any_intervention(null):
    # The 2% of people aged 65+ with most emergency admissions in 2013 have far fewer in 2014.
    in_2013, in_2014 = one(null, """with people as (
            select p.person_id, count(a.spell_id) filter (where year(a.admission_date) = 2013) n13,
                   count(a.spell_id) filter (where year(a.admission_date) = 2014) n14
            from {persons} p left join {admissions} a on a.person_id = p.person_id and a.admission_method = 'emergency'
            where 2013 - p.birth_year >= 66 and (p.death_date is null or p.death_date >= date '2015-01-01')
            group by 1),
        ranked as (select *, row_number() over (order by n13 desc, person_id) r, count(*) over () n from people)
        select [avg(n13), avg(n14)] from ranked where r <= 0.02 * n""")
    assert in_2013 > 2.5
    assert in_2014 < 0.6 * in_2013


def test_null_scenario_truth_has_zero_effects(null):
    truth = json.loads((null / "truth.json").read_text())
    assert {e["name"]: e.get("relative_change", e.get("absolute_change")) for e in truth["effects"]} == {
        "pioneer_wave_1": 0.0, "pioneer_wave_2": 0.0, "vanguard": 0.0, "practice_programme": 0.0, "mdt": 0.0,
        "mdt_utility": 0.0}


def _pioneer_ratio(folder) -> float:
    """(wave-1 Pioneer rate / neither rate) in 2015-16 over the same ratio in 2012-13."""
    truth = json.loads((folder / "truth.json").read_text())
    groups = {"p1": in_list(truth["pioneer_areas"]["1"]), "no": in_list(truth["neither_programme"])}

    def rate(group, years):
        adm = one(folder, f"select count(*) from {{admissions}} where admission_method = 'emergency' "
                          f"and area_code in ({groups[group]}) and year(admission_date) in {years}")
        pop = one(folder, f"select sum(persons) from {{population}} where area_code in ({groups[group]}) "
                          f"and year in {years}")
        return adm / pop

    after, before = (2015, 2016), (2012, 2013)
    return (rate("p1", after) / rate("no", after)) / (rate("p1", before) / rate("no", before))


def test_pioneer_effect_shows_against_the_null_with_the_same_seed(null):
    big = _effect_run("big_pioneer")
    truth = json.loads((big / "truth.json").read_text())
    assert truth["effects"][0]["relative_change"] == -0.3
    relative = _pioneer_ratio(big) / _pioneer_ratio(null)
    assert 0.6 < relative < 0.8  # the programmed effect is 0.7 once the ramp is complete


def test_mdt_effect_on_enrolled_patients(null):
    big = _effect_run("big_mdt")
    query = """select count(*) from {mdt_enrolments} m join {admissions} a using (person_id)
        where a.admission_method = 'emergency' and a.admission_date >= m.enrolment_date
        and a.admission_date < coalesce(m.end_date, date '2020-01-01')"""
    # Same seed and same programme multipliers: the same people are enrolled on the same days.
    same = "select list((person_id, enrolment_date) order by person_id) from {mdt_enrolments}"
    assert one(null, same) == one(big, same)
    after_null, after_big = one(null, query), one(big, query)
    assert after_null > 200
    assert 0.38 < after_big / after_null < 0.62
    # Before enrolment nothing differs.
    before = """select count(*) from {mdt_enrolments} m join {admissions} a using (person_id)
        where a.admission_method = 'emergency' and a.admission_date < m.enrolment_date - 30"""
    assert one(big, before) == pytest.approx(one(null, before), rel=0.1)
