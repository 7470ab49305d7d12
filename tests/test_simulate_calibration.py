"""Simulated England against published anchors (main run: scale 0.005, 2010-2019, default scenario).

Tolerances: the anchors are approximate national figures (ONS mid-year estimates, HES, ASCOF, DToC
SitReps, Morciano et al. 2021) and a 0.5% sample adds Poisson noise (about ±1.5% on a national yearly
rate, ±4% on a five-year growth in 81 areas), so each band is the published range widened by that
noise. Figures at scale 1.0 are the counts divided by the scale.
"""

from __future__ import annotations

import numpy as np
import pytest

from test_simulate_helpers import MAIN_SCALE, in_list, one, run, sql

OLD_BANDS = "('65-69', '70-74', '75-79', '80-84', '85-89', '90+')"


@pytest.fixture(scope="module")
def main():
    return run("default")[0]


def _population(folder, year: int, where: str = "true") -> int:
    return one(folder, f"select sum(persons) from {{population}} where year = {year} and {where}")


def _emergency(folder, year: int, where: str = "true") -> int:
    return one(folder, f"select count(*) from {{admissions}} where admission_method = 'emergency' "
                       f"and year(admission_date) = {year} and {where}")


def test_population_size_structure_and_growth(main):
    total = _population(main, 2013)
    assert total == pytest.approx(MAIN_SCALE * 53.9e6, rel=0.02)
    assert 0.160 < _population(main, 2013, f"age_band in {OLD_BANDS}") / total < 0.185
    assert 0.020 < _population(main, 2013, "age_band in ('85-89', '90+')") / total < 0.027
    assert 0.055 < _population(main, 2013, "age_band = '0-4'") / total < 0.068
    assert 0.025 < _population(main, 2018) / total - 1 < 0.050  # about +0.7% a year
    # Older in predominantly rural areas, younger in London.
    old = dict(sql(main, f"""select a.region = 'London', sum(persons) filter (where age_band in {OLD_BANDS})
        / sum(persons) from {{population}} p join {{areas}} a using (area_code) where year = 2013 group by 1"""))
    assert old[True] < 0.14 < old[False]
    deaths = one(main, "select count(*) from {persons} where year(death_date) = 2013")
    assert 0.0075 < deaths / total < 0.0105
    # The areas table's population is the first year's simulated residents.
    assert one(main, "select sum(population) from {areas}") == _population(main, 2010)


def test_emergency_admission_rate_2013(main):
    rate = _emergency(main, 2013) / _population(main, 2013) * 1000 / 12
    assert 7.2 <= rate <= 8.2


def test_total_admissions_and_ae_attendances(main):
    admissions = one(main, "select count(*) from {admissions} where year(admission_date) = 2013") / MAIN_SCALE
    assert 15.0e6 < admissions < 19.0e6
    ae = one(main, "select count(*) from {ae_attendances} where year(arrival_date) = 2013") / MAIN_SCALE
    assert 21.5e6 < ae < 26.5e6
    electives = dict(sql(main, "select admission_date = discharge_date, count(*) from {admissions} "
                               "where admission_method = 'elective' group by 1"))
    assert electives[True] / (electives[True] + electives[False]) > 0.7  # mostly day cases


def test_age_gradient(main):
    def rate(lo, hi):
        bands = [f"'{a}-{a + 4}'" for a in range(lo, min(hi, 90), 5)] + (["'90+'"] if hi > 90 else [])
        return (_emergency(main, 2013, f"age between {lo} and {hi - 1}")
                / _population(main, 2013, f"age_band in ({', '.join(bands)})"))
    assert rate(85, 130) > 5 * rate(15, 45)
    assert rate(75, 85) > rate(65, 75) > rate(45, 65) > rate(15, 45)


def test_winter_peak(main):
    by_month = dict(sql(main, "select month(admission_date), count(*) from {admissions} "
                              "where admission_method = 'emergency' and year(admission_date) between 2011 and 2018 group by 1"))
    assert by_month[1] / 31 > 1.08 * by_month[7] / 31


def test_growth_in_areas_in_neither_programme(main):
    neither = in_list(one(main, "select list(area_code) from {areas} where area_code not in "
                                "(select area_code from {programmes})"))
    where = f"area_code in ({neither})"
    growth = ((_emergency(main, 2018, where) / _population(main, 2018, where))
              / (_emergency(main, 2013, where) / _population(main, 2013, where)) - 1)
    assert 0.08 <= growth <= 0.16


def test_case_mix(main):
    acsc = """(substr(primary_diagnosis, 1, 3) in ('J45','J46','I20','I25','J41','J42','J43','J44','J47','G40',
        'G41','R56','O15','F00','F01','F02','F03','E10','E11','E12','E13','E14','I50','J81','I10','D51','D52',
        'E40','E41','E42','E43') or primary_diagnosis in ('I240','I248','I249','I110','I130','I119','D501',
        'D508','D509','E550','E643') or (substr(primary_diagnosis, 1, 3) = 'J20'
        and regexp_matches(coalesce(secondary_diagnoses, ''), 'J4[1-4]')))"""
    share = one(main, f"select avg(({acsc})::int) from {{admissions}} where admission_method = 'emergency'")
    assert 0.10 < share < 0.18
    falls = one(main, """select avg(regexp_matches(coalesce(secondary_diagnoses, ''), 'W[01][0-9]')::int)
        from {admissions} where admission_method = 'emergency' and age >= 65 and primary_diagnosis like 'S%'""")
    assert falls > 0.6
    los_all, los_old, cost = sql(main, """select avg(discharge_date - admission_date),
        avg(discharge_date - admission_date) filter (where age >= 75), avg(cost)
        from {admissions} where admission_method = 'emergency'""")[0]
    assert 3.8 < los_all < 6.5 and 7.0 < los_old < 11.5 and 1300 < cost < 1900
    assert one(main, "select count(*) from {admissions} where admission_method = 'elective' "
                     "and procedure is not null") > 0


