"""The wild bootstrap reference of the synthetic DiD subgroup tests (subgroups_sdid_wild).

Tolerances: 1e-12 relative where two routes do the same arithmetic (the fixed-weight contrasts
against synthdid's own estimate and jackknife estimates, the observed W and t against
``joint_wald_equal_effects`` and ``linear_trend`` with the joint jackknife covariance). The size
check is statistical: 200 small panels with equal group effects, 12 sites and 20 comparison units
(enough sites for the wild bootstrap to be expected to work; the 7-site case is what the benchmark
measures), B = 99; the rejection rate at 5% must lie in [2%, 9.5%] (binomial: 10 of 200 expected,
4-19 holds 99.9% of the mass) and the p-values' mean within 0.5 +- 0.05 (sd of the mean of 200
uniforms about 0.02). Seeds are fixed, so the check is deterministic. The table rows on the tests'
simulated England (3 sites) keep Hotelling's reference; with ``MIN_SITES`` lowered they carry the
wild one, whose W is the same statistic (1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest

from joinedup.impact.subgroup_gradient import linear_trend
from joinedup.impact.subgroups_cs import joint_wald_equal_effects
from joinedup.impact.subgroups_sdid import jackknife_covariance, joint_jackknife
from joinedup.impact.subgroups_sdid_wild import contrast_weights, wild_equal_effects
from joinedup.impact.synthetic import _synthdid as sd


def _groups(rng, effects, n0=20, n1=12, t0=4, t1=2, shared=0.7, estimator="did"):
    """One panel per group (units x periods, controls first): unit levels and a trend common to the
    groups, noise with a unit x period part the groups share (``shared`` of its variance) and one
    of their own, ``effects[g]`` on the sites' post cells."""
    n, t = n0 + n1, t0 + t1
    level = rng.normal(size=(n, 1)) + 0.1 * np.arange(t)
    common = rng.normal(size=(n, t))
    fits = []
    for effect in effects:
        y = level + np.sqrt(shared) * common + np.sqrt(1 - shared) * rng.normal(size=(n, t))
        y[n0:, t0:] += effect
        fits.append(sd.estimate(y, n0, t0, estimator))
    return fits


def test_fixed_weight_contrasts_reproduce_the_estimate_and_its_jackknife():
    fits = _groups(np.random.default_rng(5), [0.0, 0.1, 0.2], n0=15, n1=4, estimator="sdid")
    for est in fits:
        p, w, jack = contrast_weights(est)
        assert w @ est.Y @ p == pytest.approx(est.tau, rel=1e-12)
        np.testing.assert_allclose(jack @ est.Y @ p, sd.jackknife_estimates(est), rtol=1e-12)
    cov = jackknife_covariance(joint_jackknife(fits))
    b = [e.tau for e in fits]
    r = wild_equal_effects(fits, B=99, seed=1, scores=[0, 1, 2])
    assert r.statistic == pytest.approx(joint_wald_equal_effects(b, cov)[0], rel=1e-12)
    assert r.trend == pytest.approx(linear_trend(b, cov, [0, 1, 2])["statistic"], rel=1e-12)


@pytest.mark.parametrize("impose_null", [True, False])
def test_equal_effects_give_uniform_p_values(impose_null):
    ps, tps = [], []
    for seed in range(200):
        fits = _groups(np.random.default_rng([seed, 1]), [-0.1, -0.1, -0.1])
        r = wild_equal_effects(fits, B=99, seed=seed, scores=[0, 1, 2], impose_null=impose_null)
        ps.append(r.p_value)
        tps.append(r.trend_p_value)
    for p in (np.array(ps), np.array(tps)):
        assert 0.02 <= np.mean(p <= 0.05) <= 0.095, np.mean(p <= 0.05)
        assert abs(p.mean() - 0.5) < 0.05, p.mean()


def test_a_large_group_difference_is_found():
    fits = _groups(np.random.default_rng(3), [0.0, 0.0, 1.5])
    r = wild_equal_effects(fits, B=199, seed=2, scores=[0, 1, 2])
    assert r.p_value == pytest.approx(1 / 200) and r.trend_p_value == pytest.approx(1 / 200)
    # the replicates are drawn under equal effects, so they stay near the null's scale while W grows
    assert np.median(r.draws) < 10 < r.statistic


