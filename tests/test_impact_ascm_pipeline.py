"""[impact] augmented_synthetic_control and conformal_intervals end to end on simulated England.

Known truth (scale 0.005, 2012-2016, as the shared small_england fixture): the programmed effect
(emergency admissions down about 3% in wave-1 sites by the end, ramped) and the null scenario (no
programme effect). Site-level effects on a 0.5% sample are noisy (site SDs around 0.06 on the log
scale, 7 pre-quarters for wave 1), so the checks are on the mean over the 13 sites: within 0.04 of
the programmed mean (about two standard errors of a mean of 13 such sites; the sites share donors,
so not fewer), and within 0.04 of zero under the null.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.pipeline import run_protocol
from joinedup.protocol import ProtocolError, load_protocol

IMPACT = """
[impact]
outcome = "emergency_admissions"
period = "quarter"
scale = "log"
baseline = ["2012-01-01", "2013-09-30"]
biters = 99
seed = 7
four_groups = false
augmented_synthetic_control = true
conformal_intervals = true
"""


def _protocol(tmp_path, source, impact=IMPACT):
    text = (f'[evaluation]\nname = "ascm test"\n[data]\nsource = "{source}"\n'
            '[indicators]\nids = ["emergency_admissions"]\nperiods = ["quarter"]\n' + impact)
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return load_protocol(path)


@pytest.fixture(scope="module")
def ascm_run(small_england, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ascm")
    return run_protocol(_protocol(tmp, small_england), out=tmp / "out")


def test_tables_written_with_the_impact_columns(ascm_run):
    tables = ascm_run.out_dir / "tables"
    sites = pd.read_csv(tables / "impact_ascm_sites.csv")
    assert {"outcome", "site", "estimate", "ci_low", "ci_high", "p_value", "lambda", "programmed",
            "covers_programmed"} <= set(sites.columns)
    assert len(sites) == 13 and (sites["lambda"] > 0).all()
    conf = pd.read_parquet(tables / "impact_synth_conformal.parquet")
    assert set(conf["method"]) == {"synth", "ascm"}
    avg = conf[conf["t"].isna()]
    assert len(avg) == 2 * len(sites) and (avg["ci_low"] <= avg["estimate"]).all()
    assert (avg["estimate"] <= avg["ci_high"]).all()
    # the ASCM site table's interval is the ASCM constant-effect row of the conformal table
    merged = sites.merge(avg[avg["method"] == "ascm"], on="site", suffixes=("", "_c"))
    np.testing.assert_allclose(merged["ci_low"], merged["ci_low_c"])
    # 7 quarters before wave 1 starts: per-period 95% intervals cannot be bounded (needs 19)
    per = conf[conf["t"].notna()]
    assert np.isinf(per["ci_low"]).any()


def test_programmed_effect_recovered_on_average(ascm_run):
    sites = pd.read_csv(ascm_run.out_dir / "tables" / "impact_ascm_sites.csv")
    assert (sites["programmed"] < -0.01).all()
    assert abs(sites["estimate"].mean() - sites["programmed"].mean()) < 0.04
    assert sites["covers_programmed"].astype(bool).mean() >= 0.75


def test_report_shows_ascm_and_conformal(ascm_run):
    html = ascm_run.report.read_text(encoding="utf-8")
    assert "Ridge-augmented synthetic control (ASCM) for each Pioneer site" in html
    assert "Conformal intervals for each Pioneer site" in html
    assert "95% conformal interval (constant effect)" in html
    assert "a per-period 95% interval cannot exclude any value and is unbounded" in html  # the step's note


def test_null_scenario_finds_about_zero(tmp_path):
    from joinedup.data import open_dataset
    from joinedup.impact.augmented import synthetic_extras
    from joinedup.impact.co_interventions import without_co_intervention_units
    from joinedup.impact.evaluate import ImpactResult, outcome_panel
    from joinedup.impact.truth import load_truth
    from joinedup.indicators import compute_indicators
    from joinedup.protocol import Impact
    from joinedup.simulate import simulate

    folder = tmp_path / "null"
    simulate(folder, scale=0.005, seed=11, years=(2012, 2016), scenario="null")
    ds = open_dataset(folder)
    spec = Impact(augmented_synthetic_control=True, conformal_intervals=True,
                  baseline=("2012-01-01", "2013-09-30"))
    panel = outcome_panel(ds, compute_indicators(ds, [spec.outcome], [spec.period]), spec)
    out = ImpactResult()
    synthetic_extras(without_co_intervention_units(panel), spec, load_truth(folder), out)
    sites = out.tables["impact_ascm_sites"]
    assert abs(sites["estimate"].mean()) < 0.04
    avg = out.tables["impact_synth_conformal"]
    avg = avg[avg["t"].isna()]
    assert ((avg["ci_low"] <= 0) & (0 <= avg["ci_high"])).mean() >= 0.75


def test_protocol_needs_synthetic_control(tmp_path):
    bad = IMPACT + "synthetic_control = false\n"
    with pytest.raises(ProtocolError, match="augmented_synthetic_control = true needs synthetic_control = true"):
        _protocol(tmp_path, tmp_path, bad)
