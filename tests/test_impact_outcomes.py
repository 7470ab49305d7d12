"""Several outcomes at once (rates and proportions on their scales), missing cells of proportions,
and the primary family's multiplicity adjustment. References: statsmodels 0.15.0
``multipletests(method="holm")`` (tolerance 1e-12); the one-outcome estimates of the code before this
change, tests/data/impact_single_outcome_reference.csv, written by
benchmarks/reference/impact_single_outcome_reference.py at commit d372033."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from joinedup.data import load_dataset
from joinedup.impact.evaluate import run_impact
from joinedup.impact.multiplicity import adjust, holm
from joinedup.impact.panel import area_panel
from joinedup.impact.truth import load_truth
from joinedup.indicators import compute_indicators
from joinedup.protocol import Impact

REFERENCE = Path(__file__).parent / "data" / "impact_single_outcome_reference.csv"

BASE = dict(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7, synthetic_control=False, four_groups=False)
OUTCOMES = ["emergency_admissions", "readmissions_30d", "discharges_usual_residence", "reablement_at_home_91d"]


@pytest.mark.parametrize("seed", range(20))
def test_holm_equals_statsmodels_multipletests(seed):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 12))
    p = rng.uniform(0, 0.2, m) ** rng.uniform(0.5, 3)
    if m > 2:
        p[1] = p[0]  # ties
    expected = multipletests(p, method="holm")[1]
    assert np.allclose(holm(p), expected, rtol=0, atol=1e-12)


def test_adjust_marks_the_primary_family_and_leaves_the_rest_exploratory():
    est = pd.DataFrame({
        "outcome": ["a", "a", "b", "b", "c"],
        "design": ["wave 1, baseline vs after the start", "waves 1 and 2, staggered"] * 2
                  + ["wave 1, baseline vs after the start"],
        "estimator": ["TWFE DiD (cluster-robust)", "Callaway & Sant'Anna (dr)"] * 2 + ["TWFE DiD (cluster-robust)"],
        "estimand": ["ATT", "overall ATT (simple)"] * 2 + ["ATT"],
        "p_value": [0.01, 0.02, 0.04, 0.5, 0.03]})
    out = adjust(est, ["a", "b"], "twfe_wave1", {"a": (0.011, 0.02), "b": (0.05, 0.06), "c": (0.2, 0.3)})
    assert out["analysis"].tolist() == ["primary", "exploratory", "primary", "exploratory", "exploratory"]
    assert np.allclose(out.loc[[0, 2], "p_adjusted_holm"], multipletests([0.01, 0.04], method="holm")[1])
    assert out.loc[[0, 2], "p_adjusted_romano_wolf"].tolist() == [0.02, 0.06]
    assert out.loc[[1, 3, 4], ["p_adjusted_holm", "p_adjusted_romano_wolf"]].isna().all().all()
    cs = adjust(est, ["a", "b", "c"], "cs_simple")
    assert cs["analysis"].tolist() == ["exploratory", "primary", "exploratory", "primary", "exploratory"]


@pytest.fixture(scope="module")
def data(small_england):
    ds = load_dataset(small_england)
    return ds, compute_indicators(ds, OUTCOMES, ["quarter"])


@pytest.mark.parametrize("proportion_scale", ["pp", "logit"])
def test_several_outcomes_each_on_its_scale_with_holm_and_romano_wolf_on_the_primary_family(data, proportion_scale):
    ds, ind = data
    spec = Impact(outcome=OUTCOMES, proportion_scale=proportion_scale, **BASE)
    result = run_impact(ds, ind, spec)
    est = result.tables["impact_estimates"]
    assert est.columns[:2].tolist() == ["outcome", "scale"]
    assert est.groupby("outcome").size().to_dict() == {o: 6 for o in OUTCOMES}  # 2 TWFE + 4 CS rows each
    scales = est.drop_duplicates("outcome").set_index("outcome")["scale"].to_dict()
    prop = "log odds" if proportion_scale == "logit" else "percentage points"
    assert scales == {"emergency_admissions": "log rate", **{o: prop for o in OUTCOMES[1:]}}
    primary = est[est["analysis"] == "primary"]
    assert primary["outcome"].tolist() == OUTCOMES
    assert (primary["estimator"] == "TWFE DiD (cluster-robust)").all()
    assert np.allclose(primary["p_adjusted_holm"], multipletests(primary["p_value"], method="holm")[1],
                       rtol=0, atol=1e-12)
    # Romano-Wolf: at least each outcome's own wild bootstrap p (the exploratory bootstrap row)
    boot = est[est["estimator"] == "TWFE DiD (wild cluster bootstrap)"].set_index("outcome")["p_value"]
    rw = primary.set_index("outcome")["p_adjusted_romano_wolf"]
    assert rw.notna().all() and (rw >= boot.reindex(rw.index) - 1e-12).all() and (rw <= 1).all()
    assert est.loc[est["analysis"] == "exploratory", ["p_adjusted_holm", "p_adjusted_romano_wolf"]].isna().all().all()
    assert est[["estimate", "ci_low", "ci_high"]].notna().all().all()
    for name, frame in result.tables.items():  # every table says which outcome each row is
        assert frame["outcome"].iloc[0] == OUTCOMES[0] and set(frame["outcome"]) <= set(OUTCOMES), name
    if proportion_scale == "pp":  # readmissions within 30 days are some per cent: effects of a few points
        readm = est[est["outcome"] == "readmissions_30d"]
        assert (readm["estimate"].abs() < 20).all()
    # proportions have no programmed effect (the simulation programmes admission rates)
    assert est.loc[est["outcome"] != "emergency_admissions", "programmed"].isna().all()
    # reablement at 91 days is sparse at this scale: its empty cells are said to be missing, not zero
    assert any(n.startswith("Still at home 91 days after discharge into reablement, 65+: ")
               and "missing, not zero" in n for n in result.notes)
    # the first outcome's estimates are those of running it alone
    alone = run_impact(ds, ind, Impact(outcome="emergency_admissions", **BASE)).tables["impact_estimates"]
    first = est[est["outcome"] == "emergency_admissions"].reset_index(drop=True)
    assert np.array_equal(first["estimate"].to_numpy(), alone["estimate"].to_numpy())


def test_a_proportion_with_no_one_eligible_is_a_missing_cell_not_zero(data):
    """Reablement at 91 days at this scale: quarters where an area discharged no one into reablement."""
    ds, ind = data
    rows = ind[(ind["indicator"] == "reablement_at_home_91d") & (ind["level"] == "area")
               & (ind["period"] == "quarter")]
    programmes = ds.execute(ds.table("programmes"))
    # a user's table may carry the empty cells as rows with denominator 0: they are dropped the same way
    have = set(zip(rows["area_code"], rows["period_start"]))
    area, start, end = next((a, s, e) for a in sorted(rows["area_code"].unique())
                            for s, e in rows[["period_start", "period_end"]].drop_duplicates().itertuples(index=False)
                            if (a, s) not in have)
    empty = rows.iloc[:1].assign(area_code=area, period_start=start, period_end=end, numerator=0, denominator=0,
                                 value=np.nan)
    with_empty = pd.concat([rows, empty], ignore_index=True)
    for scale in ("rate", "logit"):
        panel = area_panel(with_empty, programmes, "reablement_at_home_91d", scale=scale)
        assert len(panel) == len(rows[rows["area_code"].isin(panel["area_code"])])  # no row made up, none lost
        assert panel["y"].notna().all() and np.isfinite(panel["y"]).all()
        n_periods = panel["t"].nunique()
        per_area = panel.groupby("area_code")["t"].nunique()
        assert panel.attrs["missing_cells"] == int((n_periods - per_area).sum()) > 0
        assert panel.attrs["incomplete_areas"] == sorted(per_area[per_area < n_periods].index)
    # logit: the empirical log odds, finite at 0% and 100%
    logit = area_panel(rows, programmes, "reablement_at_home_91d", scale="logit")
    x, n = logit["numerator"], logit["population"]
    assert np.allclose(logit["y"], np.log((x + 0.5) / (n - x + 0.5)))
    assert ((x == n) | (x == 0)).any()


def test_a_single_outcome_gives_the_estimates_it_gave_before(small_england):
    ds = load_dataset(small_england)
    ind = compute_indicators(ds, ["emergency_admissions"], ["quarter"])
    spec = Impact(baseline=("2012-01-01", "2013-09-30"), biters=99, seed=7)  # default designs, one outcome
    est = run_impact(ds, ind, spec, load_truth(str(small_england))).tables["impact_estimates"]
    before = pd.read_csv(REFERENCE)
    assert est["outcome"].eq("emergency_admissions").all() and est["analysis"].iloc[0] == "primary"
    assert est["p_adjusted_holm"].iloc[0] == est["p_value"].iloc[0]  # a family of one is not adjusted
    assert est["p_adjusted_romano_wolf"].iloc[0] == est["p_value"].iloc[1]  # = its wild bootstrap p
    now = est[before.columns]
    numbers = before.select_dtypes("number").columns
    # Callaway & Sant'Anna's multiplier bootstrap multiplies in single precision (did/_boot.py,
    # BOOT_DTYPE): its SEs, intervals and p-values move by about 1e-7 relative with the BLAS kernel and
    # thread split of the machine (seen: 4e-8 on one CI run), so those cells are held to 1e-5;
    # every estimate, and every other design's inference, to 1e-12.
    float32_boot = before["estimator"].str.startswith("Callaway")
    inference = ["std_error", "ci_low", "ci_high", "p_value", "pct_low", "pct_high"]
    exact = now[numbers].copy(), before[numbers].copy()
    for frame in exact:
        frame.loc[float32_boot, inference] = 0.0
    pd.testing.assert_frame_equal(*exact, rtol=1e-12, atol=1e-14)
    pd.testing.assert_frame_equal(now.loc[float32_boot, inference], before.loc[float32_boot, inference],
                                  rtol=1e-5, atol=1e-12)
    assert (now[["design", "estimator", "estimand"]] == before[["design", "estimator", "estimand"]]).all().all()


def test_protocol_checks_the_outcomes_and_the_primary_family():
    with pytest.raises(ValueError, match=r"primary_outcomes \['falls_65plus'\] are not among the outcomes"):
        Impact(outcome=["emergency_admissions"], primary_outcomes=["falls_65plus"])
    with pytest.raises(ValueError, match="is a percentile"):
        Impact(outcome=["emergency_admissions", "los_p90_emergency_65plus"])
    with pytest.raises(ValueError, match="distinct"):
        Impact(outcome=["emergency_admissions", "emergency_admissions"])
    with pytest.raises(ValueError, match="primary_outcomes is empty"):
        Impact(outcome=["emergency_admissions"], primary_outcomes=[])
    with pytest.raises(ValueError, match="needs synthetic_control = true"):
        Impact(primary_design="sdid", synthetic_control=False)
    assert Impact(outcome="readmissions_30d").outcome == "readmissions_30d"


def test_family_wise_intervals_widen_by_the_bonferroni_critical_value():
    """The primary family's simultaneous intervals use each row's own distribution at alpha / m;
    a family of one keeps its interval; exploratory rows get none."""
    from scipy import stats

    from joinedup.impact.multiplicity import adjust

    t24 = float(stats.t.ppf(0.975, 24))
    z = float(stats.norm.ppf(0.975))
    est = pd.DataFrame({
        "outcome": ["a", "b", "c", "a"],
        "design": ["wave 1, baseline vs after the start"] * 3 + ["waves 1 and 2, staggered"],
        "estimator": ["TWFE DiD (cluster-robust)"] * 3 + ["Callaway & Sant'Anna (dr)"],
        "estimand": ["ATT", "ATT", "ATT", "overall ATT (simple)"],
        "estimate": [0.10, -0.05, 0.02, 0.3], "std_error": [0.04, 0.02, 0.05, 0.1],
        "p_value": [0.02, 0.01, 0.7, 0.003]})
    crit = [t24, t24, z, z]  # two rows had t(24) intervals, one a normal one
    est["ci_low"] = est["estimate"] - np.array(crit) * est["std_error"]
    est["ci_high"] = est["estimate"] + np.array(crit) * est["std_error"]
    out = adjust(est, ["a", "b", "c"], "twfe_wave1")
    half = (out["ci_high_bonferroni"] - out["ci_low_bonferroni"]) / 2 / out["std_error"]
    assert half.iloc[0] == pytest.approx(stats.t.ppf(1 - 0.05 / 6, 24), rel=1e-8)
    assert half.iloc[2] == pytest.approx(stats.norm.ppf(1 - 0.05 / 6), rel=1e-8)
    assert (out["ci_low_bonferroni"].iloc[:3] < out["ci_low"].iloc[:3]).all()
    assert out[["ci_low_bonferroni", "ci_high_bonferroni"]].iloc[3].isna().all()  # exploratory
    one = adjust(est, ["a"], "twfe_wave1").iloc[0]
    assert one["ci_low_bonferroni"] == pytest.approx(one["ci_low"], rel=1e-9)
