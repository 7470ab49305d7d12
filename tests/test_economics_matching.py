"""Validation of ``joinedup.economics.matchit`` against MatchIt 4.5 on lalonde (614 rows).

Reference: ``summary(matchit(treat ~ age + educ + race + married + nodegree + re74 + re75,
data = lalonde))`` in MatchIt 4.5 (vignette "MatchIt: Getting Started"), printed to 4 decimals.
Tolerance: 5e-5, half a unit in the last printed decimal (we compare rounded values). The
propensity model is checked against statsmodels' Logit (Newton to convergence) to 1e-6 relative:
R's glm stops on a 1e-8 relative change in deviance, after which Newton's quadratic convergence
leaves the coefficients within ~1e-9 of the optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.economics import att, matchit

DATA = Path(__file__).resolve().parent / "data" / "external"
FORMULA = "treat ~ age + educ + race + married + nodegree + re74 + re75"

# variable: (mean treated, mean control, std mean diff), after matching, from summary(m.out1)
MATCHED = {
    "distance": (0.5774, 0.3629, 0.9739),
    "age": (25.8162, 25.3027, 0.0718),
    "educ": (10.3459, 10.6054, -0.1290),
    "raceblack": (0.8432, 0.4703, 1.0259),
    "racehispan": (0.0595, 0.2162, -0.6629),
    "racewhite": (0.0973, 0.3135, -0.7296),
    "married": (0.1892, 0.2108, -0.0552),
    "nodegree": (0.7081, 0.6378, 0.1546),
    "re74": (2095.5737, 2342.1076, -0.0505),
    "re75": (1532.0553, 1614.7451, -0.0257),
}
BEFORE = {
    "distance": (0.5774, 0.1822, 1.7941),
    "age": (25.8162, 28.0303, -0.3094),
    "re74": (2095.5737, 5619.2365, -0.7211),
}


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(DATA / "lalonde_matchit_614.csv", index_col=0)


@pytest.fixture(scope="module")
def m_out(lalonde):
    return matchit(FORMULA, lalonde)


@pytest.fixture(scope="module")
def table(m_out):
    return m_out.balance().set_index(["sample", "variable"])


@pytest.mark.parametrize("variable", list(MATCHED))
def test_matched_balance_equals_matchit(table, variable):
    row = table.loc[("matched", variable)]
    got = (row["mean_treated"], row["mean_control"], row["smd"])
    assert np.round(got, 4) == pytest.approx(MATCHED[variable], abs=5e-5)


@pytest.mark.parametrize("variable", list(BEFORE))
def test_unmatched_balance_equals_matchit(table, variable):
    row = table.loc[("all", variable)]
    got = (row["mean_treated"], row["mean_control"], row["smd"])
    assert np.round(got, 4) == pytest.approx(BEFORE[variable], abs=5e-5)


def test_distance_variance_ratio_and_smd_denominator(m_out, table):
    assert round(table.loc[("matched", "distance"), "var_ratio"], 4) == 0.7566
    assert m_out.balance().attrs["smd_denominator"].startswith("SD of the treated group")
    # the same denominator before and after matching (MatchIt's convention)
    sd = table["sd_denominator"]
    assert sd.loc["all"].equals(sd.loc["matched"])


def test_sample_sizes_equal_matchit(m_out):
    s = m_out.sample_sizes()
    assert s.loc["All"].tolist() == [429, 185]
    assert s.loc["Matched"].tolist() == [185, 185]
    assert s.loc["Unmatched"].tolist() == [244, 0]
    assert s.loc["Discarded"].tolist() == [0, 0]
    text = str(m_out.summary())
    assert "Summary of Balance for Matched Data" in text and "0.9739" in text


def test_match_data_as_matchit(m_out, lalonde):
    md = m_out.match_data()
    assert len(md) == 370 and (md["weights"] == 1).all()
    assert md["treat"].sum() == 185
    assert md["subclass"].nunique() == 185 and md.groupby("subclass").size().eq(2).all()
    # MatchIt numbers subclasses by treated row number sorted as text: NSW1 -> 1, NSW2 -> 98
    assert md.loc["NSW1", "subclass"] == 1 and md.loc["NSW2", "subclass"] == 98
    assert list(md.columns[-3:]) == ["distance", "weights", "subclass"]


def test_propensity_model_equals_logit(m_out, lalonde):
    import statsmodels.api as sm

    from joinedup.economics.matching.design import parse_design

    x = parse_design(FORMULA, lalonde).ps_matrix
    ref = sm.Logit(lalonde["treat"], x).fit(disp=0, tol=1e-12, maxiter=100).params
    assert m_out.model.converged and m_out.model.iterations <= 25
    np.testing.assert_allclose(m_out.coefficients.to_numpy(), ref.to_numpy(), rtol=1e-6, atol=1e-10)
    assert list(m_out.coefficients.index) == ["(Intercept)", "age", "educ", "racehispan", "racewhite",
                                              "married", "nodegree", "re74", "re75"]


def test_propensity_model_in_row_blocks_equals_one_block(m_out, lalonde, monkeypatch):
    """Above CHUNK_ROWS rows the IRLS cross-products are summed block by block (memory at scale 1.0);
    blocks of 100 rows must give the one-block fit up to summation order: coefficients and scores
    to 1e-12 relative, the same iterations, the same aliased-column decision."""
    from joinedup.economics.matching import distance
    from joinedup.economics.matching.design import parse_design

    x = parse_design(FORMULA + " + I(re74 * 2)", lalonde).ps_matrix.to_numpy()  # an aliased column
    whole = distance.glm_fit(x, lalonde["treat"].to_numpy())
    monkeypatch.setattr(distance, "CHUNK_ROWS", 100)
    assert len(distance._chunks(len(x))) == 7
    blocked = distance.glm_fit(x, lalonde["treat"].to_numpy())
    assert np.isnan(whole.coefficients[-1]) and np.isnan(blocked.coefficients[-1])
    np.testing.assert_allclose(blocked.coefficients[:-1], whole.coefficients[:-1], rtol=1e-12)
    np.testing.assert_allclose(blocked.linear_predictor, whole.linear_predictor, rtol=1e-12, atol=1e-13)
    assert blocked.iterations == whole.iterations and blocked.converged
    np.testing.assert_allclose(whole.coefficients[:-1], m_out.coefficients.to_numpy(), rtol=1e-12)


def test_propensity_fit_holds_no_second_copy_of_the_design(monkeypatch):
    """The IRLS works a block of rows at a time: the scaled design, the working weights and the
    working response never exist n rows long (at scale 1.0 the scaled copy alone was 720 MB). Traced
    with tracemalloc (numpy reports its buffers to it): above its inputs the fit holds a few n-long
    vectors (eta, mu and their temporaries: 1/9 of this design each) and blocks, under three quarters
    of the design's size; the whole-array fit needed about twice it."""
    import tracemalloc

    from joinedup.economics.matching import distance

    rng = np.random.default_rng(5)
    n = 400_000
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 8))])
    y = (rng.random(n) < 1 / (1 + np.exp(2 - x[:, 1]))).astype(float)
    monkeypatch.setattr(distance, "CHUNK_ROWS", 20_000)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fit = distance.glm_fit(x, y)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert fit.converged
    assert peak < 0.75 * x.nbytes, f"the fit peaked {peak / x.nbytes:.2f} times the design's size above it"


