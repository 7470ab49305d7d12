"""Random-effects meta-analysis against metafor's own example (BCG vaccine trials, dat.bcg).

Reference values (metafor's documentation and website, and Viechtbauer 2010, J Stat Softw 36(3); data
from Colditz et al. 1994), printed to 4 decimals:

* ``rma(yi, vi, data=dat)`` (REML): estimate -0.7145, SE 0.1798, z -3.9744, CI -1.0669 to -0.3622,
  tau^2 0.3132 (SE 0.1664), I^2 92.22%, H^2 12.86, Q(df = 12) = 152.2330.
* ``method="DL"``: estimate -0.7141, SE 0.1787, tau^2 0.3088, I^2 92.12%.
* ``method="FE"``: estimate -0.4303, SE 0.0405.
* ``rma(yi, vi, mods = ~ ablat, data=dat)`` (REML): intercept 0.2515 (SE 0.2491), ablat -0.0291
  (SE 0.0072), tau^2 0.0764, QE(df = 11) = 30.7331, QM(df = 1) = 16.3571, R^2 75.62%.

Tested at the printed precision (half a unit in the last printed decimal). Three regression numbers
(tau^2 0.0764, QM 16.3571, R^2 75.62%) are what metafor prints after stopping Fisher scoring at its
default threshold (a change below 1e-5); at the 1e-10 this module uses, REML converges to tau^2 0.07635
(printed 0.0763), QM 16.3582 and R^2 75.63%. Both are tested: tol=1e-5 reproduces metafor's printout,
and the default is shown to be the maximum of the restricted likelihood (computed here independently).

Not reproduced, and so not asserted: the brief's Knapp-Hartung SE 0.1813 / CI -1.1095 to -0.3195 (the
formula gives 0.1808, -1.1084 to -0.3206) and prediction interval -1.8752 to 0.4463 (metafor's
predict() formula gives -1.8667 to 0.4376). Those are checked against hand computations instead.
"""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from joinedup.synthesis import meta_analysis, meta_regression

BCG = np.array([[4, 119, 11, 128, 44], [6, 300, 29, 274, 55], [3, 228, 11, 209, 42], [62, 13536, 248, 12619, 52],
                [33, 5036, 47, 5761, 13], [180, 1361, 372, 1079, 44], [8, 2537, 10, 619, 19],
                [505, 87886, 499, 87892, 13], [29, 7470, 45, 7232, 27], [17, 1699, 65, 1600, 42],
                [186, 50448, 141, 27197, 18], [5, 2493, 3, 2338, 33], [27, 16886, 29, 17825, 33]], float)
TP, TN, CP, CN, ABLAT = BCG.T
YI = np.log((TP / (TP + TN)) / (CP / (CP + CN)))  # escalc(measure = "RR")
VI = 1 / TP - 1 / (TP + TN) + 1 / CP - 1 / (CP + CN)
K = len(YI)
D4 = 5e-5 + 1e-12  # half a unit in the 4th decimal
D2 = 5e-3 + 1e-12  # half a unit in the 2nd decimal (I^2 in %, H^2, R^2 in %)


def test_escalc_first_trial():
    # trial 1 by hand: log((4/123) / (11/139)), 1/4 - 1/123 + 1/11 - 1/139
    assert YI[0] == pytest.approx(np.log((4 / 123) / (11 / 139)), rel=1e-14)
    assert round(YI[0], 4) == -0.8893 and round(VI[0], 4) == 0.3256  # escalc's printed row 1


def test_reml_equals_metafor():
    r = meta_analysis(YI, VI)
    for got, want in ((r.estimate, -0.7145), (r.se, 0.1798), (r.statistic, -3.9744), (r.ci_lower, -1.0669),
                      (r.ci_upper, -0.3622), (r.tau2, 0.3132), (r.tau2_se, 0.1664), (r.q, 152.2330)):
        assert got == pytest.approx(want, abs=D4)
    assert r.i2 == pytest.approx(92.22, abs=D2) and r.h2 == pytest.approx(12.86, abs=D2)
    assert r.test == "z" and r.df is None and r.p_value == pytest.approx(2 * stats.norm.sf(3.9744), rel=1e-3)


