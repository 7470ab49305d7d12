"""Unbalanced area/practice panels in TWFE, the event study, synthetic control and synthetic DiD:
the caller chooses (error, drop, impute, available), the result reports it, nothing is silent.

The checks are identities: "drop" gives exactly the fit on the hand-made balanced sub-panel,
"available" exactly the fit on the rows given, "impute" exactly the fit on the hand-filled panel
(tolerance 1e-12: same arithmetic on the same numbers).
"""

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.event_study import event_study
from joinedup.impact.synthetic.fit import synth
from joinedup.impact.synthetic.sdid import sdid
from joinedup.impact.twfe import twfe_did
from joinedup.impact.unbalanced import balance_panel


def _panel(n: int = 16, periods: int = 6, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        g = 4 if i < 4 else 0
        a = rng.normal()
        for t in range(1, periods + 1):
            d = int(g and t >= g)
            rows.append({"area_code": f"A{i:02d}", "t": t, "first_treated": g, "treated_post": d,
                         "y": a + 0.2 * t + 1.0 * d + 0.1 * rng.normal()})
    return pd.DataFrame(rows)


def _holes(df: pd.DataFrame) -> pd.DataFrame:
    # a control area closes after period 4, another opens in period 3, a treated one misses period 2
    drop = ((df.area_code == "A10") & (df.t > 4)) | ((df.area_code == "A11") & (df.t < 3)) | \
        ((df.area_code == "A01") & (df.t == 2))
    return df[~drop].reset_index(drop=True)


def test_balance_panel_choices_are_reported():
    df = _holes(_panel())
    with pytest.raises(ValueError, match=r"unit 'A01' has no row for t \[2\] \(3 of 16 units incomplete, "
                                         r"5 unit-periods missing\); choose unbalanced='drop' / 'impute' / 'available'"):
        balance_panel(df, "area_code", "t", "error")
    kept, rep = balance_panel(df, "area_code", "t", "drop")
    assert rep.dropped_units == ("A01", "A10", "A11") and kept.area_code.nunique() == 13
    filled, rep = balance_panel(df, "area_code", "t", "impute", interpolate=["y"])
    assert rep.imputed_cells == 5 and len(filled) == 16 * 6 and filled.imputed.sum() == 5
    a01 = filled[filled.area_code == "A01"].set_index("t").y
    assert a01[2] == pytest.approx((a01[1] + a01[3]) / 2)          # linear within unit
    a10 = filled[filled.area_code == "A10"].set_index("t").y
    assert a10[5] == a10[6] == a10[4]                               # nearest value at the end
    same, rep = balance_panel(df, "area_code", "t", "available")
    assert same is df and rep.incomplete_units == 3
    with pytest.raises(ValueError, match="unbalanced must be one of 'error', 'drop', 'impute' for synth"):
        balance_panel(df, "area_code", "t", "available", allowed=("error", "drop", "impute"), design="synth")


def test_twfe_and_event_study_choices():
    df = _holes(_panel())
    avail = twfe_did(df)
    assert avail.panel_balance["incomplete_units"] == 3 and "rows that exist" in str(avail.summary())
    assert avail.n_obs == len(df)
    dropped = twfe_did(df, unbalanced="drop")
    manual = twfe_did(df[~df.area_code.isin(["A01", "A10", "A11"])])
    assert dropped.estimate == pytest.approx(manual.estimate, abs=1e-12)
    assert dropped.panel_balance["dropped_units"] == ("A01", "A10", "A11")
    imputed = twfe_did(df, unbalanced="impute")
    assert imputed.n_obs == 16 * 6 and imputed.panel_balance["imputed_cells"] == 5
    assert abs(imputed.estimate - 1.0) < 0.3 and abs(avail.estimate - 1.0) < 0.3
    with pytest.raises(ValueError, match="unbalanced panel: unit 'A01'"):
        twfe_did(df, unbalanced="error")
    es = event_study(df, unbalanced="drop")
    es_manual = event_study(df[~df.area_code.isin(["A01", "A10", "A11"])])
    np.testing.assert_allclose(es.table.estimate, es_manual.table.estimate, atol=1e-12)
    assert "dropped 3 incomplete unit(s)" in es.summary()


def test_synthetic_control_refuses_by_default_and_drops_or_imputes_on_request():
    df = _holes(_panel())
    # one treated area for synth: A00 (complete); donors are the never-treated areas
    sc = df[(df.first_treated == 0) | (df.area_code == "A00")]
    with pytest.raises(ValueError, match=r"unbalanced panel: unit 'A10'.*unbalanced='drop' / 'impute' for synth"):
        synth(sc, "area_code", "t", "y", "A00", 4, v="outcome")
    res = synth(sc, "area_code", "t", "y", "A00", 4, v="outcome", unbalanced="drop")
    manual = synth(sc[~sc.area_code.isin(["A10", "A11"])], "area_code", "t", "y", "A00", 4, v="outcome")
    assert res.att == pytest.approx(manual.att, abs=1e-12)
    assert res.details["panel_balance"]["dropped_units"] == ("A10", "A11")
    imp = synth(sc, "area_code", "t", "y", "A00", 4, v="outcome", unbalanced="impute")
    assert set(imp.weights.index) >= {"A10", "A11"} and imp.details["panel_balance"]["imputed_cells"] == 4
    with pytest.raises(ValueError, match="treated unit 'A01' misses periods"):
        synth(df[(df.first_treated == 0) | (df.area_code == "A01")], "area_code", "t", "y", "A01", 4,
              v="outcome", unbalanced="drop")


def test_sdid_choices():
    df = _holes(_panel())
    with pytest.raises(ValueError, match="choose unbalanced='drop' / 'impute' for sdid"):
        sdid(df, "area_code", "t", "y", "treated_post", se=None)
    res = sdid(df, "area_code", "t", "y", "treated_post", se=None, unbalanced="drop")
    manual = sdid(df[~df.area_code.isin(["A01", "A10", "A11"])], "area_code", "t", "y", "treated_post", se=None)
    assert res.estimate == pytest.approx(manual.estimate, abs=1e-12)
    assert res.panel_balance["incomplete_units"] == 3
