"""Synthetic control per site by subgroup: each group's fit, and the placebo-in-space test of equal effects.

Tolerances: 1e-10 absolute where two routes do the same fits (each group's effect against
:func:`joinedup.impact.synthetic.synth` / :func:`~joinedup.impact.synthetic.ascm` run directly on
that group's panel; every placebo's statistic against a by-hand fit of the donor against the other
donors and the heterogeneity written with the mean rather than pairwise differences; a programmed shift of one
group's post-period outcome, which moves that group's effect by exactly the shift because the
weights are fitted on pre-periods only). The p-value is a count, so it is compared exactly.
No reference implementation of a between-group placebo test exists to compare with (it is built
here from ADH 2010's logic), so the checks are by hand, by construction and by programmed effects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.impact.evaluate import site_predictors
from joinedup.impact.subgroups_sc import heterogeneity, sc_groups, sc_subgroup_effects
from joinedup.impact.subgroups_sdid import group_site_panels
from joinedup.impact.synthetic import ascm, placebo_in_space, synth
from joinedup.indicators.breakdowns import compute_breakdowns
from joinedup.programme import builtin_programme
from joinedup.protocol import Impact
from subgroup_difference import with_difference

TOL = 1e-10
STARTS = {"S0": 5, "S1": 6}  # two waves: the predictors come from the years before the first (1-4)
DONORS = [f"C{i:02d}" for i in range(20)]


def _panel(rng, effect=0.0) -> pd.DataFrame:
    """A site panel (``unit, t, y``): 20 comparison units C.., sites S0 (from 5) and S1 (from 6), 8 periods."""
    units = DONORS + list(STARTS)
    rows = pd.DataFrame([(u, t) for u in units for t in range(1, 9)], columns=["unit", "t"])
    level = np.repeat(rng.normal(scale=0.5, size=len(units)), 8)
    trend = np.repeat(rng.normal(scale=0.05, size=len(units)), 8) * rows["t"]
    treated = rows["unit"].map(STARTS).fillna(99) <= rows["t"]
    rows["y"] = level + trend + 0.1 * rng.normal(size=len(rows)) + effect * treated
    return rows


def _panels(seed=5) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    return {"A": _panel(rng, -0.1), "B": _panel(rng, 0.1), "C": _panel(rng)}


def _direct(panel, unit, start, donors):
    special, v = site_predictors(STARTS)
    return synth(panel, "unit", "t", "y", unit, start, v=v, special_predictors=special, donors=donors)


def test_each_group_is_the_main_designs_fit_on_its_panel():
    panels = _panels()
    res = sc_groups(panels, STARTS, DONORS, prefit_filter=5.0)
    aug = sc_groups(panels, STARTS, DONORS, method="ascm")
    special, v = site_predictors(STARTS)
    for site, start in STARTS.items():
        for g, name in enumerate(panels):
            panel = panels[name]
            assert res[site].effects[g] == pytest.approx(_direct(panel, site, start, DONORS).att, abs=TOL)
            # a group's own p-value is the main design's placebo-in-space test on its panel
            own = placebo_in_space(panel, "unit", "t", "y", site, start, v=v, special_predictors=special,
                                   donors=DONORS, prefit_filter=5.0)
            assert res[site].group_p[g] == own.p_value
            assert aug[site].effects[g] == pytest.approx(ascm(panel, "unit", "t", "y", site, start,
                                                              donors=DONORS).att, abs=TOL)
        assert np.isnan(aug[site].group_p).all()  # ASCM has no placebo test of its own


def _h_by_hand(gaps: np.ndarray, pre: np.ndarray) -> float:
    a = gaps[:, ~pre].mean(axis=1)  # each group's effect: its mean post-period gap
    return float(((a - a.mean()) ** 2).sum())


def test_the_statistic_and_p_value_by_hand():
    panels = _panels()
    site, start = "S1", STARTS["S1"]
    res = sc_groups(panels, STARTS, DONORS)[site]
    pre = np.arange(1, 9) < start
    site_gaps = np.array([_direct(p, site, start, DONORS).gap for p in panels.values()])
    by_hand = [_h_by_hand(site_gaps, pre)]
    for d in DONORS:  # each donor against the others, never a site, in every group
        others = [x for x in DONORS if x != d]
        by_hand.append(_h_by_hand(np.array([_direct(p, d, start, others).gap for p in panels.values()]), pre))
    assert res.units == (site, *DONORS)
    np.testing.assert_allclose(res.statistics, by_hand, rtol=0, atol=TOL)
    count = sum(s >= res.statistics[0] for s in res.statistics[1:])
    assert res.rank == 1 + count and res.p_value == (1 + count) / (1 + len(DONORS))
    assert 1 < res.rank < len(DONORS) + 1  # the seed gives a rank in the middle, not a corner case
    assert res.statistics[0] == pytest.approx(((res.effects - res.effects.mean()) ** 2).sum(), abs=TOL)
    tidy = res.tidy()
    assert tidy["group"].tolist() == ["A", "B", "C", "difference"] and tidy["p_value"].iloc[-1] == res.p_value


@pytest.mark.parametrize("method", ["synth", "ascm"])
def test_a_programmed_difference_moves_one_group_exactly(method):
    panels = _panels()
    before = sc_groups(panels, STARTS, DONORS, method=method)["S0"]
    for shift in (0.05, 10.0):
        shifted = dict(panels)
        a = panels["A"].copy()
        a.loc[(a["unit"] == "S0") & (a["t"] >= STARTS["S0"]), "y"] += shift
        shifted["A"] = a
        after = sc_groups(shifted, STARTS, DONORS, method=method)["S0"]
        assert after.effects[0] - before.effects[0] == pytest.approx(shift, abs=TOL)  # weights from pre-periods
        np.testing.assert_allclose(after.effects[1:], before.effects[1:], rtol=0, atol=TOL)
        np.testing.assert_array_equal(after.statistics[1:], before.statistics[1:])  # placebos never see the site
    assert after.rank == 1 and after.p_value == 1 / (1 + len(DONORS))  # the smallest attainable p


def test_no_difference_gives_zero():
    panel = _panels()["A"]
    res = sc_groups({"A": panel, "B": panel.copy()}, STARTS, DONORS)
    for r in res.values():
        assert r.statistics[0] == 0.0 and (r.statistics == 0).all() and r.p_value == 1.0
    # H is exact for identical groups (pairwise differences), where a mean can leave rounding
    x = np.full((3, 1), 0.1)
    assert heterogeneity(x)[0] == 0.0


def test_bad_input_says_what():
    panels = _panels()
    no_site = {**panels, "B": panels["B"][panels["B"]["unit"] != "S1"]}
    with pytest.raises(ValueError, match="site 'S1' is not in group 'B'"):
        sc_groups(no_site, STARTS, DONORS)
    with pytest.raises(ValueError, match="at least 3 donors usable in every group; got 2"):
        sc_groups(panels, STARTS, DONORS[:2])
    with pytest.raises(ValueError, match=r"donor\(s\) \['C03'\] not in group 'C'"):
        sc_groups({**panels, "C": panels["C"][panels["C"]["unit"] != "C03"]}, STARTS, DONORS)
    with pytest.raises(ValueError, match="site 'S0' has 0 period"):
        sc_groups(panels, {"S0": 1}, DONORS)
    with pytest.raises(ValueError, match=r"site 'S0' has 1 period\(s\) before its start \(2\) in group 'A'.s panel; "
                                         "this method needs 2"):
        sc_groups(panels, {"S0": 2}, DONORS, method="ascm")  # its cross-validation leaves a period out
    with pytest.raises(ValueError, match="two or more groups"):
        sc_groups({"A": panels["A"]}, STARTS, DONORS)
    with pytest.raises(ValueError, match="'C00' is also listed among the donors"):
        sc_groups(panels, {**STARTS, "C00": 5}, DONORS)
    with pytest.raises(ValueError, match="method must be one of"):
        sc_groups(panels, STARTS, DONORS, method="sdid")


def test_programmed_difference_on_simulated_england(small_england):
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    spec = Impact(augmented_synthetic_control=True)
    out = sc_subgroup_effects(table, programme, "emergency_admissions", "sex", spec)
    # 2012/13-2016/17: wave 1 (from 2013/14) has one year before its start, too few for ASCM only
    assert set(out["method"].str.split(",").str[0]) == {"Synthetic control", "Augmented synthetic control"}
    ran = out[out["group"] != "not run"]
    assert ran["ci_low"].isna().all() and ran["ci_high"].isna().all() and ran["df"].isna().all()
    not_run = out[out["group"] == "not run"]
    assert not_run["method"].str.startswith("Augmented").all() and not not_run.empty
    assert not_run["group_label"].str.contains("1 financial year.* augmented synthetic control needs 2").all()
    panels = group_site_panels(table, programme, "emergency_admissions", "sex", ["F", "M"])
    wave2 = sorted(panels["F"].loc[panels["F"]["wave"] == 2, "unit"].unique())
    site = wave2[0]
    rows = out[out["method"] == f"Synthetic control, {site}"]
    assert rows["group"].tolist() == ["F", "M", "difference"]
    j = int(rows["n_comparison_areas"].iloc[0])
    assert j > 40 and f"rank {round(rows['p_value'].iloc[-1] * (j + 1))} of {j + 1}" in rows["test"].iloc[-1]
    # each group's effect is the main design's fit on that group's panel (all sites start the predictors)
    starts = {u: int(s) for u, s in panels["F"].loc[panels["F"]["first_treated"] > 0]
              .drop_duplicates("unit")[["unit", "first_treated"]].itertuples(index=False)}
    special, v = site_predictors(starts)
    for g, name in enumerate(["F", "M"]):
        p = panels[name]
        donors = sorted(p.loc[p["first_treated"] == 0, "unit"].unique())
        direct = synth(p[["unit", "t", "y"]], "unit", "t", "y", site, starts[site], v=v, special_predictors=special,
                       donors=donors)
        assert rows["estimate"].iloc[g] == pytest.approx(direct.att, abs=TOL)

    # women's events in Pioneer areas after the start times exp(d), d = 1 away from men's effect: F's
    # effect moves by exactly d and the site's heterogeneity now ranks first among the placebos
    d = float(np.sign(rows["estimate"].iloc[0] - rows["estimate"].iloc[1]))
    shifted = sc_subgroup_effects(with_difference(table, programme.table, "F", d), programme,
                                  "emergency_admissions", "sex", spec)
    for method in ("Synthetic control", "Augmented synthetic control"):
        b = out[out["method"] == f"{method}, {site}"].set_index("group")
        a = shifted[shifted["method"] == f"{method}, {site}"].set_index("group")
        assert b.loc["difference", "p_value"] > 0.1  # no difference was programmed before
        assert a.loc["F", "estimate"] - b.loc["F", "estimate"] == pytest.approx(d, abs=TOL)
        assert a.loc["M", "estimate"] == pytest.approx(b.loc["M", "estimate"], abs=TOL)
        assert a.loc["difference", "p_value"] == pytest.approx(1 / (j + 1), abs=1e-15)
