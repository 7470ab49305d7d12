"""TWFE DiD, event study and wild cluster bootstrap against references and a known truth.

Tolerances: the Proposition 99 DiD to 1e-5 (the published -27.34911 has 5 decimals); pyfixest
0.60 coefficients to 1e-8 absolute and SEs to 1e-6 relative (same linear algebra, different
order of floating-point sums); the fast wild bootstrap against a brute-force re-fit of every one of
the 2**8 Rademacher draws exactly (same draws, same t statistics up to rounding far below the
1e-10 tie tolerance). The simulated truth: the 95% CI must cover the programmed log effect.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.event_study import event_study
from joinedup.impact.twfe import twfe_did, wild_cluster_bootstrap
from joinedup.impact.wild_bootstrap import draw_weights

EXT = Path(__file__).resolve().parent / "data" / "external"


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    m = pd.read_csv(EXT / "mpdta.csv")
    m["d"] = ((m["first.treat"] > 0) & (m["year"] >= m["first.treat"])).astype(float)
    m["w"] = np.exp(m["lpop"])
    m["state"] = m["countyreal"] // 1000
    return m


@pytest.fixture(scope="module")
def eight_states(mpdta) -> pd.DataFrame:
    """Counties of 8 states (3 with treated counties ... 5), clustered by state: 2**8 = 256 draws."""
    return mpdta[mpdta["state"].isin([8, 12, 16, 22, 30, 38, 54, 55])].reset_index(drop=True)


def test_prop99_did():
    df = pd.read_csv(EXT / "california_prop99.csv", sep=";")
    res = twfe_did(df, y="PacksPerCapita", unit="State", time="Year", treat="treated")
    assert res.estimate == pytest.approx(-27.34911, abs=1e-5)
    assert res.n_clusters == 39 and res.df == 38
    assert res.ci[0] < res.estimate < res.ci[1]
    assert res.pct == pytest.approx(100 * res.estimate / res.baseline)
    tidy = res.tidy()
    assert tidy.loc[0, "vcov"].startswith("CR1") and "pct_change" in tidy
    assert "clustered by State" in str(res.summary()) and "<table" in res.summary()._repr_html_()


@pytest.mark.parametrize("weights", [None, "w"])
@pytest.mark.parametrize("cluster", [None, "state"])
def test_matches_pyfixest(mpdta, weights, cluster):
    pf = pytest.importorskip("pyfixest")
    res = twfe_did(mpdta, y="lemp", unit="countyreal", time="year", treat="d", weights=weights, cluster=cluster)
    ref = pf.feols("lemp ~ d | countyreal + year", data=mpdta, vcov={"CRV1": cluster or "countyreal"},
                   weights=weights)
    assert res.estimate == pytest.approx(float(ref.coef().iloc[0]), abs=1e-8)
    assert res.se == pytest.approx(float(ref.se().iloc[0]), rel=1e-6)
    assert res.ci[0] == pytest.approx(float(ref.confint().iloc[0, 0]), rel=1e-6)
    assert res.p == pytest.approx(float(ref.pvalue().iloc[0]), rel=1e-6)


def test_event_study_matches_pyfixest(mpdta):
    pf = pytest.importorskip("pyfixest")
    es = event_study(mpdta, y="lemp", unit="countyreal", time="year", first_treated="first.treat")
    data = mpdta.copy()
    rel = np.where(data["first.treat"] > 0, data["year"] - data["first.treat"], -1)
    terms = sorted(set(rel[data["first.treat"] > 0]) - {-1})
    names = [f"e{'m' if e < 0 else 'p'}{abs(e)}" for e in terms]
    for e, n in zip(terms, names):
        data[n] = ((data["first.treat"] > 0) & (rel == e)).astype(float)
    ref = pf.feols(f"lemp ~ {' + '.join(names)} | countyreal + year", data=data, vcov={"CRV1": "countyreal"})
    got = es.tidy().query("~reference")
    np.testing.assert_allclose(got["estimate"], ref.coef().to_numpy(), atol=1e-8)
    np.testing.assert_allclose(got["std_error"], ref.se().to_numpy(), rtol=1e-6)
    assert es.tidy().query("reference")["rel_time"].tolist() == [-1]
    fig = es.plot()
    assert fig.svg.startswith("<svg") and "reference period -1" in fig.alt_text and fig.title


@pytest.mark.parametrize("weights", [None, "w"])
def test_wild_bootstrap_enumeration_is_exact(eight_states, weights):
    """All 256 sign vectors: the fast algorithm's p-value equals a brute-force re-fit of each draw."""
    res = twfe_did(eight_states, y="lemp", unit="countyreal", time="year", treat="d", weights=weights,
                   cluster="state")
    boot = wild_cluster_bootstrap(res, B=9999)
    assert boot.enumerated and boot.B == 256 and boot.n_clusters == 8
    des = res.design
    y_tilde = des.residualise(des.y)     # restricted residuals under H0: b = 0
    fitted = des.y - y_tilde
    v_all, _ = draw_weights("rademacher", 8, 9999, np.random.default_rng(0))
    t_boot = []
    for v in v_all.T:
        fit = dataclasses.replace(des, y=fitted + y_tilde * v[des.cluster]).fit()
        t_boot.append(fit.coef[0] / math.sqrt(fit.vcov[0, 0]))
    expected = np.mean(np.abs(t_boot) > abs(res.estimate / res.se) * (1 + 1e-10))
    assert boot.p == expected
    assert boot.p == wild_cluster_bootstrap(res, B=9999, seed=123).p  # no randomness when enumerating
    # Recorded values (full enumeration is deterministic): unweighted 0.515625, weighted 0.484375.
    assert boot.p == {None: 0.515625, "w": 0.484375}[weights]


