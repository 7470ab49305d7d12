"""A practice-level programme (unit = "practice") on simulated England: events by registered practice
over practice list sizes; the designs recover the simulator's programmed practice effect, and 200
placebo practice-level programmes among untreated practices flag about 5% at the 5% level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.impact.evaluate import outcome_panel, run_impact
from joinedup.impact.practice_panel import practice_indicator_table
from joinedup.impact.truth import load_truth
from joinedup.impact.twfe import twfe_did
from joinedup.protocol import Impact

EFFECT = -0.15  # relative change of the programme practices' emergency admissions (simulated truth)
SPEC = Impact(baseline=("2012-01-01", "2014-03-31"), biters=99, seed=7, scale="rate")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from joinedup.simulate import simulate
    from joinedup.simulate.scenario import Scenario

    folder = tmp_path_factory.mktemp("practice") / "data"
    simulate(folder, scale=0.005, seed=11, years=(2012, 2016),
             scenario=Scenario(name="practice", practice_effect=EFFECT))
    ds = load_dataset(folder)
    truth = load_truth(folder)
    effect = next(e for e in truth["effects"] if e["name"] == "practice_programme")
    sites = pd.DataFrame([(s, c, effect["start_dates"][c]) for s, codes in effect["sites"].items() for c in codes],
                         columns=["site", "unit_code", "start_date"])
    # the practices of Pioneer and Vanguard areas are another programme, kept out of the comparisons
    from joinedup.simulate.practice_closures import simulated_practice_programme

    programme = simulated_practice_programme(ds, truth)
    return {"ds": ds, "truth": truth, "programme": programme, "sites": sites}


def test_the_practice_table_counts_events_by_registered_practice(world):
    ds = world["ds"]
    table = practice_indicator_table(ds, "emergency_admissions", "quarter")
    adm = ds.execute(ds.table("admissions").select("practice_code", "admission_date", "admission_method"))
    assert set(table["area_code"]) <= set(ds.execute(ds.table("practices"))["practice_code"])
    # the events of the areas' table and of the practices' table are the same events
    from joinedup.indicators import compute_indicators
    areas = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    area_rows = areas[(areas["level"] == "area")]
    q = pd.Timestamp("2013-04-01")
    by_practice = table.loc[pd.to_datetime(table["period_start"]) == q, "numerator"].sum()
    by_area = area_rows.loc[pd.to_datetime(area_rows["period_start"]) == q, "numerator"].sum()
    assert by_practice == by_area and by_practice > 0
    # denominators are list sizes at the quarter's extract
    pp = ds.execute(ds.table("practice_population"))
    code = table["area_code"].iloc[0]
    expect = pp[(pp["practice_code"] == code) & (pd.to_datetime(pp["extract_date"]) == q)]["persons"].sum()
    got = table[(table["area_code"] == code) & (pd.to_datetime(table["period_start"]) == q)]["denominator"]
    assert float(got.iloc[0]) == float(expect)
    assert len(adm) > 0


@pytest.fixture(scope="module")
def result(world):
    return run_impact(world["ds"], None, SPEC, world["truth"], programme=world["programme"])


def test_a_practice_level_programme_recovers_its_programmed_effect(result):
    est = result.tables["impact_estimates"]
    own = est[~est["design"].str.contains("area programmes")]
    assert set(own["estimator"]) >= {"TWFE DiD (cluster-robust)", "Callaway & Sant'Anna (dr)",
                                      "synthetic DiD (placebo SE)"}
    checked = own[own["programmed"].notna()]
    assert len(checked) >= 5
    assert (checked["programmed"] < 0).all()
    assert checked["covers_programmed"].astype(bool).all(), checked[["design", "estimator", "ci_low",
                                                                     "ci_high", "programmed"]]
    twfe = own[own["estimator"] == "TWFE DiD (cluster-robust)"].iloc[0]
    assert twfe["ci_high"] < 0  # a 15% fall is detected, not only covered
    assert "practices" in result.notes[-1] and result.programme.unit == "practice"
    sites = result.tables["impact_synth_sites"]  # synthetic control per practice site
    assert len(sites) >= 10 and np.isfinite(sites["att"]).all()
    assert len(result.tables["impact_balance"]) > 0


def test_200_placebo_practice_programmes_flag_about_5_percent(world):
    """Placebo programmes among the untreated practices (no programmed effect): 25 practices drawn at
    random, a start quarter drawn between the 6th and 15th, TWFE DiD with cluster-robust SEs on the
    precomputed practice panel. Expected 5% flagged; 200 draws give a binomial SD of 1.5 points."""
    panel = outcome_panel(world["ds"], None, SPEC, programme=world["programme"])
    pool = panel[~panel["treated"]].copy()
    codes = np.array(sorted(pool["area_code"].unique()))
    rng = np.random.default_rng(2013)
    flagged = []
    for _ in range(200):
        chosen = set(rng.choice(codes, size=25, replace=False))
        start = int(rng.integers(6, 16))
        pool["treated_post"] = (pool["area_code"].isin(chosen) & (pool["t"] >= start)).astype(float)
        flagged.append(twfe_did(pool, weights="weight", scale="rate").p < 0.05)
    rate = float(np.mean(flagged))
    assert 0.015 <= rate <= 0.095, rate


def test_an_outcome_without_practice_attribution_is_refused(world):
    spec = SPEC.model_copy(update={"outcome": "ae_attendances"})
    with pytest.raises(ValueError, match="table 'ae_attendances' has area_code but no practice_code"):
        outcome_panel(world["ds"], None, spec, programme=world["programme"])