def test_mahalanobis_transform_in_row_blocks_equals_the_whole_array_one(monkeypatch):
    """Beyond CHUNK_ROWS rows the within-group covariance is summed block by block and the rotation
    written in place; it must give the whole-array transform (MatchIt's) up to summation order, with
    a constant column dropped and discarded units left out of the covariance, and hold under twice
    the caller's array above it (traced: 1.6 times, the dropped column's copy included; the
    whole-array route 3.2 times)."""
    import tracemalloc

    from joinedup.economics.matching import distance

    rng = np.random.default_rng(11)
    n = 60_000
    x = np.column_stack([rng.normal(size=n), rng.poisson(2, n), np.full(n, 3.0), rng.exponential(size=n),
                         rng.integers(0, 2, n)]).astype(float)
    treat = (rng.random(n) < 0.1).astype(np.int8)
    discarded = rng.random(n) < 0.05
    whole = distance.mahalanobis_transform(x, treat, discarded)
    monkeypatch.setattr(distance, "CHUNK_ROWS", 7_000)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        blocked = distance.mahalanobis_transform(x, treat, discarded)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert blocked.shape == whole.shape == (n, 4)
    np.testing.assert_allclose(blocked, whole, rtol=1e-10, atol=1e-12)
    pair = (np.sum((blocked[0] - blocked[1]) ** 2), np.sum((whole[0] - whole[1]) ** 2))
    assert pair[0] == pytest.approx(pair[1], rel=1e-10)
    assert peak < 2.0 * x.nbytes, f"the transform peaked {peak / x.nbytes:.2f} times its input above it"


def test_att_cluster_robust_equals_statsmodels(m_out):
    import statsmodels.api as sm

    md = m_out.match_data()
    est = att(m_out, "re78")
    fit = sm.WLS(md["re78"], sm.add_constant(md["treat"].astype(float)), weights=md["weights"]).fit(
        cov_type="cluster", cov_kwds={"groups": md["subclass"].astype(int)})
    assert est.estimate == pytest.approx(fit.params["treat"], rel=1e-10)
    assert est.se == pytest.approx(fit.bse["treat"], rel=1e-8)
    naive = md.groupby("treat")["re78"].mean()
    assert est.estimate == pytest.approx(naive[1] - naive[0], rel=1e-10)


def test_nsw_experimental_benchmark(m_out, lalonde):
    nsw = pd.read_csv(DATA / "lalonde_nsw_dw_445.csv")
    assert (nsw["treat"] == 1).sum() == 185 and (nsw["treat"] == 0).sum() == 260
    means = nsw.groupby("treat")["re78"].mean()
    experimental = means[1] - means[0]
    assert experimental == pytest.approx(1794.343, abs=1e-3)
    # Matching the NSW treated to PSID controls moves the estimate from the naive -635.03 towards
    # the experimental answer (MatchIt's lalonde uses the PSID controls).
    raw = lalonde.groupby("treat")["re78"].mean()
    naive = raw[1] - raw[0]
    assert naive == pytest.approx(-635.0262, abs=1e-4)
    matched = att(m_out, "re78").estimate
    assert abs(matched - experimental) < abs(naive - experimental)


def test_love_plot_is_a_figure(m_out):
    fig = m_out.love_plot()
    assert fig.svg.startswith("<svg") and "distance" in set(fig.data["variable"])
    assert "after matching" in fig.alt_text.lower()
