"""Co-interventions as dated covariates ([programme] co_interventions = "covariate").

A simulated England (0.5%, 2012-2017) where the Vanguards, the second programme, cut emergency
admissions by 50% from their 2015 starts and the Pioneers by 10%: the covariate option keeps the
Vanguard areas and still recovers the Pioneers' programmed effect; "exclude" (the default) gives the
numbers it gave before the option existed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.impact.co_interventions import add_exposures, co_intervention_sentences
from joinedup.impact.evaluate import run_impact
from joinedup.impact.truth import load_truth
from joinedup.indicators import compute_indicators
from joinedup.programme import load_programme
from joinedup.protocol import Impact, ProgrammeSpec, Protocol
from joinedup.simulate import simulate
from joinedup.simulate.scenario import Scenario

SPEC = Impact(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7, synthetic_control=False, four_groups=False)
SCENARIO = Scenario(name="strong vanguards", pioneer_effect={1: -0.10, 2: -0.10}, vanguard_effect=-0.50,
                    ramp_months=0)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("co_interventions")
    simulate(folder / "data", scale=0.005, seed=11, years=(2012, 2017), scenario=SCENARIO)
    ds = load_dataset(folder / "data")
    prog = ds.execute(ds.table("programmes"))
    for name, key in (("sites.csv", "pioneer"), ("vanguards.csv", "vanguard")):
        rows = prog[prog["programme"] == key].rename(columns={"area_code": "unit_code"})
        rows["start_date"] = pd.to_datetime(rows["start_date"]).dt.strftime("%Y-%m-%d")
        rows[["site", "unit_code", "start_date", "wave"]].to_csv(folder / name, index=False)
    indicators = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    return {"ds": ds, "folder": folder, "indicators": indicators, "truth": load_truth(folder / "data")}


def _programme(world, mode, exclude=("vanguards.csv",)):
    spec = ProgrammeSpec(name="Pioneers", sites="sites.csv", exclude=list(exclude), co_interventions=mode)
    return load_programme(spec, lambda f: str(world["folder"] / f), world["ds"])


def _estimates(world, mode, exclude=("vanguards.csv",)):
    result = run_impact(world["ds"], world["indicators"], SPEC, world["truth"], _programme(world, mode, exclude))
    est = result.tables["impact_estimates"].set_index("estimator")
    return result, est


def test_the_covariate_option_recovers_the_programme_effect_with_the_vanguards_kept(world):
    _, est = _estimates(world, "covariate")
    twfe = est.loc["TWFE DiD (cluster-robust)"]
    cs = est[est["estimand"] == "overall ATT (simple)"].iloc[0]
    print("covariate:", twfe[["estimate", "ci_low", "ci_high", "programmed"]].to_dict(),
          cs[["estimate", "ci_low", "ci_high", "programmed"]].to_dict())
    for row in (twfe, cs):
        assert row["ci_low"] <= row["programmed"] <= row["ci_high"]
        assert row["ci_high"] < 0  # the Pioneers' 10% reduction is found
    # the Vanguard areas stayed in the comparison pool
    _, excluded = _estimates(world, "exclude")
    assert twfe["n_comparison_areas"] > excluded.loc["TWFE DiD (cluster-robust)", "n_comparison_areas"]


def test_kept_without_adjustment_the_vanguards_bias_the_estimate(world):
    """The control the covariate is for: the same pool without the dated exposure misses the truth by more."""
    _, adjusted = _estimates(world, "covariate")
    _, naive = _estimates(world, "exclude", exclude=())  # Vanguard areas kept, not adjusted for
    a, n = adjusted.loc["TWFE DiD (cluster-robust)"], naive.loc["TWFE DiD (cluster-robust)"]
    print("naive:", n[["estimate", "ci_low", "ci_high", "programmed"]].to_dict())
    assert a["n_comparison_areas"] == n["n_comparison_areas"]
    # against the Pioneers' own effect, the unadjusted estimate is further off ...
    assert abs(a["estimate"] - a["programmed"]) < abs(n["estimate"] - a["programmed"])
    # ... and the adjusted interval excludes the two programmes' combined effect on the treated areas
    assert n["programmed"] < a["programmed"] and not a["ci_low"] <= n["programmed"] <= a["ci_high"]


def test_exclude_is_the_default_and_gives_todays_numbers(world):
    default = load_programme(ProgrammeSpec(name="Pioneers", sites="sites.csv", exclude=["vanguards.csv"]),
                             lambda f: str(world["folder"] / f), world["ds"])
    assert default.co_interventions == "exclude" and default.exclude == ("vanguards",)
    a = run_impact(world["ds"], world["indicators"], SPEC, world["truth"], default)
    b, _ = _estimates(world, "exclude")
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name], check_exact=True)
    assert not any(c.startswith(("exposed_", "member_")) for c in a.tables["impact_att_gt"].columns)


def test_exposure_starts_in_the_period_containing_the_start_date():
    panel = pd.DataFrame({"area_code": ["a"] * 4 + ["b"] * 4, "t": [1, 2, 3, 4] * 2,
                          "period_start": pd.to_datetime(["2015-01-01", "2015-04-01", "2015-07-01",
                                                          "2015-10-01"] * 2)})
    table = pd.DataFrame({"programme": ["vanguard", "vanguard"], "area_code": ["b", "b"],
                          "start_date": pd.to_datetime(["2015-09-10", "2015-03-10"])})  # earliest counts
    out = add_exposures(panel, table, ("vanguard",))
    assert out["exposed_vanguard"].tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert out["member_vanguard"].tolist() == [0] * 4 + [1] * 4
    assert np.all(out[["area_code", "t"]] == panel[["area_code", "t"]])


def test_the_report_says_which_was_done():
    base = {"evaluation": {"name": "x"}, "impact": {}}
    for mode, words in (("exclude", "were excluded"), ("covariate", "dated covariate")):
        p = Protocol.model_validate({**base, "programme": {"name": "P", "sites": "s.csv", "exclude": ["v.csv"],
                                                          "co_interventions": mode}})
        assert words in " ".join(co_intervention_sentences(p))
    builtin = Protocol.model_validate(base)
    assert "Vanguard areas were excluded" in " ".join(co_intervention_sentences(builtin))


def test_a_locked_run_with_covariates_and_outcome_matching_says_so_in_the_report(world):
    """End to end: lock, run; the report's Analysis plan section names both choices and the caution."""
    import json

    from joinedup.analysis_plan import lock_protocol
    from joinedup.impact.comparison_choice import RTM_CAUTION
    from joinedup.pipeline import run_protocol
    from joinedup.protocol import load_protocol

    path = world["folder"] / "plan.toml"
    path.write_text(f"""[evaluation]
name = "Pioneers, Vanguards adjusted for"
[data]
source = "{world['folder'] / 'data'}"
[programme]
name = "Pioneers"
sites = "sites.csv"
exclude = ["vanguards.csv"]
co_interventions = "covariate"
[impact]
baseline = ["2012-01-01", "2013-09-30"]
matched_controls = 2
matching_basis = "baseline_outcomes"
biters = 99
seed = 7
synthetic_control = false
four_groups = false
[output]
folder = "{world['folder'] / 'out'}"
""", encoding="utf-8")
    lock_protocol(path)
    run = run_protocol(load_protocol(path), out=world["folder"] / "run")
    html = run.report.read_text()
    plan = json.loads(run.manifest.read_text())["analysis_plan"]
    assert plan["status"] == "locked, unchanged" and plan["deviations"] == []
    assert "No deviations: the protocol is byte for byte the locked one." in html
    assert 'co_interventions = &quot;covariate&quot;' in html and "dated covariate" in html
    assert 'matching_basis = &quot;baseline_outcomes&quot;' in html
    import html as html_lib
    assert html_lib.escape(RTM_CAUTION) in html
    assert "not in the programme (other programmes adjusted for)" in html
    units = pd.read_csv(run.out_dir / "tables" / "impact_comparison_units.csv")
    assert len(units) > 0 and units["unit_code"].is_unique
