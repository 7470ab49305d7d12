"""benchmarks/subgroups_sc_summary.py: the family-wise count and the binomial beside it."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from subgroups_sc_summary import site_counts


def _tests(p):
    """Seeds x sites of p-values as the benchmark's long rows."""
    seeds, sites = p.shape
    return pd.DataFrame({"seed": np.repeat(np.arange(seeds), sites), "site": np.tile([f"s{i}" for i in range(sites)],
                                                                                    seeds),
                         "p_value": p.ravel(), "n_placebos": 54})


def test_site_counts_hand_example():
    # 4 seeds x 3 sites; rejections per seed 0, 1, 3, 0 (the third seed: every site at once)
    p = np.array([[0.5, 0.6, 0.7], [0.01, 0.6, 0.7], [0.01, 0.02, 0.03], [0.9, 0.8, 0.7]])
    r = site_counts(_tests(p))
    assert r["counts"] == {0: 2, 1: 1, 3: 1}
    assert r["any"] == 0.5 and r["any_k"] == 2 and r["pooled"] == pytest.approx(4 / 12)
    assert r["any_binomial"] == pytest.approx(1 - (1 - 4 / 12) ** 3)
    assert r["mean_count"] == 1.0
    assert r["var_ratio"] == pytest.approx(np.var([0, 1, 3, 0], ddof=1) / stats.binom(3, 4 / 12).var())
    assert sum(r["binomial_expected"].values()) == pytest.approx(4)


def test_site_counts_identical_sites_are_perfectly_correlated():
    p = np.repeat(np.linspace(0.01, 0.99, 20)[:, None], 4, axis=1)
    r = site_counts(_tests(p))
    assert r["mean_corr_p"] == pytest.approx(1) and r["mean_corr_reject"] == pytest.approx(1)
    assert r["any"] == pytest.approx(r["pooled"])  # all or none reject
