"""Covariate formulas in ``att_gt``: factors with R's treatment coding, ``C(x)``, interactions and
simple transforms, and what is refused.

The references here are identities that must hold exactly when the coding follows R's
``model.matrix``: a text column gives the same ATT(g,t) as the hand-made treatment-coded dummy
columns (first level sorted as R sorts, the reference), ``C(k)`` of a numeric code the same as its
text labels, ``I(x**2)`` / ``np.log(x)`` the same as precomputed columns. (The R and csdid factor
references on mpdta are in tests/test_impact_did_rc.py.) Tolerance: 1e-12 absolute on ATT and
relative on SE: the same numbers go through the same arithmetic, only column order differs.
"""

import numpy as np
import pandas as pd
import pytest

from joinedup.impact import att_gt
from joinedup.impact.did._formula import build_design, cell_columns

SMALL = dict(yname="y", tname="t", idname="id", gname="g", bstrap=False)


def _panel(n: int = 240, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    g = rng.choice([0, 3, 4], n)
    region = rng.choice(["north", "east", "south"], n)
    x = rng.uniform(0.5, 3, n)
    rows = []
    for t in range(1, 6):
        y = x + (region == "east") * 0.5 * t + 1.5 * ((g > 0) & (t >= g)) + rng.normal(size=n)
        rows.append(pd.DataFrame({"id": ids, "t": t, "g": g, "y": y, "region": region, "x": x,
                                  "code": pd.Series(region).map({"east": 1, "north": 2, "south": 3})}))
    return pd.concat(rows, ignore_index=True)


def _same(a, b):
    np.testing.assert_allclose(a.att, b.att, atol=1e-12, rtol=0)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-12)


@pytest.mark.parametrize("method", ["dr", "reg", "ipw"])
def test_text_column_is_a_treatment_coded_factor(method):
    df = _panel()
    res = att_gt(df, **SMALL, xformla="~ region + x", est_method=method)
    # R: levels sorted (east < north < south), the first is the reference
    manual = df.assign(north=(df.region == "north") * 1.0, south=(df.region == "south") * 1.0)
    _same(res, att_gt(manual, **SMALL, xformla="~ north + south + x", est_method=method))
    assert res.att[np.isfinite(res.att)].size == len(res.att)


def test_c_of_a_numeric_code_and_categorical_order():
    df = _panel()
    _same(att_gt(df, **SMALL, xformla="~ C(code)"), att_gt(df, **SMALL, xformla="~ region"))
    # a pandas categorical keeps its own level order (as an R factor): "south" as reference
    cat = df.assign(region=pd.Categorical(df.region, categories=["south", "east", "north"]))
    d = build_design(cat, "~ region")
    assert d.names == ("(Intercept)", "region[T.east]", "region[T.north]")
    # the fit spans the same column space, so the ATT(g,t) are the same as with "east" as reference
    _same(att_gt(cat, **SMALL, xformla="~ region"), att_gt(df, **SMALL, xformla="~ region"))


def test_transforms_and_interactions():
    df = _panel().assign(x2=lambda d: d.x ** 2, lx=lambda d: np.log(d.x))
    _same(att_gt(df, **SMALL, xformla="~ I(x**2) + np.log(x)"), att_gt(df, **SMALL, xformla="~ x2 + lx"))
    inter = df.assign(xn=df.x * (df.region == "north"), xs=df.x * (df.region == "south"),
                      north=(df.region == "north") * 1.0, south=(df.region == "south") * 1.0)
    _same(att_gt(df, **SMALL, xformla="~ region * x", est_method="reg"),
          att_gt(inter, **SMALL, xformla="~ north + south + x + xn + xs", est_method="reg"))


def test_refused_by_name():
    df = _panel()
    with pytest.raises(ValueError, match=r"function 'scale' is not supported.*C\(\), I\(\), np\.log\(\)"):
        att_gt(df, **SMALL, xformla="~ scale(x)")
    with pytest.raises(ValueError, match=r"function '__import__' is not supported"):
        att_gt(df, **SMALL, xformla="~ __import__('os')")
    with pytest.raises(ValueError, match="intercept cannot be removed"):
        att_gt(df, **SMALL, xformla="~ x - 1")
    with pytest.raises(ValueError, match=r"xformla \(nope\): column 'nope' is not in the data"):
        att_gt(df, **SMALL, xformla="~ region + nope")
    with pytest.raises(ValueError, match=r"non-finite value .* at id"):
        att_gt(df.assign(x=df.x - 1), **SMALL, xformla="~ np.log(x)")
    with pytest.raises(ValueError, match=r"xformla \(when\): .*datetime"):
        att_gt(df.assign(when=pd.Timestamp("2020-01-01")), **SMALL, xformla="~ when")


def test_level_absent_from_a_cell_is_dropped_as_r_droplevels():
    """A level seen only among units outside a cell must not make that cell singular (R drops it)."""
    df = _panel()
    # "west" only among cohort-4 units: absent from every cell of cohort 3 with never-treated controls
    west = df.id.isin(df[df.g == 4].id.unique()[:10])
    df.loc[west, "region"] = "west"
    with pytest.warns(UserWarning, match=r"control units is singular.*\(g, t\) = \(4, "):
        res = att_gt(df, **SMALL, xformla="~ region", est_method="reg")
    # cohort 4 has "west" among its treated but no west control: R's regression check makes it NA
    assert np.isfinite(res.att[res.group == 3]).all() and np.isnan(res.att[res.group == 4]).all()
    # cohort 3's cells equal a fit without the west dummy
    manual = df.assign(north=(df.region == "north") * 1.0, south=(df.region == "south") * 1.0)
    ref = att_gt(manual, **SMALL, xformla="~ north + south", est_method="reg")
    g3 = res.group == 3
    np.testing.assert_allclose(res.att[g3], ref.att[g3], atol=1e-12)


def test_cell_columns_moves_the_reference_when_it_is_absent():
    df = pd.DataFrame({"r": ["a", "b", "c", "b"]})
    d = build_design(df, "~ r")
    keep = cell_columns(d.matrix[[1, 2, 3]], d.factor_groups, d.level_cols)   # no "a" in the cell
    assert keep.tolist() == [0, 2]          # intercept and r[T.c]: "b" became the reference
    assert cell_columns(d.matrix, d.factor_groups, d.level_cols) is None


def test_time_varying_covariates_are_reported_with_the_base_period_used():
    df = _panel()
    df["x"] = df.x + 0.1 * df.t            # now varies over time within every unit
    with pytest.warns(UserWarning, match=r"Covariate\(s\) x vary over time for 240 unit\(s\).*base period"):
        res = att_gt(df, **SMALL, xformla="~ x", base_period="universal")
    assert "base_period='universal'" in res.design["covariates"]
    # the base period's values are what is used: shifting x in non-base periods changes nothing
    # for a cell whose base is period 2 (cohort 3, t = 4, universal base 2)
    shifted = df.copy()
    shifted.loc[shifted.t == 4, "x"] += 5.0
    with pytest.warns(UserWarning):
        res2 = att_gt(shifted, **SMALL, xformla="~ x", base_period="universal")
    cell = (res.group == 3) & (res.t == 4)
    np.testing.assert_allclose(res.att[cell], res2.att[cell], atol=1e-12)
