"""The risk model's logistic fit on distinct covariate patterns (economics/risk.py, binomial_glm)
against statsmodels' GLM on every row: the same likelihood, so the same estimates and standard
errors up to the IRLS convergence (both converged to a deviance change of 1e-10: estimates and
predictions to 1e-8 relative; standard errors to 1e-7, because statsmodels takes them from the last
IRLS step's weights, those of the previous iterate, which the two paths reach differently) and the
same prediction per row. Reference: statsmodels (the pinned version) fitted row by
row, as the risk model was fitted before (at statsmodels' default convergence, 1e-8, the two differ
by up to about 4e-7 relative in the standard errors: where each stops iterating)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from joinedup.economics.risk import binomial_glm, calibration_stats


def _rows(n=20_000, seed=3):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"emergency_admissions": rng.poisson(0.3, n), "bed_days": rng.poisson(0.3, n) * rng.integers(0, 9, n),
                      "age": rng.integers(65, 100, n), "male": rng.integers(0, 2, n), "ltc_count": rng.integers(0, 5, n)})
    x = sm.add_constant(x.astype(float), has_constant="add")
    eta = -3 + 0.5 * x["emergency_admissions"] + 0.02 * x["bed_days"] + 0.03 * (x["age"] - 65) + 0.2 * x["ltc_count"]
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return x, y.to_numpy()


def test_the_pattern_fit_equals_the_row_fit():
    x, y = _rows()
    rows = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-10)
    fit, p = binomial_glm(y, x)
    assert len(fit.model.endog) < len(y) / 2  # it did group: far fewer patterns than rows
    assert list(fit.params.index) == list(x.columns)
    np.testing.assert_allclose(fit.params, rows.params, rtol=1e-8)
    np.testing.assert_allclose(fit.bse, rows.bse, rtol=1e-7)
    np.testing.assert_allclose(p, rows.predict(x), rtol=1e-8)


def test_calibration_with_an_offset_equals_the_row_fits():
    x, y = _rows(seed=4)
    p = np.round(np.asarray(sm.GLM(y, x, family=sm.families.Binomial()).fit().predict(x)) * 1.2, 6).clip(1e-6, 1 - 1e-6)
    lp = np.log(p / (1 - p))
    citl = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Binomial(), offset=lp).fit(tol=1e-10).params[0]
    slope = sm.GLM(y, sm.add_constant(lp), family=sm.families.Binomial()).fit(tol=1e-10).params[1]
    got = calibration_stats(y, p)
    assert got["citl"] == pytest.approx(citl, rel=1e-8, abs=1e-10)
    assert got["slope"] == pytest.approx(slope, rel=1e-8)
    assert abs(got["citl"]) > 0.05  # miscalibrated on purpose: the check is not of a zero