def test_a_common_shift_of_every_group_changes_nothing():
    rng = np.random.default_rng(8)
    fits = _groups(rng, [0.0, 0.05, 0.1])
    moved = [sd.estimate(e.Y + 0.3 * (np.arange(e.Y.shape[0]) >= e.N0)[:, None] * (np.arange(e.Y.shape[1]) >= e.T0),
                         e.N0, e.T0, "did") for e in fits]
    a, b = (wild_equal_effects(f, B=99, seed=4, scores=[0, 1, 2]) for f in (fits, moved))
    assert [m.tau - e.tau for m, e in zip(moved, fits)] == pytest.approx([0.3] * 3, abs=1e-12)
    np.testing.assert_allclose(a.draws, b.draws, rtol=1e-9)
    assert (a.p_value, a.trend_p_value) == (b.p_value, b.trend_p_value)


def test_same_seed_same_p_and_every_sign_vector_when_few_units():
    fits = _groups(np.random.default_rng(1), [0.0, 0.1, 0.0])
    a, b = (wild_equal_effects(fits, B=99, seed=7, scores=[0, 1, 2]) for _ in range(2))
    assert a.p_value == b.p_value and a.trend_p_value == b.trend_p_value
    np.testing.assert_array_equal(a.draws, b.draws)
    c = wild_equal_effects(fits, B=99, seed=8)
    assert not np.array_equal(a.draws, c.draws) and c.trend is None
    small = _groups(np.random.default_rng(1), [0.0, 0.1], n0=4, n1=3, t0=3, t1=1)  # 7 units: 128 sign vectors
    r = wild_equal_effects(small, B=999, seed=None)
    assert r.B == 128 and r.p_value == wild_equal_effects(small, B=999, seed=3).p_value


