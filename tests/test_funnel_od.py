"""Funnel plots with overdispersion (FunnelPlotR 0.6.0).

Tolerance: 1e-6 relative against FunnelPlotR's exact-Poisson limits (the reference prints 7
significant figures, so rounding alone is up to 2.4e-7). The gamma quantile (scipy's inverse
incomplete gamma) is checked against closed forms at 1e-12 relative. Hand-computed phi and tau2
use exactly representable inputs and are compared at 1e-12 relative (float summation order only).
"""

import math
import warnings
from pathlib import Path
from statistics import NormalDist

import altair as alt
import numpy as np
import pandas as pd
import pytest

from joinedup.indicators.funnel_od import (
    funnel,
    od_limits,
    poisson_limits,
    qgamma,
    tau2_dl,
    truncate,
    winsorise,
)

REF = Path(__file__).resolve().parent / "data" / "external" / "spc_validation" / "funnel_poisson_limits_expected.csv"
Z998 = NormalDist().inv_cdf(0.999)


def test_exact_poisson_limits_match_funnelplotr():
    ref = pd.read_csv(REF)
    got = poisson_limits(ref["expected_events"], target=1.0)
    for col in ("ll95", "ul95", "ll998", "ul998"):
        np.testing.assert_allclose(got[col], ref[col], rtol=1e-6)
    np.testing.assert_allclose(poisson_limits([20], 1.0, 100.0)["ul95"], 154.4419, rtol=1e-6)


def test_gamma_quantile_against_closed_forms():
    p = np.array([1e-6, 0.001, 0.025, 0.3, 0.5, 0.975, 0.999])
    np.testing.assert_allclose(qgamma(p, 1.0), -np.log1p(-p), rtol=1e-12)  # exponential
    q = p[1:]  # chi2(1) / 2; Phi^-1 near 0.5 loses relative precision at p = 1e-6
    half = np.array([NormalDist().inv_cdf((1 + v) / 2) ** 2 / 2 for v in q])
    np.testing.assert_allclose(qgamma(q, 0.5), half, rtol=1e-10)
    x = qgamma(p, 2.0)  # P(2, x) = 1 - exp(-x)(1 + x)
    np.testing.assert_allclose(1 - np.exp(-x) * (1 + x), p, rtol=1e-10)
    big = qgamma([0.001, 0.999], [40000.0, 40001.0])  # normal approximation, within 1e-3
    np.testing.assert_allclose(big, [40000 - 3.09 * 200, 40001 + 3.09 * 200], rtol=1e-3)
    with pytest.raises(ValueError):
        qgamma(1.0, 2.0)


def _cqc_frame():
    # E = 100 for all; O = k^2 so sqrt(O/E) = k/10 and z = 2(sqrt O - sqrt E) = 2(k - 10)
    k = np.array([10, 11, 9, 12, 8, 10, 13, 7, 10.5, 9.5])
    return pd.DataFrame({"unit": list("abcdefghij"), "o": k**2, "e": 100.0})


def test_cqc_winsorised_phi_and_tau2_by_hand():
    # z = 0, 2, -2, 4, -4, 0, 6, -6, 1, -1. Sorted: -6 -4 -2 -1 0 0 1 2 4 6; type-7 quantiles:
    # q10 = -6 + 0.9 * 2 = -4.2, q90 = 4 + 0.1 * 2 = 4.2, so -6 -> -4.2 and 6 -> 4.2.
    # phi = sum z_w^2 / n = (2 * 4.2^2 + 2 * 16 + 2 * 4 + 2 * 1) / 10 = 77.28 / 10 = 7.728
    # tau2 = (n phi - (n - 1)) / (sum w - sum w^2 / sum w), w = 1/s^2 = 4E = 400:
    #      = (77.28 - 9) / (4000 - 400) = 68.28 / 3600
    r = funnel(_cqc_frame(), "o", "e", "unit", sr_method="CQC")
    t = r.tidy()
    np.testing.assert_allclose(t["z"], [0, 2, -2, 4, -4, 0, 6, -6, 1, -1], atol=1e-12)
    assert t["trimmed"].tolist() == [False] * 6 + [True, True, False, False]
    np.testing.assert_allclose(t["z_trimmed"].iloc[6:8], [4.2, -4.2], rtol=1e-12)
    assert r.phi == pytest.approx(7.728, rel=1e-12)
    assert r.tau2 == pytest.approx(68.28 / 3600, rel=1e-12)
    assert r.adjusted
    sd = math.sqrt(1 / 400 + 68.28 / 3600)
    np.testing.assert_allclose(t["od_ul998"], (1 + Z998 * sd) ** 2, rtol=1e-12)
    np.testing.assert_allclose(t["od_ll998"], (1 - Z998 * sd) ** 2, rtol=1e-12)
    raw = funnel(_cqc_frame(), "o", "e", "unit", sr_method="CQC", cqc_backtransform=False).tidy()
    np.testing.assert_allclose(raw["od_ul998"], 1 + Z998 * sd, rtol=1e-12)  # FunnelPlotR 0.6.0
    np.testing.assert_allclose(t["z_od"], t["z"] * 0.05 / sd, rtol=1e-12)
    assert not t["outlier"].any()


