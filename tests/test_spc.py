"""XmR charts (Making Data Count / NHSRplotthedots 0.2.2).

Tolerance: 1e-6 relative against the NHSRplotthedots snapshots (r1-r3 print 7 significant figures,
so their rounding alone can reach about 2e-7; f0/f1 use the exact values quoted in the reference file's source
column, 8 significant figures). Hand-built cases are small sums of exactly representable numbers:
limits are compared at 1e-12 absolute (a few ulps of float arithmetic); rule flags compare exactly.
"""

import re
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from joinedup.indicators.spc import SpcRules, xmr, xmr_by

REF = Path(__file__).resolve().parent / "data" / "external" / "spc_validation"
REL = 1e-6
ALT = [1.0, -1.0] * 6  # 12 points: mean 0, every moving range 2, so AMR 2, limits -/+ 5.32


@pytest.fixture(scope="module")
def rnorm():
    return pd.read_csv(REF / "xmr_rnorm_seed123_input.csv")["y"].to_numpy()


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(REF / "xmr_expected.csv").set_index("case")


def _first(result, cols=("mean", "lpl", "upl")):
    return np.array([result.tidy()[c].iloc[0] for c in cols])


def _exact(source: str) -> np.ndarray:
    return np.array([float(v) for v in re.search(r"exact ([-\d.,]+)\)", source).group(1).split(",")])


# --- validation against NHSRplotthedots snapshots -------------------------------------------------

@pytest.mark.parametrize("case", ["r1", "r2", "r3"])
def test_limits_match_nhsrplotthedots_snapshots(rnorm, expected, case):
    y = rnorm.copy()
    if case != "r1":
        y[14] = 10.0  # R: data$y[15] <- 10
    row = expected.loc[case]
    got = _first(xmr(y, screen_outliers=bool(row["screen_outliers"])))
    np.testing.assert_allclose(got, row[["mean", "lpl", "upl"]].astype(float), rtol=REL)


@pytest.mark.parametrize("case, rows", [("f0", slice(0, 10)), ("f1", slice(10, 20))])
def test_facets_match_exact_snapshot_values(rnorm, expected, case, rows):
    frame = pd.DataFrame({"y": rnorm, "x": pd.date_range("2020-01-02", periods=20),
                          "facet": [0] * 10 + [1] * 10})
    result = xmr_by(frame, "y", "x", "facet")
    sub = result.tidy().query(f"facet == {int(case[1])}")
    got = sub[["mean", "lpl", "upl"]].iloc[0].to_numpy(float)
    np.testing.assert_allclose(got, _exact(expected.loc[case, "source"]), rtol=REL)
    np.testing.assert_allclose(got, _first(xmr(rnorm[rows])), rtol=0, atol=0)
    assert (sub["point_type"] == "common_cause").all() and sub["short_group_warning"].all()


def test_linear_series_limits_and_two_sigma_lines(expected):
    t = xmr(np.arange(1.0, 11.0)).tidy()
    np.testing.assert_allclose(_first(xmr(np.arange(1.0, 11.0))),
                               expected.loc["lin10", ["mean", "lpl", "upl"]].astype(float), rtol=REL)
    np.testing.assert_allclose(t[["lower_2sigma", "upper_2sigma"]].iloc[0], [3.7266667, 7.2733333],
                               rtol=REL)


def test_snapshot_sides_of_mean_and_summary(rnorm):
    r1 = xmr(rnorm)
    assert r1.tidy()["relative_to_mean"].tolist()[:15] == [
        -1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]
    y = rnorm.copy()
    y[14] = 10.0
    assert xmr(y).tidy()["relative_to_mean"].tolist()[:14] == [
        -1, -1, 1, -1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1]
    s = r1.summary().table.iloc[0]
    assert (s["n"], s["common_cause"], s["special_cause_improvement"]) == (20, 20, 0)
    assert s["variation_type"] == "common_cause" and r1.variation_icon == "common_cause"
    assert "0.141624" in str(r1.summary()) and "<table" in r1.summary()._repr_html_()


