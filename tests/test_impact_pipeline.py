"""The protocol's [impact] step end to end on simulated England, against the programmed truth."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from joinedup.impact.truth import load_truth, programmed_effect
from joinedup.pipeline import run_protocol
from joinedup.protocol import ProtocolError, load_protocol

IMPACT = """
[impact]
outcome = "emergency_admissions"
period = "quarter"
scale = "log"
baseline = ["2012-01-01", "2013-09-30"]
biters = 199
seed = 7
"""


def _protocol(tmp_path, source, impact=IMPACT, indicators=True):
    text = f'[evaluation]\nname = "impact test"\n[data]\nsource = "{source}"\n'
    if indicators:
        text += '[indicators]\nids = ["emergency_admissions"]\nperiods = ["quarter"]\n'
    path = tmp_path / "p.toml"
    path.write_text(text + impact, encoding="utf-8")
    return load_protocol(path)


@pytest.fixture(scope="module")
def impact_run(small_england, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("impact")
    return run_protocol(_protocol(tmp, small_england), out=tmp / "out")


def test_every_design_is_estimated_and_written(impact_run):
    est = pd.read_csv(impact_run.out_dir / "tables" / "impact_estimates.csv")
    assert set(est["estimator"]) == {"TWFE DiD (cluster-robust)", "TWFE DiD (wild cluster bootstrap)",
                                     "Callaway & Sant'Anna (dr)", "synthetic DiD (placebo SE)"}
    assert {"overall ATT (simple)", "overall ATT (dynamic)", "overall ATT (group)",
            "overall ATT (calendar)", "ATT against areas in neither"} <= set(est["estimand"])
    four = est[est["design"].str.startswith("four groups")]
    assert set(four["design"]) == {"four groups: pioneer only", "four groups: vanguard only", "four groups: both"}
    assert est[["estimate", "ci_low", "ci_high"]].notna().all().all()
    assert (est["ci_low"] < est["estimate"]).all() and (est["estimate"] < est["ci_high"]).all()
    # log scale: the percentage change is exp(estimate) - 1
    assert ((100 * (est["estimate"].map(math.exp) - 1) - est["pct_change"]).abs() < 1e-9).all()
    for name in ("impact_att_gt", "impact_cs_dynamic", "impact_balance", "impact_synth_sites",
                 "impact_synth_gaps", "impact_twfe_event_study"):
        assert (impact_run.out_dir / "tables" / f"{name}.parquet").is_file(), name
    assert impact_run.timings["impact"] > 0


def test_the_programmed_effect_lies_inside_the_intervals(impact_run, small_england):
    """Simulated England's Pioneer effect (truth.json), averaged over the treated area-periods."""
    est = pd.read_csv(impact_run.out_dir / "tables" / "impact_estimates.csv")
    truth = load_truth(small_england)
    checked = est[est["programmed"].notna()]
    assert len(checked) >= 7  # TWFE (2), CS simple, synthetic DiD per wave, four groups (3)
    # the programmed effect is a fall of a few per cent, never zero
    assert (checked["programmed"] < -0.01).all() and (checked["programmed"] > -0.08).all()
    assert checked["covers_programmed"].astype(bool).all(), checked[["estimator", "design", "ci_low",
                                                                     "ci_high", "programmed"]]
    assert truth["scenario"]["pioneer_effect"]["1"] == -0.04


def test_synthetic_control_per_site_with_placebo_ranks(impact_run):
    sites = pd.read_csv(impact_run.out_dir / "tables" / "impact_synth_sites.csv")
    assert len(sites) >= 5 and sites["site"].is_unique
    assert ((sites["rank"] >= 1) & (sites["rank"] <= sites["n_placebos"] + 1)).all()
    assert (sites["p_value"] == sites["rank"] / (sites["n_placebos"] + 1)).all()
    assert (sites["pre_rmspe"] > 0).all()  # predictors, not every pre-period: no exact interpolation