def _shmi_frame():
    # z chosen; E with 2 dp (SHMI rounding leaves it alone); O = E exp(z / sqrt E) gives that z
    z = np.array([-6, -5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 7, 8])
    e = np.array([25, 25] + [100, 400] * 8 + [25, 25], float)
    return pd.DataFrame({"unit": [f"u{i:02d}" for i in range(20)], "o": e * np.exp(z / np.sqrt(e)),
                         "e": e}), z


def test_shmi_truncation_phi_and_tau2_by_hand():
    # n = 20, k = 1/0.1 = 10: band = floor(rank * 10 / 21) is 0 for ranks 1-2 and 9 for 19-20, so
    # ranks 3..18 (z = -3 ... 4.5) are kept: m = 16, sum z^2 = 94, phi = 94 / 16 = 5.875.
    # w = 1/s^2 = E: 8 x 100 and 8 x 400; sum w = 4000, sum w^2 / sum w = 1_360_000 / 4000 = 340;
    # tau2 = (m phi - (m - 1)) / (4000 - 340) = 79 / 3660.
    frame, z = _shmi_frame()
    r = funnel(frame, "o", "e", "unit")
    t = r.tidy()
    np.testing.assert_allclose(t["z"], z, atol=1e-12)
    assert np.flatnonzero(t["trimmed"]).tolist() == [0, 1, 18, 19]
    assert t["z_trimmed"].isna().sum() == 4
    assert r.phi == pytest.approx(5.875, rel=1e-12)
    assert r.tau2 == pytest.approx(79 / 3660, rel=1e-12)
    for e in (25, 100, 400):
        row = t[t["denominator"] == e].iloc[0]
        sd = math.sqrt(1 / e + 79 / 3660)
        assert (row["od_ll998"], row["od_ul998"]) == pytest.approx(
            (math.exp(-Z998 * sd), math.exp(Z998 * sd)), rel=1e-12)
    assert np.flatnonzero(t["outlier"]).tolist() == [0, 1, 18, 19]
    assert t["outlier_low"].sum() == 2 and t["outlier_high"].sum() == 2
    # without the adjustment, exact Poisson limits also catch z = 3 ... 4.5 (E = 100 and 400)
    plain = funnel(frame, "o", "e", "unit", draw_adjusted=False).tidy()
    assert np.flatnonzero(plain["outlier"]).tolist() == [0, 1] + list(range(14, 20))
    assert "2 high, 2 low" in str(r.summary()) and "<table" in r.summary()._repr_html_()


