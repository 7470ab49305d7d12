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
from joinedup.impact.subgroups_sc import (
    heterogeneity,
    sc_groups,
    sc_subgroup_effects,
    scaled_heterogeneity,
)
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
    res = sc_groups(panels, STARTS, DONORS, statistic="raw")[site]
    pre = np.arange(1, 9) < start
    site_gaps = np.array([_direct(p, site, start, DONORS).gap for p in panels.values()])
    by_hand = [_h_by_hand(site_gaps, pre)]
    for d in DONORS:  # each donor against the others, never a site, in every group
        others = [x for x in DONORS if x != d]
        by_hand.append(_h_by_hand(np.array([_direct(p, d, start, others).gap for p in panels.values()]), pre))
    assert res.units == (site, *DONORS)
    np.testing.assert_allclose(res.statistics, by_hand, rtol=0, atol=TOL)
    # each unit's mean gap before the start (the benchmark's demeaned statistics), the site's by hand
    np.testing.assert_allclose(res.unit_pre_gaps[:, 0], site_gaps[:, pre].mean(axis=1), rtol=0, atol=TOL)
    assert res.unit_pre_gaps.shape == res.unit_effects.shape
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
    out = sc_subgroup_effects(table, programme, "emergency_admissions", "sex", spec, statistic="raw")
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
                                  "emergency_admissions", "sex", spec, statistic="raw")
    for method in ("Synthetic control", "Augmented synthetic control"):
        b = out[out["method"] == f"{method}, {site}"].set_index("group")
        a = shifted[shifted["method"] == f"{method}, {site}"].set_index("group")
        assert b.loc["difference", "p_value"] > 0.1  # no difference was programmed before
        assert a.loc["F", "estimate"] - b.loc["F", "estimate"] == pytest.approx(d, abs=TOL)
        assert a.loc["M", "estimate"] == pytest.approx(b.loc["M", "estimate"], abs=TOL)
        assert a.loc["difference", "p_value"] == pytest.approx(1 / (j + 1), abs=1e-15)


# --- the scaled statistic H_s: each group's effect weighted by its gap's noise -----------------------------

def _own_by_hand(panel, unit, start) -> float:
    """Half the mean squared first difference of the unit's outcome before the start."""
    y = panel[panel["unit"] == unit].sort_values("t")
    y = y.loc[y["t"] < start, "y"].to_numpy()
    return float(np.mean(np.diff(y) ** 2) / 2)


def _q_by_hand(a: np.ndarray, v: np.ndarray) -> float:
    """Cochran's Q, with the weighted mean (the module writes it with pairwise differences)."""
    w = 1 / v
    mean = (w * a).sum() / w.sum()
    return float((w * (a - mean) ** 2).sum())


def test_the_scaled_statistic_by_hand():
    panels = _panels()
    site, start = "S1", STARTS["S1"]
    res = sc_groups(panels, STARTS, DONORS, statistic="scaled")[site]
    raw = sc_groups(panels, STARTS, DONORS, statistic="raw")[site]
    np.testing.assert_allclose(res.unit_effects, raw.unit_effects, rtol=0, atol=TOL)  # the same fits
    np.testing.assert_allclose(raw.statistics, heterogeneity(raw.unit_effects), rtol=0, atol=TOL)
    pre = np.arange(1, 9) < start
    units = {"site": (site, DONORS), "placebo": ("C07", [d for d in DONORS if d != "C07"])}
    for k, (unit, pool) in enumerate(units.values()):
        a, v = [], []
        for p in panels.values():
            fit = _direct(p, unit, start, pool)
            a.append(fit.gap[~pre].mean())
            own = {u: _own_by_hand(p, u, start) for u in [unit, *pool]}
            # the gap's noise: the unit's own plus its synthetic control's, sum_j w_j^2 s_j^2
            v.append(own[unit] + sum(fit.weights[j] ** 2 * own[j] for j in pool))
        i = 0 if k == 0 else 1 + DONORS.index(unit)
        np.testing.assert_allclose(res.noise[:, i], v, rtol=1e-12)
        assert res.statistics[i] == pytest.approx(_q_by_hand(np.array(a), np.array(v)), rel=1e-10)
        assert res.statistics[i] != pytest.approx(raw.statistics[i], rel=0.5)  # not H under another name
    count = sum(s >= res.statistics[0] for s in res.statistics[1:])
    assert res.rank == 1 + count and res.p_value == (1 + count) / (1 + len(DONORS))
    assert res.statistic == "scaled" and raw.statistic == "raw" and raw.noise is None


