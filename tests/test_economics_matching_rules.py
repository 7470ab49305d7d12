"""Matching rules against a brute-force greedy reference, invariants, entropy balancing, bad input.

The reference below is MatchIt's greedy rule written plainly (O(n1 x n0)): treated units in order
of decreasing score, in rounds of one match each; each takes the available control with the
smallest |score difference| within the caliper and its exact stratum, the lower-scored one when two
are equally far, then the one nearer in (stable) sorted order. Exact comparisons: the same
integer indices. Entropy balancing: weighted control means equal treated means to 1e-8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.economics import entropy_balance, matchit
from joinedup.economics.matching.nearest import match_on_score

DATA = Path(__file__).resolve().parent / "data" / "external"
FORMULA = "treat ~ age + educ + race + married + nodegree + re74 + re75"


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(DATA / "lalonde_matchit_614.csv", index_col=0)


def greedy_reference(treat, score, ratio=1, replace=False, caliper=np.inf, strata=None):
    n = len(treat)
    strata = np.zeros(n, int) if strata is None else strata
    pos = np.empty(n, int)
    pos[np.argsort(score, kind="stable")] = np.arange(n)
    t_idx = np.flatnonzero(treat == 1)
    order = t_idx[np.argsort(-score[t_idx], kind="stable")]
    used = np.zeros(n, bool)
    done = {t: False for t in t_idx}
    matches = {t: [] for t in t_idx}
    for _ in range(ratio):
        for t in order:
            if done[t]:
                continue
            best, best_key = None, None
            for c in range(n):
                if treat[c] == 1 or strata[c] != strata[t] or c in matches[t]:
                    continue
                if used[c] and not replace:
                    continue
                d = abs(score[c] - score[t])
                if d > caliper:
                    continue
                key = (d, pos[c] > pos[t], abs(pos[c] - pos[t]))
                if best_key is None or key < best_key:
                    best, best_key = c, key
            if best is None:
                done[t] = True
                continue
            matches[t].append(best)
            used[best] = True
    mm = np.full((len(t_idx), ratio), -1)
    for row, t in enumerate(t_idx):
        mm[row, :len(matches[t])] = matches[t]
    return mm


@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("ratio", [1, 2])
def test_same_matches_as_brute_force(lalonde, replace, ratio):
    m = matchit(FORMULA, lalonde, ratio=ratio, replace=replace, caliper=0.1, exact="married")
    cal = m.settings["caliper_absolute"]
    ref = greedy_reference(m.treat, m.distance, ratio, replace, cal, lalonde["married"].to_numpy())
    np.testing.assert_array_equal(m.match_matrix, ref)


def test_random_instances_with_ties_match_brute_force():
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(20, 60))
        treat = (rng.random(n) < 0.35).astype(int)
        score = rng.integers(0, 12, n) / 12.0  # many ties, including treated-control ties
        order = np.argsort(-score[treat == 1], kind="stable")
        for replace in (False, True):
            got = match_on_score(treat, score, order, ratio=2, replace=replace, caliper=0.2)
            np.testing.assert_array_equal(got, greedy_reference(treat, score, 2, replace, 0.2))


def test_caliper_exact_and_weight_rules(lalonde):
    m = matchit(FORMULA, lalonde, ratio=2, replace=True, caliper=0.1, exact="married")
    cal = m.settings["caliper_absolute"]
    assert cal == pytest.approx(0.1 * np.std(m.distance, ddof=1))
    t_idx = np.flatnonzero(m.treat == 1)
    rows, cols = np.nonzero(m.match_matrix >= 0)
    t, c = t_idx[rows], m.match_matrix[rows, cols]
    assert np.all(np.abs(m.distance[t] - m.distance[c]) <= cal)
    married = lalonde["married"].to_numpy()
    assert np.all(married[t] == married[c])
    md = m.match_data()
    assert "subclass" not in md.columns  # with replacement, as MatchIt
    ctrl = md[md["treat"] == 0]
    assert ctrl["weights"].sum() == pytest.approx(len(ctrl))  # scaled to the matched controls
    assert (md.loc[md["treat"] == 1, "weights"] == 1).all()
    s = m.sample_sizes()
    w = ctrl["weights"]
    assert s.loc["Matched (ESS)", "Control"] == pytest.approx(w.sum() ** 2 / (w ** 2).sum())


def test_without_replacement_controls_used_once(lalonde):
    m = matchit(FORMULA, lalonde, ratio=2, caliper=0.25, m_order="smallest")
    used = m.match_matrix[m.match_matrix >= 0]
    assert len(used) == len(np.unique(used))
    md = m.match_data()
    for _, g in md.groupby("subclass"):
        assert (g["treat"] == 1).sum() == 1 and 1 <= (g["treat"] == 0).sum() <= 2


def test_other_options_run(lalonde):
    base = dict(formula=FORMULA, data=lalonde)
    assert matchit(**base, m_order="random", seed=1).match_matrix.tolist() == \
        matchit(**base, m_order="random", seed=1).match_matrix.tolist()
    atc = matchit(**base, estimand="ATC", replace=True)
    assert atc.sample_sizes().loc["Matched", "Control"] == 429
    disc = matchit(**base, discard="both", reestimate=True)
    assert disc.sample_sizes().loc["Discarded"].sum() > 0
    mah = matchit(**base, mahvars=["age", "educ", "re74", "re75"], caliper=0.2)
    got = mah.match_matrix[:, 0] >= 0
    t_idx = np.flatnonzero(mah.treat == 1)[got]
    gap = np.abs(mah.distance[t_idx] - mah.distance[mah.match_matrix[got, 0]])
    assert np.all(gap <= mah.settings["caliper_absolute"])  # Mahalanobis within the PS caliper
    full = matchit(**base, distance="mahalanobis")
    assert full.distance is None and "distance" not in full.match_data().columns
    lin = matchit(**base, link="linear.logit")
    assert lin.distance.min() < 0  # the linear predictor, not a probability
    user = matchit(**base, distance=matchit(**base).distance)
    np.testing.assert_array_equal(user.match_matrix, matchit(**base).match_matrix)


def test_entropy_balance_reproduces_treated_means(lalonde):
    covs = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
    eb = entropy_balance(lalonde, "treat", covs)
    assert eb.converged
    b = eb.balance
    np.testing.assert_allclose(b["mean_control_weighted"], b["mean_treated"], rtol=0, atol=1e-8)
    w = eb.weights[lalonde["treat"] == 0]
    assert (w > 0).all() and w.sum() == pytest.approx(429)
    eb2 = entropy_balance(lalonde, "treat", ["age", "educ", "re74"], moments=2)
    assert eb2.converged
    b2 = eb2.balance.set_index("variable")
    assert b2.loc["age^2", "mean_control_weighted"] == pytest.approx(b2.loc["age^2", "mean_treated"], rel=1e-10)


def test_unknown_column(lalonde):
    with pytest.raises(KeyError, match="'agee'"):
        matchit("treat ~ agee + educ", lalonde)


def test_non_binary_treatment(lalonde):
    with pytest.raises(ValueError, match="must be binary"):
        matchit("educ ~ age + re74", lalonde)


def test_missing_covariates_named_with_count(lalonde):
    bad = lalonde.copy()
    bad.loc[bad.index[[3, 10, 20]], "re74"] = np.nan
    with pytest.raises(ValueError, match=r"'re74' has 3 missing"):
        matchit(FORMULA, bad)


def test_caliper_too_strict(lalonde):
    apart = lalonde["treat"] * 10 + lalonde["age"] / 100  # every treated score far from every control
    with pytest.raises(ValueError, match="No units were matched: the caliper"):
        matchit(FORMULA, lalonde, distance=apart.to_numpy(), caliper=1, std_caliper=False)


def test_bad_options(lalonde):
    with pytest.raises(ValueError, match="m_order must be one of"):
        matchit(FORMULA, lalonde, m_order="closest")
    with pytest.raises(ValueError, match="ratio"):
        matchit(FORMULA, lalonde, ratio=0)
    with pytest.raises(ValueError, match="caliper needs a score"):
        matchit(FORMULA, lalonde, distance="mahalanobis", caliper=0.1)