def test_wild_bootstrap_random_and_inversion(mpdta):
    res = twfe_did(mpdta, y="lemp", unit="countyreal", time="year", treat="d")
    boot = wild_cluster_bootstrap(res, B=1999, seed=7)
    again = wild_cluster_bootstrap(res, B=1999, seed=7)
    assert boot == again and not boot.enumerated
    # with 500 clusters the bootstrap agrees with the CR1 t test
    assert boot.p == pytest.approx(res.p, abs=0.005)
    assert boot.ci[0] == pytest.approx(res.ci[0], rel=0.05) and boot.ci[1] == pytest.approx(res.ci[1], rel=0.1)
    # test inversion: just inside the interval H0 is not rejected, just outside it is
    se = res.se
    assert wild_cluster_bootstrap(res, B=1999, seed=7, beta0=boot.ci[0] + 0.01 * se).p >= 0.05
    assert wild_cluster_bootstrap(res, B=1999, seed=7, beta0=boot.ci[0] - 0.01 * se).p < 0.05
    for kind in ("webb", "mammen"):
        other = wild_cluster_bootstrap(res, B=999, seed=1, weights=kind)
        assert other.p == pytest.approx(res.p, abs=0.01)
    wcu = wild_cluster_bootstrap(res, B=999, seed=1, impose_null=False)
    assert wcu.ci[0] < res.estimate < wcu.ci[1] and "WCU" in wcu.summary()
    assert set(boot.tidy().columns) >= {"p_boot", "ci_low", "ci_high", "B", "method"}


