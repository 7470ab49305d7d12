"""The EQ-5D-5L sample of simulated England: schema, who answers when, utilities, the MDT effect.

Structural checks are exact. Tolerances, and why:
* response rate 0.70 +- 0.07: binomial SE about 0.015 at the roughly 1,000 questionnaires due at
  scale 0.005;
* mean utility at baseline 0.5-0.75 and SD 0.2-0.32: plausibility bands for high-risk people 65+
  (the model is tuned to about 0.62 and 0.27);
* the effect with common random numbers (MDT-site areas at scale 0.02, simulated chunk by chunk):
  the same seed with and without the effect differs only in the case-managed follow-up answers, by a
  realised effect within 0.01 of the programmed 0.10 (the expected change is exact; the realised one
  has answer noise, SD about 0.003); 0.02 +- 0.005 in the default run's truth.json;
* difference in differences, MDT against comparison, within 0.04 of the truth (0 and 0.10): SE about
  0.013 with about 900 MDT and 700 comparison follow-ups.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from joinedup.data import codes
from joinedup.data.tables import TABLES
from joinedup.simulate import Scenario
from joinedup.simulate.chunk import simulate_chunk
from joinedup.simulate.dates import Period
from joinedup.simulate.eq5d import utility
from joinedup.simulate.eq5d_sample import FOLLOW_UP_DAYS, RESPONSE_RATE, RETURN_DAYS, WAVE_DAYS
from joinedup.simulate.geography import build_world
from test_simulate_helpers import one, run, sql

DIMS = ", ".join(codes.EQ5D_DIMENSIONS)


@pytest.fixture(scope="module")
def main():
    return run("default")[0]


def test_value_set_anchors():
    assert codes.EQ5D5L_ENGLAND_MIN == -0.285
    levels = np.array([[1, 1, 1, 1, 1], [5, 5, 5, 5, 5], [2, 1, 1, 1, 1], [1, 1, 1, 1, 2], [3, 2, 3, 2, 1]])
    assert utility(levels).round(3).tolist() == [1.0, -0.285, 0.942, 0.922, 0.748]


def test_table_validates_and_follows_its_rules(main):
    validate = pytest.importorskip("joinedup.data.validate")
    report = validate.validate_dataset(main, tables=["eq5d_responses", "persons"])
    assert report.ok, report.summary()
    t = pq.read_table(main / "eq5d_responses.parquet")
    assert t.schema.equals(TABLES["eq5d_responses"].arrow_schema(), check_metadata=False)
    levels = np.column_stack([t[d].to_numpy() for d in codes.EQ5D_DIMENSIONS])
    assert levels.min() == 1 and levels.max() == 5
    value = t["utility"].to_numpy()
    assert np.allclose(value, utility(levels), atol=1e-12)
    assert -0.285 <= value.min() and value.max() == 1.0


def test_validator_rejects_a_wrong_utility_and_level(tiny):
    validate = pytest.importorskip("joinedup.data.validate")
    good = dict(person_id=2, sample="mdt", index_date=dt.date(2014, 4, 1), wave=0,
                response_date=dt.date(2014, 4, 10), mobility=3, self_care=2, usual_activities=3,
                pain_discomfort=2, anxiety_depression=1, utility=0.748)
    bad = dict(good, wave=1, utility=0.8, pain_discomfort=6)
    schema = TABLES["eq5d_responses"].arrow_schema()
    pq.write_table(pa.Table.from_pylist([good], schema=schema), tiny / "eq5d_responses.parquet")
    assert validate.validate_dataset(tiny, tables=["eq5d_responses", "persons"]).ok
    pq.write_table(pa.Table.from_pylist([good, bad], schema=schema), tiny / "eq5d_responses.parquet")
    errors = validate.validate_dataset(tiny, tables=["eq5d_responses", "persons"]).errors
    assert {(p.column, p.rule, p.rows) for p in errors} == {
        ("pain_discomfort", "<= 5", 1), (None, "utility_matches_value_set", 1)}


def test_every_enrolment_is_followed_at_three_waves_with_non_response(main):
    # Each MDT row belongs to an enrolment, on its enrolment date, and comes back in its wave's window.
    assert one(main, """select count(*) from {eq5d_responses} e where sample = 'mdt' and not exists
        (select 1 from {mdt_enrolments} m where m.person_id = e.person_id and m.enrolment_date = e.index_date)""") == 0
    for w, d in enumerate(WAVE_DAYS):
        assert one(main, f"""select count(*) from {{eq5d_responses}} where wave = {w} and
            (response_date < index_date + {d} or response_date >= index_date + {d + RETURN_DAYS})""") == 0
    assert one(main, """select count(*) from {eq5d_responses} e join {persons} p using (person_id)
        where p.death_date is not null and e.response_date >= p.death_date""") == 0
    # Due: alive and inside the period until the last day of the wave's window; about 70% answered.
    due, answered = sql(main, f"""with waves as (select unnest({WAVE_DAYS.tolist()}) d, generate_subscripts(
            {WAVE_DAYS.tolist()}, 1) - 1 w),
        due as (select m.person_id, m.enrolment_date, w from {{mdt_enrolments}} m join {{persons}} p using (person_id),
            waves where m.enrolment_date + d + {RETURN_DAYS} < least(coalesce(p.death_date, date '2020-01-01'),
            date '2020-01-01'))
        select count(*), count(e.person_id) from due left join {{eq5d_responses}} e on e.sample = 'mdt'
            and e.person_id = due.person_id and e.index_date = due.enrolment_date and e.wave = due.w""")[0]
    assert due > 500 and answered / due == pytest.approx(RESPONSE_RATE, abs=0.07)
    by_wave = dict(sql(main, "select wave, count(*) from {eq5d_responses} where sample = 'mdt' group by 1"))
    assert by_wave[0] > by_wave[1] > by_wave[2] > 0  # deaths and the end of the period thin later waves


def test_comparison_sample_is_similar_and_has_no_mdt(main):
    truth = json.loads((main / "truth.json").read_text())
    adoption = {p["practice_code"]: p["adoption_date"] for p in truth["mdt"]["practices"]}
    rows = sql(main, """select p.practice_code, e.index_date from {eq5d_responses} e join {persons} p using (person_id)
        where e.sample = 'comparison' and e.wave = 0""")
    assert len(rows) > 30
    for practice, index in rows:  # no MDT in the practice from the pseudo-index date to the last wave
        later = dt.date.fromisoformat(adoption.get(practice, "2100-01-01"))
        assert later > index + dt.timedelta(days=FOLLOW_UP_DAYS), (practice, index)
    same_area = one(main, """select count(*) from {eq5d_responses} e join {persons} p using (person_id)
        where sample = 'comparison' and p.area_code not in (select distinct p2.area_code from {mdt_enrolments} m
        join {persons} p2 using (person_id))""")
    assert same_area == 0  # comparison patients live in the areas with MDTs
    prior = dict(sql(main, """select sample, avg((select count(*) from {admissions} a where a.person_id = e.person_id
        and a.admission_method = 'emergency' and a.admission_date >= e.index_date - 365
        and a.admission_date < e.index_date)) from {eq5d_responses} e where wave = 0 group by 1"""))
    assert prior["comparison"] == pytest.approx(prior["mdt"], rel=0.3)  # picked by the same rule
    ages = sql(main, """select min(year(index_date) - birth_year) from {eq5d_responses} join {persons} using (person_id)""")
    assert ages[0][0] >= 65


def test_utility_is_plausible_and_follows_health(main):
    stats = {s: (m, sd) for s, m, sd in sql(main, """select sample, avg(utility), stddev(utility)
        from {eq5d_responses} where wave = 0 group by 1""")}
    for mean, sd in stats.values():
        assert 0.5 < mean < 0.75 and 0.2 < sd < 0.32
    assert one(main, "select avg((utility < 0)::int) from {eq5d_responses}") > 0.005  # worse than dead occurs
    sick, well = sql(main, """select avg(utility) filter (where ltc_count >= 5), avg(utility) filter (where ltc_count <= 2)
        from {eq5d_responses} join {persons} using (person_id)""")[0]
    assert sick < well - 0.05
    # Lower within 30 days after an emergency admission than otherwise.
    after, other = sql(main, """select avg(utility) filter (where recent), avg(utility) filter (where not recent) from
        (select e.utility, exists (select 1 from {admissions} a where a.person_id = e.person_id
         and a.admission_method = 'emergency' and a.admission_date between e.response_date - 30 and e.response_date)
         recent from {eq5d_responses} e)""")[0]
    assert after < other - 0.03


def test_truth_records_the_utility_effect(main):
    truth = json.loads((main / "truth.json").read_text())
    effects = {e["name"]: e for e in truth["effects"]}
    assert effects["mdt_utility"]["absolute_change"] == truth["eq5d"]["effect_utility"] == 0.02
    managed = one(main, "select count(*) from {eq5d_responses} where sample = 'mdt' and wave >= 1")
    assert truth["eq5d"]["managed_follow_up_questionnaires"] == managed > 100
    assert truth["eq5d"]["realised_effect"] == pytest.approx(0.02, abs=0.005)
    groups = truth["eq5d"]["by_sample_and_wave"]
    assert sum(g["n"] for g in groups.values()) == truth["rows"]["eq5d_responses"]


@pytest.fixture(scope="module")
def mdt_areas():
    """The MDT-site chunks at scale 0.02, 2013-2019, without and with a utility effect of 0.10 (and no
    other effect), simulated chunk by chunk: (chunk results without, chunk results with)."""
    out = []
    for effect in (0.0, 0.1):
        scenario = Scenario(name="u", pioneer_effect={1: 0.0, 2: 0.0}, vanguard_effect=0.0,
                            mdt_effect_admissions=0.0, mdt_effect_utility=effect)
        world = build_world(0.02, 2013, Period.of(2013, 2019), scenario)
        out.append([simulate_chunk(world, a.index, p) for a in world.areas if a.mdt_site for p in range(len(a.parts))])
    return out


def test_utility_effect_changes_only_case_managed_follow_ups(mdt_areas):
    without, with_ = mdt_areas
    # The EQ-5D sample has its own random stream and the effect touches nothing else.
    for r0, r1 in zip(without, with_):
        for name in ("persons", "admissions", "ae_attendances", "social_care_services", "mdt_enrolments"):
            assert r0.tables[name].equals(r1.tables[name]), name
    a = pa.concat_tables([r.tables["eq5d_responses"] for r in without])
    b = pa.concat_tables([r.tables["eq5d_responses"] for r in with_])
    keys = ["person_id", "sample", "index_date", "wave", "response_date"]
    assert a.select(keys).equals(b.select(keys))
    managed = (np.array(a["sample"].to_pylist()) == "mdt") & (a["wave"].to_numpy() >= 1)
    diff = b["utility"].to_numpy() - a["utility"].to_numpy()
    assert np.all(diff[~managed] == 0) and managed.sum() > 500
    total, n = np.sum([r.eq5d_effect for r in with_], axis=0)
    assert n == managed.sum() and diff[managed].mean() == pytest.approx(total / n, abs=1e-9)
    assert total / n == pytest.approx(0.1, abs=0.01)
    assert sum(r.eq5d_effect[1] for r in without) == n and sum(r.eq5d_effect[0] for r in without) == 0


def _changes(t: pa.Table, sample: str) -> np.ndarray:
    """Follow-up utility minus the same person's baseline utility (waves 1 and 2)."""
    s, p, w, u = (np.array(t["sample"].to_pylist()), t["person_id"].to_numpy(), t["wave"].to_numpy(),
                  t["utility"].to_numpy())
    base = dict(zip(p[(s == sample) & (w == 0)], u[(s == sample) & (w == 0)]))
    return np.array([u[i] - base[p[i]] for i in np.flatnonzero((s == sample) & (w >= 1)) if p[i] in base])


def test_difference_in_differences_recovers_the_effect(mdt_areas):
    without, with_ = mdt_areas
    for results, truth in ((without, 0.0), (with_, 0.1)):
        t = pa.concat_tables([r.tables["eq5d_responses"] for r in results])
        mdt, comparison = _changes(t, "mdt"), _changes(t, "comparison")
        assert len(mdt) > 400 and len(comparison) > 200
        assert mdt.mean() - comparison.mean() == pytest.approx(truth, abs=0.04)
