"""Synthetic DiD by subgroup: joint placebo covariance and the Wald test of equal effects.

Tolerances: 1e-12 relative where two routes do the same arithmetic (each group's estimate and
placebo variance against :func:`joinedup.impact.synthetic.sdid` run directly on that group's panel
with the same seed: the joint draw reuses its permutations; the Wald statistic by hand). 1e-10
absolute for the shift of a group's estimate by a programmed difference: SDID's weights use only
the treated units' pre-periods, so multiplying their post-period events by exp(D) moves that group's
estimate by exactly D (up to rounding in logs of sums) and leaves every placebo (controls only)
unchanged. R's synthdid is not installed here (the single-panel port is checked against it in
tests/test_impact_sdid.py), so no live R check of the joint covariance.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from joinedup.data import open_dataset
from joinedup.impact.subgroups_cs import joint_wald_equal_effects
from joinedup.impact.subgroups_sdid import group_site_panels, sdid_groups, sdid_subgroup_effects
from joinedup.impact.synthetic import sdid
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme


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
    out, cov, blocks = sdid_groups(panels, wave=1, replications=60, seed=7)
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


def test_groups_must_share_their_comparison_units():
    rng = np.random.default_rng(4)
    a, b = _sites(rng, None), _sites(rng, None)
    b = b[b["unit"] != "C03"]
    with pytest.raises(ValueError, match="other comparison units"):
        sdid_groups({"A": a, "B": b}, wave=1, replications=10)
    with pytest.raises(ValueError, match="no site of wave 2"):
        sdid_groups({"A": a}, wave=2, replications=10)


def _with_difference(table: pd.DataFrame, programmes: pd.DataFrame, group: str, d: float) -> pd.DataFrame:
    """``table`` with ``group``'s events in Pioneer areas from their start's financial year times exp(d)."""
    pioneer = programmes[programmes["programme"] == "pioneer"]
    start = pd.to_datetime(pioneer.set_index("area_code")["start_date"])
    fy = start.map(lambda s: dt.date(s.year if s.month >= 4 else s.year - 1, 4, 1))
    out = table.copy()
    rows = (out["group"] == group) & out["unit"].isin(fy.index)
    rows &= pd.to_datetime(out["period_start"]) >= pd.to_datetime(out["unit"].map(fy))
    out.loc[rows, "numerator"] *= np.exp(d)
    return out


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
    assert groups["std_error"].gt(0).all() and "chi-square reference" in test["test"]
    panels = group_site_panels(table, programme, "emergency_admissions", "sex", ["F", "M"])
    wave2_sites = panels["F"].loc[panels["F"]["wave"] == 2, "unit"].nunique()
    assert wave2_sites >= 2 and (groups["n_treated_areas"] == wave2_sites).all()  # sites, as impact_estimates
    assert groups["n_comparison_areas"].gt(40).all()

    before, cov0, _ = sdid_groups(panels, 2, 100, 0)
    assert np.allclose(before["estimate"], groups["estimate"], rtol=1e-12, atol=0)
    z2 = (before["estimate"][0] - before["estimate"][1]) ** 2 / (cov0[0, 0] + cov0[1, 1] - 2 * cov0[0, 1])
    assert test["statistic"] == pytest.approx(z2, rel=1e-12) and test["p_value"] == pytest.approx(chi2.sf(z2, 1))

    # a programmed difference: women's events in Pioneer areas after the start times exp(-0.5)
    shifted = _with_difference(table, programme.table, "F", -0.5)
    after, cov1, _ = sdid_groups(group_site_panels(shifted, programme, "emergency_admissions", "sex", ["F", "M"]),
                                 2, 100, 0)
    assert after["estimate"][0] - before["estimate"][0] == pytest.approx(-0.5, abs=1e-10)  # recovered exactly
    assert after["estimate"][1] == pytest.approx(before["estimate"][1], abs=1e-12)
    assert np.allclose(cov1, cov0, rtol=1e-10)  # the placebos use the comparison areas only
    w1 = joint_wald_equal_effects(after["estimate"], cov1)[0]
    assert w1 > z2 and w1 > chi2.ppf(0.95, 1), (z2, w1)
