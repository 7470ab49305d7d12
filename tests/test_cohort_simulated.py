"""Person-level evaluation on simulated England (0.5% scale, 2012-2016): known truth and null checks.

* An admission-triggered scheme with a programmed 25% cut in admissions: the risk-set matched DiD's
  95% interval holds the realised effect (enrolled's follow-up admissions after thinning minus before
  it, measured on the same windows), and excludes zero.
* The same scheme with no effect (the null scenario): the risk-set design's interval holds zero while
  the naive before/after falls by more than 40% (regression to the mean).
* Pseudo-enrolment of the top 2% by risk where no scheme runs: matched effect about zero (interval
  holds it), naive before/after falls by more than 30%, and the pseudo-index design (random index
  dates, 12-month totals) finds a spurious reduction: the two designs side by side.
These are single seeded draws; coverage over seeds is in benchmarks/cohort_coverage.py.
"""

from dataclasses import replace
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from joinedup.cohort.eligibility import parse_conditions
from joinedup.cohort.estimate import did, naive_before_after
from joinedup.cohort.features import MonthFeatures
from joinedup.cohort.panel import monthly_panel
from joinedup.cohort.pseudo import pseudo_enrol_top_risk, pseudo_index_match
from joinedup.cohort.riskset import RiskSetSpec, risk_set_match, trajectory
from joinedup.data import open_dataset
from joinedup.economics.risk import risk_model
from joinedup.simulate.cohort_scheme import add_triggered_scheme

ADMISSION_RULE = [{"field": "age", "op": ">=", "value": 65},
                  {"field": "emergency_admissions", "months": 1, "op": ">=", "value": 1},
                  {"field": "practice_code", "op": "in_scheme"}]


@pytest.fixture(scope="module")
def original(small_england):
    ds = open_dataset(small_england)
    panel = monthly_panel(ds)
    return panel, MonthFeatures(panel, risk_model(ds, "2013-01-01").params)


def _scheme(small_england, tmp_path, effect):
    folder = tmp_path / "data"
    shutil.copytree(small_england, folder)
    enrolled = add_triggered_scheme(folder, trigger="admission", effect=effect, seed=5)
    ds = open_dataset(folder)
    panel = monthly_panel(ds)
    feat = MonthFeatures(panel, risk_model(ds, "2013-01-01").params)
    spec = RiskSetSpec(conditions=parse_conditions(ADMISSION_RULE))
    return folder, enrolled, panel, feat, spec


def test_the_simulated_scheme_records_its_truth_and_enrols_by_its_trigger(small_england, tmp_path, original):
    folder, enrolled, panel, feat, _ = _scheme(small_england, tmp_path, -0.25)
    truth = json.loads((folder / "truth.json").read_text())["cohort_scheme"]
    assert truth["trigger"] == "admission" and truth["relative_change"] == -0.25
    assert truth["enrolled"] == len(enrolled) > 500 and truth["admissions_removed"] > 0
    assert pd.read_csv(folder / "enrolled.csv").shape == (len(enrolled), 4)
    # every enrolled person had an emergency admission in the month before enrolment (the original data)
    before = original[0]
    rows = before.rows_of(enrolled["person_id"])
    m = ((enrolled["enrolment_date"].dt.year - before.first_month.year) * 12
         + enrolled["enrolment_date"].dt.month - before.first_month.month).to_numpy()
    assert (before.admissions[rows, m - 1] > 0).all()
    assert set(panel.persons["practice_code"].to_numpy()[rows]) <= set(truth["practices"])
    # only the enrolled lost admissions, and the rest of England is untouched
    lost = before.admissions.sum(axis=1) - panel.admissions.sum(axis=1)
    assert lost.sum() == truth["admissions_removed"] and set(np.flatnonzero(lost)) <= set(rows)


def test_risk_set_matching_recovers_the_programmed_effect(small_england, tmp_path, original):
    _, enrolled, panel, feat, spec = _scheme(small_england, tmp_path, -0.25)
    match = risk_set_match(panel, enrolled, spec, feat)
    est = did(match.pairs, "emergency_admissions", bootstrap=300)
    t = match.pairs[match.pairs["treated"] == 1]
    realised = (feat.window("emergency_admissions", t["month_index"], t["month_index"] + 12, t["row"].to_numpy())
                - original[1].window("emergency_admissions", t["month_index"], t["month_index"] + 12,
                                     t["row"].to_numpy())).mean()
    assert realised < -0.05
    assert est.ci_low <= realised <= est.ci_high and est.ci_high < 0
    assert est.boot_low <= realised <= est.boot_high
    naive = naive_before_after(match.pairs)
    assert naive["change"] < 4 * est.estimate  # the naive change is mostly regression to the mean