def test_bad_input(mpdta):
    with pytest.raises(ValueError, match="'nope'"):
        twfe_did(mpdta, y="nope", unit="countyreal", time="year", treat="d")
    with pytest.raises(ValueError, match="no treated observations"):
        twfe_did(mpdta.assign(d=0.0), y="lemp", unit="countyreal", time="year", treat="d")
    with pytest.raises(ValueError, match="no comparison units"):
        twfe_did(mpdta.assign(d=1.0), y="lemp", unit="countyreal", time="year", treat="d")
    with pytest.raises(ValueError, match="more than one row"):
        twfe_did(pd.concat([mpdta, mpdta.head(1)]), y="lemp", unit="countyreal", time="year", treat="d")
    with pytest.raises(ValueError, match="missing"):
        twfe_did(mpdta.assign(lemp=mpdta["lemp"].where(mpdta.index != 3)), y="lemp", unit="countyreal",
                 time="year", treat="d")
    with pytest.raises(ValueError, match="weights"):
        twfe_did(mpdta.assign(w=0.0), y="lemp", unit="countyreal", time="year", treat="d", weights="w")
    with pytest.raises(ValueError, match="weights must be one of"):
        wild_cluster_bootstrap(twfe_did(mpdta, y="lemp", unit="countyreal", time="year", treat="d"),
                               weights="normal")
    with pytest.raises(ValueError, match="no never-treated"):
        event_study(mpdta[mpdta["first.treat"] > 0], y="lemp", unit="countyreal", time="year",
                    first_treated="first.treat")


def test_unbalanced_panel_is_fitted(mpdta):
    """Dropping rows keeps the estimator exact (pyfixest on the same rows)."""
    pf = pytest.importorskip("pyfixest")
    sub = mpdta.drop(index=mpdta.index[::7]).reset_index(drop=True)
    res = twfe_did(sub, y="lemp", unit="countyreal", time="year", treat="d", weights="w")
    ref = pf.feols("lemp ~ d | countyreal + year", data=sub, vcov={"CRV1": "countyreal"}, weights="w")
    assert res.estimate == pytest.approx(float(ref.coef().iloc[0]), abs=1e-8)
    assert res.se == pytest.approx(float(ref.se().iloc[0]), rel=1e-6)


def _programmed_log_effect(truth: dict, effect: str, starts: pd.Series) -> float:
    """The programmed log effect averaged over days of the given quarters (ramp included)."""
    eff = next(e for e in truth["effects"] if e["name"] == effect)
    start = pd.Timestamp(next(iter(eff["start_dates"].values())))
    values = []
    for q in starts:
        days = pd.date_range(q, q + pd.offsets.QuarterEnd(0), freq="D")
        share = np.clip((days - start).days / (eff["ramp_months"] * 30.44), 0, 1)
        values.append(np.mean(np.log1p(eff["relative_change"] * share)))
    return float(np.mean(values))


def test_recovers_pioneer_wave1_effect(small_england_panel):
    panel, truth = small_england_panel
    from joinedup.impact.panel import ramp_excluded

    wave1 = panel[panel["wave"] != 2]   # wave 1 against never-treated areas (Vanguards excluded)
    full = math.log1p(next(e for e in truth["effects"] if e["name"] == "pioneer_wave_1")["relative_change"])
    # 1. Ramp excluded: wave 1 starts 2013-11-01 (first treated quarter 2013Q4) and reaches its full
    #    effect on 2014-11-01, inside 2014Q4: the first 5 treated quarters are ramp.
    plateau = twfe_did(ramp_excluded(wave1, 5), weights="weight")
    assert plateau.ci[0] <= full <= plateau.ci[1]
    # 2. All post periods: compare with the programmed effect averaged over them (ramp included).
    res = twfe_did(wave1, weights="weight")
    post = sorted(wave1.loc[wave1["post"], "period_start"].unique())
    average = _programmed_log_effect(truth, "pioneer_wave_1", pd.Series(post))
    assert res.ci[0] <= average <= res.ci[1]
    assert average > full  # the ramp dilutes the average
    assert res.pct == pytest.approx(100 * math.expm1(res.estimate))


@pytest.fixture(scope="module")
def small_england_panel(small_england):
    from joinedup.data import open_dataset
    from joinedup.impact.panel import area_panel
    from joinedup.indicators import compute_indicators

    ds = open_dataset(small_england)
    table = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    with pytest.warns(UserWarning, match="dropped"):
        panel = area_panel(table, ds, "emergency_admissions", scale="log", zeros="drop_area")
    return panel, json.loads((small_england / "truth.json").read_text())