def test_bad_inputs_say_what_is_wrong():
    fits = _groups(np.random.default_rng(2), [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="at least 19"):
        wild_equal_effects(fits, B=18)
    with pytest.raises(ValueError, match="integer"):
        wild_equal_effects(fits, B=99.5)
    with pytest.raises(ValueError, match="two or more groups"):
        wild_equal_effects(fits[:1])
    with pytest.raises(ValueError, match="same units"):
        wild_equal_effects([fits[0], _groups(np.random.default_rng(2), [0.0], n0=19)[0]])
    with pytest.raises(ValueError, match="three or more groups"):
        wild_equal_effects(fits[:2], scores=[0, 1])
    with pytest.raises(ValueError, match="varying scores"):
        wild_equal_effects(fits, scores=[1, 1, 1])
    one_site = _groups(np.random.default_rng(2), [0.0, 0.0], n1=1)
    with pytest.raises(ValueError, match="one site"):
        wild_equal_effects(one_site)


def test_table_rows_name_the_wild_reference_and_keep_the_columns():
    import pandas as pd

    from joinedup.impact.subgroups_sdid_wild import wild_test_rows

    fits = _groups(np.random.default_rng(6), [0.0, -0.05, -0.1], n0=15, n1=7, estimator="sdid")
    out = pd.DataFrame({"group": ["1", "3", "5"], "estimate": [e.tau for e in fits], "n_sites": 7})
    cov = jackknife_covariance(joint_jackknife(fits))
    test, trend = wild_test_rows(out, cov, fits, "imd_quintile", draws=199, seed=3)
    r = wild_equal_effects(fits, B=199, seed=3, scores=[0, 2, 4])
    assert test["group"] == "difference" and test["df"] == 2 and test["p_value"] == r.p_value
    assert test["statistic"] == pytest.approx(joint_wald_equal_effects(out["estimate"], cov)[0], rel=1e-12)
    assert "wild bootstrap reference, B = 199" in test["test"] and "m = 7 sites" in test["test"]
    plain = linear_trend(out["estimate"], cov, [0, 2, 4])  # per quintile, as the module scores them
    assert trend["group"] == "gradient" and trend["p_value"] == r.trend_p_value and np.isnan(trend["df"])
    assert trend["estimate"] == pytest.approx(plain["estimate"]) and trend["statistic"] == pytest.approx(plain["statistic"])
    half = r.trend_crit * plain["std_error"]
    assert (trend["ci_low"], trend["ci_high"]) == pytest.approx((plain["estimate"] - half, plain["estimate"] + half))
    assert trend["test"].startswith("t, 1 df, wild bootstrap reference")
    test2, none = wild_test_rows(out.assign(group=["F", "M", "X"]), cov, fits, "sex", draws=199, seed=3)
    assert none is None and test2["p_value"] == wild_equal_effects(fits, B=199, seed=3).p_value


def test_module_rows_use_the_wild_reference_from_min_sites(small_england, monkeypatch):
    """On the tests' simulated England wave 2 has 3 sites, fewer than MIN_SITES: Hotelling's reference
    (tests/test_impact_subgroups_sdid.py). With the threshold lowered the same rows carry the wild one."""
    import joinedup.impact.subgroups_sdid_wild as wild_module
    from joinedup.data import open_dataset
    from joinedup.impact.subgroups_sdid import (
        group_site_panels,
        sdid_groups_fits,
        sdid_subgroup_effects,
    )
    from joinedup.indicators.breakdowns import compute_breakdowns
    from joinedup.programme import builtin_programme

    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    before = sdid_subgroup_effects(table, programme, "emergency_admissions", "sex")
    monkeypatch.setattr(wild_module, "MIN_SITES", 3)
    after = sdid_subgroup_effects(table, programme, "emergency_admissions", "sex", wild_draws=99)
    assert after.columns.tolist() == before.columns.tolist() and len(after) == len(before)
    old, new = before.iloc[-1], after.iloc[-1]
    assert "Hotelling F reference, m = 3 sites" in old["test"]
    assert "wild bootstrap reference, B = 99" in new["test"] and "m = 3 sites" in new["test"]
    assert new["statistic"] == pytest.approx(old["statistic"], rel=1e-12) and new["df"] == 1
    panels = group_site_panels(table, programme, "emergency_admissions", "sex", ["F", "M"])
    _, _, _, fits = sdid_groups_fits(panels, 2)
    assert new["p_value"] == wild_equal_effects(fits, B=99, seed=0).p_value  # spec None: seed 0


def test_the_protocol_chooses_the_reference(small_england, monkeypatch):
    """``[impact] subgroup_reference`` reaches the synthetic DiD rows of the report's subgroup step:
    "hotelling" keeps Hotelling's reference where the wild one would run (threshold lowered to the
    tests' 3 wave-2 sites), the default draws the wild one; the other designs' rows are unchanged."""
    import joinedup.impact.subgroups_sdid_wild as wild_module
    from joinedup.data import open_dataset
    from joinedup.indicators.breakdowns import compute_breakdowns
    from joinedup.programme import builtin_programme
    from joinedup.protocol import Impact
    from joinedup.report.inequalities_section import by_subgroup

    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    monkeypatch.setattr(wild_module, "MIN_SITES", 3)
    rows = {ref: by_subgroup(table, programme, "emergency_admissions", "sex", Impact(subgroup_reference=ref))
            for ref in ("wild", "hotelling")}
    tests = {ref: r.loc[r["method"].str.startswith("Synthetic DiD, wave 2") & (r["group"] == "difference"), "test"]
             for ref, r in rows.items()}
    assert len(tests["wild"]) == len(tests["hotelling"]) == 1
    assert "wild bootstrap reference" in tests["wild"].iloc[0]
    assert "Hotelling F reference" in tests["hotelling"].iloc[0]
    import pandas as pd

    others = {ref: r[~r["method"].str.startswith("Synthetic DiD")].reset_index(drop=True) for ref, r in rows.items()}
    pd.testing.assert_frame_equal(others["wild"], others["hotelling"])
    with pytest.raises(ValueError, match="subgroup_reference"):
        Impact(subgroup_reference="chi-square")