def test_report_has_the_impact_section_with_figures(impact_run):
    html = impact_run.report.read_text(encoding="utf-8")
    assert "Impact: Pioneer areas against comparison areas" in html
    assert "Programmed effect" in html
    for fig in ("impact-love-plot", "impact-twfe-event-study", "impact-cs-event-study", "impact-synth-gaps"):
        assert (impact_run.out_dir / "figures" / f"{fig}.svg").is_file(), fig
        assert f'id="{fig}-title"' in html


def test_impact_computes_its_outcome_without_an_indicators_section(small_england, tmp_path):
    impact = IMPACT.replace("biters = 199", "biters = 99").replace('seed = 7', 'seed = 7\nsynthetic_control = false')
    result = run_protocol(_protocol(tmp_path, small_england, impact, indicators=False), out=tmp_path / "out")
    est = pd.read_csv(result.out_dir / "tables" / "impact_estimates.csv")
    assert "synthetic DiD (placebo SE)" not in set(est["estimator"]) and len(est) == 9


@pytest.mark.parametrize("bad, message", [
    ('outcome = "los_p90_emergency_65plus"', "impact needs a rate"),
    ('outcome = ["emergency_admissions", "no_such"]', "unknown indicator id 'no_such'"),
    ('outcome = "no_such"', "unknown indicator id"),
    ('baseline = ["2013-01-01", "2012-01-01"]', "baseline must run forwards"),
    ('baseline = ["2013-13-01", "2014-01-01"]', "two ISO dates"),
    ('scael = "log"', "[impact] scael: unknown key"),
    ('est_method = "tmle"', "[impact] est_method"),
])
def test_bad_impact_sections_are_refused_naming_the_key(tmp_path, bad, message):
    path = tmp_path / "p.toml"
    path.write_text(f'[evaluation]\nname = "x"\n[impact]\n{bad}\n', encoding="utf-8")
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    assert message in str(err.value) and "p.toml" in str(err.value)


def test_programmed_effect_follows_the_ramp():
    truth = {"effects": [{"name": "pioneer_wave_1", "relative_change": -0.04, "ramp_months": 12,
                          "start_dates": {"Leeds": "2013-11-01"}, "areas": ["E08000035"]}]}
    rows = lambda start: pd.DataFrame({"area_code": ["E08000035"],  # noqa: E731
                                       "period_start": [pd.Timestamp(start)], "y": [100.0]})
    before = programmed_effect(truth, rows("2013-07-01"), "log", "quarter")
    ramping = programmed_effect(truth, rows("2014-01-01"), "log", "quarter")
    full = programmed_effect(truth, rows("2015-01-01"), "log", "quarter")
    assert before == 0 and full == pytest.approx(math.log(0.96)) and math.log(0.96) < ramping < 0
    # rate scale: observed minus counterfactual (observed / multiplier)
    assert programmed_effect(truth, rows("2015-01-01"), "rate", "quarter") == pytest.approx(100 - 100 / 0.96)
    assert math.isnan(programmed_effect(None, rows("2015-01-01"), "log", "quarter"))
    # an area in both programmes gets both effects
    truth["effects"].append({"name": "vanguard", "relative_change": -0.03, "ramp_months": 0,
                             "start_dates": {"E08000035": "2014-06-01"}})
    both = programmed_effect(truth, rows("2015-01-01"), "log", "quarter")
    assert both == pytest.approx(math.log(0.96 * 0.97))


def test_report_shows_honestdid_for_the_main_design(impact_run):
    """[impact] honest (on by default): the robust sets are written and the report quotes them."""
    from joinedup.report.honest_section import honest_sentences

    t = pd.read_parquet(impact_run.out_dir / "tables" / "impact_honest.parquet")
    assert set(t["restriction"]) == {"SD", "RM"}
    assert (t["lb"] <= t["estimate"]).all() and (t["estimate"] <= t["ub"]).all()
    html = impact_run.report.read_text(encoding="utf-8")
    import html as html_lib
    for sentence in honest_sentences(t):
        assert html_lib.escape(sentence) in html, sentence
    assert "Robust confidence sets for the first post-period effect" in html
