"""The four-group design by subgroup: stacked cluster-robust covariance and the test per contrast.

Tolerances: 1e-12 relative for each group's estimate and SE against ``four_group_did`` run directly
(the same arithmetic); 1e-10 for each diagonal block against the group's own cluster-robust
variance (``Design.fit``); 1e-8 against statsmodels 0.14 WLS with ``cov_type="cluster"`` on the
groups stacked as one regression with group-interacted area and year dummies (a different route:
dummies instead of the within transformation, and a dense solve over ~300 columns), after putting
both on one small-sample factor: statsmodels uses the joint regression's ``G/(G-1) (N-1)/(N-K)``
for every block, this module each group's own factor on the diagonal and their geometric mean off it.
Hotelling's p-value by hand to 1e-12. The programmed difference shifts a coefficient by exactly D
(the regressor is the indicator of the rows shifted), to 1e-10.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.stats import f as f_dist
from scipy.stats import t as t_dist

from joinedup.data import open_dataset
from joinedup.impact.four_groups import four_group_design, four_group_did
from joinedup.impact.subgroups_four import (
    four_groups_fits,
    four_groups_subgroup_effects,
    group_panels,
)
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme

GROUPS = ["1", "3", "5"]  # quintile 5 lacks areas the others have: their scores are 0 there


@pytest.fixture(scope="module")
def data(small_england):
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["imd_quintile"])
    return table, builtin_programme(ds.execute(ds.table("programmes")))


def _stacked_statsmodels(panels: dict, programmes: pd.DataFrame):
    """The groups as one WLS with group-interacted area and year dummies, clustered by area."""
    blocks = []
    for name, panel in panels.items():
        design, present, _ = four_group_design(panel, programmes)
        x = pd.DataFrame(design.x, columns=[f"{name}:{c}_post" for c in present])
        area = pd.get_dummies(panel["area_code"].to_numpy()).astype(float).add_prefix(f"{name}:a_")
        year = pd.get_dummies(panel["t"].to_numpy()).astype(float).iloc[:, 1:].add_prefix(f"{name}:t_")
        blocks.append(pd.concat([x, area, year], axis=1).assign(_y=design.y, _w=design.w,
                                                                 _area=panel["area_code"].to_numpy()))
    frame = pd.concat(blocks, ignore_index=True).fillna(0.0)
    exog = frame.drop(columns=["_y", "_w", "_area"])
    fit = sm.WLS(frame["_y"], exog, weights=frame["_w"]).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["_area"])[0]})
    n, k, g = exog.shape[0], exog.shape[1], frame["_area"].nunique()
    return fit, g / (g - 1) * (n - 1) / (n - k)


def test_covariance_against_each_group_and_the_stacked_regression(data):
    table, programme = data
    panels = group_panels(table, programme, "emergency_admissions", "imd_quintile", GROUPS)
    assert len(set(panels["1"]["area_code"]) - set(panels["5"]["area_code"])) > 0
    fits, cov = four_groups_fits(panels, programme.table, "pioneer", "vanguard")
    ssc = {}
    for name, panel in panels.items():
        rows = np.flatnonzero(fits["group"] == name)
        direct = four_group_did(panel, programme.table)
        assert np.allclose(fits["estimate"].iloc[rows], direct["estimate"], rtol=1e-12, atol=0)
        assert np.allclose(fits["std_error"].iloc[rows], direct["std_error"], rtol=1e-12, atol=0)
        own = four_group_design(panel, programme.table)[0].fit()
        assert np.allclose(cov[np.ix_(rows, rows)], own.vcov, rtol=1e-10, atol=0)
        ssc[name] = own.ssc
    sm_fit, sm_ssc = _stacked_statsmodels(panels, programme.table)
    names = [f"{g}:{c}_post" for g, c in zip(fits["group"], fits["contrast"])]
    assert np.allclose(sm_fit.params[names], fits["estimate"], rtol=1e-8, atol=0)
    factor = np.sqrt(np.outer(*[[ssc[g] for g in fits["group"]]] * 2))
    ours = cov / factor  # both on the raw sandwich: the same meat and bread, no factor
    theirs = sm_fit.cov_params().loc[names, names].to_numpy() / sm_ssc
    off = ~np.equal.outer(fits["group"].to_numpy(), fits["group"].to_numpy())  # across subgroups
    assert np.abs(ours[off]).max() > 1e-4 * np.abs(ours).max()  # the cross-covariance is not trivially 0
    assert np.allclose(ours, theirs, rtol=1e-8, atol=1e-8 * np.abs(theirs).max())


def test_wald_by_hand_and_a_programmed_difference(data):
    table, programme = data
    out = four_groups_subgroup_effects(table, programme, "emergency_admissions", "imd_quintile")
    panels = group_panels(table, programme, "emergency_admissions", "imd_quintile", sorted(set(out["group"]) - {"difference", "gradient"}))
    fits, cov = four_groups_fits(panels, programme.table, "pioneer", "vanguard")
    stats_before = {}
    for contrast in ("pioneer_only", "vanguard_only", "both"):
        part = out[out["method"] == f"Four groups: {contrast.replace('_', ' ')} vs neither"]
        groups, test = part[part["group"].str.fullmatch("[1-5]")], part[part["group"] == "difference"].iloc[0]
        assert len(groups) == 5 and test["group"] == "difference" and "Hotelling" in test["test"]
        idx = np.flatnonzero(fits["contrast"] == contrast)
        b, v = fits["estimate"].to_numpy()[idx], cov[np.ix_(idx, idx)]
        c = np.eye(5)[:-1] - np.eye(5)[1:]
        w = float((c @ b) @ np.linalg.inv(c @ v @ c.T) @ (c @ b))
        m = int(groups["n_treated_areas"].min())
        assert test["statistic"] == pytest.approx(w, rel=1e-12)
        assert test["p_value"] == pytest.approx(f_dist.sf(w * (m - 4) / (4 * (m - 1)), 4, m - 4), rel=1e-12)
        stats_before[contrast] = w
        # the 1-df linear trend by hand: c = quintile positions less their mean, t(m - 1)
        trend = part[part["group"] == "gradient"].iloc[0]
        c = np.arange(5) - 2.0
        slope, se = c @ b / (c @ c), np.sqrt(c @ v @ c) / (c @ c)
        assert trend["estimate"] == pytest.approx(slope, rel=1e-12) and trend["std_error"] == pytest.approx(se, rel=1e-12)
        assert trend["df"] == m - 1 and trend["p_value"] == pytest.approx(2 * t_dist.sf(abs(slope / se), m - 1), rel=1e-12)
        stats_before[contrast, "slope"] = slope

    # programmed: the most deprived quintile's events in Pioneer-only areas from the start's year times exp(-0.3)
    starts = programme.table.groupby(["area_code", "programme"])["start_date"].min().unstack()
    pioneer_only = starts[starts["pioneer"].notna() & starts["vanguard"].isna()]["pioneer"]
    fy = pd.to_datetime(pioneer_only).map(lambda s: pd.Timestamp(dt.date(s.year if s.month >= 4 else s.year - 1, 4, 1)))
    shifted = table.copy()
    rows = (shifted["group"] == "1") & shifted["unit"].isin(fy.index)
    rows &= pd.to_datetime(shifted["period_start"]) >= shifted["unit"].map(fy)
    shifted.loc[rows, "numerator"] *= np.exp(-0.3)
    after = four_groups_fits(group_panels(shifted, programme, "emergency_admissions", "imd_quintile",
                                          sorted(panels)), programme.table, "pioneer", "vanguard")
    moved = after[0]["estimate"] - fits["estimate"]
    first = (fits["group"] == "1") & (fits["contrast"] == "pioneer_only")
    assert moved[first].iloc[0] == pytest.approx(-0.3, abs=1e-10)
    assert np.abs(moved[~first]).max() < 1e-10 and np.allclose(after[1], cov, rtol=1e-8)
    out2 = four_groups_subgroup_effects(shifted, programme, "emergency_admissions", "imd_quintile")
    test2 = out2[(out2["method"] == "Four groups: pioneer only vs neither") & (out2["group"] == "difference")]
    assert test2["statistic"].iloc[0] > stats_before["pioneer_only"]
    # quintile 1 (score -2 of c) moved by -0.3: the slope by (-2)(-0.3)/10 = 0.06 exactly, the others not
    for contrast, name in (("pioneer_only", "pioneer only"), ("both", "both")):
        trend2 = out2[(out2["method"] == f"Four groups: {name} vs neither") & (out2["group"] == "gradient")]
        moved = 0.06 if contrast == "pioneer_only" else 0.0
        assert trend2["estimate"].iloc[0] - stats_before[contrast, "slope"] == pytest.approx(moved, abs=1e-10)


@pytest.mark.parametrize("kept, label", [  # which of the areas in both programmes stay in both
    (slice(2, 4), r"Test of equal effects not run: Hotelling's reference needs more clusters \(1\) than differences \(4\)"),
    (slice(0, 3), r"Not run: no estimate for group\(s\) \['5'\]"),
])
def test_rows_not_run_say_why_like_the_other_designs(data, small_england, kept, label):
    """With only a few areas in both programmes, the 'both' contrast cannot be tested (or estimated in
    every group): its row says so in the words the other designs use, without repeating the method."""
    table, _ = data
    ds = open_dataset(small_england)
    prog = ds.execute(ds.table("programmes"))
    areas = prog.groupby("programme")["area_code"].apply(set)
    both = sorted(areas["pioneer"] & areas["vanguard"])[kept]
    few = builtin_programme(prog[(prog["programme"] != "vanguard") | prog["area_code"].isin(both)])
    out = four_groups_subgroup_effects(table, few, "emergency_admissions", "imd_quintile")
    not_run = out[(out["method"] == "Four groups: both vs neither") & (out["group"] == "not run")]
    assert not_run["group_label"].str.fullmatch(label).any(), not_run["group_label"].tolist()
    assert not not_run["group_label"].str.startswith("Four groups").any()
    tested = out[(out["method"] == "Four groups: pioneer only vs neither") & (out["group"] == "difference")]
    assert len(tested) == 1  # the other contrast is still tested
