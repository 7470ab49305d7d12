"""Callaway & Sant'Anna by subgroup and the joint Wald test of equal effects.

Tolerances: 1e-12 relative where two routes do the same arithmetic in a different order (the
joint Wald test against Cochran's Q and against z squared; each group's estimate and standard
error against ``att_gt`` run directly, whose agreement with R did 2.5.0 is tested elsewhere);
1e-9 for the covariance check by linearity (a third fit whose ATT is the sum of two others, so
its variance must be v_AA + v_BB + 2 v_AB: an independent check of the cross-covariance).
R's did is not in Debian, so no live R check here; size and power of the test are measured on
simulated England by ``benchmarks/impact_coverage.py --design subgroups``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import f as f_dist
from scipy.stats import t as t_dist

from joinedup.data import open_dataset
from joinedup.impact.did import att_gt
from joinedup.impact.subgroups import wald_equal_effects
from joinedup.impact.subgroups_cs import (cs_groups, cs_subgroup_effects, if_covariance,
                                          joint_wald_equal_effects)
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme


def _panel(rng, n_areas=60, periods=6, shared=None) -> pd.DataFrame:
    """A balanced area panel: a third of areas start in period 4, a third in 5, the rest never."""
    areas = [f"E{i:03d}" for i in range(n_areas)]
    first = np.array([4] * (n_areas // 3) + [5] * (n_areas // 3) + [0] * (n_areas - 2 * (n_areas // 3)))
    rows = pd.DataFrame([(a, t, g) for a, g in zip(areas, first) for t in range(1, periods + 1)],
                        columns=["area_code", "t", "first_treated"])
    noise = rng.normal(size=len(rows)) if shared is None else shared + 0.5 * rng.normal(size=len(rows))
    post = (rows["first_treated"] > 0) & (rows["t"] >= rows["first_treated"])
    rows["y"] = 0.1 * rows["t"] - 0.2 * post + noise
    rows["population"] = np.repeat(rng.integers(1000, 5000, n_areas), periods).astype(float)
    return rows


def test_joint_wald_reduces_to_cochran_q_and_to_z_squared():
    b, se = np.array([-0.10, 0.02, -0.04]), np.array([0.03, 0.05, 0.04])
    stat, df, p = joint_wald_equal_effects(b, np.diag(se ** 2))
    q = wald_equal_effects(b, se)
    assert (df, stat) == (q[1], pytest.approx(q[0], rel=1e-12)) and p == pytest.approx(q[2], rel=1e-12)
    v = np.array([[0.0009, 0.0004], [0.0004, 0.0016]])
    z = (0.1 - 0.3) / np.sqrt(0.0009 + 0.0016 - 2 * 0.0004)
    assert joint_wald_equal_effects([0.1, 0.3], v)[0] == pytest.approx(z ** 2, rel=1e-12)
    # Hotelling's reference by hand: W (m - q) / (q (m - 1)) ~ F(q, m - q), here m = 20, q = 2
    stat, df, p_f = joint_wald_equal_effects(b, np.diag(se ** 2), n_clusters=20)
    assert p_f == pytest.approx(f_dist.sf(stat * 18 / (2 * 19), 2, 18), rel=1e-12) and p_f > q[2]
    with pytest.raises(ValueError, match="more clusters"):
        joint_wald_equal_effects(b, np.diag(se ** 2), n_clusters=2)
    with pytest.raises(ValueError, match="at least two"):
        joint_wald_equal_effects([0.1], [[0.01]])
    with pytest.raises(ValueError, match="singular"):
        joint_wald_equal_effects([0.1, 0.2], np.full((2, 2), 0.01))


def test_each_group_is_att_gt_and_the_covariance_is_linear():
    rng = np.random.default_rng(5)
    a = _panel(rng)
    shared = rng.normal(size=len(a))  # area-period shocks common to two groups: correlated estimates
    b = _panel(rng, shared=shared)
    c = _panel(rng, shared=shared)
    b["population"] = c["population"] = a["population"]  # equal weights, so ATT(A + B) = ATT(A) + ATT(B)
    both = a.assign(y=a["y"] + b["y"])
    out, cov = cs_groups({"A": a, "B": b, "C": c, "A+B": both}, est_method="reg")
    for name, panel in (("A", a), ("B", b)):
        direct = att_gt(panel.assign(w=panel["population"]), "y", "t", "area_code", "first_treated",
                        est_method="reg", weightsname="w", bstrap=False, cband=False).aggregate("simple")
        row = out.set_index("group").loc[name]
        assert row["estimate"] == pytest.approx(direct.overall_att, rel=1e-12)
        assert row["std_error"] == pytest.approx(direct.overall_se, rel=1e-12)
    est = out.set_index("group")["estimate"]
    assert est["A+B"] == pytest.approx(est["A"] + est["B"], rel=1e-9)
    assert cov[3, 3] == pytest.approx(cov[0, 0] + cov[1, 1] + 2 * cov[0, 1], rel=1e-9)
    corr = cov[1, 2] / np.sqrt(cov[1, 1] * cov[2, 2])
    assert corr > 0.5, corr  # B and C share most of their noise; the covariance must show it
    assert abs(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])) < 0.5  # A is independent of B


def test_areas_missing_from_a_group_add_nothing_to_the_covariance():
    # by hand: only areas 2 and 3 are in both; cov = (2*1 + 3*1) / (3 * 4), var_1 = 14 / 9
    cov = if_covariance([(np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])),
                         (np.array([5, 4, 3, 2]), np.ones(4))])
    assert np.allclose(cov, [[14 / 9, 5 / 12], [5 / 12, 4 / 16]], rtol=1e-15)


def test_cs_subgroup_effects_on_simulated_england(small_england):
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["imd_quintile", "sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    for breakdown, n_groups in (("imd_quintile", 5), ("sex", 2)):
        out = cs_subgroup_effects(table, programme, "emergency_admissions", breakdown)
        groups, test = out[~out["group"].isin(["difference", "gradient"])], out[out["group"] == "difference"].iloc[0]
        trend = out[out["group"] == "gradient"]
        # the 1-df linear trend only for an ordered breakdown, t with m - 1 df (m the fewest treated areas)
        assert len(trend) == (breakdown == "imd_quintile")
        assert len(groups) == n_groups and test["group"] == "difference" and test["df"] == n_groups - 1
        assert groups["std_error"].gt(0).all() and groups["n_treated_areas"].gt(5).all()
        assert np.allclose(groups["ci_high"] - groups["estimate"], 1.959963984540054 * groups["std_error"])
        assert "joint influence-function" in test["test"] and out["design"].str.contains("Sant'Anna").all()
        m, q = int(groups["n_treated_areas"].min()), n_groups - 1  # Hotelling's reference with m treated areas
        assert test["p_value"] == pytest.approx(f_dist.sf(test["statistic"] * (m - q) / (q * (m - 1)), q, m - q),
                                                rel=1e-12)
        for _, row in trend.iterrows():
            assert row["df"] == m - 1 and f"t({m - 1}) reference, m = {m} treated areas" in row["test"]
            assert row["p_value"] == pytest.approx(2 * t_dist.sf(abs(row["statistic"]), m - 1), rel=1e-12)
            assert row["p_value"] > 0.001  # no programmed gradient in the default scenario
        # the default scenario's programmed effect is one multiplier for every person: no difference
        assert test["p_value"] > 0.001, (breakdown, groups[["group", "estimate", "std_error"]])
        assert groups["estimate"].lt(0).sum() >= n_groups // 2  # the programmed effect lowers admissions
    with pytest.raises(ValueError, match="two or more groups"):
        cs_subgroup_effects(table, programme, "emergency_admissions", "age_band")
