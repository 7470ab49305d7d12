"""The economics step end to end on a small simulated England, its CLI and its protocol section.

What is checked: every table is written with its columns; the naive before/after of the enrolled is
far more negative than the matched difference in differences (regression to the mean, which the
simulation builds in by enrolling on a high recent count); the programmed MDT effect on emergency
admissions (truth.json: log 0.9) lies inside the NB2 interval; people counts are disclosure-controlled;
the same seed gives the same tables. Tolerances: exact equality for determinism; the truth check is
an interval check at this scale (about 80 matched pairs), so it is a weak but real test: a biased
estimator (e.g. no matching, or matching without the look-back counts) misses it by far more.
"""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.data import open_dataset
from joinedup.economics.evaluate import run_economics
from joinedup.impact.truth import load_truth
from joinedup.protocol import Economics, ProtocolError, load_protocol

FAST = Economics(bootstrap=199, cost_model_bootstrap=40)


@pytest.fixture(scope="module")
def result(small_england):
    return run_economics(open_dataset(small_england), FAST, load_truth(small_england))


def test_tables_and_columns(result):
    t = result.tables
    for name in ("economics_risk", "economics_balance", "economics_sample_sizes", "economics_estimates",
                 "economics_use", "economics_unit_costs", "economics_increments", "economics_cea",
                 "economics_ceac", "economics_one_way", "economics_scenarios", "economics_qalys"):
        assert name in t and len(t[name]) > 0, name
    est = t["economics_estimates"]
    assert {"measure", "design", "model", "estimate", "ci_low", "ci_high", "programmed",
            "covers_programmed"} <= set(est.columns)
    cea = t["economics_cea"]
    assert set(cea["wtp"]) == {20_000.0, 30_000.0}
    assert cea["quadrant"].isin(["NE", "NW", "SE", "SW"]).all()
    assert not cea["statement"].str.contains(r"^-£").any()  # never a bare negative ICER
    assert {f.id for f in result.figures} >= {"love-plot", "ce-plane", "ceac", "tornado"}


def test_naive_before_after_is_far_from_the_matched_estimate(result):
    est = result.tables["economics_estimates"].set_index(["measure", "model"])
    naive = est.loc[("emergency_admissions", "paired mean change"), "estimate"]
    did = est.loc[("emergency_admissions", "matched DiD (linear)")]
    assert naive < did["estimate"] - 0.5  # the enrolled fall back far more than the effect
    assert naive < did["ci_low"]


def test_programmed_admission_effect_inside_interval(result, small_england):
    truth = json.loads((small_england / "truth.json").read_text())
    est = result.tables["economics_estimates"]
    nb2 = est[(est.measure == "emergency_admissions") & (est.model == "negative binomial (NB2) DiD")].iloc[0]
    assert nb2["programmed"] == pytest.approx(truth["mdt"]["effect_log"])
    assert nb2["ci_low"] < truth["mdt"]["effect_log"] < nb2["ci_high"]
    assert bool(nb2["covers_programmed"])


def test_balance_improves_with_matching(result):
    bal = result.tables["economics_balance"]
    prior = bal[bal.variable == "prior_emergency_admissions"].set_index("sample")["smd"].abs()
    assert prior["matched"] < prior["all"] / 3


def test_same_seed_same_tables(small_england, result):
    again = run_economics(open_dataset(small_england), FAST, load_truth(small_england))
    for name in ("economics_estimates", "economics_cea", "economics_increments"):
        pd.testing.assert_frame_equal(result.tables[name], again.tables[name])


def test_cli_writes_controlled_tables_and_report(small_england, tmp_path):
    proto = tmp_path / "p.toml"
    proto.write_text('[evaluation]\nname = "t"\n[economics]\nbootstrap = 199\ncost_model_bootstrap = 40\nseed = 7\n')
    out = tmp_path / "econ"
    run = CliRunner().invoke(app, ["economics", "--data", str(small_england), "--out", str(out),
                                   "--protocol", str(proto)])
    assert run.exit_code == 0, run.output
    html = (out / "economics.html").read_text()
    assert "Cost-effectiveness of community multi-disciplinary teams" in html and "regression to the mean" in html
    sizes = pd.read_csv(out / "tables" / "economics_sample_sizes.csv")
    counts = sizes[["Control", "Treated"]].to_numpy().ravel()
    counts = counts[pd.notna(counts)]
    assert all(c % 5 == 0 and (c == 0 or c > 7) for c in counts)  # suppressed 1-7, rounded to 5


def test_protocol_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[evaluation]\nname = "t"\n[economics]\nratoi = 2\n')
    with pytest.raises(ProtocolError, match=r"\[economics\] ratoi: unknown key"):
        load_protocol(bad)
    bad.write_text('[evaluation]\nname = "t"\n[economics]\nfollowup_days = 200\n')
    with pytest.raises(ProtocolError, match="followup_days"):
        load_protocol(bad)


def test_null_scenario_finds_no_mdt_effect(tmp_path_factory):
    from joinedup.simulate import simulate

    folder = tmp_path_factory.mktemp("null") / "data"
    simulate(folder, scale=0.005, seed=11, years=(2012, 2016), scenario="null")
    truth = load_truth(folder)
    assert truth["mdt"]["effect_log"] == 0.0
    res = run_economics(open_dataset(folder), FAST, truth)
    est = res.tables["economics_estimates"]
    nb2 = est[(est.measure == "emergency_admissions") & (est.model == "negative binomial (NB2) DiD")].iloc[0]
    assert nb2["ci_low"] < 0 < nb2["ci_high"]
    naive = est[(est.measure == "emergency_admissions") & (est.model == "paired mean change")].iloc[0]
    assert naive["ci_high"] < 0  # the naive before/after "finds" a fall even with no effect at all
    inc = res.tables["economics_increments"].set_index("quantity")
    assert inc.loc["incremental QALYs (EQ-5D)", "lower"] < 0 < inc.loc["incremental QALYs (EQ-5D)", "upper"]


def test_scheme_selection_limits_the_enrolled(small_england):
    from joinedup.economics.evaluate import scheme_areas

    ds = open_dataset(small_england)
    schemes = pd.read_parquet(small_england / "schemes.parquet")
    mdt = schemes[schemes.scheme_type == "community_mdt"].iloc[0]
    programmes = pd.read_parquet(small_england / "programmes.parquet")
    assert scheme_areas(ds, [mdt.scheme_id]) == set(programmes.loc[programmes.site == mdt.site, "area_code"])
    other = schemes[schemes.scheme_type != "community_mdt"].iloc[0].scheme_id
    with pytest.raises(ValueError, match="not community MDT schemes"):
        scheme_areas(ds, [other])
    with pytest.raises(ValueError, match="unknown scheme id"):
        scheme_areas(ds, ["nowhere-99"])


def test_one_base_case_in_the_cea_and_the_scenarios(result):
    """Issue 16: the base case had two ICERs (economics_cea £13,224, economics_scenarios £13,689)."""
    cea = result.tables["economics_cea"]
    base = result.tables["economics_scenarios"].set_index("scenario").loc["base case"]
    row = cea[cea["wtp"] == FAST.wtp].iloc[0]
    assert base["inc_cost"] == pytest.approx(row["inc_cost"], rel=1e-9)
    assert base["inc_effect"] == pytest.approx(row["inc_effect"], rel=1e-9)
    one_way = result.tables["economics_one_way"]
    assert one_way["inmb_base"].to_numpy() == pytest.approx(FAST.wtp * row["inc_effect"] - row["inc_cost"])
