"""Paired tests and the GEE odds ratio against hand computations."""

import numpy as np
import pytest
from scipy.stats import chi2

from joinedup.survey.analysis.change import gee_odds_ratio, mcnemar_test, stuart_maxwell, wave_pairs


def pairs(table):
    """Paired (before, after) lists from a 2x2 table [[yes-yes, yes-no], [no-yes, no-no]]."""
    before, after = [], []
    for (b, a), k in zip([(1, 1), (1, 0), (0, 1), (0, 0)], np.ravel(table)):
        before += [b] * k
        after += [a] * k
    return before, after


def test_mcnemar_exact_below_25_discordant():
    r = mcnemar_test(*pairs([[5, 10], [3, 7]]))
    # two-sided exact binomial: 2 * P(X <= 3 | n = 13, p = 1/2) = 2 * (1 + 13 + 78 + 286) / 2**13
    assert r["paired_method"] == "mcnemar_exact"
    assert r["paired_statistic"] == 3.0
    assert r["paired_p_value"] == pytest.approx(2 * 378 / 8192)


def test_mcnemar_chi2_with_continuity_correction_from_25():
    r = mcnemar_test(*pairs([[4, 20], [8, 9]]))
    assert r["paired_method"] == "mcnemar_chi2"
    assert r["paired_statistic"] == pytest.approx((abs(20 - 8) - 1) ** 2 / 28)
    assert r["paired_p_value"] == pytest.approx(chi2.sf(121 / 28, 1))


def test_stuart_maxwell_matches_fleiss_closed_form_for_3x3():
    table = np.array([[20, 10, 5], [3, 30, 15], [0, 5, 40]])
    before, after = [], []
    for i in range(3):
        for j in range(3):
            before += ["abc"[i]] * table[i, j]
            after += ["abc"[j]] * table[i, j]
    d = table.sum(1) - table.sum(0)
    def nbar(i, j):
        return (table[i, j] + table[j, i]) / 2
    hand = ((nbar(1, 2) * d[0] ** 2 + nbar(0, 2) * d[1] ** 2 + nbar(0, 1) * d[2] ** 2)
            / (2 * (nbar(0, 1) * nbar(0, 2) + nbar(0, 1) * nbar(1, 2) + nbar(0, 2) * nbar(1, 2))))
    r = stuart_maxwell(before, after, ["a", "b", "c", "unused"])
    assert r["sm_df"] == 2  # the unused category is left out
    assert r["sm_statistic"] == pytest.approx(hand)
    assert r["sm_p_value"] == pytest.approx(chi2.sf(hand, 2))


def test_stuart_maxwell_with_one_category_is_empty():
    assert np.isnan(stuart_maxwell(["a", "a"], ["a", "a"], "ab")["sm_statistic"])


def test_gee_balanced_clusters_give_the_crude_odds_ratio():
    # every Pioneer has the same design in both waves: the saturated GEE reproduces the proportions
    # wave 0: 2/6 yes, wave 1: 4/6 yes -> OR = (4/2) / (2/4) = 4
    y = [1, 0, 0, 0, 1, 0] + [1, 1, 0, 1, 1, 0]
    later = [0] * 6 + [1] * 6
    pioneer = list("aabbcc") * 2
    r = gee_odds_ratio(y, later, pioneer)
    assert r["estimate"] == pytest.approx(4.0, rel=1e-6)
    assert r["ci_low"] < 4.0 < r["ci_high"] and 0 < r["p_value"] < 1
    assert r["method"] == "gee_logit_exchangeable_pioneer_robust"


def test_gee_not_estimable_cases():
    assert gee_odds_ratio([1, 1, 0, 1], [0, 0, 1, 1], list("abab"))["method"].startswith("not estimable")
    assert np.isnan(gee_odds_ratio([1, 0, 0, 1], [0, 0, 1, 1], list("aaaa"))["estimate"])


def test_wave_pairs():
    assert wave_pairs([1, 2, 3]) == [(1, 2), (2, 3), (1, 3)]
    assert wave_pairs([1, 2]) == [(1, 2)]
    assert wave_pairs([1]) == []
