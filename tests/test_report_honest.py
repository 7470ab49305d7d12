"""HonestDiD for the main design (joinedup.impact.honest.main_design) and the report's wording of it.

No external reference here: the sets themselves are checked against R HonestDiD in
tests/test_impact_honest.py. These tests check (a) that the fast path gives the same answers as the
linear-programme path it replaces, exactly (same grid, same decisions); (b) that the breakdown value
is where the set starts to include zero; (c) that every number the report says is the table's.
"""

import re

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.event_study import event_study
from joinedup.impact.honest import honest_did
from joinedup.impact.honest._arp import conditional_test, conditional_tests_no_nuisance, least_favorable_cv
from joinedup.impact.honest.main_design import breakdown_value, first_post_inputs, honest_table
from joinedup.report.honest_section import honest_html, honest_sentences


def _event_study(effect=0.05, trend=0.0, seed=7):
    """Wave at t = 14 against never-treated units; ``trend``: a linear violation, held flat beyond the
    window's ends as the event study bins those periods (so it stays linear in the coefficients)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(60):
        g = 14 if i < 20 else 0
        a = rng.normal()
        for t in range(1, 40):
            rows.append({"area_code": f"A{i:02d}", "t": t, "first_treated": g,
                         "y": a + 0.01 * t + (trend * min(max(t - g, -8), 16) if g else 0.0)
                         + (effect if g and t >= g else 0.0) + rng.normal(scale=0.05)})
    return event_study(pd.DataFrame(rows), window=(-8, 16))


@pytest.fixture(scope="module")
def es():
    return _event_study()


@pytest.mark.parametrize("hybrid", [False, True])
def test_vectorised_no_nuisance_test_matches_the_lp_test(hybrid):
    rng = np.random.default_rng(0)
    rejections = []
    for rep in range(12):
        m = int(rng.integers(2, 9))
        L = rng.normal(size=(m, m))
        sig = L @ L.T + 0.1 * np.eye(m)
        X = np.zeros((m, 0))
        lf = least_favorable_cv(X, sig, 0.005) if hybrid else None
        kappa = 0.005 if hybrid else 0.0
        Y = rng.normal(size=(150, m)) * 2 + rng.normal(size=m) * 3
        loop = np.array([conditional_test(y, X, sig, 0.05, lf, kappa) for y in Y])
        np.testing.assert_array_equal(conditional_tests_no_nuisance(Y, sig, 0.05, lf, kappa), loop)
        rejections.append(loop.mean())
    assert 0.1 < np.mean(rejections) < 0.9  # both decisions exercised


def test_first_post_cut_leaves_the_flci_unchanged(es):
    """The FLCI's post weights are l' = e_1, so later post periods cannot move it."""
    beta, sigma, n_pre = first_post_inputs(es)
    tab = es.table[~es.table.reference]
    assert n_pre == 7 and len(beta) == 8 and len(tab) == 24
    full = honest_did(tab.estimate.to_numpy(), es.vcov, 7, 17, restriction="SD", m_values=[0, 0.01]).table
    cut = honest_did(beta, sigma, 7, 1, restriction="SD", m_values=[0, 0.01]).table
    np.testing.assert_allclose(cut[["lb", "ub"]], full[["lb", "ub"]], rtol=1e-6)


def test_table_and_breakdown_values(es):
    t = honest_table(es)
    assert set(t.restriction) == {"SD", "RM"} and len(t) == 10
    assert list(t.loc[t.restriction == "RM", "m"]) == [0, 0.5, 1, 1.5, 2]
    beta, sigma, n_pre = first_post_inputs(es)
    for r, rows in t.groupby("restriction"):
        b = rows.breakdown.iloc[0]
        assert b is not None and 0 < b < np.inf
        # the grid agrees with the bisected value, and the set changes side at it
        assert (rows.excludes_zero == (rows.m <= b)).all(), rows
        at = honest_did(beta, sigma, n_pre, 1, restriction=r, m_values=[b, b * 1.03]).table
        assert at.lb.iloc[0] > 0 and at.lb.iloc[1] <= 0
        # sets widen with M
        assert (np.diff(rows.lb) <= 1e-12).all() and (np.diff(rows.ub) >= -1e-12).all()
    # the programmed effect 0.05 under parallel trends lies in every set
    assert ((t.lb < 0.05) & (t.ub > 0.05)).all()


def test_breakdown_none_when_zero_is_inside_at_zero():
    beta, sigma = np.array([0.0, 0.01]), np.eye(2) * 0.01
    assert breakdown_value(beta, sigma, 1, 1, "RM") is None
    assert breakdown_value(beta, sigma, 1, 1, "SD") is None


def test_sentences_quote_the_table(es):
    t = honest_table(es)
    words = honest_sentences(t)
    assert len(words) == 3
    first = t.iloc[0]
    assert f"estimate {first.estimate:.4f}" in words[0]
    assert f"{first.original_low:.4f} to {first.original_high:.4f}" in words[0]
    rm, sd = t[t.restriction == "RM"], t[t.restriction == "SD"]
    assert f"up to Mbar = {rm.breakdown.iloc[0]:.2f} (the breakdown value)" in words[1]
    one = rm[rm.m == 1].iloc[0]
    assert f"at Mbar = 1 it is {one.lb:.4f} to {one.ub:.4f}." in words[1]
    assert f"up to M = {sd.breakdown.iloc[0]:.4f}" in words[2]
    zero = sd[sd.m == 0].iloc[0]
    assert f"at M = 0.0000 it is {zero.lb:.4f} to {zero.ub:.4f}." in words[2]
    html = honest_html(t.assign(outcome="emergency_admissions"), "emergency_admissions")
    assert html.count("<tr") == 11 and "Robust confidence sets" in html
    assert honest_html(t.assign(outcome="x"), "emergency_admissions") == ""


def test_linear_pre_trend_original_misses_the_effect_smoothness_m0_covers_it():
    """A linear violation of parallel trends (0.05 per period) that continues after the start: the
    usual interval is centred on effect + trend and misses the programmed 0.05; the smoothness set at
    M = 0 (a linear trend may continue) extrapolates it and covers 0.05, and the words say which."""
    t = honest_table(_event_study(trend=0.05, seed=3))
    first = t.iloc[0]
    assert first.original_low > 0.05          # parallel trends assumed: biased by one period's trend
    sd0 = t[(t.restriction == "SD") & (t.m == 0)].iloc[0]
    assert sd0.lb < 0.05 < sd0.ub
    assert f"at M = 0.0000 it is {sd0.lb:.4f} to {sd0.ub:.4f}." in honest_sentences(t)[2]


def test_event_study_without_period_zero_is_refused_by_name():
    es = _event_study()
    cut = es.table[es.table.rel_time < 0]
    bad = type(es)(cut, es.ref, es.alpha, es.n_clusters, es.outcome, vcov=es.vcov[:7, :7])
    with pytest.raises(ValueError, match="period 0"):
        first_post_inputs(bad)


def test_no_stray_numbers_in_the_words(es):
    """Every decimal in the sentences is one of the table's numbers at the printed precision."""
    t = honest_table(es)
    allowed = {f"{v:.4f}" for col in ("lb", "ub", "estimate", "original_low", "original_high", "m", "breakdown")
               for v in t[col]} | {f"{v:.2f}" for v in t.breakdown}
    for s in honest_sentences(t):
        for number in re.findall(r"-?\d+\.\d+", s):
            assert number in allowed, (number, s)
