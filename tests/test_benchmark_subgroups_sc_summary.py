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


def test_summarise_file_splits_the_statistics(tmp_path):
    """A ``--sc-scaled`` run has three test rows per site-seed (raw, scaled, scaled with own noise);
    each is summarised on its own, and a run without the column is all raw."""
    from subgroups_sc_summary import summarise_file

    p = {"raw": [0.01, 0.5, 0.02, 0.5], "scaled": [0.5, 0.5, 0.5, 0.01], "scaled, own noise": [0.5] * 4}
    rows = [{"seed": seed, "site": site, "design": "d", "estimator": f"ASCM per site, placebo test of equal "
             f"effects (x), site {site}", "estimand": "equal effects (true)", "p_value": p[k][2 * seed + i],
             "n_placebos": 54, "statistic": k, "estimate": 0.0, "target": 0.0}
            for k in p for seed in range(2) for i, site in enumerate(["a", "b"])]
    pd.DataFrame(rows).to_csv(tmp_path / "run.csv", index=False)
    _, records = summarise_file(tmp_path / "run.csv")
    pooled = {r["statistic"]: r for r in records if r["site"] == "pooled"}
    assert {k: pooled[k]["rejections"] for k in p} == {"raw": 2, "scaled": 1, "scaled, own noise": 0}
    assert pooled["raw"]["count_any"] == 1.0 and pooled["scaled"]["count_any"] == 0.5
    site_a = {r["statistic"]: r["rate"] for r in records if r["site"] == "a"}
    assert site_a == {"raw": 1.0, "scaled": 0.0, "scaled, own noise": 0.0}
    old = pd.DataFrame([r for r in rows if r["statistic"] == "raw"]).drop(columns="statistic")
    old.to_csv(tmp_path / "old.csv", index=False)  # a run from before --sc-scaled
    _, records = summarise_file(tmp_path / "old.csv")
    assert {r["statistic"] for r in records} == {"raw"}
    assert [r["rejections"] for r in records if r["site"] == "pooled"] == [2]
