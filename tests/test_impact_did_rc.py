"""Repeated cross-sections (``panel=False``), unbalanced panels (``allow_unbalanced_panel=True``) and
factor covariates in ``att_gt``.

References:
- R did (``panel = FALSE``, est_method "reg", mpdta, bstrap=FALSE): the "rc" rows of
  d2cml-ai/csdid ``csdid/test_csdid/r_ref/sim/ref_gaps.csv`` (MIT; generated there by
  ``generate_gaps_reference.R`` with R did), copied below.
- Everything else against the csdid Python port of R did: ``tests/data/did_rc_csdid_ref.csv``,
  written by ``benchmarks/reference/did_rc_csdid_reference.py`` (csdid 0.4.3, drdid 1.1.7, in a
  throwaway venv; not a project dependency), whose docstring gives the command.
- The identity that a balanced panel run through the unbalanced-panel (repeated cross-section)
  estimators gives the panel's ATT(g,t) and standard errors, and hand-computed small cases.

Tolerances and why: ATT 1e-9 absolute and SE 1e-8 relative. The estimators are closed forms or a
logit fitted to convergence; we agree with R and csdid to 1e-12 and better (measured: ATT <= 4e-13,
SE <= 7e-12 relative), so the margin only absorbs BLAS rounding on other machines.
"""

import io
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.impact import att_gt
from joinedup.impact.did._rc import compute_att_gt_rc, prepare_rc

EXT = Path("/work/shared/data/external")
DATA = Path(__file__).parent / "data"
KEYS = dict(yname="lemp", tname="year", idname="countyreal", gname="first.treat")
ATOL, SE_RTOL = 1e-9, 1e-8

R_RC_REG = pd.read_csv(io.StringIO("""group,t,att,se
2004,2004,-0.01050324622096,0.47582945030214
2004,2005,-0.0704231581031465,0.482269906979339
2004,2006,-0.137258738889401,0.485621314713214
2004,2007,-0.100811363085402,0.478954513830165
2006,2004,0.00652011242423534,0.304105163449574
2006,2005,-0.00275081875052052,0.306865431333563
2006,2006,-0.00459460695286218,0.311269143691874
2006,2007,-0.041224471546216,0.312469760364997
2007,2004,0.0305066555832951,0.221894496894749
2007,2005,-0.0027258928861178,0.223304583334933
2007,2006,-0.0310871193896878,0.223643361692188
2007,2007,-0.0260544107191967,0.223221502794244
"""))


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(EXT / "mpdta.csv")


