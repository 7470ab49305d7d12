"""The impact designs on the shapes real data come in, on simulated England with a known truth:
a practice-level programme whose panel loses practices that close part-way (unbalanced), and a
repeated-cross-section experience survey (different people each year) analysed with R did's
``panel = FALSE`` estimators and factor covariates. Coverage over many seeds is measured in
``benchmarks/impact_coverage.py``; here one seed each must recover the programmed effect."""

from __future__ import annotations

import pandas as pd
import pytest

from joinedup.data import load_dataset
from joinedup.impact.did import att_gt
from joinedup.impact.evaluate import outcome_panel, run_impact
from joinedup.impact.truth import load_truth
from joinedup.protocol import Impact
from joinedup.simulate.experience_survey import experience_survey, programme_areas
from joinedup.simulate.practice_closures import close_practices, simulated_practice_programme

SPEC = Impact(baseline=("2012-01-01", "2014-03-31"), biters=199, seed=5, scale="rate",
              synthetic_control=False, four_groups=False)


@pytest.fixture(scope="module")
def closing(tmp_path_factory):
    from joinedup.simulate import simulate
    from joinedup.simulate.scenario import Scenario

    folder = tmp_path_factory.mktemp("closing") / "data"
    simulate(folder, scale=0.004, seed=5, years=(2012, 2016), scenario=Scenario(name="p", practice_effect=-0.15))
    lists_before = pd.read_parquet(folder / "practice_population.parquet")
    ds, truth = load_dataset(folder), load_truth(folder)
    before = run_impact(ds, None, SPEC, truth=truth, programme=simulated_practice_programme(ds, truth))
    closed = close_practices(folder, share=0.1, seed=5)
    ds = load_dataset(folder)
    return {"ds": ds, "truth": truth, "closed": closed, "lists_before": lists_before, "before": before,
            "programme": simulated_practice_programme(ds, truth)}


def test_closed_practices_leave_the_panel_from_their_closure(closing):
    closed = closing["closed"].set_index("practice_code")["closed_from"]
    assert 0 < len(closed) < closing["lists_before"]["practice_code"].nunique() / 4
    panel = outcome_panel(closing["ds"], None, SPEC, programme=closing["programme"])
    rows = panel[panel["area_code"].isin(closed.index)]
    assert len(rows)  # closed practices are in the panel before they close ...
    after = pd.to_datetime(rows["period_start"]) >= rows["area_code"].map(closed)
    assert not after.any()  # ... and never from their closure (no list carried forward)
    # every practice still open keeps all its periods
    open_rows = panel[~panel["area_code"].isin(closed.index)].groupby("area_code")["t"].nunique()
    assert (open_rows == panel["t"].nunique()).mean() > 0.95


def test_closing_a_tenth_of_practices_moves_the_estimates_less_than_their_standard_error(closing):
    # One seed at this scale has wide intervals (coverage over 60 seeds is in
    # benchmarks/results/impact_coverage_practice_closures.txt); here: the unbalanced panel is
    # estimated, reported, and agrees with the same world before the closures.
    result = run_impact(closing["ds"], None, SPEC, truth=closing["truth"], programme=closing["programme"])
    est = result.tables["impact_estimates"].set_index("estimator")
    full = closing["before"].tables["impact_estimates"].set_index("estimator")
    for name in ("TWFE DiD (cluster-robust)", "Callaway & Sant'Anna (dr)"):
        row, ref = est.loc[[name]].iloc[0], full.loc[[name]].iloc[0]
        assert row["programmed"] < 0 and row["estimate"] < 0, row
        assert row["estimate"] != ref["estimate"]  # the closures did change the data ...
        assert abs(row["estimate"] - ref["estimate"]) < ref["std_error"], (row, ref)  # ... but not the answer
    notes = " ".join(result.notes)
    assert "units miss" in notes and "allow_unbalanced_panel" in notes
    assert not [n for n in closing["before"].notes if "units miss" in n]


def test_drop_keeps_only_practices_open_throughout(closing):
    spec = SPEC.model_copy(update={"unbalanced": "drop"})
    result = run_impact(closing["ds"], None, spec, truth=closing["truth"], programme=closing["programme"])
    assert any("dropped" in n and "incomplete unit(s)" in n for n in result.notes)
    est = result.tables["impact_estimates"]
    full = run_impact(closing["ds"], None, SPEC, truth=closing["truth"], programme=closing["programme"])
    cs = est["estimator"].str.startswith("Callaway")
    assert (est.loc[cs, "n_comparison_areas"].to_numpy() < full.tables["impact_estimates"].loc[
        cs, "n_comparison_areas"].to_numpy()).all()


@pytest.fixture(scope="module")
def areas(small_england):
    return programme_areas(load_dataset(small_england))


def test_the_experience_survey_is_a_repeated_cross_section_with_a_known_effect(areas):
    survey = experience_survey(areas, seed=3, effect=0.05, years=(2012, 2016))
    assert set(survey.columns) == {"area_code", "year", "first_treated", "age_group", "sex", "named_contact"}
    assert survey.groupby(["area_code", "year"]).size().eq(40).all()
    treated = survey[survey["first_treated"] > 0]
    assert len(treated) and set(survey["first_treated"]) - {0} <= {2014, 2015}
    # programme areas' samples age over the years; the others' do not
    old = survey.assign(old=survey["age_group"].eq("75+")).groupby([survey["first_treated"] > 0, "year"])["old"].mean()
    assert old[True].iloc[-1] - old[True].iloc[0] > 0.1 and abs(old[False].iloc[-1] - old[False].iloc[0]) < 0.03


@pytest.mark.parametrize("effect", [0.05, 0.0])
def test_panel_false_with_factor_covariates_recovers_the_programmed_att(areas, effect):
    survey = experience_survey(areas, seed=11, effect=effect, years=(2010, 2016))
    res = att_gt(survey, yname="named_contact", tname="year", idname=None, gname="first_treated",
                 xformla="~ age_group + sex", panel=False, est_method="dr", bstrap=False, cband=False)
    assert res.design["data"] == "repeated cross-sections"
    agg = res.aggregate("simple")
    lo, hi = agg.overall_att - 1.96 * agg.overall_se, agg.overall_att + 1.96 * agg.overall_se
    assert lo <= effect <= hi, (agg.overall_att, agg.overall_se)
    assert agg.overall_se < 0.03  # informative: a 5-point effect is twice its SE or more
