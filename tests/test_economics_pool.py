"""The economics control pool on the engine equals the pandas route it replaced, exactly.

``control_pool`` (joinedup.economics.pool: draw, rules and prior use on the engine) against
``control_pool_pandas`` (joinedup.economics.pool_reference: the code before the move) on the small
simulated England: the same rows in the same order, every column bit for bit (assert_frame_equal
with check_exact), for the defaults and for each option that changes the query; then the same
matched sets and the same matched estimate from the protocol's default matching.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.economics.cohort import control_pool, mdt_adoption, mdt_cohort
from joinedup.economics.pool_reference import control_pool_pandas
from joinedup.economics.risk import risk_model


@pytest.fixture(scope="module")
def ds(small_england):
    return open_dataset(small_england)


@pytest.fixture(scope="module")
def rm(ds):
    return risk_model(ds, "2013-01-01")


@pytest.fixture(scope="module")
def treated(ds, rm):
    return mdt_cohort(ds, risk=rm)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(a) > 1000  # a pool, not an empty frame that trivially agrees
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_default_pool_is_identical(ds, rm, treated):
    dates = treated["index_date"]
    engine = control_pool(ds, seed=5, index_dates=dates, risk=rm)
    pandas = control_pool_pandas(ds, seed=5, index_dates=dates, risk=rm)
    _same(engine, pandas)
    assert engine["prior_emergency_admissions"].sum() > 0 and engine["prior_social_care_days"].sum() > 0


@pytest.mark.parametrize("options", [
    {"lookback_days": 180},  # the risk score's 365-day window is then a second window
    {"mdt_free_followup": False},
    {"require_followup": False},  # censored rows kept
    {"followup_days": 182, "min_age": 75},
    {"with_risk": False},
])
def test_options_give_identical_pools(ds, rm, treated, options):
    kwargs = {"seed": 9, "risk": rm, "index_dates": treated["index_date"], **options}
    _same(control_pool(ds, **kwargs), control_pool_pandas(ds, **kwargs))


def test_generator_seed_draws_alike_and_leaves_it_in_the_same_state(ds, rm, treated):
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    _same(control_pool(ds, seed=a, index_dates=treated["index_date"], risk=rm),
          control_pool_pandas(ds, seed=b, index_dates=treated["index_date"], risk=rm))
    assert a.integers(1 << 62) == b.integers(1 << 62)


def test_own_adoption_table_and_no_social_care(ds, rm, treated):
    adoption = mdt_adoption(ds)[["practice_code", "adoption_date"]]
    adoption.loc[adoption.index[:3], "adoption_date"] = pd.NaT  # "no MDT" for those practices
    adoption.loc[adoption.index[3:6], "adoption_date"] += pd.Timedelta(days=400)
    kwargs = {"seed": 4, "risk": rm, "index_dates": treated["index_date"], "adoption": adoption}
    _same(control_pool(ds, **kwargs), control_pool_pandas(ds, **kwargs))
    bare = dataclasses.replace(ds, _tables={k: v for k, v in ds._tables.items() if k != "social_care_services"})
    engine = control_pool(bare, **kwargs)
    _same(engine, control_pool_pandas(bare, **kwargs))
    assert engine["prior_social_care_days"].eq(0).all()


def test_practice_with_two_adoption_dates_is_named(ds, treated):
    adoption = pd.DataFrame({"practice_code": ["P1", "P1"], "adoption_date": ["2014-01-01", "2015-01-01"]})
    with pytest.raises(ValueError, match="practice_code 'P1'"):
        control_pool(ds, index_dates=treated["index_date"], adoption=adoption, with_risk=False)


def test_same_matched_sets_and_estimate(ds, rm, treated):
    from joinedup.economics.evaluate import _costed
    from joinedup.economics.costs import unit_costs
    from joinedup.economics.matching import matchit
    from joinedup.economics.models import matched_did
    from joinedup.protocol import Economics

    spec = Economics()
    results = []
    for build in (control_pool, control_pool_pandas):
        pool = build(ds, seed=spec.seed, index_dates=treated["index_date"], risk=rm)
        cohort = pd.concat([treated, pool], ignore_index=True)
        cohort["programme_group"] = "all"
        m = matchit("treated ~ " + " + ".join(spec.covariates), cohort, ratio=spec.ratio, caliper=spec.caliper,
                    exact=list(spec.exact), mahvars=list(spec.mahvars), link="linear.logit", seed=spec.seed)
        md = m.match_data()
        results.append((md, matched_did(_costed(ds, md, unit_costs(ds), spec.followup_days),
                                        "emergency_admissions")))
    (md_e, est_e), (md_p, est_p) = results
    assert (md_e["treated"] == 0).sum() > 20  # matched controls exist (31 at this scale)
    pd.testing.assert_frame_equal(md_e, md_p, check_exact=True)
    pd.testing.assert_frame_equal(est_e.tidy(), est_p.tidy(), check_exact=True)