def test_controls_from_other_areas_live_elsewhere_and_recover_the_effect(small_england, tmp_path, original):
    _, enrolled, panel, feat, spec = _scheme(small_england, tmp_path, -0.25)
    spec = replace(spec, controls="other_areas")
    match = risk_set_match(panel, enrolled, spec, feat)
    pairs = match.pairs
    area = panel.persons["area_code"].to_numpy()
    scheme_areas = set(area[panel.rows_of(enrolled["person_id"])])
    controls = pairs[pairs["treated"] == 0]
    assert len(controls) > 100 and not set(area[controls["row"].to_numpy()]) & scheme_areas
    est = did(pairs, "emergency_admissions", bootstrap=0)
    t = pairs[pairs["treated"] == 1]
    realised = (feat.window("emergency_admissions", t["month_index"], t["month_index"] + 12, t["row"].to_numpy())
                - original[1].window("emergency_admissions", t["month_index"], t["month_index"] + 12,
                                     t["row"].to_numpy())).mean()
    assert est.ci_low <= realised <= est.ci_high and est.ci_high < 0


def test_null_scheme_risk_set_finds_nothing_though_the_enrolled_fall_by_half(small_england, tmp_path):
    _, enrolled, panel, feat, spec = _scheme(small_england, tmp_path, 0.0)
    match = risk_set_match(panel, enrolled, spec, feat)
    risk_set = did(match.pairs, "emergency_admissions", bootstrap=300)
    assert risk_set.ci_low <= 0 <= risk_set.ci_high and risk_set.boot_low <= 0 <= risk_set.boot_high
    assert naive_before_after(match.pairs)["relative_change"] < -0.4


def test_pseudo_enrolled_top_two_percent_show_regression_to_the_mean_and_no_matched_effect(original):
    panel, feat = original
    areas = sorted(panel.persons["area_code"].unique())
    fake = pseudo_enrol_top_risk(panel, feat, months=[30, 42], areas=areas[: len(areas) // 2])
    rule = parse_conditions([{"field": "age", "op": ">=", "value": 65},
                             {"field": "risk_score", "op": "top_share", "value": 0.02}])
    match = risk_set_match(panel, fake, RiskSetSpec(conditions=rule), feat)
    est = did(match.pairs, "emergency_admissions", bootstrap=300)
    assert est.enrolled > 300
    assert est.ci_low <= 0 <= est.ci_high and est.boot_low <= 0 <= est.boot_high
    naive = naive_before_after(match.pairs)
    assert naive["relative_change"] < -0.3
    # side by side: the pseudo-index design (random index dates, 12-month totals) reads the regression
    # to the mean as a reduction
    pseudo = did(pseudo_index_match(panel, feat, fake, RiskSetSpec(conditions=rule)).pairs, "emergency_admissions")
    assert pseudo.ci_high < 0 and pseudo.estimate < est.estimate - 2 * est.se
    traj = trajectory(panel, match).pivot(index="relative_month", columns="group", values="rate_per_1000")
    # matched before: the 12 months before index agree within 15% in total; the enrolled fall after
    pre = traj.loc[-12:-1]
    assert abs(pre["enrolled"].sum() / pre["matched controls"].sum() - 1) < 0.15
    assert traj.loc[0:11, "enrolled"].mean() < 0.7 * pre["enrolled"].mean()


@pytest.mark.spark
def test_monthly_histories_are_the_same_on_spark(small_england, spark_backend, original):
    spark = monthly_panel(open_dataset(small_england, "spark"))
    duck = original[0]
    np.testing.assert_array_equal(spark.person_id, duck.person_id)
    for name in ("admissions", "bed_days", "ae"):
        np.testing.assert_array_equal(getattr(spark, name), getattr(duck, name), err_msg=name)
    np.testing.assert_allclose(spark.cost, duck.cost, rtol=1e-9)
