"""Synthetic DiD by subgroup: joint jackknife (default) and placebo covariances, and the Wald test
of equal effects.

Tolerances: 1e-12 relative where two routes do the same arithmetic (each group's estimate, jackknife
variance and placebo variance against :func:`joinedup.impact.synthetic.sdid` run directly on that
group's panel, the placebo with the same seed: the joint draw reuses its permutations; the joint
jackknife against a leave-one-unit-out loop written out here from the fitted weights; the Wald
statistic by hand). 1e-10
absolute for the shift of a group's estimate by a programmed difference: SDID's weights use only
the treated units' pre-periods, so multiplying their post-period events by exp(D) moves that group's
estimate by exactly D (up to rounding in logs of sums) and leaves every placebo (controls only)
unchanged; every leave-one-out estimate of that group moves by D too, so the jackknife covariance is
unchanged as well. R's synthdid is not installed here (the single-panel port is checked against it in
tests/test_impact_sdid.py), so no live R check of the joint covariance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, f

from joinedup.data import open_dataset
from joinedup.impact.subgroups_cs import joint_wald_equal_effects
from joinedup.impact.subgroups_sdid import group_site_panels, sdid_groups, sdid_subgroup_effects
from joinedup.impact.synthetic import _synthdid as sd
from joinedup.impact.synthetic import sdid
from joinedup.impact.synthetic.sdid import panel_matrices
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme
from subgroup_difference import with_difference


def _sites(rng, shared, n_controls=30, n_treated=3, periods=6, start=4, effect=-0.2) -> pd.DataFrame:
    """A site panel (``unit, t, y, first_treated, wave``): controls C.., wave-1 sites S.. from ``start``."""
    units = [f"C{i:02d}" for i in range(n_controls)] + [f"S{i}" for i in range(n_treated)]
    rows = pd.DataFrame([(u, t) for u in units for t in range(1, periods + 1)], columns=["unit", "t"])
    site = rows["unit"].str.startswith("S")
    level = np.repeat(rng.normal(size=len(units)), periods)
    noise = shared + 0.4 * rng.normal(size=len(rows)) if shared is not None else rng.normal(size=len(rows))
    rows["y"] = level + 0.05 * rows["t"] + noise + effect * (site & (rows["t"] >= start))
    rows["first_treated"] = np.where(site, start, 0)
    rows["wave"] = np.where(site, 1.0, np.nan)
    return rows


def test_each_group_is_sdid_and_the_diagonal_is_its_placebo_variance():
    rng = np.random.default_rng(3)
    shared = rng.normal(size=33 * 6)  # shocks two groups share: their placebo estimates correlate
    panels = {"A": _sites(rng, None), "B": _sites(rng, shared), "C": _sites(rng, shared)}
    out, cov, blocks = sdid_groups(panels, wave=1, replications=60, seed=7, covariance="placebo")
    for g, (name, block) in enumerate(blocks.items()):
        direct = sdid(block, "unit", "t", "y", "d", se="placebo", replications=60, seed=7)
        assert out.loc[g, "estimate"] == pytest.approx(direct.estimate, rel=1e-12)
        assert cov[g, g] == pytest.approx(direct.se ** 2, rel=1e-12)  # same seed, same permutations
        assert out.loc[g, "std_error"] == pytest.approx(direct.se, rel=1e-12)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert corr[1, 2] > 0.5, corr  # B and C share most of their noise: the joint draw must show it
    assert abs(corr[0, 1]) < 0.5 and abs(corr[0, 2]) < 0.5, corr  # A is independent of both
    # the Wald statistic by hand: successive differences, (Cb)' (C V C')^-1 (Cb), chi-square(2)
    b = out["estimate"].to_numpy()
    c = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]])
    by_hand = float((c @ b) @ np.linalg.inv(c @ cov @ c.T) @ (c @ b))
    stat, df, p = joint_wald_equal_effects(b, cov)
    assert stat == pytest.approx(by_hand, rel=1e-12) and df == 2 and p == pytest.approx(chi2.sf(by_hand, 2), rel=1e-12)


def test_jackknife_diagonal_is_each_groups_own_jackknife_variance():
    rng = np.random.default_rng(5)
    # 12 sites: the jackknife's covariance rests mostly on the sites' own leave-one-out moves, so with
    # 3 sites (as above) any two groups' correlation is fixed by 3 points and says little
    shared = rng.normal(size=42 * 6)
    panels = {g: _sites(rng, None if g == "A" else shared, n_treated=12) for g in "ABC"}
    out, cov, blocks = sdid_groups(panels, wave=1)  # the default: the joint jackknife
    placebo, _, _ = sdid_groups(panels, wave=1, replications=20, covariance="placebo")
    assert np.array_equal(out["estimate"], placebo["estimate"])  # the covariance leaves the estimates alone
    for g, block in enumerate(blocks.values()):
        direct = sdid(block, "unit", "t", "y", "d", se="jackknife")
        assert out.loc[g, "estimate"] == pytest.approx(direct.estimate, rel=1e-12)
        assert cov[g, g] == pytest.approx(direct.se ** 2, rel=1e-12)
        assert out.loc[g, "std_error"] == pytest.approx(direct.se, rel=1e-12)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert corr[1, 2] > 0.5, corr  # leaving one unit out moves B and C together: they share its noise
    assert abs(corr[0, 1]) < 0.5 and abs(corr[0, 2]) < 0.5, corr
    with pytest.raises(ValueError, match="covariance must be one of"):
        sdid_groups(panels, wave=1, covariance="bootstrap")


def test_jackknife_covariance_by_hand_on_a_small_panel():
    rng = np.random.default_rng(6)
    shared = rng.normal(size=10 * 5)
    panels = {"A": _sites(rng, shared, n_controls=7, n_treated=3, periods=5, start=4),
              "B": _sites(rng, shared, n_controls=7, n_treated=3, periods=5, start=4)}
    _, cov, blocks = sdid_groups(panels, wave=1)
    # each group's fitted weights, then each unit left out by hand: controls' omega renormalised over
    # those left, lambda kept, tau = (treated mean - omega'controls) . (post mean - lambda'pre)
    loo = np.empty((10, 2))
    for g, block in enumerate(blocks.values()):
        Y, n0, t0 = panel_matrices(block, "unit", "t", "y", "d")
        Y = Y.to_numpy()
        fit = sd.estimate(Y, n0, t0, "sdid")
        for i in range(10):
            keep = [k for k in range(10) if k != i]
            controls, treated = [k for k in keep if k < n0], [k for k in keep if k >= n0]
            omega = fit.omega[controls] / fit.omega[controls].sum()
            unit_gap = Y[treated].mean(axis=0) - omega @ Y[controls]
            loo[i, g] = unit_gap[t0:].mean() - fit.lambda_ @ unit_gap[:t0]
    d = loo - loo.mean(axis=0)
    by_hand = sum(np.outer(d[i], d[i]) for i in range(10)) * 9 / 10
    assert np.allclose(cov, by_hand, rtol=1e-12, atol=0), (cov, by_hand)
    assert abs(by_hand[0, 1]) > 0.1 * np.sqrt(by_hand[0, 0] * by_hand[1, 1])  # a real off-diagonal to check


def test_groups_must_share_their_comparison_units():
    rng = np.random.default_rng(4)
    a, b = _sites(rng, None), _sites(rng, None)
    b = b[b["unit"] != "C03"]
    with pytest.raises(ValueError, match="other comparison units"):
        sdid_groups({"A": a, "B": b}, wave=1, replications=10)
    with pytest.raises(ValueError, match="no site of wave 2"):
        sdid_groups({"A": a}, wave=2, replications=10)
    # the jackknife leaves unit i out of every group: the sites must be the same too
    c = _sites(rng, None).replace({"unit": {"S2": "S9"}})
    with pytest.raises(ValueError, match="other sites"):
        sdid_groups({"A": a, "C": c}, wave=1)
    # one site: synthdid's jackknife is undefined, and so is the joint one
    one = {"A": _sites(rng, None, n_treated=1), "B": _sites(rng, None, n_treated=1)}
    with pytest.raises(ValueError, match="jackknife is undefined"):
        sdid_groups(one, wave=1)


def test_programmed_difference_on_simulated_england(small_england):
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    out = sdid_subgroup_effects(table, programme, "emergency_admissions", "sex", replications=100)
    # 2012/13-2015/16: wave 1 (from 2013/14) has one year before its start; wave 2 (2014/15) two
    assert out.loc[out["method"] == "Synthetic DiD, wave 1", "group"].tolist() == ["not run"]
    wave2 = out[out["method"] == "Synthetic DiD, wave 2"]
    groups, test = wave2.iloc[:-1], wave2.iloc[-1]
    assert groups["group"].tolist() == ["F", "M"] and test["group"] == "difference" and test["df"] == 1
    assert groups["std_error"].gt(0).all() and "Hotelling F reference, m = 3 sites" in test["test"]
    panels = group_site_panels(table, programme, "emergency_admissions", "sex", ["F", "M"])
    wave2_sites = panels["F"].loc[panels["F"]["wave"] == 2, "unit"].nunique()
    assert wave2_sites >= 2 and (groups["n_treated_areas"] == wave2_sites).all()  # sites, as impact_estimates
    assert groups["n_comparison_areas"].gt(40).all()

    before, cov0, _ = sdid_groups(panels, 2)  # the joint jackknife
    assert np.allclose(before["estimate"], groups["estimate"], rtol=1e-12, atol=0)
    z2 = (before["estimate"][0] - before["estimate"][1]) ** 2 / (cov0[0, 0] + cov0[1, 1] - 2 * cov0[0, 1])
    # Hotelling with m = 3 sites and 1 difference: W (m - 1) / (1 (m - 1)) ~ F(1, 2)
    assert test["statistic"] == pytest.approx(z2, rel=1e-12) and test["p_value"] == pytest.approx(f.sf(z2, 1, 2))
    # the default reference is the wild bootstrap, but not with 3 sites (fewer than MIN_SITES = 5: it had no
    # power there in the benchmark): Hotelling's, as reference="hotelling" gives
    hotelling = sdid_subgroup_effects(table, programme, "emergency_admissions", "sex", reference="hotelling")
    pd.testing.assert_frame_equal(hotelling, out)
    with pytest.raises(ValueError, match="reference must be one of"):
        sdid_subgroup_effects(table, programme, "emergency_admissions", "sex", reference="bootstrap")
    placebo = sdid_subgroup_effects(table, programme, "emergency_admissions", "sex", replications=100,
                                    covariance="placebo")
    p_test = placebo.iloc[-1]
    assert "chi-square reference" in p_test["test"] and "joint placebo" in p_test["test"]
    assert np.allclose(placebo["estimate"].iloc[-3:-1].to_numpy(), groups["estimate"].to_numpy(), rtol=1e-12, atol=0)

    # a programmed difference: women's events in Pioneer areas after the start times exp(-0.5)
    shifted = with_difference(table, programme.table, "F", -0.5)
    after, cov1, _ = sdid_groups(group_site_panels(shifted, programme, "emergency_admissions", "sex", ["F", "M"]),
                                 2)
    assert after["estimate"][0] - before["estimate"][0] == pytest.approx(-0.5, abs=1e-10)  # recovered exactly
    assert after["estimate"][1] == pytest.approx(before["estimate"][1], abs=1e-12)
    # every leave-one-out estimate of women's moves by -0.5 too, so the jackknife covariance stays
    assert np.allclose(cov1, cov0, rtol=1e-10)
    w1 = joint_wald_equal_effects(after["estimate"], cov1)[0]
    assert w1 > z2 and w1 > f.ppf(0.95, 1, 2), (z2, w1)  # beyond Hotelling's 5% point with 3 sites
