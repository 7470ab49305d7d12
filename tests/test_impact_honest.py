"""HonestDiD sensitivity (joinedup.impact.honest) against R HonestDiD on its BCdata_EventStudy.

Reference: tests/data/honestdid/r_honestdid_bcdata_results.json, R HonestDiD's output (originalCS,
Delta^SD FLCIs for M = 0, .01, .02, .03, Delta^RM C-LF sets for Mbar = .5, 1, 1.5, 2, first post
period), written by anzonyquispe/honestdid tests/test_honestdid.R (MIT; commit 6704330). The Python
port honestdid 0.1.1 was also run (benchmarks/reference/honestdid_reference.py): it needs PyTorch (a
5 GB CUDA install from PyPI), so it is not in the project's lock, and it crashed on BCdata with the
average-of-post-periods target (TypeError in its primal ARP step); its first-period runs took 125 s
(FLCI) and 852 s (C-LF) and were lost with that crash, so the stored reference is R's.

Tolerances and why:
- Original interval: 1e-10 (closed form).
- FLCI (Delta^SD): R simulates the folded-normal critical value from 10^6 draws (about 0.1% off the
  exact quantile we solve for) and finds the optimal sd bound h by a 100-step finite-difference
  bisection, while the half-length is flat near its optimum, so different h give the same length but
  a different centre. Half-length to 0.5%, end points to 1.5% of the half-length (measured: 0.12%
  and 1.2% at M = 0.02, the worst).
- Delta^RM: the set is read off a 1000-point grid over +-20 standard errors, and the least-favourable
  critical value is simulated (R's RNG draws differ from numpy's): end points to one grid step
  (measured: 6 of 8 end points identical, 2 one step apart).
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.event_study import event_study
from joinedup.impact.honest import from_event_study, honest_did
from joinedup.impact.honest._flci import folded_normal_quantile

DATA = Path(__file__).parent / "data" / "honestdid"


@pytest.fixture(scope="module")
def bc():
    d = json.loads((DATA / "bcdata_event_study.json").read_text())
    ref = json.loads((DATA / "r_honestdid_bcdata_results.json").read_text())["bcdata"]
    return np.array(d["betahat"]), np.array(d["sigma"]), ref


def test_original_interval_matches_r(bc):
    beta, sigma, ref = bc
    res = honest_did(beta, sigma, 4, 4, restriction="SD", m_values=[0.0])
    assert res.original == pytest.approx((ref["originalCS"]["lb"][0], ref["originalCS"]["ub"][0]), abs=1e-10)


def test_flci_matches_r(bc):
    beta, sigma, ref = bc
    sd = ref["deltaSD"]
    res = honest_did(beta, sigma, 4, 4, restriction="SD", m_values=sd["M"]).tidy()
    r_half = (np.array(sd["ub"]) - np.array(sd["lb"])) / 2
    half = (res.ub - res.lb).to_numpy() / 2
    np.testing.assert_allclose(half, r_half, rtol=0.005)
    np.testing.assert_allclose(res.lb, sd["lb"], atol=0.015 * r_half.max())
    np.testing.assert_allclose(res.ub, sd["ub"], atol=0.015 * r_half.max())


def test_relative_magnitudes_match_r(bc):
    beta, sigma, ref = bc
    rm = ref["deltaRM"]
    res = honest_did(beta, sigma, 4, 4, restriction="RM", m_values=rm["Mbar"][:2]).tidy()
    step = 40 * np.sqrt(sigma[4, 4]) / 999
    np.testing.assert_allclose(res.lb, rm["lb"][:2], atol=step * 1.0001)
    np.testing.assert_allclose(res.ub, rm["ub"][:2], atol=step * 1.0001)


def test_folded_normal_quantile():
    assert folded_normal_quantile(0.95, 0.0) == pytest.approx(1.959964, abs=1e-6)
    # |N(3, 1)| is almost N(3, 1): its 95% quantile is 3 + 1.645
    assert folded_normal_quantile(0.95, 3.0) == pytest.approx(3 + 1.644854, abs=1e-3)


def test_breakdown_read_off_the_table():
    tab = pd.DataFrame({"m": [0, 0.5, 1, 1.5], "lb": [0.1, 0.05, -0.01, -0.1], "ub": [0.3, 0.4, 0.5, 0.6]})
    from joinedup.impact.honest.api import HonestResult
    res = HonestResult(tab, (0.1, 0.3), "RM", "C-LF", 0.05)
    assert res.breakdown() == 0.5
    assert "up to Mbar (relative magnitudes) = 0.5" in res.summary()


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="n_pre=2"):
        honest_did(np.zeros(3), np.eye(3), 2, 2)


def test_event_study_null_pretrends_sd_interval_covers_programmed_effect():
    """A simulated event study with parallel trends and a step effect of 2: the SD set (M = 0) holds 2."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(40):
        g = 6 if i < 20 else 0
        a = rng.normal()
        for t in range(1, 11):
            rows.append({"area_code": f"A{i:02d}", "t": t, "first_treated": g,
                         "y": a + 0.3 * t + (2.0 if g and t >= g else 0.0) + rng.normal(scale=0.5)})
    es = event_study(pd.DataFrame(rows))
    assert es.vcov.shape == (len(es.table) - 1,) * 2
    res = from_event_study(es, restriction="SD", m_values=[0.0, 0.1])
    tab = res.tidy()
    assert (tab.lb < 2.0).all() and (tab.ub > 2.0).all()
    assert (tab.lb > 0).all()                  # and the effect is clearly there
    assert res.breakdown() == 0.1


def test_least_favorable_cv_same_by_vertices_and_by_lps(monkeypatch):
    """The vertex shortcut and one LP per draw give the same critical value (long windows use LPs)."""
    from joinedup.impact.honest import _arp
    from joinedup.impact.honest._rm import rm_constraints
    rng = np.random.default_rng(3)
    A = rm_constraints(3, 3, 1.0, 0, True)
    L = rng.normal(size=(6, 6))
    sig = (A @ (L @ L.T) @ A.T)[:8, :8] + np.eye(8) * 1e-6
    X = A[:8, 4:]
    by_vertices = _arp.least_favorable_cv(X, sig, 0.005, sims=200)
    monkeypatch.setattr(_arp, "MAX_VERTEX_SUPPORTS", 0)
    assert _arp.least_favorable_cv(X, sig, 0.005, sims=200) == pytest.approx(by_vertices, abs=1e-7)


def test_from_cs_dynamic_aggregation_on_mpdta():
    """CS-DiD's event study (universal base period) feeds HonestDiD with IF'IF/n^2, as R's honest_did."""
    from joinedup.impact.did import att_gt
    from joinedup.impact.honest import from_aggte
    mpdta = pd.read_csv(Path(__file__).parent / "data" / "external" / "mpdta.csv")
    res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", base_period="universal", bstrap=False,
                 cband=False)
    es = res.aggregate("dynamic", bstrap=False, cband=False)
    hon = from_aggte(es, restriction="SD", m_values=[0.0])
    tab = es.tidy()
    post0 = tab[tab.egt == 0].iloc[0]
    z = 1.959963984540054
    assert hon.original == pytest.approx((post0.att - z * post0.se, post0.att + z * post0.se), rel=1e-10)
    with pytest.raises(ValueError, match="universal"):
        from_aggte(att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", bstrap=False,
                          cband=False).aggregate("dynamic", bstrap=False, cband=False))