def test_screening_drops_the_moving_ranges_around_the_outlier(rnorm):
    y = rnorm.copy()
    y[14] = 10.0
    t = xmr(y).tidy()
    assert np.flatnonzero(~t["mr_in_amr"].to_numpy()).tolist() == [0, 14, 15]
    mr = np.abs(np.diff(y))
    assert mr[13] >= 3.267 * mr.mean() and mr[14] >= 3.267 * mr.mean()
    np.testing.assert_allclose(t["amr"].iloc[0], np.delete(mr, [13, 14]).mean(), rtol=1e-14)
    assert xmr(y, screen_outliers=False).tidy()["mr_in_amr"].iloc[1:].all()


def test_screening_is_strict_a_moving_range_equal_to_3267_amr_is_dropped():
    # moving ranges 3267, then 748 x 8 and 749: AMR = 10000 / 10 = 1000 exactly, and
    # 3.267 * 1000 == 3267.0 in floating point, so the first range sits on the cut and is dropped
    steps = [3267] + [-748, 748] * 4 + [-749]
    t = xmr(np.cumsum([0] + steps, dtype=float)).tidy()
    assert t["mr_in_amr"].tolist() == [False, False] + [True] * 9
    assert t["amr"].iloc[0] == pytest.approx(6733 / 9, rel=1e-14)


# --- rules, hand-built ----------------------------------------------------------------------------

RUN6 = [1, -1] * 4 + [0.5, 0.6, 0.4, 0.7, 0.5, 0.6] + [-1, 1] * 4 + [-1]  # mean 2.3 / 23 = 0.1


def test_run_of_six_flags_only_with_run_length_six():
    assert (xmr(RUN6).tidy()["point_type"] == "common_cause").all()
    t = xmr(RUN6, rules=SpcRules(run_length=6)).tidy()
    assert np.flatnonzero(t["run"]).tolist() == list(range(8, 14))
    assert set(t["special_cause_type"].iloc[8:14]) == {"6 Points Above CL"}
    assert (t["point_type"].iloc[8:14] == "special_cause_improvement").all()
    assert t["special_cause_flag"].sum() == 6


def test_run_of_seven_flags_by_default_and_is_concern_when_lower_is_better():
    y = RUN6[:14] + [0.45] + RUN6[14:]
    t = xmr(y).tidy()
    assert np.flatnonzero(t["run"]).tolist() == list(range(8, 15))
    assert set(t["special_cause_type"].iloc[8:15]) == {"7 Points Above CL"}
    t = xmr(y, improvement_direction="decrease").tidy()
    assert (t["point_type"].iloc[8:15] == "special_cause_concern").all()
    assert (t["point_type"].drop(index=range(8, 15)) == "common_cause").all()


def test_a_point_on_the_mean_breaks_a_run():
    run = [0.5, 0.6, 0.4, 0.7, 0.5, 0.6, 0.45]
    assert xmr(ALT + run, fix_after_n_points=12).tidy()["run"].iloc[12:].all()
    broken = run[:3] + [0.0] + run[4:]  # baseline mean is exactly 0
    assert not xmr(ALT + broken, fix_after_n_points=12).tidy()["run"].any()
    assert not xmr(ALT + [0.0] * 7, fix_after_n_points=12).tidy()["run"].any()  # on it is no side


TREND7 = [2, -2, 2, -2, 2, -2, 2, -0.6, -0.4, -0.2, 0.0, 0.2, 0.4, 0.6, -2, 2, -2, 2, -2, 2]


def test_trend_of_seven_crossing_the_mean_is_coloured_by_direction():
    t = xmr(TREND7).tidy()
    assert np.flatnonzero(t["trend"]).tolist() == list(range(7, 14))
    assert set(t["special_cause_type"].iloc[7:14]) == {"7 Point Trend (Increasing)"}
    assert (t["point_type"].iloc[7:14] == "special_cause_improvement").all()
    down = xmr(TREND7, improvement_direction="decrease").tidy()
    assert (down["point_type"].iloc[7:14] == "special_cause_concern").all()
    assert (down["point_type"].drop(index=range(7, 14)) == "common_cause").all()
    falling = xmr(TREND7[::-1]).tidy()
    assert set(falling["special_cause_type"].iloc[6:13]) == {"7 Point Trend (Decreasing)"}


