"""The 1-df linear trend test across ordered subgroups (joinedup.impact.subgroup_gradient).

Tolerances: 1e-12 relative where the test repeats the module's arithmetic by hand (slope, standard
error, t and its p-value from scipy); with V = sigma^2 I the GLS-free contrast equals the least-
squares slope of the estimates on their scores (numpy.polyfit), to 1e-12. 1e-10 absolute for the
slope's move under a programmed linear gradient: each quintile's synthetic DiD estimate moves by
exactly its programmed difference (tests/test_impact_subgroups_sdid.py), so the slope moves by the
programmed step and the jackknife covariance does not move at all.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from joinedup.data import open_dataset
from joinedup.impact.subgroup_gradient import ORDERED, gradient_row, linear_trend
from joinedup.impact.subgroups_sdid import group_site_panels, sdid_groups, sdid_subgroup_effects
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme
from subgroup_difference import with_difference


def _spd(rng, k):
    a = rng.normal(size=(k, k))
    return a @ a.T / k + np.eye(k) * 0.01


def test_linear_trend_by_hand():
    rng = np.random.default_rng(11)
    b, v = np.array([0.1, 0.05, 0.02, -0.01, -0.1]), _spd(rng, 5) * 0.01
    c = np.arange(5) - 2.0
    slope, se = c @ b / 10, np.sqrt(c @ v @ c) / 10
    r = linear_trend(b, v, range(5), n_clusters=7)
    assert r["estimate"] == pytest.approx(slope, rel=1e-12) and r["std_error"] == pytest.approx(se, rel=1e-12)
    assert r["statistic"] == pytest.approx(slope / se, rel=1e-12) and r["df"] == 6
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(abs(slope / se), 6), rel=1e-12)
    crit = stats.t.ppf(0.975, 6)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((slope - crit * se, slope + crit * se), rel=1e-12)
    # t(m - 1)^2 is Hotelling's reference of the equal-effects test with one difference, F(1, m - 1)
    assert r["p_value"] == pytest.approx(stats.f.sf((slope / se) ** 2, 1, 6), rel=1e-10)
    normal = linear_trend(b, v, range(5))
    assert normal["df"] == np.inf and normal["p_value"] == pytest.approx(2 * stats.norm.sf(abs(slope / se)), rel=1e-12)
    # independent, equally precise groups: the contrast is the least-squares slope; the scores' origin
    # and the groups' order in the list do not matter, only each group's own score
    iid = linear_trend(b, np.eye(5) * 0.02, [10, 11, 12, 13, 14])
    assert iid["estimate"] == pytest.approx(np.polyfit(np.arange(5), b, 1)[0], rel=1e-12)
    shuffled = linear_trend(b[[3, 0, 4, 1, 2]], np.eye(5) * 0.02, [3, 0, 4, 1, 2])
    assert shuffled["estimate"] == pytest.approx(iid["estimate"], rel=1e-12)


def test_linear_trend_rejects_what_it_cannot_test():
    with pytest.raises(ValueError, match="three or more"):
        linear_trend([0.1, 0.2], np.eye(2), [0, 1])
    with pytest.raises(ValueError, match="finite"):
        linear_trend([0.1, np.nan, 0.2], np.eye(3), [0, 1, 2])
    with pytest.raises(ValueError, match="do not vary"):
        linear_trend([0.1, 0.0, 0.2], np.eye(3), [1, 1, 1])
    with pytest.raises(ValueError, match="two or more clusters"):
        linear_trend([0.1, 0.0, 0.2], np.eye(3), [0, 1, 2], n_clusters=1)
    with pytest.raises(ValueError, match="variance"):
        linear_trend([0.1, 0.0, 0.2], np.zeros((3, 3)), [0, 1, 2])


def test_gradient_row_only_for_ordered_breakdowns_and_by_position():
    v = np.eye(3) * 0.01
    assert gradient_row("sex", ["F", "M", "X"], [0, 0, 0], v, 9, "", "") is None
    assert gradient_row("ethnicity", ["asian", "black", "white"], [0, 0, 0], v, 9, "", "") is None
    assert gradient_row("imd_quintile", ["1", "5"], [0, 0], np.eye(2), 9, "", "") is None  # two groups: the Wald test
    # quintiles 1, 3 and 5 present: scored 0, 2, 4, so the slope is per quintile, not per group listed
    row = gradient_row("imd_quintile", ["1", "3", "5"], [0.0, -0.2, -0.4], v, 9, "t(8) reference", "cov")
    assert row["group"] == "gradient" and row["estimate"] == pytest.approx(-0.1, rel=1e-12)
    assert row["group_label"] == "Linear trend in the effect, per step from 1 (most deprived) to 5 (least deprived)"
    assert row["test"].startswith("t, 1 df, t(8) reference") and row["test"].endswith("cov)")
    ages = list(ORDERED["age_band"])
    assert ages == ["0-17", "18-64", "65-74", "75-84", "85+"]
    assert gradient_row("age_band", ages[:3], [0.3, 0.2, 0.1], v, 9, "", "")["estimate"] == pytest.approx(-0.1)
    # what cannot be computed is a "not run" row saying why, never a silent gap
    bad = gradient_row("imd_quintile", ["1", "2", "3"], [0.0, 0.1, 0.2], np.zeros((3, 3)), 9, "", "")
    assert bad["group"] == "not run" and "variance" in bad["group_label"]


def test_sdid_gradient_on_simulated_england(small_england):
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["imd_quintile"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    out = sdid_subgroup_effects(table, programme, "emergency_admissions", "imd_quintile")
    wave2 = out[out["method"] == "Synthetic DiD, wave 2"]
    groups = wave2[wave2["group"].str.fullmatch("[1-5]")]
    assert groups["group"].tolist() == ["1", "2", "3", "4", "5"]
    m = int(groups["n_treated_areas"].iloc[0])
    # 3 sites cannot test 4 differences, but can test one: the trend runs where equal effects cannot
    assert m == 3 and (wave2["group"] == "not run").sum() == 1
    assert wave2.loc[wave2["group"] == "not run", "group_label"].iloc[0].startswith("Test of equal effects not run")
    trend = wave2[wave2["group"] == "gradient"].iloc[0]
    assert trend["df"] == 2 and "t(2) reference, m = 3 sites" in trend["test"] and "jackknife" in trend["test"]

    panels = group_site_panels(table, programme, "emergency_admissions", "imd_quintile", list("12345"))
    est, cov, _ = sdid_groups(panels, 2)
    c = np.arange(5) - 2.0
    b = est["estimate"].to_numpy()
    slope, se = c @ b / 10, np.sqrt(c @ cov @ c) / 10
    assert trend["estimate"] == pytest.approx(slope, rel=1e-12) and trend["std_error"] == pytest.approx(se, rel=1e-12)
    assert trend["p_value"] == pytest.approx(2 * stats.t.sf(abs(slope / se), 2), rel=1e-12)
    assert np.isfinite([trend["ci_low"], trend["ci_high"]]).all()

    # a programmed linear gradient: quintile q's events in Pioneer areas after the start times exp(-0.1 (q - 1))
    shifted = table
    for q in range(2, 6):
        shifted = with_difference(shifted, programme.table, str(q), -0.1 * (q - 1))
    after, cov1, _ = sdid_groups(group_site_panels(shifted, programme, "emergency_admissions", "imd_quintile",
                                                   list("12345")), 2)
    assert c @ after["estimate"].to_numpy() / 10 - slope == pytest.approx(-0.1, abs=1e-10)
    assert np.allclose(cov1, cov, rtol=1e-10)
    moved = sdid_subgroup_effects(shifted, programme, "emergency_admissions", "imd_quintile")
    moved = moved[(moved["method"] == "Synthetic DiD, wave 2") & (moved["group"] == "gradient")].iloc[0]
    assert moved["estimate"] == pytest.approx(slope - 0.1, abs=1e-10)
    assert moved["std_error"] == pytest.approx(se, rel=1e-8)
