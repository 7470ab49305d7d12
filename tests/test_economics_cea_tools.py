"""QALYs, discounting, inflation, sensitivity analysis and CEA figures.

Tolerances: closed-form and hand-computed values to 1e-12 relative; the discounted AUC against
numerical quadrature to 1e-9; the baseline adjustment against
Frisch-Waugh-Lovell partialling-out to 1e-10.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from joinedup.economics.cea import (baseline_adjusted, bcea, discount, inflate, inflation_index, one_way, qaly_auc,
                                    scenarios, tornado_plot)

DATA = Path(__file__).resolve().parent / "data" / "external"


def test_discount_nice_rate():
    assert discount(1000.0, 0) == 1000.0
    assert discount(1000.0, 1) == pytest.approx(1000 / 1.035)
    assert discount(np.array([100.0, 100.0]), [2, 10], rate=0.015) == pytest.approx([100 / 1.015**2, 100 / 1.015**10])
    s = discount(pd.Series([1.0, 1.0], index=["a", "b"], name="qaly"), [0, 3])
    assert list(s.index) == ["a", "b"] and s.name == "qaly"
    with pytest.raises(ValueError, match="non-negative"):
        discount(1.0, -1)


def test_qaly_auc_by_hand_and_discounted():
    eq = pd.DataFrame({"id": [2, 1, 1, 1, 2, 3], "month": [12, 0, 6, 12, 0, 0],
                       "u": [0.0, 0.6, 0.8, 0.8, 0.5, 0.9]})
    q = qaly_auc(eq, "id", "month", "u", time_unit="months")
    # person 1: 0.5*(0.6+0.8)/2 + 0.5*0.8 = 0.75; person 2 dies by 12 months: 1*(0.5+0)/2; person 3: one visit
    assert q.to_dict() == pytest.approx({2: 0.25, 1: 0.75, 3: 0.0})
    d = qaly_auc(eq, "id", "month", "u", time_unit="months", rate=0.035)
    exact = integrate.quad(lambda t: np.interp(t, [0, 0.5, 1], [0.6, 0.8, 0.8]) * 1.035**-t, 0, 1, points=[0.5])[0]
    assert d[1] == pytest.approx(exact, rel=1e-9)
    with pytest.raises(ValueError, match="two utility measurements"):
        qaly_auc(pd.concat([eq, eq.iloc[[1]]]), "id", "month", "u")


def test_baseline_adjustment_matches_frisch_waugh():
    rng = np.random.default_rng(8)
    n = 400
    mdt = rng.integers(0, 2, n)
    u0 = rng.normal(0.6 - 0.05 * mdt, 0.15)  # treated start worse: the unadjusted AUC is biased
    age = rng.normal(80, 6, n)
    qaly = 0.2 + 0.8 * u0 + 0.03 * mdt - 0.002 * (age - 80) + rng.normal(0, 0.05, n)
    df = pd.DataFrame({"qaly": qaly, "u0": u0, "mdt": mdt, "age": age})
    fit = baseline_adjusted(df, "qaly", "u0", "mdt", covariates=["age"])
    # Frisch-Waugh-Lovell: regress treatment on the other regressors; its residual carries the effect
    z = np.column_stack([np.ones(n), u0, age])
    r_t = mdt - z @ np.linalg.solve(z.T @ z, z.T @ mdt)
    tau = r_t @ qaly / (r_t @ r_t)
    r_y = qaly - z @ np.linalg.solve(z.T @ z, z.T @ qaly) - tau * r_t
    se = np.sqrt(r_y @ r_y / (n - 4) / (r_t @ r_t))
    assert fit.estimate == pytest.approx(tau, rel=1e-10)
    assert fit.se == pytest.approx(se, rel=1e-10)
    assert fit.upper - fit.estimate == pytest.approx(stats.t.ppf(0.975, n - 4) * se, rel=1e-10)
    assert fit.estimate == pytest.approx(0.03, abs=3 * se)
    adj = fit.adjusted
    assert adj[df.mdt == 1].mean() - adj[df.mdt == 0].mean() == pytest.approx(fit.estimate, rel=1e-10)


def test_inflation_index_and_guard():
    mine = pd.DataFrame({"financial_year": ["2019/20", "2020/21", "2021/22"], "pct_change": [9.9, 2.0, 3.0]})
    idx = inflation_index(mine, base="2020/21")
    assert idx["index"].tolist() == pytest.approx([100 / 1.02, 100.0, 103.0])
    assert inflate(100.0, 2019, "2021-22", table=mine) == pytest.approx(100 * 1.02 * 1.03)
    assert inflate(pd.Series([103.0]), "2021/22", "2020/21", table=mine).iloc[0] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="illustrative"):
        inflate(100.0, "2015/16", "2020/21")
    builtin = inflation_index()
    assert set(builtin["status"]) == {"secondary_unverified", "illustrative"}
    assert builtin["source"].str.len().min() > 50  # every row says where it came from
    with pytest.raises(ValueError, match="covers 2019/20 to 2021/22"):
        inflate(1.0, "2018/19", "2020/21", table=mine)


def _model(p):
    inc_cost = p["cost_mdt"] - p["saved_admissions"] * p["cost_admission"]
    return inc_cost, p["qaly_gain"]


BASE = {"cost_mdt": 800.0, "saved_admissions": 0.2, "cost_admission": 2500.0, "qaly_gain": 0.02}


def test_one_way_and_scenarios():
    ranges = pd.DataFrame({"parameter": ["cost_mdt", "saved_admissions", "qaly_gain"],
                           "low": [600.0, 0.0, 0.0], "high": [1000.0, 0.4, 0.04]})
    t = one_way(_model, BASE, ranges, wtp=20_000)
    # base: inc cost 800 - 500 = 300, effect 0.02 -> INMB 400 - 300 = 100, ICER 15,000
    assert t["inmb_base"].iloc[0] == pytest.approx(100.0) and t["icer_base"].iloc[0] == pytest.approx(15_000)
    assert t["parameter"].tolist() == ["saved_admissions", "qaly_gain", "cost_mdt"]  # swings 1000, 800, 400
    row = t.set_index("parameter").loc["saved_admissions"]
    assert row["inc_cost_high"] == pytest.approx(-200.0) and row["quadrant_high"] == "SE"
    assert np.isnan(row["icer_high"])  # dominant: no ICER reported
    s = scenarios(_model, BASE, {"no admissions saved": {"saved_admissions": 0.0}})
    assert s["inc_cost"].tolist() == pytest.approx([300.0, 800.0])
    assert s["changes"].iloc[1] == "saved_admissions=0"
    fig = tornado_plot(t)
    assert fig.svg.startswith("<svg") and "saved_admissions" in fig.alt_text


def test_cea_figures():
    psa = pd.read_csv(DATA / "bcea_vaccine_psa.csv")
    res = bcea(psa[["e_status_quo", "e_vaccination"]], psa[["c_status_quo", "c_vaccination"]], ref=1,
               interventions=["Status Quo", "Vaccination"], k=np.arange(0, 50_001, 1000))
    for fig in (res.ce_plane(), res.ceac_plot(), res.ceaf_plot(), res.evpi_plot()):
        assert fig.svg.startswith("<svg") and fig.title and len(fig.data)
        assert "£25,000" in fig.alt_text or "switching to Vaccination at £21,000" in fig.alt_text
    assert "52.9% of simulations below the line" in res.ce_plane().alt_text