def test_trend_of_six_needs_trend_length_six_and_a_tie_breaks_a_trend():
    six = TREND7[:7] + TREND7[8:]
    assert not xmr(six).tidy()["trend"].any()
    assert np.flatnonzero(xmr(six, rules=SpcRules(trend_length=6)).tidy()["trend"]).tolist() == \
        list(range(7, 13))
    tied = TREND7[:10] + [-0.2] + TREND7[10:]
    assert not xmr(tied).tidy()["special_cause_flag"].any()


# baseline ALT fixes mean 0 and limits -/+5.32, 2-sigma lines -/+3.5467; then the test points
TWO3 = ALT + [0.5, 4.0, 4.2, 0.5, -1, 1, -1, 0.5, 4.0, 6.0, 0.5, -1, 1, 4.0, -4.0, 4.0, -1, 4.0, -1]


@pytest.mark.parametrize("beyond_counts, flagged", [(False, [13, 14]), (True, [13, 14, 20, 21])])
def test_two_of_three_with_and_without_points_beyond_three_sigma(beyond_counts, flagged):
    t = xmr(TWO3, fix_after_n_points=12,
            rules=SpcRules(two_of_three_beyond_limits=beyond_counts)).tidy()
    assert (t["upl"].iloc[0], t["upper_2sigma"].iloc[0]) == pytest.approx(
        (2.66 * 2, 2 * 2.66 / 3 * 2), abs=1e-12)
    assert np.flatnonzero(t["two_of_three"]).tolist() == flagged
    assert np.flatnonzero(t["outside_limits"]).tolist() == [21]
    assert t.loc[21, "special_cause_type"] == "Above UCL"
    # 4, -4, 4 (opposite sides, issue #143) and 4, -1, 4 (third point across the mean): no signal
    assert not t["special_cause_flag"].iloc[25:].any()
    assert t.loc[20, "point_type"] == ("special_cause_improvement" if beyond_counts else "common_cause")


def test_rebase_recalculates_each_period():
    y = [10 + v for v in ALT] + [20 + 2 * v for v in ALT]
    dates = pd.date_range("2021-04-01", periods=24, freq="MS")
    t = xmr(y, dates, rebase=[dates[12]]).tidy()
    assert t["rebase_group"].tolist() == [0] * 12 + [1] * 12
    np.testing.assert_allclose(t[["mean", "lpl", "upl"]].iloc[0], [10, 10 - 5.32, 10 + 5.32], atol=1e-12)
    np.testing.assert_allclose(t[["mean", "lpl", "upl"]].iloc[12], [20, 20 - 10.64, 20 + 10.64],
                               atol=1e-12)
    assert not t["special_cause_flag"].any() and not t["mr_in_amr"].iloc[12]
    assert xmr(y).tidy()["special_cause_flag"].iloc[:12].all()  # one period: a run below the mean
    assert xmr(y, rebase=[12]).tidy()["rebase_group"].tolist() == t["rebase_group"].tolist()
    with pytest.raises(ValueError, match="not among the dates"):
        xmr(y, dates, rebase=["2019-01-01"])


def test_fixed_baseline_holds_mean_and_limits():
    y = ALT + [3, 3.5, 2.5, 3, 3.5, 2.5, 3, 3.5]
    t = xmr(y, fix_after_n_points=12).tidy()
    assert (t["mean"] == 0).all() and np.allclose(t[["lpl", "upl"]], [-5.32, 5.32], atol=1e-12)
    assert t["mr_in_amr"].tolist() == [False] + [True] * 11 + [False] * 8
    assert t["run"].iloc[12:].all() and not t["run"].iloc[:12].any()
    assert xmr(y).tidy()["mean"].iloc[0] > 0.5  # unfixed: the later points move the mean
    with pytest.raises(ValueError, match=">= 12"):
        xmr(y, fix_after_n_points=5)


def test_conflict_rule_order_versus_improvement_first():
    y = np.arange(1.0, 11.0)  # 1, 2 below LCL 2.84 and part of an increasing trend of 10
    order = xmr(y).tidy()["point_type"].tolist()
    assert order[:2] == ["special_cause_concern"] * 2 and set(order[2:]) == {"special_cause_improvement"}
    mdc = xmr(y, rules=SpcRules.mdc()).tidy()
    assert (mdc["point_type"] == "special_cause_improvement").all()
    assert mdc["special_cause_type"].iloc[0] == "7 Point Trend (Increasing)"
    neutral = xmr(y, improvement_direction="neutral", rules=SpcRules.mdc()).tidy()["point_type"]
    assert neutral.tolist()[:3] == ["special_cause_neutral_low"] * 2 + ["special_cause_neutral_high"]


