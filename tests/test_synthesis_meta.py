"""Random-effects meta-analysis against metafor's own example (BCG vaccine trials, dat.bcg).

Reference values: metafor's documentation and Viechtbauer (2010, J Stat Softw 36(3)), printed to 4
decimals: ``rma(yi, vi, data=dat)`` (REML) -0.7145, SE 0.1798, CI -1.0669 to -0.3622, tau^2 0.3132
(SE 0.1664), I^2 92.22%, H^2 12.86, Q(12) 152.2330; DL -0.7141, SE 0.1787, tau^2 0.3088, I^2 92.12%; FE
-0.4303, SE 0.0405; meta-regression on absolute latitude: intercept 0.2515 (SE 0.2491), ablat -0.0291
(SE 0.0072), QE(11) 30.7331, R^2 75.62%. Tested at that precision (abs 6e-5, half a unit in the 4th
decimal). Knapp-Hartung and the prediction interval are checked against their formulas; DL and FE also
against statsmodels' combine_effects (1e-10).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from joinedup.synthesis import meta_analysis, meta_regression

BCG = np.array([[4, 119, 11, 128, 44], [6, 300, 29, 274, 55], [3, 228, 11, 209, 42], [62, 13536, 248, 12619, 52],
                [33, 5036, 47, 5761, 13], [180, 1361, 372, 1079, 44], [8, 2537, 10, 619, 19],
                [505, 87886, 499, 87892, 13], [29, 7470, 45, 7232, 27], [17, 1699, 65, 1600, 42],
                [186, 50448, 141, 27197, 18], [5, 2493, 3, 2338, 33], [27, 16886, 29, 17825, 33]], float)
TP, TN, CP, CN, ABLAT = BCG.T
YI = np.log((TP / (TP + TN)) / (CP / (CP + CN)))  # escalc(measure = "RR")
VI = 1 / TP - 1 / (TP + TN) + 1 / CP - 1 / (CP + CN)
TOL = 6e-5


def test_reml_equals_metafor():
    r = meta_analysis(YI, VI)
    for got, want in ((r.estimate, -0.7145), (r.se, 0.1798), (r.ci_lower, -1.0669), (r.ci_upper, -0.3622),
                      (r.tau2, 0.3132), (r.tau2_se, 0.1664), (r.i2 / 100, 0.9222), (r.q, 152.2330)):
        assert got == pytest.approx(want, abs=TOL)
    assert r.h2 == pytest.approx(12.86, abs=6e-3)
    crit = stats.norm.ppf(0.975)
    assert r.pi_lower == pytest.approx(r.estimate - crit * np.sqrt(r.tau2 + r.se ** 2), abs=1e-12)


def test_dl_and_fe_equal_metafor_and_statsmodels():
    from statsmodels.stats.meta_analysis import combine_effects

    dl, fe = meta_analysis(YI, VI, "DL"), meta_analysis(YI, VI, "FE")
    assert (dl.estimate, dl.se, dl.tau2, dl.i2 / 100) == pytest.approx((-0.7141, 0.1787, 0.3088, 0.9212), abs=TOL)
    assert (fe.estimate, fe.se) == pytest.approx((-0.4303, 0.0405), abs=TOL)
    sm = combine_effects(YI, VI, method_re="dl")
    assert dl.estimate == pytest.approx(sm.mean_effect_re, abs=1e-10)
    assert dl.se == pytest.approx(sm.sd_eff_w_re, abs=1e-10)
    assert fe.estimate == pytest.approx(sm.mean_effect_fe, abs=1e-10)
    assert dl.tau2 == pytest.approx(sm.tau2, abs=1e-10)


def test_knapp_hartung_formula():
    r, kh = meta_analysis(YI, VI), meta_analysis(YI, VI, knha=True)
    w = 1 / (VI + r.tau2)
    factor = np.sum(w * (YI - r.estimate) ** 2) / (len(YI) - 1)
    assert kh.se == pytest.approx(r.se * np.sqrt(factor), rel=1e-12)
    crit = stats.t.ppf(0.975, len(YI) - 1)
    assert kh.ci_lower == pytest.approx(kh.estimate - crit * kh.se, rel=1e-12)
    assert kh.p_value == pytest.approx(2 * stats.t.sf(abs(kh.statistic), 12), rel=1e-12)


def test_meta_regression_equals_metafor():
    fit = meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT}))
    c = fit.coefficients.set_index("term")
    assert (c.loc["intrcpt", "estimate"], c.loc["intrcpt", "se"]) == pytest.approx((0.2515, 0.2491), abs=TOL)
    assert (c.loc["ablat", "estimate"], c.loc["ablat", "se"]) == pytest.approx((-0.0291, 0.0072), abs=TOL)
    assert fit.qe == pytest.approx(30.7331, abs=TOL)
    # R^2 compares two REML fits; metafor stops Fisher scoring at a change below 1e-5 (its default
    # threshold), joinedup at 1e-10, which moves the printed 75.62% in the second decimal (75.63)
    assert fit.r2 == pytest.approx(75.62, abs=0.01)
    assert fit.qm == pytest.approx(c.loc["ablat", "statistic"] ** 2, rel=1e-12)  # one moderator: QM = z^2
    assert fit.tau2 == pytest.approx(0.0763, abs=1e-4)


def test_homogeneous_data_and_errors():
    r = meta_analysis([0.2, 0.2, 0.2], [0.01, 0.02, 0.03])
    assert r.tau2 == 0 and r.i2 == 0
    with pytest.raises(ValueError, match="vi\\[1\\] is -0.1"):
        meta_analysis([0.1, 0.2], [0.1, -0.1])
    with pytest.raises(ValueError, match="yi has 2 values but vi has 3"):
        meta_analysis([0.1, 0.2], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="yi\\[0\\] is missing"):
        meta_analysis([np.nan, 0.2], [0.1, 0.1])
    with pytest.raises(ValueError, match="at least 2"):
        meta_analysis([0.1], [0.1])
    with pytest.raises(ValueError, match="method must be one of"):
        meta_analysis(YI, VI, "HS")


def test_tidy_and_forest_plot():
    r = meta_analysis(YI, VI, labels=[f"trial {i}" for i in range(1, 14)])
    t = r.tidy()
    assert len(t) == 14 and t["weight_pct"].iloc[:-1].sum() == pytest.approx(100)
    fig = r.plot()
    assert "-0.715 (95% CI -1.067 to -0.362)" in fig.alt_text and "I-squared 92.2%" in fig.alt_text and fig.svg.startswith("<svg")
