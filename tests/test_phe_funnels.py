"""PHE funnel plots against PHEindicatormethods 2.1.0's testdata_funnel_* files.

Tolerance: 1e-6 relative (``RTOL``). The expected files were written by R's write.csv after rounding
to 7-10 significant digits (the proportion limits to 6 decimals), so exact agreement is impossible;
the rounding alone accounts for up to about 1e-7. Our limits agree to that. PHE's Poisson funnels
come from a bisection that stops at steps of 6e-8 in v = mean/(1 + O + mean) (up to 1e-4 relative
in the limit for one event), so matching at 1e-6 requires reproducing PHE's bisection path, including
its series truncation at 1e-10: a looser tolerance would hide a differently solved funnel.
Significance labels and grid points must match exactly.

Reference data (GPL-3, test-only): tests/data/external/phe_indicatormethods_tests, never in the package
(provenance in tests/data/external/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from joinedup.indicators.phe_funnels import (
    SIGNIFICANCE_LEVELS,
    funnel_limits,
    funnel_points,
    funnel_significance,
    poisson_funnel,
)

RTOL = 1e-6
EXTERNAL = Path(__file__).resolve().parent / "data" / "external"
FUNNELS = EXTERNAL / "phe_indicatormethods_tests"


def ref(name: str) -> pd.DataFrame:
    frame = pd.read_csv(FUNNELS / f"testdata_funnel_{name}.csv", encoding="utf-8-sig")
    return frame.rename(columns=lambda c: c.strip())


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"),
                               np.asarray(expected, dtype="float64"), rtol=rtol, atol=0)


def same_numbers(out: pd.DataFrame, expected: pd.DataFrame, columns: list[str]) -> None:
    assert len(out) == len(expected) == 100
    for ours, theirs in zip(columns, expected.columns):
        close(out[ours], expected[theirs])


PROP_COLUMNS = ["Population", "lower_2s_limit", "upper_2s_limit", "lower_3s_limit",
                "upper_3s_limit", "baseline"]
RATE_COLUMNS = ["Events", "lower_2s_population_1_year", "lower_2s_limit",
                "upper_2s_population_1_year", "upper_2s_limit", "lower_3s_population_1_year",
                "lower_3s_limit", "upper_3s_population_1_year", "upper_3s_limit", "baseline"]


# ---------------------------------------------------------------- limits

def test_proportion_limits():
    data = ref("prop_inputs")
    out = funnel_limits(data["numerator"], data["denominator"], statistic="proportion",
                        multiplier=100, output="standard")
    assert list(out.columns) == PROP_COLUMNS
    same_numbers(out, ref("prop_outputs"), PROP_COLUMNS)


def test_proportion_limits_when_the_axis_does_not_start_at_one():
    data = ref("prop_inputs").query("denominator < 31000")
    out = funnel_limits(data["numerator"], data["denominator"], statistic="proportion",
                        multiplier=100)
    same_numbers(out, ref("prop_outputs_with_axis_variation"), PROP_COLUMNS)
    assert set(out["statistic"]) == {"proportion"} and set(out["method"]) == {"Wilson"}


@pytest.mark.parametrize("ratio_type", ["count", "isr"])
def test_ratio_limits(ratio_type):
    data, expected = ref("ratio_inputs"), ref("ratio_outputs")
    out = funnel_limits(data["obs"], data["expected"], statistic="ratio", multiplier=100,
                        ratio_type=ratio_type)
    close(out["Observed_events"], expected["Observed_events"])
    for tag in ("lower_2s", "upper_2s", "lower_3s", "upper_3s"):
        close(out[f"{tag}_exp_events"], expected[f"{tag}_exp_events"])
        close(out[f"{tag}_limit"], expected[f"{tag}_{ratio_type}"])
    assert set(out["statistic"]) == {f"ratio ({ratio_type})"} and set(out["method"]) == {"Poisson"}


def rate_inputs() -> pd.DataFrame:
    return ref("rate_input_funnels")


def test_rate_limits_dsr():
    data = rate_inputs()
    out = funnel_limits(data["ev"], rate=data["rate"], statistic="rate", rate_type="dsr",
                        multiplier=1e5, years_of_data=3)
    expected = ref("rate_outputs")
    same_numbers(out, expected, RATE_COLUMNS)
    assert out["statistic"].tolist() == expected["statistic"].tolist()  # rate (dsr per 100,000)


def test_rate_limits_crude_with_fewer_than_10_events():
    data = rate_inputs()
    events = data["ev"].where(data["ev"] != data["ev"].max(), 5)
    out = funnel_limits(events, rate=data["rate"], statistic="rate", rate_type="crude",
                        multiplier=1e5, years_of_data=3)
    expected = ref("rate_outputs_2")
    same_numbers(out, expected, RATE_COLUMNS)
    assert out["statistic"].tolist() == expected["statistic"].tolist()


def test_rate_limits_crude_with_zero_events_and_denominators():
    data = rate_inputs()[["ev", "rate"]].astype("float64")
    data["pop"] = 1e5 * data["ev"] / data["rate"]
    top = data["ev"] == data["ev"].max()
    data.loc[top, ["rate", "ev"]] = 0
    data = data[data["pop"] > data["pop"].max() / 2]
    out = funnel_limits(data["ev"], data["pop"], data["rate"], statistic="rate",
                        rate_type="crude", multiplier=1e5, years_of_data=3)
    same_numbers(out, ref("rate_outputs_3"), RATE_COLUMNS)


# ---------------------------------------------------------------- significance

def test_proportion_significance():
    data = ref("prop_inputs")
    out = funnel_significance(data["numerator"], data["denominator"], statistic="proportion")
    assert out.astype(str).tolist() == data["significance"].tolist()
    assert list(out.cat.categories) == list(SIGNIFICANCE_LEVELS[:5])


def test_ratio_significance():
    data = ref("ratio_inputs")
    out = funnel_significance(data["obs"], data["expected"], statistic="ratio")
    assert out.astype(str).tolist() == data["significance"].tolist()


@pytest.mark.parametrize("rate_type, per, rate_column", [
    ("dsr", 100_000, "rate_dsr"), ("dsr", 100, "rate_dsr"),
    ("crude", 100_000, "rate_crude_per_100000"), ("crude", 100, "rate_crude_per_100")])
@pytest.mark.parametrize("zeros", ["with_0", "without_0"])
def test_rate_significance(rate_type, per, rate_column, zeros):
    data = ref("rate_dsr_inputs")
    if zeros == "without_0":
        data = data[data["count"] != 0]
    out = funnel_significance(data["count"], data["pop"], data[rate_column], statistic="rate",
                              rate_type=rate_type, multiplier=per)
    assert out.astype(str).tolist() == data[f"{rate_type}_per_{per}_{zeros}"].tolist()
    assert (out.index == data.index).all()


# ---------------------------------------------------------------- plotting points

def test_funnel_points():
    data = rate_inputs()
    events = data["ev"].where(data["ev"] != data["ev"].max(), 5)
    dsr = funnel_points(events, data["rate"], rate_type="dsr", years_of_data=3, multiplier=1e5)
    close(dsr["rate_chart"], data["rate_chart"])  # NaN for fewer than 10 events
    close(dsr["denominator_derived"], data["denominator_derived"])
    crude = funnel_points(data["ev"], data["rate"], rate_type="crude", years_of_data=3,
                          multiplier=1e5)
    close(crude["rate_chart"], data["rate_chart_crude"])
    close(crude["denominator_derived"], data["denominator_derived_crude"])
    zero = data["ev"].where(data["ev"] != data["ev"].max(), 0)
    given = funnel_points(zero, data["rate"], data["pop"], rate_type="crude", years_of_data=5,
                          multiplier=1e5)
    close(given["rate_chart"], data["rate_chart_crude_with_denom"])
    close(given["denominator_derived"], data["denominator_derived_crude_with_denom"])


# ---------------------------------------------------------------- errors (PHE's error tests)

def _with_missing(kind: str) -> pd.DataFrame:
    data = rate_inputs()[["ev", "rate", "pop"]].astype("float64")
    hit = data["pop"].between(5710, 5715)
    data.loc[hit, "ev"] = np.nan if kind == "NA" else 0
    data.loc[hit, ["rate", "pop"]] = np.nan
    return data


NA, NA2 = _with_missing("NA"), _with_missing("NA2")
PROPS = {"numerator": [65, 80, 30], "denominator": [100, 100, 20], "statistic": "proportion"}


@pytest.mark.parametrize("call, message", [
    (lambda: funnel_limits([1, 2], [3, 4], statistic="pop", multiplier=100),
     "statistic must be one of 'proportion', 'ratio', 'rate'"),
    (lambda: funnel_limits([1, 2], [3, 4], statistic="proportion", multiplier=100,
                           output="srtd"), "output must be one of 'full', 'standard'"),
    (lambda: funnel_limits([100, 100, 20], statistic="proportion", multiplier=100),
     "required for proportions: numerator, denominator, multiplier"),
    (lambda: funnel_limits([100, 100, 20], statistic="ratio", multiplier=100),
     "required for ratios: numerator, denominator, ratio_type, multiplier"),
    (lambda: funnel_limits([100, 100, 20], statistic="rate"),
     "required for rates: numerator, rate, rate_type, multiplier, years_of_data"),
    (lambda: funnel_limits([100, 100, 50], [2e5, 4e5, 3e5], [50, 25, 15], statistic="rate",
                           rate_type="crude", multiplier=100),
     "required for rates: .*years_of_data"),
    (lambda: funnel_limits([100, 100, 0], rate=[50, 25, 0], statistic="rate", rate_type="dsr",
                           multiplier=100, years_of_data=1),
     "where there are 0 events for a record, the denominator field needs to be provided"),
    (lambda: funnel_limits(NA["ev"], rate=NA["rate"], statistic="rate", rate_type="crude",
                           multiplier=1e5, years_of_data=1),
     "numerators must be provided for all records, even when their values are zero"),
    (lambda: funnel_limits(NA2["ev"], rate=NA2["rate"], statistic="rate", rate_type="dsr",
                           multiplier=1e5, years_of_data=1),
     "rates must be provided for all records, or a denominator must be provided"),
    (lambda: funnel_limits(NA2["ev"], NA2["ev"].where(NA2["ev"] != 0, 0), NA2["rate"],
                           statistic="rate", rate_type="dsr", multiplier=1e5, years_of_data=1),
     "where there are 0 events for a record, the denominator must be provided"),
    (lambda: funnel_limits(NA2["ev"], NA2["pop"], NA2["rate"], statistic="rate",
                           rate_type="dsr", multiplier=1e5, years_of_data=1),
     "rates must be provided for all records, or a denominator must be provided"),
    (lambda: funnel_limits(NA["ev"], NA["pop"], statistic="proportion", multiplier=1e5),
     "numerators and denominators must be provided for all records"),
    (lambda: funnel_significance([65, 80, 30], [100, 100, 0], statistic="proportion"),
     r"denominator: denominators must be greater than zero.*\[2\]"),
    (lambda: funnel_significance([65, -80, 30], [100, 100, 200], statistic="proportion"),
     r"numerator: numerators must be greater than or equal to zero.*\[1\]"),
    (lambda: funnel_significance(**PROPS),
     r"numerators must be less than or equal to denominator for a proportion statistic.*\[2\]"),
    (lambda: funnel_significance([65, 80, 30], statistic="proportion"),
     "required for proportions: numerator, denominator"),
    (lambda: funnel_significance([100, 100, 20], rate_type="dsr", multiplier=100,
                                 statistic=None), "statistic must be one of"),
    (lambda: funnel_significance([100, 100, 20], statistic="rate", rate_type="dsr",
                                 multiplier=100), "required for rates: numerator, rate"),
    (lambda: funnel_significance([0, 100, 20], rate=[0, 142, 111], statistic="rate",
                                 rate_type="crude", multiplier=100),
     "denominator field needs to be provided using the denominator argument"),
    (lambda: funnel_significance([50, 100, 20], rate=[100, 142, 111], statistic="rate",
                                 rate_type="crude"), "required for rates: .*multiplier"),
    (lambda: funnel_significance(NA2["ev"], rate=NA2["rate"], statistic="rate",
                                 rate_type="crude", multiplier=1e5),
     "rates must be provided for all records"),
    (lambda: funnel_significance(NA2["ev"], NA2["ev"], NA2["rate"], statistic="rate",
                                 rate_type="crude", multiplier=1e5),
     "where there are 0 events for a record, the denominator must be provided"),
    (lambda: funnel_significance(NA["ev"], rate=NA["rate"], statistic="rate", rate_type="dsr",
                                 multiplier=1e5), "numerators must be provided for all records"),
    (lambda: funnel_significance(NA["ev"], NA["pop"], statistic="proportion"),
     "numerators and denominators must be provided for all records"),
    (lambda: funnel_points(rate_inputs()["ev"], None, rate_type="dsr", years_of_data=3,
                           multiplier=1e5), "required for rates: .*rate"),
    (lambda: funnel_points(rate_inputs()["ev"], rate_inputs()["rate"], rate_type="dsr",
                           years_of_data=3, multiplier=None), "required for rates: .*multiplier"),
    (lambda: funnel_points(NA2["ev"], NA2["rate"], rate_type="dsr", years_of_data=3,
                           multiplier=1e5),
     "denominator field needs to be provided using the denominator argument"),
    (lambda: funnel_points(NA2["ev"], NA2["rate"], NA2["pop"], rate_type="dsr",
                           years_of_data=3, multiplier=1e5),
     "where there are 0 events for a record, the denominator must be provided"),
])
def test_funnel_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- properties

def test_funnels_widen_at_99_8_and_narrow_with_size():
    data = ref("prop_inputs")
    prop = funnel_limits(data["numerator"], data["denominator"], statistic="proportion",
                         multiplier=100)
    prop = prop[(prop["lower_3s_limit"] > 0) & (prop["upper_3s_limit"] < 100)]  # not clipped
    assert len(prop) > 70
    assert (prop["lower_3s_limit"] < prop["lower_2s_limit"]).all()
    assert (prop["lower_2s_limit"] < prop["baseline"]).all()
    assert (prop["baseline"] < prop["upper_2s_limit"]).all()
    assert (prop["upper_2s_limit"] < prop["upper_3s_limit"]).all()
    assert (np.diff(prop["upper_3s_limit"] - prop["lower_3s_limit"]) < 0).all()
    ratio = ref("ratio_inputs")
    isr = funnel_limits(ratio["obs"], ratio["expected"], statistic="ratio", multiplier=100,
                        ratio_type="isr")
    assert (isr["lower_3s_limit"] < isr["lower_2s_limit"]).all()
    assert (isr["lower_2s_limit"] < 100).all() and (isr["upper_2s_limit"] > 100).all()
    assert (isr["upper_2s_limit"] < isr["upper_3s_limit"]).all()


def test_poisson_funnel_is_within_phe_bisection_step_of_the_exact_tail():
    from scipy.special import gammainc, gammaincc

    observed = np.array([1.0, 7.0, 10.0, 55.0, 328.0, 2500.0])
    low = poisson_funnel(observed, 0.025, "low")
    high = poisson_funnel(observed, 0.025, "high")
    close(gammainc(observed, low), 0.025, rtol=1e-4)  # P(K >= O | mean) = p
    close(gammaincc(observed + 1, high), 0.025, rtol=1e-4)  # P(K <= O | mean) = p
    assert (low < observed).all() and (high > observed).all()