def test_rule_presets_and_validation():
    assert SpcRules() == SpcRules.nhsrplotthedots()
    assert SpcRules.mdc(6) == SpcRules(6, 6, True, "improvement")
    for bad in ({"run_length": 1}, {"conflict": "first"}):
        with pytest.raises(ValueError):
            SpcRules(**bad)
    with pytest.raises(ValueError, match="'increase', 'decrease', 'neutral'"):
        xmr([1, 2, 3], improvement_direction="up")
    with pytest.raises(ValueError, match="row 1"):
        xmr([1, np.nan, 3])
    with pytest.raises(ValueError, match="more than once"):
        xmr([1, 2], ["2020-01-01", "2020-01-01"])


# --- icons ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("last, direction, icon", [
    (10, "increase", "special_cause_improvement_high"),
    (10, "decrease", "special_cause_concern_high"),
    (10, "neutral", "special_cause_neutral_high"),
    (-10, "increase", "special_cause_concern_low"),
    (-10, "decrease", "special_cause_improvement_low"),
    (-10, "neutral", "special_cause_neutral_low"),
    (1, "increase", "common_cause"),
])
def test_variation_icon_is_the_last_point(last, direction, icon):
    r = xmr(ALT + [last], improvement_direction=direction)
    assert r.variation_icon == icon
    assert r.tidy()["outside_limits"].iloc[-1] == (abs(last) == 10)


@pytest.mark.parametrize("target, direction, icon", [
    (6, "increase", "consistent_fail"), (6, "decrease", "consistent_pass"),
    (-6, "increase", "consistent_pass"), (-6, "decrease", "consistent_fail"),
    (0, "increase", "inconsistent"), (5.32, "increase", "inconsistent"),
    (6, "neutral", None), (None, "increase", None),
])
def test_assurance_icon_against_the_limits(target, direction, icon):
    r = xmr(ALT, target=target, improvement_direction=direction)
    assert r.tidy()["upl"].iloc[-1] == 5.32
    assert r.assurance_icon == icon


def test_xmr_by_targets_rebase_and_icons_per_group():
    frame = pd.DataFrame({"area": ["a"] * 13 + ["b"] * 24, "t": list(range(13)) + list(range(24)),
                          "v": ALT + [10] + [10 + v for v in ALT] + [20 + 2 * v for v in ALT]})
    r = xmr_by(frame, "v", "t", "area", target={"a": -6}, rebase={"b": [12]})
    icons = r.icons.set_index("area")
    assert icons.loc["a", "variation_icon"] == "special_cause_improvement_high"
    assert icons.loc["a", "assurance_icon"] == "consistent_pass"
    assert icons.loc["b", "variation_icon"] == "common_cause" and icons.loc["b", "assurance_icon"] is None
    b = r.tidy().query("area == 'b'")
    assert b["mean"].iloc[0] == 10 and b["mean"].iloc[-1] == 20
    summary = r.summary().table
    assert summary[["area", "rebase_group", "n"]].values.tolist() == [
        ["a", 0, 13], ["b", 0, 12], ["b", 1, 12]]
    assert summary["variation_icon"].isna().tolist() == [False, True, False]
    with pytest.raises(ValueError, match="not in column"):
        xmr_by(frame, "v", "t", "area", target={"z": 1})
    with pytest.raises(ValueError, match="read variation_icon from .icons"):
        _ = r.variation_icon


def test_plot_returns_an_altair_chart():
    spec = xmr(ALT + [10], target=3).plot(title="t").to_dict()
    assert isinstance(xmr(ALT).plot(), alt.LayerChart) and spec["title"] == "t"
    frame = pd.DataFrame({"g": ["a"] * 12 + ["b"] * 12, "t": list(range(12)) * 2, "v": ALT * 2})
    assert isinstance(xmr_by(frame, "v", "t", "g").plot(), alt.FacetChart)