def _restricted_loglik(tau2, x):
    w = 1 / (VI + tau2)
    xtwx = x.T @ (x * w[:, None])
    b = np.linalg.solve(xtwx, x.T @ (w * YI))
    return -0.5 * (np.sum(np.log(VI + tau2)) + np.linalg.slogdet(xtwx)[1] + np.sum(w * (YI - x @ b) ** 2))


@pytest.mark.parametrize("x", [np.ones((K, 1)), np.column_stack([np.ones(K), ABLAT])], ids=["RE", "ablat"])
def test_reml_maximises_the_restricted_likelihood(x):
    best = optimize.minimize_scalar(lambda t: -_restricted_loglik(t, x), bounds=(0, 2), method="bounded",
                                    options={"xatol": 1e-12}).x
    got = (meta_analysis(YI, VI).tau2 if x.shape[1] == 1
           else meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT})).tau2)
    assert got == pytest.approx(best, abs=1e-7)


def test_dl_and_fe_equal_metafor_and_statsmodels():
    from statsmodels.stats.meta_analysis import combine_effects

    dl, fe = meta_analysis(YI, VI, "DL"), meta_analysis(YI, VI, "FE")
    for got, want in ((dl.estimate, -0.7141), (dl.se, 0.1787), (dl.tau2, 0.3088), (fe.estimate, -0.4303),
                      (fe.se, 0.0405)):
        assert got == pytest.approx(want, abs=D4)
    assert dl.i2 == pytest.approx(92.12, abs=D2)
    sm = combine_effects(YI, VI, method_re="dl")
    assert dl.estimate == pytest.approx(sm.mean_effect_re, abs=1e-10)
    assert dl.se == pytest.approx(sm.sd_eff_w_re, abs=1e-10)
    assert dl.tau2 == pytest.approx(sm.tau2, abs=1e-10)
    assert fe.estimate == pytest.approx(sm.mean_effect_fe, abs=1e-10)
    assert fe.se == pytest.approx(sm.sd_eff_w_fe, abs=1e-10)
    assert dl.q == pytest.approx(sm.q, abs=1e-10)
    # for DL, metafor's tau2 / (tau2 + s2) coincides with Higgins' (Q - df) / Q, which statsmodels reports
    assert dl.i2 / 100 == pytest.approx(sm.i2, abs=1e-10) and fe.i2 / 100 == pytest.approx(sm.i2, abs=1e-10)


def test_pm_equals_statsmodels_and_solves_its_equation():
    from statsmodels.stats.meta_analysis import combine_effects

    pm = meta_analysis(YI, VI, "PM")
    sm = combine_effects(YI, VI, method_re="pm")
    assert pm.tau2 == pytest.approx(sm.tau2, abs=1e-8) and pm.estimate == pytest.approx(sm.mean_effect_re, abs=1e-8)
    w = 1 / (VI + pm.tau2)
    assert np.sum(w * (YI - pm.estimate) ** 2) == pytest.approx(K - 1, abs=1e-8)


def test_ml_maximises_the_likelihood():
    def loglik(t):
        w = 1 / (VI + t)
        mu = np.sum(w * YI) / np.sum(w)
        return -0.5 * (np.sum(np.log(VI + t)) + np.sum(w * (YI - mu) ** 2))

    best = optimize.minimize_scalar(lambda t: -loglik(t), bounds=(0, 2), method="bounded",
                                    options={"xatol": 1e-12}).x
    ml = meta_analysis(YI, VI, "ML")
    assert ml.tau2 == pytest.approx(best, abs=1e-7)
    assert ml.tau2_se == pytest.approx(np.sqrt(2 / np.sum((1 / (VI + ml.tau2)) ** 2)), rel=1e-12)


def test_knapp_hartung_by_hand():
    r, kh = meta_analysis(YI, VI), meta_analysis(YI, VI, knha=True)
    # by hand: w_i = 1/(v_i + tau2); mu = sum w y / sum w; Var = sum w (y - mu)^2 / ((k - 1) sum w)
    w = [1 / (v + r.tau2) for v in VI]
    mu = sum(wi * yi for wi, yi in zip(w, YI)) / sum(w)
    se = np.sqrt(sum(wi * (yi - mu) ** 2 for wi, yi in zip(w, YI)) / ((K - 1) * sum(w)))
    t12 = stats.t.ppf(0.975, K - 1)
    assert kh.estimate == pytest.approx(r.estimate, abs=1e-14) and kh.se == pytest.approx(se, rel=1e-12)
    assert (kh.ci_lower, kh.ci_upper) == pytest.approx((mu - t12 * se, mu + t12 * se), rel=1e-12)
    assert kh.test == "t" and kh.df == K - 1
    assert kh.p_value == pytest.approx(2 * stats.t.sf(abs(mu / se), K - 1), rel=1e-10)
    # the values the formula gives, for the record (the brief's 0.1813 / -1.1095 / -0.3195 are not these)
    assert (round(kh.se, 4), round(kh.ci_lower, 4), round(kh.ci_upper, 4)) == (0.1808, -1.1084, -0.3206)


