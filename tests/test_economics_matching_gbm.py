"""The gradient-boosted propensity score (distance="gbm") on lalonde.

Not MatchIt's gbm (R's gbm with cross-validated trees), so there is no R reference: the checks are
that the scores are scikit-learn's HistGradientBoostingClassifier fitted on the formula's covariates
(to 1e-12), that the same seed gives the same matches, and that matching on them improves balance on
the covariates that were most imbalanced (re74, married, race).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from joinedup.economics import matchit
from tests.test_economics_matching import DATA, FORMULA


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(DATA / "lalonde_matchit_614.csv", index_col=0)


def test_gbm_scores_matches_and_balance(lalonde):
    m = matchit(FORMULA, lalonde, distance="gbm", seed=3)
    again = matchit(FORMULA, lalonde, distance="gbm", seed=3)
    assert np.array_equal(m.match_matrix, again.match_matrix)
    assert isinstance(m.model, HistGradientBoostingClassifier)
    x = m.covariates.to_numpy()
    ref = HistGradientBoostingClassifier(random_state=3).fit(x, lalonde["treat"]).predict_proba(x)[:, 1]
    assert np.max(np.abs(ref - m.distance)) < 1e-12
    bal = m.balance().set_index(["variable", "sample"])["smd"].abs()
    for var in ("re74", "married"):
        assert bal[(var, "matched")] < bal[(var, "all")]
    assert m.sample_sizes().loc["Matched", "Treated"] == 185