def test_deaths_in_hospital(main):
    share = one(main, "select count(*) filter (where discharge_destination = 'died') * 1.0 from {admissions}") \
        / one(main, "select count(*) from {persons} where death_date is not null")
    assert 0.35 <= share <= 0.55


def test_emergency_readmissions_within_30_days(main):
    readmissions = one(main, """select count(*) from (select admission_date, admission_method,
        lag(discharge_date) over w prev, lag(admission_method) over w prev_method,
        lag(discharge_destination) over w prev_dest
        from {admissions} window w as (partition by person_id order by admission_date, spell_id))
        where admission_method = 'emergency' and prev_method = 'emergency' and prev_dest <> 'died'
        and admission_date - prev <= 30""")
    discharges = one(main, "select count(*) from {admissions} where admission_method = 'emergency' "
                           "and discharge_destination <> 'died'")
    assert 0.08 < readmissions / discharges < 0.20


def test_social_care(main):
    la_admissions = one(main, """select count(*) from {social_care_services} s join {persons} p using (person_id)
        where service_type in ('residential', 'nursing') and funding <> 'self_funded'
        and year(start_date) between 2014 and 2018 and year(start_date) - p.birth_year >= 66""")
    old = one(main, f"select sum(persons) from {{population}} where year between 2014 and 2018 and age_band in {OLD_BANDS}")
    assert 450 < la_admissions / old * 1e5 < 850  # ASCOF 2A(2): about 600-700 per 100,000 65+
    reablement = sql(main, """select count(*), avg((s.spell_id is not null and referral_source = 'hospital_discharge')::int),
        avg(end_date - start_date) from {social_care_services} s where service_type = 'reablement'""")[0]
    assert reablement[0] > 0 and reablement[1] == 1.0 and 30 < reablement[2] < 50
    at_home = one(main, """select avg(((p.death_date is null or p.death_date > s.start_date + 91) and not exists
        (select 1 from {social_care_services} c where c.person_id = s.person_id
         and c.service_type in ('residential', 'nursing') and c.start_date <= s.start_date + 91))::int)
        from {social_care_services} s join {persons} p using (person_id)
        where s.service_type = 'reablement' and s.start_date < date '2019-09-01'""")
    assert 0.74 < at_home < 0.90
    costs = dict(sql(main, "select service_type, avg(weekly_cost) from {social_care_services} group by 1"))
    assert costs["home_care"] < costs["residential"] < costs["nursing"]
    # Permanent placements last until death.
    assert one(main, """select count(*) from {social_care_services} s join {persons} p using (person_id)
        where s.service_type in ('residential', 'nursing') and s.end_date is distinct from p.death_date""") == 0


def test_delayed_transfers(main):
    rows = sql(main, """with d as (select year(month) y, sum(delayed_days) / count(distinct month) * 12 dd
        from {delayed_transfers} group by 1),
        a as (select year y, sum(persons) filter (where age_band not in ('0-4','5-9','10-14','15-19'))
              + 0.4 * sum(persons) filter (where age_band = '15-19') adults from {population} group by 1)
        select y, dd / 365 / adults * 1e5 from d join a using (y) order by 1""")
    rate = dict(rows)
    assert 7 < rate[2012] < 12 and 12 < rate[2016] < 18 and rate[2019] < rate[2017]
    shares = dict(sql(main, "select responsible_org, sum(delayed_days) / (select sum(delayed_days) "
                            "from {delayed_transfers}) from {delayed_transfers} group by 1"))
    assert shares["nhs"] > shares["social_care"] > shares["both"] > 0.03
    assert one(main, "select min(month) from {delayed_transfers}").isoformat() == "2010-08-01"


def test_practices_and_deciles(main):
    sizes = sql(main, "select area_code, count(*), sum(list_size) from {practices} group by 1")
    assert len(sizes) == 152 and all(n >= 3 for _, n, _ in sizes)
    # List sizes count the people registered on the first day: close to the first mid-year population.
    start_lists = sum(s for _, _, s in sizes)
    assert start_lists == pytest.approx(_population(main, 2010), rel=0.01)
    assert start_lists < one(main, "select count(*) from {persons}")  # births and in-migrants join later
    deciles = sql(main, "select imd_decile, min(imd_score), max(imd_score) from {areas} group by 1 order by 1")
    assert [d for d, _, _ in deciles] == list(range(1, 11))
    assert all(deciles[k][1] >= deciles[k + 1][2] for k in range(9))  # decile 1 = most deprived


def test_mdt_enrolees_are_old_and_high_risk(main):
    rows = np.array(sql(main, """select year(m.enrolment_date) - p.birth_year,
        (select count(*) from {admissions} a where a.person_id = m.person_id and a.admission_method = 'emergency'
         and a.admission_date >= m.enrolment_date - 365 and a.admission_date < m.enrolment_date)
        from {mdt_enrolments} m join {persons} p using (person_id)"""), dtype=float)
    assert len(rows) > 50
    assert rows[:, 0].min() >= 65
    old_rate = one(main, "select count(*) from {admissions} where admission_method = 'emergency' and age >= 65") \
        / one(main, f"select sum(persons) from {{population}} where age_band in {OLD_BANDS}")
    assert rows[:, 1].mean() > 5 * old_rate
    assert one(main, "select count(*) from {mdt_enrolments} where end_date > enrolment_date + 730") == 0
