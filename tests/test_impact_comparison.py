"""Comparison-area matching and balance.

Balance statistics are checked exactly against their textbook formulas (pooled SD of the unmatched
groups as the SMD denominator; unbiased weighted variances), matching on hand-made frames whose
nearest neighbours are unambiguous, and on the simulated small England the mean absolute SMD of the
five baseline covariates must fall after matching.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.comparison import COVARIATES, area_balance, area_covariates, balance_plot, match_areas


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "area_code": ["T1", "T2", "C1", "C2", "C3", "C4", "C5"],
        "treated": [True, True, False, False, False, False, False],
        "x": [1.0, 5.0, 1.1, 4.8, 9.0, 9.5, 0.0],
        "z": [0.0, 1.0, 0.1, 0.9, 3.0, 2.0, 0.5],
        "vanguard": [False, False, True, False, False, False, False],
    })


def test_balance_formulas(frame):
    tab = area_balance(frame, "treated", ["x"], weights=np.array([1, 1, 1, 1, 0, 0, 0.0]))
    x, t = frame["x"], frame["treated"]
    pooled = np.sqrt((x[t].var() + x[~t].var()) / 2)
    row = tab.iloc[0]
    assert row["smd_before"] == pytest.approx((x[t].mean() - x[~t].mean()) / pooled)
    assert row["smd_after"] == pytest.approx((3.0 - 2.95) / pooled)      # same denominator after
    assert row["var_ratio_before"] == pytest.approx(x[t].var() / x[~t].var())
    assert row["var_ratio_after"] == pytest.approx(x[t].var() / pd.Series([1.1, 4.8]).var())
    assert "pooled SD" in row["smd_denominator"] and "pooled SD" in tab.attrs["smd_denominator"]
    treated_sd = area_balance(frame, "treated", ["x"], sd_denominator="treated")
    assert treated_sd.loc[0, "sd_used"] == pytest.approx(x[t].std())


def test_nearest_and_mahalanobis_pick_obvious_neighbours(frame):
    for method in ("nearest", "mahalanobis"):
        m = match_areas(frame, "treated", ["x", "z"], method=method)
        assert dict(zip(m.pairs.treated_area, m.pairs.control_area)) == {"T1": "C1", "T2": "C2"}, method
        w = m.weights()
        assert w[["T1", "T2", "C1", "C2"]].tolist() == [1, 1, 1, 1] and w[["C3", "C4", "C5"]].sum() == 0
    two = match_areas(frame, "treated", ["x", "z"], n_controls=2, method="mahalanobis")
    assert len(two.pairs) == 4 and two.pairs["control_area"].is_unique
    assert two.weights()[two.pairs.control_area].sum() == pytest.approx(4)
    barred = match_areas(frame, "treated", ["x", "z"], method="mahalanobis", exclude="vanguard")
    assert "C1" not in set(barred.pairs.control_area) and "C1" not in set(barred.areas.area_code)
    codes = match_areas(frame, ["T1"], ["x", "z"], method="mahalanobis")
    assert codes.pairs.values[:, :2].tolist() == [["T1", "C1"]]


def test_replacement_and_caliper():
    f = pd.DataFrame({"area_code": ["T1", "T2", "C1", "C2"], "treated": [True, True, False, False],
                      "x": [1.0, 1.05, 1.02, 9.0]})
    without = match_areas(f, "treated", ["x"], method="mahalanobis")
    assert sorted(without.pairs.control_area) == ["C1", "C2"]
    with_repl = match_areas(f, "treated", ["x"], method="mahalanobis", replace=True)
    assert with_repl.pairs.control_area.tolist() == ["C1", "C1"]
    assert with_repl.weights()["C1"] == pytest.approx(1.0)  # 1/1 + 1/1, scaled to one control used
    tight = match_areas(f, "treated", ["x"], method="mahalanobis", caliper=1.0)
    assert tight.unmatched == ("T2",) and tight.weights()["T2"] == 0


def test_errors(frame):
    with pytest.raises(ValueError, match=r"covariate\(s\) \['age'\]"):
        match_areas(frame, "treated", ["age"])
    with pytest.raises(ValueError, match="no treated areas"):
        match_areas(frame.assign(treated=False), "treated", ["x"])
    with pytest.raises(ValueError, match="no control areas left"):
        match_areas(frame, "treated", ["x"], exclude=["C1", "C2", "C3", "C4", "C5"])
    with pytest.raises(ValueError, match="only 5 are available"):
        match_areas(frame, "treated", ["x"], n_controls=3)
    with pytest.raises(ValueError, match="method must be one of"):
        match_areas(frame, "treated", ["x"], method="optimal")
    with pytest.raises(ValueError, match="treated and control"):
        area_balance(frame.assign(treated=True), "treated", ["x"])
    with pytest.raises(ValueError, match=r"\['nope'\]"):
        area_balance(frame, "treated", ["nope"])


def test_small_england_balance_improves(small_england):
    from joinedup.data import open_dataset
    from joinedup.impact.panel import area_panel
    from joinedup.impact.twfe import twfe_did
    from joinedup.indicators import compute_indicators

    ds = open_dataset(small_england)
    table = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    panel = area_panel(table, ds, "emergency_admissions")
    wave1 = panel[panel["wave"] != 2]
    covs = area_covariates(ds, wave1)
    assert set(COVARIATES) <= set(covs.columns) and covs["area_code"].is_unique
    assert covs["share_85plus"].lt(covs["share_65plus"]).all()
    for method in ("nearest", "mahalanobis"):
        m = match_areas(covs, "treated", COVARIATES, method=method)
        bal = m.balance()
        before, after = bal["smd_before"].abs(), bal["smd_after"].abs()
        assert after.mean() < before.mean(), (method, bal)
        assert after.max() < before.max(), (method, bal)
    fig = balance_plot(bal)
    assert fig.svg.startswith("<svg") and "standardised mean differences" in fig.alt_text and fig.title
    matched = m.matched_panel(wave1)
    assert matched["area_code"].nunique() == 2 * covs["treated"].sum()
    assert np.isfinite(twfe_did(matched, weights="weight").estimate)
    # a panel works directly too: baseline level and trend are computed from its pre-period
    direct = match_areas(wave1, "treated", ["baseline_level", "baseline_trend"], method="mahalanobis")
    assert len(direct.pairs) == covs["treated"].sum()
