"""The MDT evaluation's patient-level cohort, risk model, outcomes and costs on a small simulated England.

Tolerances: counts and costs are exact (integer counts; costs to 1e-6 pounds); calibration-in-the-large
on the fitting data is 0 up to the GLM's convergence (1e-6); the C statistic is checked against a
brute-force pairwise count (1e-12) and a plausible range (0.6-0.85) for a prior-use model.
"""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from joinedup.data import DataSourceError, open_dataset
from joinedup.economics.cohort import control_pool, data_period, mdt_adoption, study_cohort
from joinedup.economics.costs import add_costs, unit_costs
from joinedup.economics.outcomes import before_after, outcomes, window_use
from joinedup.economics.risk import auc, risk_model, top_share


@pytest.fixture(scope="module")
def ds(small_england):
    return open_dataset(small_england)


@pytest.fixture(scope="module")
def rm(ds):
    return risk_model(ds, "2013-01-01")


@pytest.fixture(scope="module")
def both(ds, rm):
    return study_cohort(ds, seed=5, risk=rm)


@pytest.fixture(scope="module")
def outc(ds, both):
    return add_costs(outcomes(ds, both), unit_costs(ds))


def _read(folder, name, ids=None):
    df = pd.read_parquet(folder / name if (folder / name).is_dir() else folder / f"{name}.parquet")
    return df if ids is None else df[df.person_id.isin(ids)]


def test_enrolled_cohort_matches_register(small_england, both):
    e = _read(small_england, "mdt_enrolments").merge(_read(small_england, "persons").drop(columns="practice_code"),
                                                      on="person_id")
    idx = pd.to_datetime(e.enrolment_date)
    death = pd.to_datetime(e.death_date)
    start, end = pd.Timestamp("2012-01-01"), pd.Timestamp("2017-01-01")
    keep = ((idx.dt.year - e.birth_year >= 65) & (death.isna() | (death > idx))
            & (idx - pd.Timedelta(days=365) >= start) & (idx + pd.Timedelta(days=365) <= end))
    treated = both[both.treated == 1]
    assert sorted(treated.person_id) == sorted(e.person_id[keep])
    assert 0 < keep.sum() < len(e)  # the follow-up rule bites: late enrolments have no full year
    assert (treated.index_date.to_numpy() == treated.person_id.map(e.set_index("person_id").enrolment_date)
            .pipe(pd.to_datetime).to_numpy()).all()
    assert treated.mdt_days.between(1, 365).all() and not treated.censored.any()


def test_controls_have_no_mdt_at_pseudo_index(small_england, both):
    e = _read(small_england, "mdt_enrolments")
    adopted = pd.to_datetime(e.groupby("practice_code").enrolment_date.min())
    c = both[both.treated == 0]
    assert len(c) > 1000
    at = c.practice_code.map(adopted)
    assert (at.isna() | (at > c.index_date + pd.Timedelta(days=365))).all()  # none during follow-up either
    enrolled_before = c.person_id.map(e.set_index("person_id").enrolment_date.pipe(pd.to_datetime))
    assert not (enrolled_before <= c.index_date).any()
    assert set(c.index_date) <= set(both[both.treated == 1].index_date)
    assert (c.age >= 65).all() and (c.death_date.isna() | (c.death_date > c.index_date)).all()
    assert c.mdt_days.eq(0).all()
    # practices that adopt later still give controls before adoption
    assert c.practice_code.isin(adopted.index).any()


def test_control_draw_is_seeded(ds, both):
    dates = both[both.treated == 1].index_date
    a = control_pool(ds, seed=5, index_dates=dates, with_risk=False)
    c = both[both.treated == 0]
    assert a.person_id.tolist() == c.person_id.tolist() and a.index_date.tolist() == c.index_date.tolist()


def test_outcome_counts_equal_pandas_oracle(small_england, outc):
    t, c = outc[outc.treated == 1], outc[outc.treated == 0]
    rows = pd.concat([t.head(6), c[c.prior_emergency_admissions > 0].head(3), c.head(3)])
    ids = set(rows.person_id)
    adm = _read(small_england, "admissions", ids)
    adm = adm[adm.admission_method == "emergency"]
    ae = _read(small_england, "ae_attendances", ids)
    sc = _read(small_england, "social_care_services", ids)
    for _, r in rows.iterrows():
        i = r.index_date
        for side, lo, hi in (("before", i - pd.Timedelta(days=365), i), ("after", i, i + pd.Timedelta(days=365))):
            a = adm[(adm.person_id == r.person_id) & (pd.to_datetime(adm.admission_date) >= lo)
                    & (pd.to_datetime(adm.admission_date) < hi)]
            los = (pd.to_datetime(a.discharge_date) - pd.to_datetime(a.admission_date)).dt.days
            assert r[f"emergency_admissions_{side}"] == len(a)
            assert r[f"bed_days_{side}"] == los.sum()
            assert r[f"excess_bed_days_{side}"] == (los - 14).clip(lower=0).sum()
            arr = pd.to_datetime(ae.arrival_date[ae.person_id == r.person_id])
            assert r[f"ae_attendances_{side}"] == ((arr >= lo) & (arr < hi)).sum()
            s = sc[sc.person_id == r.person_id]
            s_lo = pd.to_datetime(s.start_date).clip(lower=lo)
            s_hi = (pd.to_datetime(s.end_date) + pd.Timedelta(days=1)).fillna(hi).clip(upper=hi)
            assert r[f"social_care_days_{side}"] == (s_hi - s_lo).dt.days.clip(lower=0).sum()
        assert r.died == int(pd.notna(r.death_date) and r.death_date < i + pd.Timedelta(days=365))
    assert outc.emergency_admissions_before.sum() > 0 and outc.social_care_days_after.sum() > 0