def test_zero_observed_unit_under_shmi_is_trimmed_without_warnings():
    # O = 0: Y = log(0) = -inf and z = -inf, as in FunnelPlotR. It ranks lowest, so with n = 20 it is
    # truncated exactly like the z = -6 it replaces: phi and tau2 are the hand-computed ones above.
    frame, _ = _shmi_frame()
    frame.loc[0, "o"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "divide by zero encountered in log"
        r = funnel(frame, "o", "e", "unit")
        wins = funnel(frame, "o", "e", "unit", trim="winsorise")
        small = funnel(frame.iloc[[0, 2, 3, 4, 5]], "o", "e", "unit")  # n = 5: band 0 is empty
    row = r.tidy().iloc[0]
    assert row["z"] == -np.inf and row["z_od"] == -np.inf
    assert row["trimmed"] and np.isnan(row["z_trimmed"])
    assert r.phi == pytest.approx(5.875, rel=1e-12) and r.tau2 == pytest.approx(79 / 3660, rel=1e-12)
    assert row["ratio"] == 0 and row["outlier_low"]
    # n = 5 < 1/trim_by: FunnelPlotR would keep z = -inf (phi = inf); it is cut, and the other four
    # (z = -3, -2.5, -2, -1.5, bands 3, 5, 6, 8) give phi = (9 + 6.25 + 4 + 2.25) / 4
    assert small.phi == pytest.approx(21.5 / 4, rel=1e-12) and small.tidy()["trimmed"].sum() == 1
    for res in (wins, small):
        t = res.tidy()
        assert t["trimmed"].iloc[0] and np.isnan(t["z_trimmed"].iloc[0]) and t["outlier_low"].iloc[0]
        assert np.isfinite(res.phi) and np.isfinite(res.tau2)
    # winsorising: non-finite z are left out of the quantiles and returned as NaN, flagged
    zw, flag = winsorise(np.r_[-np.inf, np.arange(11.0)], 0.1)
    assert np.isnan(zw[0]) and flag[0] and flag.sum() == 5
    assert zw[1:].tolist() == [1.0] + list(np.arange(1.0, 10.0)) + [9.0]


def test_tau2_is_zero_without_overdispersion_and_unadjusted_limits_are_used():
    assert tau2_dl(0.5, np.ones(10)) == 0.0  # m phi = 5 < m - 1 = 9
    # w = 1/0.1^2 = 100 for 4 units: sum w - sum w^2 / sum w = 400 - 100 = 300
    assert tau2_dl(1.0, np.full(4, 0.1)) == pytest.approx((4 - 3) / 300, rel=1e-12)
    assert tau2_dl(2.0, np.full(4, 0.1)) == pytest.approx((8 - 3) / 300, rel=1e-12)
    frame = pd.DataFrame({"u": list("abcd"), "o": [100.0, 101, 99, 100], "e": 100.0})
    r = funnel(frame, "o", "e", "u", sr_method="CQC")
    assert r.phi < 1 and r.tau2 == 0 and not r.adjusted
    row = r.tidy().iloc[0]
    assert row["ul998"] == pytest.approx(poisson_limits([100])["ul998"][0], rel=1e-12)


def test_trimming_helpers_and_options():
    zw, flag = winsorise(np.arange(11.0), 0.1)
    assert zw.tolist() == [1.0] + list(np.arange(1.0, 10.0)) + [9.0] and flag.sum() == 4
    zt, cut = truncate([3.0, 1.0, 2.0, 2.0, 5.0, 4.0, 0.0, 6.0, 7.0, 8.0], 0.2)
    # k = 5, n = 10: band = floor(rank * 5 / 11); kept when 0 < band < 4, i.e. 2.2 <= rank < 8.8;
    # ranks (ties averaged): 0 -> 1, 1 -> 2, 2 -> 3.5, 6 -> 8, 7 -> 9, 8 -> 10
    assert np.isnan(zt).sum() == 4 and zt[0] == 3.0
    assert cut.tolist() == [False, True, False, False, False, False, True, False, True, True]
    frame, _ = _shmi_frame()
    assert funnel(frame, "o", "e", "unit").options["trim"] == "truncate"
    assert funnel(frame, "o", "e", "unit", sr_method="CQC").options["trim"] == "winsorise"
    assert funnel(frame, "o", "e", "unit", trim="winsorise").tidy()["trimmed"].sum() == 4
    with pytest.raises(ValueError, match="'SR', 'PR'"):
        funnel(frame, "o", "e", "unit", data_type="RC")
    with pytest.raises(ValueError, match="limit must be one of 95, 99"):
        funnel(frame, "o", "e", "unit", limit=90)


def test_proportions_on_the_arcsine_scale():
    frame = pd.DataFrame({"ward": list("abcde"), "o": [5, 20, 40, 30, 90], "n": [50, 100, 200, 150, 300]})
    r = funnel(frame, "o", "n", "ward", data_type="PR", limit=95)
    t = r.tidy()
    target = 185 / 800
    c = math.asin(math.sqrt(target))
    np.testing.assert_allclose(t["z"], (np.arcsin(np.sqrt(frame["o"] / frame["n"])) - c)
                               * 2 * np.sqrt(frame["n"]), rtol=1e-12)
    z95 = NormalDist().inv_cdf(0.975)
    np.testing.assert_allclose(t["ul95"], np.sin(c + z95 / (2 * np.sqrt(frame["n"]))) ** 2, rtol=1e-12)
    assert r.options["target"] == pytest.approx(target)
    assert r.adjusted and r.phi > 1
    # ward e (0.30) is above the plain 95% limit (0.2806) but inside the overdispersed one (0.3201);
    # ward a (0.10) is below both (0.1261, 0.1116)
    assert t.loc[4, "ratio"] > t.loc[4, "ul95"] and t["outlier"].tolist() == [True] + [False] * 4
    assert t.loc[0, "outlier_low"] and not t["outlier_high"].any()
    edge = od_limits([3.0], 0.0, "PR", target=0.02)
    assert edge["ll95"][0] == 0.0 and edge["ll998"][0] == 0.0  # clamped at 0, not folded back up
    assert od_limits([3.0], 0.0, "PR", target=0.98)["ul998"][0] == 1.0


def test_multiplier_lookup_and_plot():
    r = funnel(_cqc_frame(), "o", "e", "unit", sr_method="CQC", multiplier=100)
    t = r.tidy()
    assert t["ratio"].iloc[1] == pytest.approx(121.0)
    assert t["ul998"].iloc[0] == pytest.approx(100 * poisson_limits([100])["ul998"][0])
    lk = r.limits_lookup(50)
    assert len(lk) == 50 and lk["denominator"].iloc[0] == 1.1 and lk["denominator"].iloc[-1] == 100
    assert (np.diff(lk["ul998"]) < 0).all() and (np.diff(lk["od_ll998"]) > 0).all()
    assert isinstance(r.plot(), alt.LayerChart)
