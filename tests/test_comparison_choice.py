"""Comparison units are chosen with outcomes after the start withheld, on the basis the protocol names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.impact.comparison import COVARIATES, area_covariates, match_areas
from joinedup.impact.comparison_choice import (
    RTM_CAUTION,
    choose_comparison,
    comparison_covariates,
    matching_sentences,
)
from joinedup.impact.evaluate import outcome_panel, run_impact
from joinedup.indicators import compute_indicators
from joinedup.protocol import Impact

SPEC = Impact(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7, matched_controls=2,
              synthetic_control=False, four_groups=False)


@pytest.fixture(scope="module")
def world(small_england):
    ds = load_dataset(small_england)
    indicators = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    return {"ds": ds, "indicators": indicators, "panel": outcome_panel(ds, indicators, SPEC)}


def _scramble_after_start(panel: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every outcome at or after the first start replaced by arbitrary numbers (NaN and inf included)."""
    rng = np.random.default_rng(seed)
    out = panel.copy()
    post = out["t"] >= out.loc[out["first_treated"] > 0, "first_treated"].min()
    values = rng.normal(0, 50, post.sum())
    values[::7], values[3::11] = np.nan, np.inf
    out.loc[post, "y"] = values
    out.loc[post, "numerator"] = rng.integers(0, 10_000, post.sum())
    return out


@pytest.mark.parametrize("basis", ["covariates_and_baseline_outcomes", "covariates", "baseline_outcomes"])
def test_outcomes_after_the_start_cannot_change_the_comparison_set(world, basis):
    spec = SPEC.model_copy(update={"matching_basis": basis})
    ds, panel = world["ds"], world["panel"]
    chosen = choose_comparison(comparison_covariates(ds, panel), spec)
    for seed in (1, 2, 3):
        scrambled = _scramble_after_start(panel, seed)
        assert not scrambled["y"].equals(panel["y"])
        again = choose_comparison(comparison_covariates(ds, scrambled), spec)
        pd.testing.assert_frame_equal(again.pairs, chosen.pairs, check_exact=True)
        pd.testing.assert_series_equal(again.weights(), chosen.weights(), check_exact=True)
    assert chosen.covariates == {"covariates_and_baseline_outcomes": COVARIATES,
                                 "covariates": ("imd_score", "share_65plus", "share_85plus"),
                                 "baseline_outcomes": ("baseline_level", "baseline_trend")}[basis]


def test_the_default_basis_matches_as_before_the_key_existed(world):
    ds, panel = world["ds"], world["panel"]
    before = match_areas(area_covariates(ds, panel), "treated", COVARIATES, n_controls=2)
    now = choose_comparison(comparison_covariates(ds, panel), SPEC)
    pd.testing.assert_frame_equal(now.pairs, before.pairs, check_exact=True)
    pd.testing.assert_frame_equal(now.balance(), before.balance(), check_exact=True)


def test_covariate_matching_ignores_outcomes_and_outcome_matching_does_not(world):
    """Pre-period outcomes changed: the covariate basis keeps its set, the outcome basis changes it
    (so the first test's invariance is a property of the withholding, not of an insensitive match)."""
    ds, panel = world["ds"], world["panel"]
    rng = np.random.default_rng(5)
    shifted = panel.copy()
    pre = shifted["t"] < shifted.loc[shifted["first_treated"] > 0, "first_treated"].min()
    area_shift = pd.Series(rng.normal(0, 0.3, shifted["area_code"].nunique()), index=shifted["area_code"].unique())
    shifted.loc[pre, "y"] += shifted.loc[pre, "area_code"].map(area_shift) * shifted.loc[pre, "t"]
    for basis, same in (("covariates", True), ("baseline_outcomes", False)):
        spec = SPEC.model_copy(update={"matching_basis": basis})
        a = choose_comparison(comparison_covariates(ds, panel), spec).pairs
        b = choose_comparison(comparison_covariates(ds, shifted), spec).pairs
        assert a.equals(b) is same, basis


def test_a_run_with_post_start_outcomes_changed_keeps_its_comparison_units(world):
    """End to end: the indicator table's events after the first start multiplied by arbitrary factors;
    the run's comparison units and balance are identical, its estimates are not."""
    ds, ind = world["ds"], world["indicators"]
    first_start = pd.to_datetime(ds.execute(ds.table("programmes"))
                                 .query("programme == 'pioneer'")["start_date"]).min()
    changed = ind.copy()
    after = pd.to_datetime(changed["period_end"]) >= first_start
    factor = np.random.default_rng(9).uniform(0.3, 3.0, after.sum())
    changed.loc[after, "numerator"] = np.ceil(changed.loc[after, "numerator"] * factor) + 1
    changed.loc[after, "value"] = np.nan  # the crude rate is recomputed from the numerator
    a, b = run_impact(ds, ind, SPEC), run_impact(ds, changed, SPEC)
    pd.testing.assert_frame_equal(a.tables["impact_comparison_units"], b.tables["impact_comparison_units"],
                                  check_exact=True)
    pd.testing.assert_frame_equal(a.tables["impact_balance"], b.tables["impact_balance"], check_exact=True)
    assert len(a.tables["impact_comparison_units"]) > 0
    assert not np.allclose(a.tables["impact_estimates"]["estimate"], b.tables["impact_estimates"]["estimate"])


def test_the_report_names_the_basis_and_states_the_caution_for_outcome_matching():
    for basis, caution in (("covariates", False), ("baseline_outcomes", True),
                           ("covariates_and_baseline_outcomes", True)):
        words = " ".join(matching_sentences(SPEC.model_copy(update={"matching_basis": basis})))
        assert f'matching_basis = "{basis}"' in words
        assert (RTM_CAUTION in words) is caution and ("regression to the mean" in words) is caution
    unmatched = " ".join(matching_sentences(SPEC.model_copy(update={"matched_controls": None})))
    assert "not matched" in unmatched and "regression to the mean" not in unmatched