def test_costs_from_unit_cost_table(ds, outc):
    uc = unit_costs(ds)
    assert uc.price_year == 2015
    r = outc[outc.treated == 1].iloc[0]
    want = (r.emergency_admissions_after * 1600 + r.excess_bed_days_after * 300 + r.ae_attendances_after * 138
            + (r.days_home_care_after * 250 + r.days_reablement_after * 300 + r.days_residential_after * 600
               + r.days_nursing_after * 750 + r.days_direct_payment_after * 300) / 7 + r.mdt_days / 365 * 950)
    assert r.total_cost_after == pytest.approx(want, abs=1e-6)
    assert (outc[outc.treated == 0].mdt_cost_after == 0).all()
    assert unit_costs(ds, 2017).cost("emergency_spell") == pytest.approx(1600 * 1.043, abs=0.01)


def test_risk_model_discriminates_and_is_calibrated(rm, both):
    assert 0.6 < rm.auc < 0.85
    cs = rm.calibration_stats()
    assert abs(cs["citl"]) < 1e-6 and cs["slope"] == pytest.approx(1.0, abs=1e-6)
    cal = rm.calibration()
    assert len(cal) == 10 and cal.n.sum() == rm.n and cal.observed.sum() == rm.y.sum()
    assert cal.observed_rate.iloc[-1] > 3 * cal.observed_rate.iloc[0]
    assert rm.coef.set_index("term").loc["emergency_admissions", "estimate"] > 0
    assert "C statistic" in str(rm.summary())
    # the enrolled were picked on high risk: their scores sit far above the pool's
    assert both[both.treated == 1].risk_score.mean() > 2 * both[both.treated == 0].risk_score.mean()


def test_auc_is_exact():
    rng = np.random.default_rng(0)
    y, p = rng.random(300) < 0.3, np.round(rng.random(300), 1)  # many ties
    pos, neg = p[y], p[~y]
    brute = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert auc(y, p) == pytest.approx(brute, abs=1e-12)


def test_top_share_per_practice(both):
    c = both[both.treated == 0]
    top = top_share(c.risk_score, 0.02, by=c.practice_code)
    n = c.groupby("practice_code").size()
    picked = top.groupby(c.practice_code).sum()
    assert (picked == np.maximum(1, np.round(0.02 * n))).all()
    low_in = c.risk_score[top].groupby(c.practice_code[top]).min()
    high_out = c.risk_score[~top].groupby(c.practice_code[~top]).max()
    assert (low_in >= high_out.reindex(low_in.index).fillna(-1)).all()  # within a practice, the top are top


def test_naive_before_after_shows_regression_to_the_mean(small_england, outc):
    effect = json.loads((small_england / "truth.json").read_text())["scenario"]["mdt_effect_admissions"]
    t = before_after(outc[outc.treated == 1]).set_index("measure")
    c = before_after(outc[outc.treated == 0]).set_index("measure")
    fall = t.loc["emergency_admissions", "relative_change"]
    assert fall < -0.4 and fall < 3 * effect  # far more than the programmed effect (-10%)
    assert t.loc["emergency_admissions", "ci_high"] < 0
    assert c.loc["emergency_admissions", "relative_change"] > -0.05  # no such fall in the pool


def test_bad_input_errors(ds, rm):
    with pytest.raises(ValueError, match="index_date"):
        window_use(ds, pd.DataFrame({"person_id": [1]}))
    with pytest.raises(ValueError, match="side"):
        window_use(ds, pd.DataFrame({"person_id": [1], "index_date": ["2014-01-01"]}), "during")
    with pytest.raises(ValueError, match="ltc_count"):
        rm.predict(pd.DataFrame({"emergency_admissions": [1], "bed_days": [1], "ae_attendances": [0],
                                 "age": [70], "sex": ["F"]}))
    with pytest.raises(ValueError, match="price year 1999"):
        unit_costs(ds, 1999)
    no_mdt = dataclasses.replace(ds, _tables={k: v for k, v in ds._tables.items() if k != "mdt_enrolments"})
    with pytest.raises(DataSourceError, match="mdt_enrolments"):
        mdt_adoption(no_mdt)
    with pytest.raises(ValueError, match="adoption_date"):
        control_pool(ds, index_dates=["2015-01-01"], adoption=pd.DataFrame({"practice_code": ["A81001"]}),
                     with_risk=False)
    assert data_period(ds) == (pd.Timestamp("2012-01-01"), pd.Timestamp("2017-01-01"))


def test_study_cohort_holds_counts_as_int32_with_the_same_values(ds, rm, both):
    """The 10-million-row cohort of scale 1.0 keeps its per-person counts in 4 bytes, not 8; the
    values are those of the enrolled and the pool as built (int64)."""
    from joinedup.economics.cohort import NARROW_COUNTS, mdt_cohort

    assert {str(both[c].dtype) for c in NARROW_COUNTS} == {"int32"}
    treated = mdt_cohort(ds, risk=rm)
    wide = pd.concat([treated, control_pool(ds, seed=5, index_dates=treated["index_date"], risk=rm)],
                     ignore_index=True)
    assert str(wide["prior_bed_days"].dtype) == "int64"
    pd.testing.assert_frame_equal(both, wide.astype(dict.fromkeys(NARROW_COUNTS, "int32")), check_exact=True)
    assert both["prior_bed_days"].sum() == wide["prior_bed_days"].sum() > 0


def test_a_count_too_large_for_int32_is_named():
    from joinedup.economics.cohort import narrow_counts

    with pytest.raises(ValueError, match=r"cohort column prior_bed_days: 3000000000 is outside"):
        narrow_counts(pd.DataFrame({"prior_bed_days": [1, 3_000_000_000], "age": [70, 71]}))