def test_scaled_heterogeneity_reduces_to_h_over_a_common_variance():
    rng = np.random.default_rng(3)
    a, v = rng.normal(size=(4, 6)), rng.uniform(0.5, 2, size=(4, 6))
    q = scaled_heterogeneity(a, v)
    np.testing.assert_allclose(q, [_q_by_hand(a[:, j], v[:, j]) for j in range(6)], rtol=1e-12)
    # equal variances within a unit: H / v (a unit noisier in every group is scaled down by its noise)
    np.testing.assert_allclose(scaled_heterogeneity(a, np.full_like(a, 4.0)), heterogeneity(a) / 4, rtol=1e-12)
    np.testing.assert_allclose(scaled_heterogeneity(2 * a, 4 * v), q, rtol=1e-12)  # effect sd units
    assert (scaled_heterogeneity(np.full((3, 2), 0.1), v[:3, :2]) == 0).all()  # identical groups: exactly 0
    with pytest.raises(ValueError, match="positive and finite"):
        scaled_heterogeneity(a, np.where(np.arange(6) == 2, 0.0, v))


@pytest.mark.parametrize("method", ["synth", "ascm"])
def test_the_scaled_statistic_does_not_depend_on_the_outcomes_scale(method):
    """Every outcome times 3 (all units, all groups): the fits' weights are unchanged, every effect
    triples and every noise variance is 9 times, so H_s and the p-value stay; the raw H is 9 times."""
    panels = _panels()
    scaled = {g: p.assign(y=3 * p["y"]) for g, p in panels.items()}
    for statistic, factor in (("scaled", 1.0), ("raw", 9.0)):
        a = sc_groups(panels, STARTS, DONORS, method=method, statistic=statistic)
        b = sc_groups(scaled, STARTS, DONORS, method=method, statistic=statistic)
        for site in STARTS:
            np.testing.assert_allclose(b[site].statistics, factor * a[site].statistics, rtol=1e-9)
            assert b[site].p_value == a[site].p_value


@pytest.mark.parametrize("method", ["synth", "ascm"])
def test_a_programmed_difference_raises_the_scaled_statistic(method):
    panels = _panels()
    before = sc_groups(panels, STARTS, DONORS, method=method, statistic="scaled")["S0"]
    # move group A away from the others' weighted mean: H_s is a convex quadratic in a_A with its
    # minimum there, so it can only rise
    w = 1 / before.noise[1:, 0]
    sign = np.sign(before.effects[0] - (w * before.effects[1:]).sum() / w.sum())
    for shift in (0.05, 10.0):
        a = panels["A"].copy()
        a.loc[(a["unit"] == "S0") & (a["t"] >= STARTS["S0"]), "y"] += sign * shift
        after = sc_groups({**panels, "A": a}, STARTS, DONORS, method=method, statistic="scaled")["S0"]
        assert after.effects[0] - before.effects[0] == pytest.approx(sign * shift, abs=TOL)
        np.testing.assert_array_equal(after.noise, before.noise)  # the noise is from the years before the start
        np.testing.assert_array_equal(after.statistics[1:], before.statistics[1:])  # placebos never see the site
        assert after.statistics[0] > before.statistics[0]
    assert before.rank > 1 and after.rank == 1 and after.p_value == 1 / (1 + len(DONORS))