def derived(mpdta: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The same data sets as benchmarks/reference/did_rc_csdid_reference.py builds."""
    drop = ((mpdta["countyreal"] * 7 + mpdta["year"]) % 11 == 0).to_numpy()
    return {"rc": mpdta, "unb": mpdta.loc[~drop].reset_index(drop=True),
            "fac": mpdta.assign(region=np.array(["north", "east", "south", "west"])[mpdta["countyreal"] % 4])}


SCENARIOS = [
    ("rc_dr", "rc", dict(panel=False), "dr"),
    ("rc_ipw", "rc", dict(panel=False), "ipw"),
    ("rc_reg", "rc", dict(panel=False), "reg"),
    ("rc_dr_lpop", "rc", dict(panel=False, xformla="~ lpop"), "dr"),
    ("rc_ipw_lpop", "rc", dict(panel=False, xformla="~ lpop"), "ipw"),
    ("rc_reg_lpop", "rc", dict(panel=False, xformla="~ lpop"), "reg"),
    ("rc_nyt_dr", "rc", dict(panel=False, control_group="notyettreated"), "dr"),
    ("unb_dr", "unb", dict(allow_unbalanced_panel=True), "dr"),
    ("unb_nyt_reg", "unb", dict(allow_unbalanced_panel=True, control_group="notyettreated"), "reg"),
    ("unb_dr_lpop", "unb", dict(allow_unbalanced_panel=True, xformla="~ lpop"), "dr"),
    ("fac_reg", "fac", dict(xformla="~ region"), "reg"),
    ("fac_dr", "fac", dict(xformla="~ region + lpop"), "dr"),
]


def assert_cells(res, ref: pd.DataFrame) -> None:
    tab = res.tidy().merge(ref, on=["group", "t"], suffixes=("", "_ref"), how="outer", indicator=True)
    assert (tab["_merge"] == "both").all(), tab[tab["_merge"] != "both"]
    np.testing.assert_allclose(tab["att"], tab["att_ref"], atol=ATOL, rtol=0)
    np.testing.assert_allclose(tab["se"], tab["se_ref"], rtol=SE_RTOL, atol=0)


def test_repeated_cross_sections_match_r(mpdta):
    res = att_gt(mpdta, **KEYS, panel=False, est_method="reg", bstrap=False, cband=False)
    assert_cells(res, R_RC_REG)
    assert res.n == len(mpdta) and res.design["data"] == "repeated cross-sections"


@pytest.mark.parametrize("name,key,extra,method", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_against_csdid(mpdta, name, key, extra, method):
    ref = pd.read_csv(DATA / "did_rc_csdid_ref.csv")
    ref = ref[ref.scenario == name].drop(columns="scenario")
    assert len(ref) == 12
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # mpdta's small cohorts warn, in R too
        res = att_gt(derived(mpdta)[key], **KEYS, est_method=method, bstrap=False, cband=False, **extra)
    assert_cells(res, ref)


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
@pytest.mark.parametrize("control", ["nevertreated", "notyettreated"])
def test_balanced_panel_through_unbalanced_estimators_is_the_panel(mpdta, method, control):
    """R's unbalanced-panel branch on a balanced panel: same ATT(g,t) and SEs as the panel estimators."""
    panel = att_gt(mpdta, **KEYS, est_method=method, control_group=control, bstrap=False)
    rc = prepare_rc(mpdta, *KEYS.values(), control_group=control)
    est = compute_att_gt_rc(rc, control, 0, "varying", method)
    se = np.sqrt((est.inffunc ** 2).sum(axis=0)) / len(rc.ids)
    np.testing.assert_allclose(est.att, panel.att, atol=ATOL, rtol=0)
    np.testing.assert_allclose(se, panel.se, rtol=SE_RTOL)


def test_balanced_panel_with_the_flag_keeps_the_panel_estimators(mpdta):
    a = att_gt(mpdta, **KEYS, bstrap=False)
    b = att_gt(mpdta, **KEYS, bstrap=False, allow_unbalanced_panel=True)
    np.testing.assert_array_equal(a.att, b.att)
    assert b.design["data"] == "balanced panel" and b.design["unbalanced_units"] == 0


def test_unbalanced_panel_is_reported_and_refused_without_the_flag(mpdta):
    unb = derived(mpdta)["unb"]
    with pytest.raises(ValueError, match=r"unbalanced.*allow_unbalanced_panel=True"):
        att_gt(unb, **KEYS, bstrap=False)
    res = att_gt(unb, **KEYS, bstrap=False, allow_unbalanced_panel=True)
    per_unit = unb.groupby("countyreal").year.nunique()
    assert res.design["unbalanced_units"] == int((per_unit < 5).sum()) > 0
    assert res.design["units"] == 500 and res.design["rows"] == len(unb)
    assert "clustered on the unit" in res.summary()


def _two_period_rc(effect: float = 2.0) -> pd.DataFrame:
    # treated: 1, 2 (pre) and 6, 7 (post); controls: 0, 1, 2 (pre) and 1, 2, 3 (post)
    y = [1, 2, 6, 7, 0, 1, 2, 1, 2, 3]
    return pd.DataFrame({"t": [1, 1, 2, 2, 1, 1, 1, 2, 2, 2], "g": [2] * 4 + [0] * 6, "y": np.array(y, float)})


@pytest.mark.parametrize("method", ["dr", "ipw", "reg"])
def test_two_period_cross_section_by_hand(method):
    df = _two_period_rc()
    res = att_gt(df, "y", "t", None, "g", panel=False, est_method=method, bstrap=False)
    # (6.5 - 1.5) - (2 - 1) = 4, whatever the estimator without covariates
    assert res.att.tolist() == pytest.approx([4.0], abs=1e-12)
    # influence function by hand: n / n_cell * (y - cell mean) / share of the cell, per row
    y, t, d = df.y.to_numpy(), df.t.to_numpy(), df.g.to_numpy() > 0
    inf = np.zeros(len(df))
    for grp, sign in ((d & (t == 2), 1), (d & (t == 1), -1), (~d & (t == 2), -1), (~d & (t == 1), 1)):
        inf[grp] = sign * (y[grp] - y[grp].mean()) / grp.mean()
    assert res.se[0] == pytest.approx(np.sqrt((inf ** 2).sum()) / len(df), rel=1e-12)


def test_repeated_cross_sections_need_both_periods_of_both_groups():
    df = _two_period_rc()
    df = df[~((df.g == 2) & (df.t == 1))]
    with pytest.warns(UserWarning, match=r"No treated units in the base period for \(g, t\) = \(2, 2\)"):
        res = att_gt(df, "y", "t", None, "g", panel=False, bstrap=False)
    assert np.isnan(res.att).all()


def test_cross_section_recovers_a_programmed_effect_and_bootstrap_aggregates():
    rng = np.random.default_rng(7)
    n = 3000
    t = rng.integers(1, 5, n)
    g = rng.choice([0, 3, 4], n)
    x = rng.normal(size=n)
    y = 1 + 0.5 * t + x + 0.3 * (g == 3) + 2.0 * ((g > 0) & (t >= g)) + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "t": t, "g": g, "x": x, "region": rng.choice(["a", "b", "c"], n)})
    res = att_gt(df, "y", "t", None, "g", xformla="~ x + region", panel=False, seed=3, biters=499)
    post = res.tidy().query("post")
    assert ((post.lower < 2.0) & (post.upper > 2.0)).mean() >= 0.6
    assert np.abs(post.att - 2.0).max() < 0.5
    agg = res.aggregate("dynamic")
    assert agg.overall_ci[0] < 2.0 < agg.overall_ci[1]
    # bootstrap SEs are the analytic ones up to Monte Carlo error
    ana = att_gt(df, "y", "t", None, "g", xformla="~ x + region", panel=False, bstrap=False)
    np.testing.assert_allclose(res.se, ana.se, rtol=0.2)
    # no effect before treatment: the pre-test does not reject at 1%
    assert res.Wpval is None or res.Wpval > 0.01
