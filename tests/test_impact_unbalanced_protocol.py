"""``[impact] unbalanced``: one protocol choice for units that miss periods, applied by every impact
design and reported. On a balanced panel every choice gives identical estimates; comparison areas
with missing quarters are refused by name ("error"), estimated on what exists ("available", with
Callaway & Sant'Anna as R did's allow_unbalanced_panel), dropped ("drop" = leaving those areas out
of the data altogether) or imputed ("impute"), and the notes say which."""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.impact.evaluate import outcome_panel, run_impact
from joinedup.indicators import compute_indicators
from joinedup.protocol import Impact

SPEC = Impact(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7, four_groups=False)


@pytest.fixture(scope="module")
def world(small_england):
    ds = load_dataset(small_england)
    indicators = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    panel = outcome_panel(ds, indicators, SPEC)
    controls = sorted(panel.loc[~panel["treated"], "area_code"].unique())
    # three comparison areas lose quarters, as an area with a boundary change or a late return would
    gaps = {controls[0]: ["2013-04-01", "2013-07-01"], controls[3]: ["2015-01-01"], controls[7]: ["2016-10-01"]}
    quarter = indicators["period"] == "quarter"
    starts = pd.to_datetime(indicators["period_start"])
    missing = pd.Series(False, index=indicators.index)
    for area, dates in gaps.items():
        missing |= quarter & (indicators["area_code"] == area) & starts.isin(pd.to_datetime(dates))
    assert missing.sum() == 4
    return {"ds": ds, "indicators": indicators, "holed": indicators[~missing], "gaps": gaps}


def _estimates(result):
    return result.tables["impact_estimates"].reset_index(drop=True)


@pytest.mark.parametrize("how", ["drop", "impute", "error"])
def test_on_a_balanced_panel_every_choice_gives_identical_estimates(world, how):
    spec = SPEC.model_copy(update={"synthetic_control": False})
    base = run_impact(world["ds"], world["indicators"], spec)
    other = run_impact(world["ds"], world["indicators"], spec.model_copy(update={"unbalanced": how}))
    pd.testing.assert_frame_equal(_estimates(base), _estimates(other), check_exact=True)
    assert not [n for n in other.notes if "unit-periods" in n]


def test_error_names_an_incomplete_area(world):
    with pytest.raises(ValueError, match="unbalanced panel: unit .* has no row for t") as err:
        run_impact(world["ds"], world["holed"], SPEC.model_copy(update={"unbalanced": "error"}))
    assert any(area in str(err.value) for area in world["gaps"])
    assert "choose unbalanced=" in str(err.value)


def test_available_estimates_on_what_exists_and_says_so(world):
    result = run_impact(world["ds"], world["holed"], SPEC)
    est = _estimates(result)
    assert est["estimate"].notna().all() and len(est) >= 6
    notes = " ".join(result.notes)
    assert "TWFE DiD and event study: 3 of" in notes and "miss 4 unit-periods" in notes
    assert "allow_unbalanced_panel" in notes                       # Callaway & Sant'Anna as R did
    assert "Synthetic control and synthetic DiD" in notes and "3 incomplete unit(s) were dropped" in notes
    # the areas are still comparison areas in the Callaway & Sant'Anna rows (estimated on what exists)
    full = _estimates(run_impact(world["ds"], world["indicators"], SPEC))
    cs = est["estimator"].str.startswith("Callaway")
    assert (est.loc[cs, "n_comparison_areas"].to_numpy() == full.loc[cs, "n_comparison_areas"].to_numpy()).all()
    assert not est.loc[cs, "estimate"].equals(full.loc[cs, "estimate"])


def test_drop_equals_leaving_the_incomplete_areas_out(world):
    spec = SPEC.model_copy(update={"unbalanced": "drop", "synthetic_control": False})
    dropped = run_impact(world["ds"], world["holed"], spec)
    ind = world["indicators"]
    without = ind[~ind["area_code"].isin(list(world["gaps"]))]
    reference = run_impact(world["ds"], without, spec.model_copy(update={"unbalanced": "error"}))
    pd.testing.assert_frame_equal(_estimates(dropped).drop(columns="n_comparison_areas"),
                                  _estimates(reference).drop(columns="n_comparison_areas"), check_exact=True)
    assert any("dropped 3 incomplete unit(s)" in n for n in dropped.notes)


def test_impute_fills_the_missing_quarters_and_says_so(world):
    spec = SPEC.model_copy(update={"unbalanced": "impute", "synthetic_control": False})
    result = run_impact(world["ds"], world["holed"], spec)
    assert _estimates(result)["estimate"].notna().all()
    assert any("imputed 4 missing unit-periods of 3 incomplete unit(s)" in n for n in result.notes)


def test_the_protocol_refuses_an_unknown_choice():
    with pytest.raises(ValueError, match="unbalanced"):
        Impact(unbalanced="interpolate")