def test_the_scaled_statistic_of_identical_groups_is_zero():
    panel = _panels()["A"]
    for r in sc_groups({"A": panel, "B": panel.copy()}, STARTS, DONORS, statistic="scaled").values():
        assert (r.statistics == 0).all() and r.p_value == 1.0


def test_the_scaled_statistic_refuses_a_constant_series():
    panels = _panels()
    b = panels["B"].copy()
    b.loc[(b["unit"] == "S0") & (b["t"] < STARTS["S0"]), "y"] = 0.3  # constant before its start only
    with pytest.raises(ValueError, match=r"site 'S0' has a constant outcome before 5 in group 'B': its noise "
                                         r"\(mean squared first difference\) is 0"):
        sc_groups({**panels, "B": b}, STARTS, DONORS, statistic="scaled")
    sc_groups({**panels, "B": b}, STARTS, DONORS, statistic="raw")  # the raw H needs no noise
    # a donor may be constant (few events: the same count twice); its placebo's noise is then its
    # synthetic control's alone, sum_j w_j^2 s_j^2 > 0
    c = panels["C"].copy()
    c.loc[c["unit"] == "C03", "y"] = 1.0
    res = sc_groups({**panels, "C": c}, STARTS, DONORS, method="ascm", statistic="scaled")["S0"]
    fit = ascm(c, "unit", "t", "y", "C03", STARTS["S0"], donors=[d for d in DONORS if d != "C03"])
    synthetic = sum(fit.weights[j] ** 2 * _own_by_hand(c, j, STARTS["S0"]) for j in fit.weights.index)
    assert res.noise[2, 1 + DONORS.index("C03")] == pytest.approx(synthetic, rel=1e-12) and synthetic > 0
    c.loc[c["unit"] != "S1", "y"] = 1.0  # every donor constant: no noise anywhere but the sites
    with pytest.raises(ValueError, match="donor 'C00' and its synthetic control are constant before 6 in group 'C'"):
        sc_groups({**panels, "C": c}, {"S1": 6}, DONORS, statistic="scaled")
    with pytest.raises(ValueError, match=r"site 'S0' has 1 period\(s\) before its start \(2\) in group 'A'.s panel; "
                                         "the scaled statistic needs 2"):
        sc_groups(panels, {"S0": 2}, DONORS, statistic="scaled")  # one first difference needs two periods
    with pytest.raises(ValueError, match="statistic must be one of 'raw', 'scaled'; got 'studentised'"):
        sc_groups(panels, STARTS, DONORS, statistic="studentised")


