"""Ridge ASCM and conformal intervals for synthetic control against pysyncon 1.7.0, and known truth.

References: tests/data/reference/pysyncon_ascm*.csv and pysyncon_conformal.csv, written by
tests/data/reference/pysyncon_ascm_conformal.py with pysyncon 1.7.0 (the compare group) on
Proposition 99 (california_prop99.csv, 1970-1988 before, 1989-2000 after).

Tolerances and why:
- ASCM weights: 2e-5 absolute. pysyncon solves the simplex QP with SLSQP (ftol 1e-12), which stops
  about 3e-6 short of the exact optimum our active-set solver reaches; the ridge step is the same
  closed form. The ATT: 1e-4 (a weighted sum of packs per capita near 100 with those weights).
- Cross-validation errors: 1e-4 relative (the same SLSQP gap in each fold); lambda exactly (same
  grid, and the 1-SE rule picks the same grid point).
- Conformal intervals (alpha = 0.1, 1989-1992): pysyncon's root search ends at a value it accepted,
  within its last step (at most tol / 0.75 = 0.0133 with tol = 0.01) inside the true end, so each of
  our ends (bisected to 1e-6 of the outcome's range) lies outside pysyncon's by 0 to 0.02 packs
  (1e-3 of slack on the inside for SLSQP's weights).
- Known truth: a two-factor panel (the one in test_impact_synth) whose treated unit mixes donors,
  effect 5, noise 0.3: the ATT within 0.5, as for synth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.synthetic.ascm import ascm, centred, lambda_grid
from joinedup.impact.synthetic.conformal import conformal_intervals

DATA = Path(__file__).parent / "data"
EXT, REF = DATA / "external", DATA / "reference"
PRE, POST = list(range(1970, 1989)), list(range(1989, 2001))


@pytest.fixture(scope="module")
def prop99():
    return pd.read_csv(EXT / "california_prop99.csv", sep=";")


@pytest.fixture(scope="module")
def prop99_ascm(prop99):
    return ascm(prop99, "State", "Year", "PacksPerCapita", "California", 1989)


def factor_panel(seed=3, n=25, periods=40, start=31, effect=5.0, noise=0.3):
    """Units with two latent factors; unit 'T' mixes donors d0-d2, so a synthetic control exists."""
    rng = np.random.default_rng(seed)
    f = np.column_stack([np.linspace(0, 3, periods), np.sin(np.arange(periods) / 3)])
    load = rng.uniform(0, 2, size=(n, 2))
    treated_load = np.array([0.5, 0.3, 0.2]) @ load[:3]
    ids = [f"d{i}" for i in range(n)] + ["T"]
    mu = np.vstack([load, treated_load]) @ f.T + 10
    y = mu + rng.normal(0, noise, size=mu.shape)
    y[-1, start - 1:] += effect
    t = np.arange(1, periods + 1)
    return pd.DataFrame({"unit": np.repeat(ids, periods), "t": np.tile(t, n + 1), "y": y.ravel()})


# --- ASCM against pysyncon's AugSynth ----------------------------------------------------------------


def test_ascm_matches_pysyncon_augsynth_reference(prop99_ascm):
    ref = pd.read_csv(REF / "pysyncon_ascm.csv").set_index("donor")
    res = prop99_ascm
    assert res.lambda_ == pytest.approx(ref.loc["_lambda", "W"], rel=1e-9)
    donors = ref.index.drop(["_lambda", "_att"])
    np.testing.assert_allclose(res.weights.loc[donors], ref.loc[donors, "W"], atol=2e-5)
    np.testing.assert_allclose(res.scm_weights.loc[donors], ref.loc[donors, "synw"], atol=2e-5)
    assert res.att == pytest.approx(ref.loc["_att", "W"], abs=1e-4)
    cv = pd.read_csv(REF / "pysyncon_ascm_cv.csv")
    np.testing.assert_allclose(res.cv["lambda"], cv["lambda"], rtol=1e-11)  # stored to 12 digits
    np.testing.assert_allclose(res.cv["error_mean"], cv["errors_mean"], rtol=1e-4)
    np.testing.assert_allclose(res.cv["error_se"], cv["errors_se"], rtol=1e-4)


def test_ascm_matches_pysyncon_live_with_a_fixed_lambda(prop99):
    pysyncon = pytest.importorskip("pysyncon", reason="pysyncon is in the compare group (uv sync --group compare)")
    states = sorted(s for s in prop99["State"].unique() if s != "California")
    dp = pysyncon.Dataprep(foo=prop99, predictors=[], predictors_op="mean", dependent="PacksPerCapita",
                           unit_variable="State", time_variable="Year", treatment_identifier="California",
                           controls_identifier=states, time_predictors_prior=PRE, time_optimize_ssr=PRE)
    aug = pysyncon.AugSynth()
    aug.fit(dp, lambda_=50.0, use_covariates=False)
    res = ascm(prop99, "State", "Year", "PacksPerCapita", "California", 1989, lambda_=50.0)
    np.testing.assert_allclose(res.weights.loc[states], aug.W, atol=2e-5)
    assert res.att == pytest.approx(aug.att(POST)["att"], abs=1e-4)
    assert res.cv is None and res.lambda_ == 50.0


def test_ridge_adjustment_properties(prop99, prop99_ascm):
    res = prop99_ascm
    adj = res.ridge_adjustment
    assert abs(adj.sum()) < 1e-10 and abs(res.weights.sum() - 1) < 1e-10
    assert (res.scm_weights >= 0).all() and (res.weights < 0).any()   # ridge extrapolates
    # lambda -> infinity: no adjustment, plain synthetic control; lambda -> 0 with more donors than
    # pre-periods: the augmented weights interpolate the pre-period exactly
    big = ascm(prop99, "State", "Year", "PacksPerCapita", "California", 1989, lambda_=1e12)
    assert np.abs(big.ridge_adjustment).max() < 1e-6
    tiny = ascm(prop99, "State", "Year", "PacksPerCapita", "California", 1989, lambda_=1e-8)
    assert tiny.pre_rmspe < 1e-4 < res.pre_rmspe < big.pre_rmspe
    # the effects by period are the gaps after 1989
    eff = res.effects()
    assert list(eff["time"]) == POST and eff["estimate"].mean() == pytest.approx(res.att)


def test_lambda_grid_is_pysyncons():
    X0, _ = centred(np.arange(12.0).reshape(3, 4) ** 1.5, np.zeros(3))
    grid = lambda_grid(X0)
    s = np.linalg.svd(X0, compute_uv=False)[0]
    assert len(grid) == 21 and grid[1] == pytest.approx(s ** 2) and grid[-1] == pytest.approx(s ** 2 * 1e-8 ** 0.95)


# --- conformal intervals against pysyncon's ConformalInference ----------------------------------------


def test_conformal_matches_pysyncon_reference(prop99):
    ref = pd.read_csv(REF / "pysyncon_conformal.csv").set_index("time")
    res = conformal_intervals(prop99, "State", "Year", "PacksPerCapita", "California", 1989, alpha=0.1)
    ours = res.periods.set_index("time").loc[ref.index]
    np.testing.assert_allclose(ours["estimate"], ref["value"], atol=1e-4)
    assert ((ref["lower_ci"] - ours["ci_low"]).between(-1e-3, 0.02)).all(), (ours, ref)
    assert ((ours["ci_high"] - ref["upper_ci"]).between(-1e-3, 0.02)).all(), (ours, ref)
    assert (ours["ci_high"] < 0).all()   # Proposition 99 cut smoking from its first year


def test_conformal_interval_ends_are_where_the_test_turns(prop99):
    """Each end is a point where p(g) crosses alpha: accepted just inside, rejected just outside."""
    from joinedup.impact.synthetic.ascm import scm_weights

    res = conformal_intervals(prop99, "State", "Year", "PacksPerCapita", "California", 1989, alpha=0.1)
    wide = prop99.pivot(index="Year", columns="State", values="PacksPerCapita")
    y1 = wide.pop("California").to_numpy()
    Y0 = wide.to_numpy()

    def p(t_index, g):  # written out again from CWZ's definition
        rows = list(range(19)) + [t_index]
        y = y1[rows].copy()
        y[-1] -= g
        u = np.abs(y - Y0[rows] @ scm_weights(Y0[rows], y))
        return np.mean(u >= u[-1])

    for r in res.periods.itertuples():
        i = PRE.__len__() + POST.index(r.time)
        assert p(i, r.ci_low + 1e-3) > 0.1 >= p(i, r.ci_low - 1e-3)
        assert p(i, r.ci_high - 1e-3) > 0.1 >= p(i, r.ci_high + 1e-3)
        assert p(i, r.estimate) > 0.1


def test_conformal_is_unbounded_with_too_few_periods():
    b = pd.read_csv(EXT / "basque.csv")
    b = b[b["regionno"] != 1]   # Spain as a whole is not a donor
    kw = {"data": b, "unit": "regionno", "time": "year", "outcome": "gdpcap", "treated_unit": 17,
          "treatment_time": 1970}
    # 15 pre-periods: p(g) >= 1/16 > 0.05, so at 95% nothing can be rejected
    wide = conformal_intervals(**kw, alpha=0.05)
    assert np.isinf(wide.periods[["ci_low", "ci_high"]]).all().all()
    assert np.isfinite(wide.average["ci_high"])     # the average uses every period's shifts (1/43)
    narrow = conformal_intervals(**kw, alpha=0.1)
    assert np.isfinite(narrow.periods[["ci_low", "ci_high"]]).all().all()


# --- known truth --------------------------------------------------------------------------------------


@pytest.mark.parametrize("effect", [5.0, 0.0])
def test_known_truth_factor_panel(effect):
    panel = factor_panel(effect=effect)
    res = ascm(panel, "unit", "t", "y", "T", 31)
    assert abs(res.att - effect) < 0.5
    for method in ("synth", "ascm"):
        ci = conformal_intervals(panel, "unit", "t", "y", "T", 31, method=method, alpha=0.1)
        a = ci.average
        assert a["ci_low"] <= effect <= a["ci_high"], (method, a)
        if effect:
            assert a["ci_low"] > 0 and a["p_value"] <= 0.1      # a clear effect is found
        per = ci.periods
        assert ((per["ci_low"] <= effect) & (effect <= per["ci_high"])).mean() >= 0.7


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda d: ascm(d, "State", "Year", "PacksPerCapita", "California", 1989, lambda_=-1.0), "lambda_ must be a positive number"),
    (lambda d: ascm(d, "State", "Year", "PacksPerCapita", "California", 1989, holdout_length=19), "holdout_length"),
    (lambda d: ascm(d, "State", "Year", "PacksPerCapita", "California", 1989, lambdas=[]), "lambdas must be positive"),
    (lambda d: ascm(d, "State", "Year", "Packs", "California", 1989), "column 'Packs' not in data"),
    (lambda d: ascm(d, "State", "Year", "PacksPerCapita", "Narnia", 1989), "'Narnia' is not a value"),
    (lambda d: conformal_intervals(d, "State", "Year", "PacksPerCapita", "California", 1989, method="sdid"), "method must be"),
    (lambda d: conformal_intervals(d, "State", "Year", "PacksPerCapita", "California", 1989, alpha=5), "alpha must be"),
    (lambda d: conformal_intervals(d.drop(d.index[3]), "State", "Year", "PacksPerCapita", "California", 1989), "unbalanced"),
])
def test_bad_input_names_the_problem(prop99, call, message):
    with pytest.raises(ValueError, match=message):
        call(prop99)
