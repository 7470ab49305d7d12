"""Callaway & Sant'Anna ATT(g,t) (joinedup.impact.did) against R ``did`` 2.5.0 reference output.

Tolerances and why:
- mpdta (never-treated; dr and ipw, no covariates): ATT(g,t) and all four aggregations to 1e-9
  absolute, standard errors to 1e-8 relative. Without covariates every step has a closed form
  (propensity score = share treated, regression = a mean), so only rounding separates us from R
  (measured: 2e-16 on ATTs, 4e-15 relative on SEs). The brief's bar is 1e-6 and 1%.
- Wald pre-test of parallel trends, mpdta dr: R reports W = 7.79123662720035, p = 0.16812.
- Plausibility of the other options (universal base period, anticipation, not-yet-treated, reg)
  against identities that must hold exactly; R reference values for not-yet-treated and reg with
  a covariate are in test_impact_did_rref.py, cross-checks against csdid in
  test_impact_did_crosscheck.py, the bootstrap and a known truth in test_impact_did_boot.py.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.impact import AggteResult, AttGtResult, att_gt
from joinedup.report.charts import Figure

EXT = Path(__file__).resolve().parent / "data" / "external"
KEYS = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat")
KINDS = ["simple", "group", "dynamic", "calendar"]


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(EXT / "mpdta.csv")


@pytest.fixture(scope="module")
def ref_attgt() -> pd.DataFrame:
    return pd.read_csv(EXT / "did_r250_ref_attgt.csv")


@pytest.fixture(scope="module")
def ref_aggte() -> pd.DataFrame:
    return pd.read_csv(EXT / "did_r250_ref_aggte.csv")


@pytest.fixture(scope="module")
def fits(mpdta) -> dict[str, AttGtResult]:
    return {m: att_gt(mpdta, **KEYS, est_method=m, bstrap=False, cband=False) for m in ("dr", "ipw")}


def assert_matches_r(res: AttGtResult, ref_attgt: pd.DataFrame, ref_aggte: pd.DataFrame, scenario: str,
                     att_tol: float = 1e-9, se_rtol: float = 1e-8) -> None:
    """ATT(g,t), SEs and every aggregation of ``res`` against one R scenario."""
    want = ref_attgt[ref_attgt.scenario == scenario]
    assert len(want) > 0
    got = res.tidy()
    assert got["group"].tolist() == want["group"].tolist()
    assert got["t"].tolist() == want["t"].tolist()
    np.testing.assert_allclose(got["att"], want["att"], rtol=0, atol=att_tol)
    np.testing.assert_allclose(got["se"], want["se"], rtol=se_rtol)
    for kind in KINDS:
        agg = res.aggregate(kind, cband=False)
        ra = ref_aggte[(ref_aggte.scenario == scenario) & (ref_aggte.type == kind)]
        assert agg.overall_att == pytest.approx(ra.overall_att.iloc[0], abs=att_tol)
        assert agg.overall_se == pytest.approx(ra.overall_se.iloc[0], rel=se_rtol)
        if kind != "simple":
            np.testing.assert_array_equal(agg.egt, ra.egt.to_numpy(dtype=float))
            np.testing.assert_allclose(agg.att_egt, ra.att_egt, rtol=0, atol=att_tol)
            np.testing.assert_allclose(agg.se_egt, ra.se_egt, rtol=se_rtol)


@pytest.mark.parametrize("method", ["dr", "ipw"])
def test_mpdta_never_treated_matches_r(fits, ref_attgt, ref_aggte, method):
    assert_matches_r(fits[method], ref_attgt, ref_aggte, f"mpdta_nev_{method}")


def test_wald_pretest_matches_r(fits):
    assert fits["dr"].W == pytest.approx(7.79123662720035, rel=1e-10)
    assert round(fits["dr"].Wpval, 5) == 0.16812


def test_scenarios_in_reference_files(ref_attgt):
    # the reference files hold mpdta (dr, ipw) and R's simulated panel, whose data (sim_data.csv)
    # is not in tests/data/external, so only the mpdta scenarios are compared
    assert set(ref_attgt.scenario) == {"mpdta_nev_dr", "mpdta_nev_ipw", "sim_nev_dr"}


def test_tidy_columns_and_pointwise_band(fits):
    tab = fits["dr"].tidy()
    assert list(tab.columns) == ["group", "t", "att", "se", "lower", "upper", "post"]
    assert len(tab) == 12 and tab["group"].dtype.kind == "i"
    np.testing.assert_allclose(tab["upper"] - tab["att"], 1.959963984540054 * tab["se"])
    assert tab["post"].tolist() == [True] * 4 + [False, False, True, True] + [False] * 3 + [True]
    assert fits["dr"].inffunc.shape == (500, 12)


def test_summary_is_readable_text(fits):
    text = fits["dr"].summary()
    assert isinstance(text, str) and "pre-test of parallel trends: 0.1681" in text
    assert "2004" in text and "pointwise" in text and "<table" in text._repr_html_()
    agg = fits["dr"].aggregate("dynamic", cband=False).summary()
    assert "-0.0772" in agg and "event time" in agg


def test_plots_are_accessible_figures(fits):
    fig = fits["dr"].plot()
    assert isinstance(fig, Figure) and fig.svg.startswith("<svg")
    assert "lemp" in fig.title and "3 groups" in fig.alt_text
    es = fits["dr"].aggregate("dynamic", cband=False).plot()
    assert isinstance(es, Figure) and "Event study" in es.title
    assert "event time from -3 to 3" in es.alt_text and "before treatment, 3 estimate(s)" in es.alt_text
    assert set(es.data.columns) >= {"event time", "att", "lower", "upper"}
    with pytest.raises(ValueError, match="single number"):
        fits["dr"].aggregate("simple").plot()


def test_aggregate_result_tidy(fits):
    agg = fits["dr"].aggregate("group", cband=False)
    assert isinstance(agg, AggteResult)
    assert list(agg.tidy().columns) == ["egt", "att", "se", "lower", "upper"]
    simple = fits["dr"].aggregate("simple").tidy()
    assert len(simple) == 1 and np.isnan(simple["egt"].iloc[0])


def test_dynamic_window_and_balance(fits):
    res = fits["dr"]
    win = res.aggregate("dynamic", min_e=-1, max_e=2, cband=False)
    assert win.egt.tolist() == [-1, 0, 1, 2]
    full = res.aggregate("dynamic", cband=False)
    np.testing.assert_allclose(win.att_egt, full.att_egt[2:6])
    # balance_e=1 keeps only groups observed at least 1 period after treatment: 2004 and 2006
    bal = res.aggregate("dynamic", balance_e=1, cband=False)
    assert bal.egt.tolist() == [-2, -1, 0, 1]
    tab = res.tidy()
    e0 = tab[(tab.t == tab.group) & tab.group.isin([2004, 2006])]
    sizes = {2004: 20, 2006: 40}
    want = sum(e0.att.values * [sizes[g] for g in e0.group]) / 60
    assert bal.att_egt[2] == pytest.approx(want, abs=1e-12)


def test_universal_base_period(mpdta, fits):
    res = att_gt(mpdta, **KEYS, base_period="universal", bstrap=False)
    tab = res.tidy()
    # one row per group and every period; the base period g-1 is 0 with no SE
    assert len(tab) == 15
    base = tab[tab.t == tab.group - 1]
    assert (base.att == 0).all() and base.se.isna().all()
    # post-treatment cells compare with g-1 under both base periods
    post = tab[tab.post].reset_index(drop=True)
    vary = fits["dr"].tidy()
    np.testing.assert_allclose(post.att, vary[vary.post].att, atol=1e-14)
    # universal pre-period cells are cumulative sums of the varying ones (long differences)
    g7 = tab[tab.group == 2007].set_index("t").att
    v7 = vary[vary.group == 2007].set_index("t").att
    assert g7[2005] == pytest.approx(-v7[2006], abs=1e-12)
    assert g7[2004] == pytest.approx(-(v7[2005] + v7[2006]), abs=1e-12)


def test_anticipation_shifts_the_base_period(mpdta):
    with pytest.warns(UserWarning, match="already treated in the first period"):
        res = att_gt(mpdta, **KEYS, anticipation=1, bstrap=False)
    tab = res.tidy()
    assert sorted(tab.group.unique()) == [2006, 2007]           # 2004 is treated from 2003 + 1
    # (2007, 2007) now compares 2007 with 2005, the sum of two one-period changes
    y = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first.treat"].first()
    d = (y[2007] - y[2005])
    want = d[g == 2007].mean() - d[g == 0].mean()
    assert tab[(tab.group == 2007) & (tab.t == 2007)].att.iloc[0] == pytest.approx(want, abs=1e-12)


def test_reg_equals_dr_without_covariates(mpdta, fits):
    reg = att_gt(mpdta, **KEYS, est_method="reg", bstrap=False)
    np.testing.assert_allclose(reg.att, fits["dr"].att, atol=1e-14)
    np.testing.assert_allclose(reg.se, fits["dr"].se, rtol=1e-12)


def test_not_yet_treated_uses_later_cohorts(mpdta):
    res = att_gt(mpdta, **KEYS, control_group="notyettreated", bstrap=False)
    y = mpdta.pivot(index="countyreal", columns="year", values="lemp")
    g = mpdta.groupby("countyreal")["first.treat"].first()
    d = y[2005] - y[2003]
    ctrl = (g == 0) | (g > 2005)
    want = d[g == 2004].mean() - d[ctrl].mean()
    got = res.tidy().set_index(["group", "t"]).att[(2004, 2005)]
    assert got == pytest.approx(want, abs=1e-12)


def test_weights_of_one_change_nothing(mpdta, fits):
    df = mpdta.assign(w=2.5)
    res = att_gt(df, **KEYS, weightsname="w", bstrap=False)
    np.testing.assert_allclose(res.att, fits["dr"].att, atol=1e-14)
    np.testing.assert_allclose(res.se, fits["dr"].se, rtol=1e-12)


def test_row_order_does_not_matter(mpdta, fits):
    shuffled = mpdta.sample(frac=1, random_state=3)
    res = att_gt(shuffled, **KEYS, bstrap=False)
    np.testing.assert_allclose(res.att, fits["dr"].att, atol=1e-14)


def test_clustered_analytic_se_with_unit_clusters_equals_unclustered(mpdta, fits):
    res = att_gt(mpdta.assign(cl=mpdta.countyreal), **KEYS, clustervars="cl", bstrap=False)
    np.testing.assert_allclose(res.se, fits["dr"].se, rtol=1e-12)
    coarse = att_gt(mpdta.assign(cl=mpdta.countyreal // 1000), **KEYS, clustervars="cl", bstrap=False)
    assert not np.allclose(coarse.se, fits["dr"].se)


def test_lazy_export():
    import joinedup.impact as impact
    from joinedup.impact import did

    assert impact.att_gt is did.att_gt


# --- bad input -----------------------------------------------------------------------------------


def _small() -> pd.DataFrame:
    rows = []
    for i in range(1, 31):
        g = [0, 3, 4][i % 3]
        for t in range(1, 6):
            rows.append({"id": i, "t": t, "g": g, "y": 0.1 * i + t + (1.0 if g and t >= g else 0.0), "x": i % 5})
    return pd.DataFrame(rows)


SMALL = dict(yname="y", tname="t", idname="id", gname="g", bstrap=False)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="'nope' is not in the data"):
        att_gt(_small(), **{**SMALL, "yname": "nope"})
    with pytest.raises(ValueError, match=r"xformla \(z\)"):
        att_gt(_small(), **SMALL, xformla="~ z")


def test_unbalanced_panel_names_the_unit():
    df = _small()
    df = df.drop(df[(df.id == 7) & (df.t == 3)].index)
    with pytest.raises(ValueError, match=r"unbalanced: id 7 has no row for t 3.*allow_unbalanced_panel=True"):
        att_gt(df, **SMALL)


def test_duplicate_rows_name_the_unit():
    df = pd.concat([_small(), _small().iloc[[11]]])
    with pytest.raises(ValueError, match=r"id 3 appears more than once in t 2"):
        att_gt(df, **SMALL)


def test_group_not_constant_within_unit():
    df = _small()
    df.loc[(df.id == 5) & (df.t == 2), "g"] = 3
    with pytest.raises(ValueError, match=r"column 'g' varies over time for id 5"):
        att_gt(df, **SMALL)


def test_no_never_treated_units():
    df = _small()
    df = df[df.g != 0]
    with pytest.raises(ValueError, match=r"gname: no never-treated units .*'g'.* e\.g\. id \d+"):
        att_gt(df, **SMALL)
    # not-yet-treated controls still work (as R: the last cohort serves only as control)
    res = att_gt(df, **SMALL, control_group="notyettreated")
    assert res.tidy().group.unique().tolist() == [3]


def test_non_numeric_time():
    df = _small()
    df["t"] = "p" + df["t"].astype(str)
    with pytest.raises(ValueError, match=r"tname: column 't' must be numeric.*'p1' for id 1"):
        att_gt(df, **SMALL)


def test_missing_values_are_refused():
    df = _small()
    df.loc[(df.id == 9) & (df.t == 4), "y"] = np.nan
    with pytest.raises(ValueError, match=r"column 'y' has 1 missing value\(s\), e\.g\. at id 9"):
        att_gt(df, **SMALL)


def test_bad_options_list_allowed_values():
    with pytest.raises(ValueError, match="control_group must be one of 'nevertreated', 'notyettreated'"):
        att_gt(_small(), **SMALL, control_group="never")
    with pytest.raises(ValueError, match="est_method must be one of"):
        att_gt(_small(), **SMALL, est_method="ols")
    with pytest.raises(ValueError, match="base_period must be one of"):
        att_gt(_small(), **SMALL, base_period="fixed")
    with pytest.raises(ValueError, match="anticipation"):
        att_gt(_small(), **SMALL, anticipation=-1)
    with pytest.raises(ValueError, match="xformla: function 'scale' is not supported"):
        att_gt(_small(), **SMALL, xformla="~ scale(x)")
    res = att_gt(_small(), **SMALL)
    with pytest.raises(ValueError, match="kind must be one of"):
        res.aggregate("event")


def test_time_varying_weights_and_clusters_refused():
    df = _small().assign(w=lambda d: 1.0 + (d.t == 2), cl=lambda d: d.id % 4 + (d.t == 5))
    with pytest.raises(ValueError, match=r"column 'w' varies over time for id 1"):
        att_gt(df, **SMALL, weightsname="w")
    with pytest.raises(ValueError, match=r"column 'cl' varies over time for id 1"):
        att_gt(df, **SMALL, clustervars="cl")


def test_missing_att_needs_na_rm():
    df = _small()
    # the covariate separates cohort 3 from the never treated perfectly (x = 1 against x < 0.5)
    df["x"] = np.where(df.g == 3, 1.0, (df.id % 7) / 14)
    with pytest.warns(UserWarning, match="overlap condition violated"):
        res = att_gt(df, **SMALL, xformla="~ x")
    tab = res.tidy()
    assert tab[tab.group == 3].att.isna().all() and tab[tab.group == 4].att.notna().all()
    with pytest.raises(ValueError, match="set na_rm=True"):
        res.aggregate("group")
    agg = res.aggregate("group", na_rm=True, cband=False)
    assert agg.egt.tolist() == [4]


def test_formula_must_be_one_sided():
    with pytest.raises(ValueError, match="xformla must be a one-sided formula"):
        att_gt(_small(), **SMALL, xformla="y ~ x")


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["nevertreated", "notyettreated"])
def test_fast_intercept_only_path_equals_general_estimators(mpdta, method, control):
    """The blocked closed forms (_fast) against the DRDID estimators cell by cell, with weights."""
    from dataclasses import replace

    from joinedup.impact.did._attgt import compute_att_gt
    from joinedup.impact.did._prep import prepare_panel

    df = mpdta.assign(w=1 + (mpdta.countyreal % 7) / 3)
    panel = prepare_panel(df, "lemp", "year", "countyreal", "first.treat", weightsname="w",
                          control_group=control)
    fast = compute_att_gt(panel, control, 0, "varying", method)
    ones = replace(panel, x=np.ones((*panel.y.shape, 1)))
    slow = compute_att_gt(ones, control, 0, "varying", method)
    np.testing.assert_allclose(fast.att, slow.att, rtol=0, atol=1e-13)
    np.testing.assert_allclose(fast.inffunc, slow.inffunc, rtol=1e-9, atol=1e-12)