def test_the_scaled_statistic_on_simulated_england(small_england):
    """Through ``sc_subgroup_effects``: wave 1 (one year before its start) cannot give a first
    difference, so its sites are "not run" saying why; wave 2's are tested on H_s, and women's
    post-start events times exp(1) give (nearly) the smallest attainable p at each of them."""
    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    spec = Impact(augmented_synthetic_control=True)
    out = sc_subgroup_effects(table, programme, "emergency_admissions", "sex", spec, statistic="scaled")
    raw = sc_subgroup_effects(table, programme, "emergency_admissions", "sex", spec, statistic="raw")
    panels = group_site_panels(table, programme, "emergency_admissions", "sex", ["F", "M"])
    first = panels["F"].drop_duplicates("unit")
    wave1, wave2 = (sorted(first.loc[first["wave"] == w, "unit"]) for w in (1, 2))
    not_run = out[out["group"] == "not run"]
    # (a donor here has the same count in both years before wave 2's start in one group: its own
    # noise is 0 and its placebo's is its synthetic control's alone, so this runs)
    assert sorted(not_run.loc[not_run["method"].str.startswith("Synthetic control"), "method"]) == sorted(
        f"Synthetic control, {s}" for s in wave1)
    assert not_run["group_label"].str.contains("1 financial year.* needs 2").all()
    assert not_run["group_label"].str.contains("synthetic control with the scaled statistic needs 2").any()
    tests = out[out["group"] == "difference"]
    assert sorted(tests["method"]) == sorted(f"{m}, {s}" for m in ("Augmented synthetic control", "Synthetic control")
                                             for s in wave2)
    assert tests["test"].str.contains("noise-weighted heterogeneity").all()
    assert out["design"].str.contains("noise-weighted heterogeneity").all()
    # the group effects are the same fits as the raw statistic's; only the test differs
    ran = out[out["group"].isin(["F", "M"])]
    same = raw.set_index(["method", "group"]).loc[ran.set_index(["method", "group"]).index]
    assert len(ran) == 2 * len(tests)
    np.testing.assert_allclose(ran["estimate"], same["estimate"], rtol=0, atol=TOL)
    j = int(tests["n_comparison_areas"].iloc[0])
    d = float(np.sign(ran["estimate"].iloc[0] - ran["estimate"].iloc[1]))
    shifted = sc_subgroup_effects(with_difference(table, programme.table, "F", d), programme,
                                  "emergency_admissions", "sex", spec, statistic="scaled")
    moved = shifted[shifted["group"] == "difference"]
    assert (tests["p_value"] > 1 / (j + 1)).any()
    # raw H gives every one the smallest p here (test above); H_s gives it at 5 of the 6 site-methods and
    # rank 2 at the 6th (synthetic control, Vale of York: the noise estimates rest on one first
    # difference, and a donor with small noise in both groups and a 0.72 log gap between them outranks it)
    assert len(moved) == len(tests) == 6
    assert (moved["p_value"] <= 2 / (j + 1) + 1e-15).all()
    assert np.isclose(moved["p_value"], 1 / (j + 1), rtol=0, atol=1e-15).sum() == 5
    with pytest.raises(ValueError, match="statistic must be one of"):
        sc_subgroup_effects(table, programme, "emergency_admissions", "sex", spec, statistic="Q")


def test_the_protocol_chooses_the_statistic(small_england):
    """``[impact] sc_subgroup_statistic`` reaches the synthetic control rows of the report's subgroup
    step: the default is the scaled H_s (wave 1, one year before its start, "not run" saying why),
    "raw" gives H at every site; the group effects and every other design's rows are the same."""
    from joinedup.report.inequalities_section import by_subgroup

    ds = open_dataset(small_england)
    table = compute_breakdowns(ds, ["emergency_admissions"], ["sex"])
    programme = builtin_programme(ds.execute(ds.table("programmes")))
    assert Impact().sc_subgroup_statistic == "scaled"
    rows = {s: by_subgroup(table, programme, "emergency_admissions", "sex", Impact(sc_subgroup_statistic=s))
            for s in ("scaled", "raw")}
    sc_rows = {s: r[r["method"].str.startswith("Synthetic control")] for s, r in rows.items()}
    tests = {s: r.loc[r["group"] == "difference", "test"] for s, r in sc_rows.items()}
    first = group_site_panels(table, programme, "emergency_admissions", "sex", ["F", "M"])["F"].drop_duplicates("unit")
    wave1, wave2 = ((first["wave"] == w).sum() for w in (1, 2))
    assert len(tests["scaled"]) == wave2 and len(tests["raw"]) == wave1 + wave2 and wave1 > 0
    assert tests["scaled"].str.contains("noise-weighted heterogeneity").all()
    assert not tests["raw"].str.contains("noise-weighted").any()
    assert sc_rows["scaled"].loc[sc_rows["scaled"]["group"] == "not run", "group_label"].str.contains(
        "with the scaled statistic needs 2").sum() == wave1
    effects = {s: r[r["group"].isin(["F", "M"])].set_index(["method", "group"])["estimate"] for s, r in sc_rows.items()}
    pd.testing.assert_series_equal(effects["scaled"], effects["raw"].loc[effects["scaled"].index])
    others = {s: r[~r["method"].str.startswith("Synthetic control")].reset_index(drop=True) for s, r in rows.items()}
    pd.testing.assert_frame_equal(others["scaled"], others["raw"])
    with pytest.raises(ValueError, match="sc_subgroup_statistic"):
        Impact(sc_subgroup_statistic="studentised")