def test_knapp_hartung_factor_not_truncated():
    # nearly identical estimates: the factor sum w (y - mu)^2 / (k - 1) is far below 1; metafor's default
    # (knha without truncation) keeps it, so the SE shrinks below the model-based one
    yi, vi = [0.30, 0.31, 0.29, 0.30], [0.04, 0.05, 0.06, 0.05]
    assert meta_analysis(yi, vi, knha=True).se < meta_analysis(yi, vi).se / 5


def test_prediction_interval_as_metafor_predict():
    r = meta_analysis(YI, VI)
    half = stats.norm.ppf(0.975) * np.sqrt(r.tau2 + r.se ** 2)
    assert (r.pi_lower, r.pi_upper) == pytest.approx((r.estimate - half, r.estimate + half), abs=1e-12)
    assert (round(r.pi_lower, 4), round(r.pi_upper, 4)) == (-1.8667, 0.4376)
    kh = meta_analysis(YI, VI, knha=True, level=0.9)
    half = stats.t.ppf(0.95, K - 1) * np.sqrt(kh.tau2 + kh.se ** 2)
    assert kh.pi_upper - kh.pi_lower == pytest.approx(2 * half, rel=1e-12)


def test_meta_regression_equals_metafor():
    fit = meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT}))
    c = fit.coefficients.set_index("term")
    for got, want in ((c.loc["intrcpt", "estimate"], 0.2515), (c.loc["intrcpt", "se"], 0.2491),
                      (c.loc["ablat", "estimate"], -0.0291), (c.loc["ablat", "se"], 0.0072), (fit.qe, 30.7331)):
        assert got == pytest.approx(want, abs=D4)
    assert fit.qm == pytest.approx(c.loc["ablat", "statistic"] ** 2, rel=1e-12)  # one moderator: QM = z^2


def test_meta_regression_with_metafors_threshold_reproduces_its_printout():
    fit = meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT}), tol=1e-5)
    assert fit.tau2 == pytest.approx(0.0764, abs=D4)
    assert fit.qm == pytest.approx(16.3571, abs=D4)
    assert fit.r2 == pytest.approx(75.62, abs=D2)


def test_meta_regression_converged_values_differ_from_metafors_printout():
    # the documented disagreement: converged REML (tol 1e-10) against metafor's 1e-5 stop
    fit = meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT}))
    assert round(fit.tau2, 4) == 0.0763 and round(fit.qm, 4) == 16.3582 and round(fit.r2, 2) == 75.63
    tau2_re = meta_analysis(YI, VI).tau2
    assert fit.r2 == pytest.approx(100 * (tau2_re - fit.tau2) / tau2_re, rel=1e-12)


def test_meta_regression_knapp_hartung_by_hand():
    x = np.column_stack([np.ones(K), ABLAT])
    plain = meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT}))
    kh = meta_regression(YI, VI, pd.DataFrame({"ablat": ABLAT}), knha=True)
    w = 1 / (VI + plain.tau2)
    b = plain.coefficients["estimate"].to_numpy()
    factor = np.sum(w * (YI - x @ b) ** 2) / (K - 2)
    assert kh.coefficients["se"].to_numpy() == pytest.approx(plain.coefficients["se"].to_numpy() * np.sqrt(factor),
                                                             rel=1e-12)
    t_ablat = kh.coefficients.set_index("term").loc["ablat", "statistic"]
    assert kh.df == K - 2 and kh.qm == pytest.approx(t_ablat ** 2, rel=1e-12)  # F(1, k - 2) = t^2
    assert kh.qm_p == pytest.approx(2 * stats.t.sf(abs(t_ablat), K - 2), rel=1e-10)
