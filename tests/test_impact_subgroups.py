"""Impact by subgroup and the Wald test of equal effects across subgroups.

The Wald statistic is checked against a hand computation (exact arithmetic, 1e-12) and the
chi-square p-value against scipy; on simulated England (0.5% scale, default scenario, whose
programmed Pioneer effect is the same multiplier for every person) each IMD quintile and ethnic
group gets a TWFE estimate, and the test of equal effects, under a truth of no difference, must
not reject at the 0.1% level (one seed: a check that fails only if the subgroup estimates are
badly wrong or their errors far too small).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2

from joinedup.data import open_dataset
from joinedup.impact.subgroups import subgroup_effects, wald_equal_effects
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme


def test_wald_statistic_by_hand():
    b, se = np.array([-0.10, 0.02, -0.04]), np.array([0.03, 0.05, 0.04])
    w = 1 / se ** 2
    pooled = (w * b).sum() / w.sum()
    stat, df, p = wald_equal_effects(b, se)
    assert stat == pytest.approx(((b - pooled) ** 2 * w).sum(), rel=1e-12)
    assert df == 2 and p == pytest.approx(chi2.sf(stat, 2), rel=1e-12)
    assert wald_equal_effects([0.2, 0.2], [0.1, 0.3])[0] == pytest.approx(0, abs=1e-15)
    with pytest.raises(ValueError, match="at least two"):
        wald_equal_effects([0.1], [0.1])
    with pytest.raises(ValueError, match="errors > 0"):
        wald_equal_effects([0.1, 0.2], [0.1, 0.0])


def test_subgroup_effects_on_simulated_england(small_england):
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["imd_quintile", "ethnicity"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    for breakdown, n_groups in (("imd_quintile", 5), ("ethnicity", 5)):
        out = subgroup_effects(table, programme, "emergency_admissions", breakdown)
        groups, test = out.iloc[:-1], out.iloc[-1]
        assert len(groups) == n_groups and test["group"] == "difference"
        assert groups["std_error"].gt(0).all() and groups["n_treated_areas"].gt(5).all()
        assert (groups["ci_low"] < groups["estimate"]).all()
        stat, df, p = wald_equal_effects(groups["estimate"], groups["std_error"])
        assert (test["statistic"], test["df"], test["p_value"]) == (stat, df, p)
        assert test["p_value"] > 0.001, (breakdown, groups[["group", "estimate", "std_error"]])
