"""Dose-response DiD on register coverage (joinedup.impact.dose): an effect programmed proportional
to the share covered is recovered (CI covers it, excludes 0), a null is not found (at most 3 of 20
seeds at the 5% level: P(>= 4 | 0.05, 20) = 0.016), and the as-of matching of register periods to
panel periods follows the documented convention.

The coverage comes from simulated registers (joinedup.simulate.initiatives: 60 people per piloting,
400 per implemented and 2,500 per at-scale initiative) over synthetic area panels (2 areas per site of
15,000-30,000 residents, 40 comparison areas, quarters 2012-2019, log rates with noise SD 0.03)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.impact.dose import dose_panel, dose_response
from joinedup.process.register import validate_register
from joinedup.process.treatment import dose
from joinedup.simulate.initiatives import simulate_register

SITES = pd.DataFrame({"site": [f"Site {k:02d}" for k in range(12)],
                      "start_date": ["2014-01-01"] * 6 + ["2015-01-01"] * 6})


def _world(seed: int, beta: float):
    rng = np.random.default_rng(seed)
    frame, _ = simulate_register(seed=seed, scenario="narrowing", sites=SITES, last_year=2019)
    coverage = dose(validate_register(frame).rows)
    periods = pd.date_range("2012-01-01", "2019-10-01", freq="QS")
    units = [(f"{s}-{j}", s) for s in SITES["site"] for j in range(2)] + [(f"C{k:02d}", None) for k in range(40)]
    pop = {u: float(rng.integers(15_000, 30_000)) for u, _ in units}
    level = {u: rng.normal(np.log(0.0077 * 3), 0.1) for u, _ in units}
    trend = dict(zip(periods, np.cumsum(rng.normal(0.003, 0.01, len(periods)))))
    panel = pd.DataFrame([{"area_code": u, "site": s, "period_start": p, "t": i + 1, "population": pop[u],
                           "weight": pop[u]} for u, s in units for i, p in enumerate(periods)])
    d = dose_panel(panel, coverage)
    panel["y"] = (panel["area_code"].map(level) + panel["period_start"].map(trend) + beta * d["dose"].to_numpy()
                  + rng.normal(0, 0.03, len(panel)))
    panel.attrs["scale"] = "log"
    return panel, coverage, d


def test_an_effect_proportional_to_coverage_is_recovered():
    panel, coverage, d = _world(3, beta=-0.15)
    assert d["dose"].between(0, 1).all() and d["dose"].max() > 0.2  # real variation in the intensity
    row = dose_response(panel, coverage)
    assert row["ci_low"] <= -0.15 <= row["ci_high"], row
    assert row["ci_high"] < 0 and row["p_value"] < 0.05
    assert row["pct_change"] == pytest.approx(100 * np.expm1(row["estimate"]))
    assert row["n_dosed_sites"] == 12 and row["n_comparison_units"] == 40
    assert row["clusters"] == 12 + 40  # clustered by site, comparison units singly


def test_no_effect_is_not_found():
    found = 0
    for seed in range(20):
        panel, coverage, _ = _world(100 + seed, beta=0.0)
        found += dose_response(panel, coverage)["p_value"] < 0.05
    assert found <= 3, found


def test_register_periods_are_matched_as_of_and_capped():
    panel = pd.DataFrame({"area_code": ["a"] * 4 + ["b"] * 4 + ["c"] * 4, "site": ["S"] * 8 + [None] * 4,
                          "period_start": pd.to_datetime(["2014-01-01", "2014-04-01", "2014-07-01", "2015-01-01"] * 3),
                          "population": [600.0] * 4 + [400.0] * 4 + [500.0] * 4})
    # a yearly register: 2014-04 row fills April and July; 2014-12 row (3,000 > 1,000 residents) caps at 1
    cov = pd.DataFrame({"site": ["S", "S"], "period": pd.to_datetime(["2014-04-01", "2014-12-01"]),
                        "people_covered": [250.0, 3000.0]})
    d = dose_panel(panel, cov)
    assert d.loc[d["area_code"] == "a", "dose"].tolist() == [0.0, 0.25, 0.25, 1.0]
    assert d.loc[d["area_code"] == "b", "dose"].tolist() == [0.0, 0.25, 0.25, 1.0]  # the site's share, every unit
    assert (d.loc[d["area_code"] == "c", "dose"] == 0).all()
    with pytest.raises(ValueError, match="missing column.*people_covered"):
        dose_panel(panel, cov.drop(columns="people_covered"))
    with pytest.raises(ValueError, match="no site has any coverage"):
        dose_response(panel.assign(y=1.0, t=panel.groupby("area_code").cumcount()), cov.assign(people_covered=0.0))
