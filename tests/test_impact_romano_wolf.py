"""Romano-Wolf step-down p-values by the wild cluster bootstrap (joinedup.impact.romano_wolf).

R is not installed here (no Rscript), so wildrwolf could not be compared; the step-down is compared
with pyfixest 0.60's ``_get_rwolf_pval`` (which counts (#{>=} + 1) / (B + 1): the same ranking), and
the defining properties are tested on hand-made panels with a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyfixest.estimation.post_estimation.multcomp import _get_rwolf_pval

from joinedup.impact.romano_wolf import step_down, twfe_romano_wolf
from joinedup.impact.twfe import twfe_did, wild_cluster_bootstrap


@pytest.mark.parametrize("seed", range(10))
def test_step_down_equals_pyfixest_up_to_its_plus_one_convention(seed):
    rng = np.random.default_rng(seed)
    S, B = int(rng.integers(1, 7)), int(rng.integers(50, 400))
    cov = np.full((S, S), rng.uniform(0, 0.8)) + np.eye(S) * 0.5
    draws = rng.multivariate_normal(np.zeros(S), cov, size=B)
    t = rng.normal(0, 2.5, S)
    ours = step_down(t, draws)
    assert np.allclose((B * ours + 1) / (B + 1), _get_rwolf_pval(t, draws), rtol=0, atol=1e-12)


def test_step_down_is_monotone_and_never_below_the_unadjusted_bootstrap_p():
    rng = np.random.default_rng(3)
    for _ in range(50):
        S = int(rng.integers(2, 8))
        draws = rng.standard_t(4, size=(299, S)) * rng.uniform(0.5, 2, S)
        t = rng.normal(0, 2, S)
        adj = step_down(t, draws)
        by_size = adj[np.argsort(-np.abs(t))]
        assert np.all(np.diff(by_size) >= 0)  # a larger |t| never gets a larger adjusted p
        raw = np.mean(np.abs(draws) > np.abs(t), axis=0)
        assert np.all(adj >= raw - 1e-15) and np.all(adj <= 1)


def _panel(rng, n_areas=40, n_t=12, start=7, effects=(0.0,), rho=0.5, treated_share=0.5):
    """Areas x periods with one outcome per effect; area-period shocks (SD 0.1) correlated across outcomes."""
    k = len(effects)
    area = np.repeat(np.arange(n_areas), n_t)
    t = np.tile(np.arange(1, n_t + 1), n_areas)
    d = ((area < int(n_areas * treated_share)) & (t >= start)).astype(float)
    cov = (np.full((k, k), rho) + np.eye(k) * (1 - rho)) * 0.01
    y = (rng.normal(0, 1, (n_areas, k))[area] + 0.02 * t[:, None] + d[:, None] * np.asarray(effects)[None, :]
         + rng.multivariate_normal(np.zeros(k), cov, size=len(t)))
    frame = pd.DataFrame({"area_code": [f"A{i:02d}" for i in area], "t": t, "treated_post": d, "weight": 1.0})
    return frame.assign(**{f"y{j}": y[:, j] for j in range(k)})


def test_a_family_of_one_gets_the_single_hypothesis_wild_bootstrap_p():
    rng = np.random.default_rng(5)
    for n_areas, weights in ((40, "rademacher"), (10, "webb"), (8, "rademacher")):  # 8: 2**8 <= B, enumerated
        panel = _panel(rng, n_areas=n_areas, effects=(0.03,))
        fit = twfe_did(panel, y="y0", weights="weight")
        boot = wild_cluster_bootstrap(fit, B=499, weights=weights, seed=11)
        (p_boot, p_rw), = twfe_romano_wolf({"y0": fit}, B=499, weights=weights, seed=11).values()
        assert p_boot == boot.p and p_rw == boot.p


def test_perfectly_dependent_outcomes_cost_nothing_unlike_holm():
    """The outcomes are resampled together: two copies of one outcome keep its own bootstrap p."""
    panel = _panel(np.random.default_rng(8), effects=(0.02,))
    fit = twfe_did(panel, y="y0", weights="weight")
    out = twfe_romano_wolf({"a": fit, "b": fit}, B=999, weights="rademacher", seed=1)
    assert out["a"] == out["b"] and out["a"][1] == out["a"][0]


def test_unequal_cluster_sets_share_the_weights_of_common_areas():
    rng = np.random.default_rng(2)
    panel = _panel(rng, effects=(0.0, 0.0))
    fit_all = twfe_did(panel, y="y0", weights="weight")
    fit_less = twfe_did(panel[panel["area_code"] != "A39"], y="y1", weights="weight")  # one area missing
    out = twfe_romano_wolf({"all": fit_all, "less": fit_less}, B=199, weights="rademacher", seed=4)
    assert set(out) == {"all", "less"} and all(0 <= v <= 1 for pair in out.values() for v in pair)
    # the full-panel outcome's own bootstrap p is the one wild_cluster_bootstrap draws over its clusters
    assert out["all"][0] == wild_cluster_bootstrap(fit_all, B=199, weights="rademacher", seed=4).p


def _family(rng, effects, B=199):
    panel = _panel(rng, effects=effects)
    fits = {f"y{j}": twfe_did(panel, y=f"y{j}", weights="weight") for j in range(len(effects))}
    return twfe_romano_wolf(fits, B=B, weights="rademacher", seed=int(rng.integers(1 << 30)))


def test_on_simulated_data_the_real_effect_is_rejected_and_the_family_wise_error_held():
    rng = np.random.default_rng(2024)
    # one real effect (-0.08; shocks SD 0.1, so its DiD SE is about 0.018) among three nulls
    powered = [_family(rng, (-0.08, 0.0, 0.0, 0.0)) for _ in range(20)]
    assert np.mean([f["y0"][1] < 0.05 for f in powered]) >= 0.9
    # four nulls: the adjusted p-values reject some null in about 5% of families; unadjusted more
    nulls = [_family(rng, (0.0, 0.0, 0.0, 0.0)) for _ in range(120)]
    fwer_rw = np.mean([min(v[1] for v in f.values()) < 0.05 for f in nulls])
    fwer_raw = np.mean([min(v[0] for v in f.values()) < 0.05 for f in nulls])
    print(f"FWER over 120 null families: Romano-Wolf {fwer_rw:.3f}, unadjusted {fwer_raw:.3f}")
    assert fwer_rw <= 0.10, fwer_rw  # 5% nominal; SE about 2% over 120 families
    assert fwer_raw > fwer_rw
