"""The longitudinal typology on simulated registers: it recovers the programmed narrowing and delays,
and finds neither in the null scenario.

Tests used (joinedup.process.trends): within-site OLS trend with site-clustered SEs and t(G-1);
mean design-to-delivery delay with a site-clustered CI and a one-sided test of "> 12 months".
Tolerances: the narrowing must be found (p < 0.05) in every narrowing seed tried (power is ~1 at
25 sites); in 12 null seeds a measure may be "found" at most 3 times (P(>= 4 | 5% size) = 0.002).
"""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.process.charts import delays_figure, narrowing_figure, positions_figure
from joinedup.process.portfolio import site_years
from joinedup.process.positions import moves, positions, transition_counts
from joinedup.process.register import validate_register
from joinedup.process.trends import delay_test, trend_test
from joinedup.simulate.initiatives import simulate_register


def _run(seed, scenario):
    frame, truth = simulate_register(seed=seed, scenario=scenario)
    reg = validate_register(frame)
    assert reg.rejects.empty
    return reg, site_years(reg.rows), truth


def test_portfolios_equal_the_truth_site_year_by_site_year():
    _, panel, truth = _run(11, "narrowing")
    true = pd.DataFrame(truth["portfolios"]).set_index(["site", "year"])
    got = panel.set_index(["site", "year"])
    true = true.loc[got.index]
    assert (got["initiatives"] == true["initiatives"]).all()
    assert (got["breadth"] == true["types"]).all()
    assert (got["medical_share"] - true["medical_share"]).abs().max() < 1e-12
    assert panel.filter(like="type:").isin([0, 1]).all().all()
    assert {"target:carers", "target:learning_disabilities", "target:cancer", "target:whole_community"} <= set(panel)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_programmed_narrowing_and_delays_are_found(seed):
    reg, panel, truth = _run(seed, "narrowing")
    share, breadth = trend_test(panel, "medical_share"), trend_test(panel, "breadth")
    assert share["slope"] > 0 and share["p_value"] < 0.05
    assert breadth["slope"] < 0 and breadth["p_value"] < 0.05
    assert trend_test(panel, "focus_share")["p_value"] < 0.05
    d = delay_test(reg.initiatives(), reg.rows["period"].max())
    assert d["ci_low"] <= truth["delay_mean_months"] <= d["ci_high"]
    assert d["p_slow"] < 0.05  # "slow from design to delivery" is found
    ini = reg.initiatives().merge(pd.DataFrame(truth["delays"]), on="initiative_id", suffixes=("", "_true"))
    live = ini.dropna(subset=["delay_months"])
    assert (live["delay_months"] == live["delay_months_true"]).all()


def test_null_scenario_finds_no_narrowing_and_no_slow_delivery():
    found = {"medical_share": 0, "breadth": 0}
    for seed in range(12):
        reg, panel, truth = _run(100 + seed, "null")
        for measure in found:
            found[measure] += trend_test(panel, measure)["p_value"] < 0.05
        d = delay_test(reg.initiatives(), reg.rows["period"].max())
        assert d["p_slow"] > 0.05
        if seed < 3:
            assert d["ci_low"] <= truth["delay_mean_months"] <= d["ci_high"]
    assert max(found.values()) <= 3, found


def test_positions_moves_and_charts():
    reg, panel, _ = _run(1, "narrowing")
    pos = positions(panel)
    first, last = pos[pos["year"] == 2015], pos[pos["year"] == 2019]
    assert (last["position"] == "narrow_medical").mean() > (first["position"] == "narrow_medical").mean()
    mv = moves(pos)
    assert len(mv) and (mv["from_position"] != mv["to_position"]).all()
    tc = transition_counts(pos)
    assert tc["site_years"].sum() == len(pos) - pos["site"].nunique()
    assert tc.loc[tc["from_position"] != tc["to_position"], "site_years"].sum() == len(mv)
    figs = [narrowing_figure(panel), positions_figure(pos), delays_figure(reg.initiatives())]
    assert all(f.svg.startswith("<svg") for f in figs)
    assert "medical model" in figs[0].alt_text and "2019" in figs[0].alt_text


def test_trend_test_needs_two_sites():
    with pytest.raises(ValueError, match="at least 2 sites"):
        trend_test(pd.DataFrame({"site": ["A", "A"], "year": [1, 2], "y": [1.0, 2.0]}), "y")
