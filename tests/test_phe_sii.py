"""Slope/relative index of inequality against PHEindicatormethods 2.1.0's own test sheet.

Tolerances, and why:
- ``sii``, ``rii`` and ``intercept`` are a weighted least-squares fit, deterministic in R and here:
  1e-6 relative (``RTOL``); we see agreement to about 1e-9 (the sheet stores ~15 digits).
- The confidence limits are Monte Carlo (normal draws per quantile, the regression refitted to
  each draw). R draws from its Mersenne Twister, we from numpy's PCG64, so the limits can agree
  only to simulation error. We apply PHE's own bar exactly as its tests do
  (``tests/testthat/testSII.R``: ``expect_equal(..., tolerance = 0.05)`` with testthat edition 3,
  i.e. waldo's ``num_equal``: per column, mean absolute difference over mean absolute expected
  value below 0.05), with PHE's 10,000 repetitions (100,000 in its 100,000-repetition case).
- Because 5% is loose, a second, sharper check: for ``value_type = 0`` the SII is linear in the
  quantile values, so its exact sampling distribution is normal with a closed-form standard
  deviation; our simulated 95% limits must sit within 0.05 of that standard deviation of the
  exact ones at 100,000 repetitions (about 6 Monte Carlo standard errors).

Reference data (GPL-3, test-only): tests/data/external/phe_indicatormethods_tests/sheets_csv/
testdata_SII__testdata_SII.csv (provenance in tests/data/external/README.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from joinedup.indicators.phe_sii import phe_sii, relative_ranks

RTOL = 1e-6
PHE_TOLERANCE = 0.05
NO_REPS = 10_000
SHEET = (Path(__file__).resolve().parent / "data" / "external" / "phe_indicatormethods_tests"
         / "sheets_csv" / "testdata_SII__testdata_SII.csv")
BY = ["Area", "Grouping1", "Grouping2"]


@pytest.fixture(scope="module")
def sheet() -> pd.DataFrame:
    return pd.read_csv(SHEET)


def rows(sheet: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """R's 1-based, inclusive row range of SII_test_grouped."""
    return sheet.iloc[first - 1:last].reset_index(drop=True)


def waldo_equal(actual, expected, tolerance=PHE_TOLERANCE) -> bool:
    """testthat 3e / waldo ``num_equal``: mean |diff| relative to mean |expected|."""
    x, y = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    if (np.isnan(x) != np.isnan(y)).any():
        return False
    same = np.isnan(x) | (x == y)
    if same.all():
        return True
    x, y = x[~same], y[~same]
    diff, scale = np.mean(np.abs(x - y)), np.mean(np.abs(y))
    if np.isfinite(scale) and scale > tolerance:
        diff /= scale
    return bool(diff < tolerance)


def _limit_map(tags: list[str]) -> dict[str, str]:
    """Our column -> the sheet's (level 1 = first tag, level 2 = second)."""
    out = {}
    for i, tag in enumerate(tags, start=1):
        for stat in ("sii", "rii"):
            out[f"{stat}_lower{tag}cl"] = f"{stat}_lowercl_{i}"
            out[f"{stat}_upper{tag}cl"] = f"{stat}_uppercl_{i}"
    return out


# (first, last, expected rows, arguments, confidence tags); rows as in testSII.R
CASES = {
    "default, se": (1, 20, (1, 11), {"value": "Value", "se": "StandardError"}, ["95_0"]),
    "default, limits": (1, 20, (1, 11),
                        {"value": "Value", "lower_cl": "LowerCL", "upper_cl": "UpperCL"}, ["95_0"]),
    "default, intercept": (1, 20, (246, 256), {"value": "Value", "lower_cl": "LowerCL",
                                                   "upper_cl": "UpperCL", "intercept": True}, ["95_0"]),
    "99% (decimal)": (21, 40, (21, 31), {"value": "Value", "lower_cl": "LowerCL",
                                             "upper_cl": "UpperCL", "confidence": 0.99}, ["99_0"]),
    "99% (percent)": (21, 40, (21, 31), {"value": "Value", "se": "StandardError", "confidence": 99},
                      ["99_0"]),
    "95% and 99%": (226, 245, (226, 236), {"value": "Value", "se": "StandardError",
                                               "confidence": [95, 99]}, ["95_0", "99_0"]),
    "100,000 repetitions": (41, 60, (41, 51), {"value": "Value", "se": "StandardError",
                                                   "repetitions": 100_000}, ["95_0"]),
    "rate, se": (71, 90, (71, 81), {"value_type": 1, "value": "Value", "se": "StandardError"},
                 ["95_0"]),
    "rate, limits": (71, 90, (71, 81), {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                            "upper_cl": "UpperCL"}, ["95_0"]),
    "rate, intercept": (71, 90, (266, 276), {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                                 "upper_cl": "UpperCL", "intercept": True}, ["95_0"]),
    "rate, log": (306, 325, (306, 316), {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                             "upper_cl": "UpperCL", "intercept": True, "transform": True},
                  ["95_0"]),
    "rate, log, multiplier -1": (386, 405, (386, 396),
                                 {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                      "upper_cl": "UpperCL", "multiplier": -1, "intercept": True,
                                      "transform": True}, ["95_0"]),
    "rate, log, 98%": (406, 425, (406, 416), {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                                  "upper_cl": "UpperCL", "confidence": 98,
                                                  "intercept": True, "transform": True}, ["98_0"]),
    "rate, log, 95% and 98%": (366, 385, (366, 376),
                               {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                    "upper_cl": "UpperCL", "confidence": [95, 98], "intercept": True,
                                    "transform": True}, ["95_0", "98_0"]),
    "rate, log, no rii": (426, 445, (426, 436), {"value_type": 1, "value": "Value",
                                                     "lower_cl": "LowerCL", "upper_cl": "UpperCL",
                                                     "rii": False, "transform": True}, ["95_0"]),
    "proportion, se": (91, 110, (91, 101), {"value_type": 2, "value": "Value", "se": "StandardError"},
                       ["95_0"]),
    "proportion, limits": (91, 110, (91, 101), {"value_type": 2, "value": "Value",
                                                    "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
                           ["95_0"]),
    "proportion, count": (91, 110, (91, 101), {"value_type": 2, "x": "Count", "lower_cl": "LowerCL",
                                                   "upper_cl": "UpperCL"}, ["95_0"]),
    # PHE's own case: value_type = 1 on the proportion rows, checked against rows 286/296
    "proportion rows as rate, intercept": (91, 110, (286, 296),
                                           {"value_type": 1, "value": "Value", "lower_cl": "LowerCL",
                                                "upper_cl": "UpperCL", "intercept": True}, ["95_0"]),
    "proportion x 100": (111, 130, (111, 121), {"value_type": 2, "value": "Value", "multiplier": 100,
                                                    "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
                         ["95_0"]),
    "proportion x 100, no rii": (111, 130, (111, 121),
                                 {"value_type": 2, "value": "Value", "multiplier": 100, "rii": False,
                                      "lower_cl": "LowerCL", "upper_cl": "UpperCL"}, ["95_0"]),
    "proportion x -100": (131, 150, (131, 141), {"value_type": 2, "value": "Value", "multiplier": -100,
                                                     "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
                          ["95_0"]),
    "proportion, logit": (326, 345, (326, 336), {"value_type": 2, "value": "Value",
                                                     "lower_cl": "LowerCL", "upper_cl": "UpperCL",
                                                     "intercept": True, "transform": True}, ["95_0"]),
    "proportion, logit, multiplier -1": (346, 365, (346, 356),
                                         {"value_type": 2, "value": "Value", "lower_cl": "LowerCL",
                                              "upper_cl": "UpperCL", "multiplier": -1, "intercept": True,
                                              "transform": True}, ["95_0"]),
    "proportion, logit, 98%": (466, 485, (466, 476),
                               {"value_type": 2, "value": "Value", "lower_cl": "LowerCL",
                                    "upper_cl": "UpperCL", "confidence": 98, "intercept": True,
                                    "transform": True}, ["98_0"]),
    "proportion, logit, 95% and 98%": (486, 505, (486, 496),
                                       {"value_type": 2, "value": "Value", "lower_cl": "LowerCL",
                                            "upper_cl": "UpperCL", "confidence": [95, 98],
                                            "intercept": True, "transform": True}, ["95_0", "98_0"]),
    "proportion, logit, no rii": (446, 465, (446, 456),
                                  {"value_type": 2, "value": "Value", "lower_cl": "LowerCL",
                                       "upper_cl": "UpperCL", "rii": False, "transform": True}, ["95_0"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_sii_matches_phe_test_sheet(sheet, case):
    first, last, expected_rows, kwargs, tags = CASES[case]
    kwargs = {"rii": True, "repetitions": NO_REPS, **kwargs}
    got = phe_sii(rows(sheet, first, last), "Quantile", "Population", by=BY, type="standard",
                  seed=20190215, **kwargs)
    expected = sheet.iloc[[r - 1 for r in expected_rows]].reset_index(drop=True)
    assert got[BY].values.tolist() == expected[BY].values.tolist()
    point = ["sii"] + (["rii"] if kwargs["rii"] else []) + (["intercept"] if kwargs.get("intercept")
                                                             else [])
    sheet_name = {"sii": "sii", "rii": "rii", "intercept": "Intercept"}
    for col in point:
        np.testing.assert_allclose(got[col], expected[sheet_name[col]], rtol=RTOL, err_msg=col)
    limits = {ours: theirs for ours, theirs in _limit_map(tags).items() if kwargs["rii"]
              or ours.startswith("sii")}
    assert set(limits) <= set(got.columns)
    for ours, theirs in limits.items():
        assert waldo_equal(got[ours], expected[theirs]), (case, ours, got[ours].tolist(),
                                                          expected[theirs].tolist())


def test_quintiles_sii_only(sheet):
    """PHE checks only the SII for quintiles (the Excel tool gave no limits)."""
    got = phe_sii(rows(sheet, 61, 70), "Quantile", "Population", by=BY, value="Value",
                  se="StandardError", repetitions=NO_REPS, rii=True, type="standard")
    np.testing.assert_allclose(got["sii"], sheet.iloc[[60, 65]]["sii"], rtol=RTOL)


def test_ungrouped_data_gives_the_first_area(sheet):
    got = phe_sii(rows(sheet, 1, 10), "Quantile", "Population", value="Value",
                  lower_cl="LowerCL", upper_cl="UpperCL", repetitions=NO_REPS, rii=True,
                  type="standard")
    assert len(got) == 1
    np.testing.assert_allclose(got["sii"], sheet.loc[[0], "sii"], rtol=RTOL)
    assert waldo_equal(got["sii_lower95_0cl"], sheet.loc[[0], "sii_lowercl_1"])


def test_same_seed_same_limits_and_different_seed_differs(sheet):
    data = rows(sheet, 1, 20)
    run = lambda seed: phe_sii(data, "Quantile", "Population", by=BY, value="Value",
                               se="StandardError", repetitions=1000, rii=True, seed=seed)
    pd.testing.assert_frame_equal(run(5), run(5))
    assert not run(5)["sii_lower95_0cl"].equals(run(6)["sii_lower95_0cl"])


def test_simulated_limits_match_the_exact_normal_limits(sheet):
    """value_type 0: SII = w'y with y ~ N(value, se^2), so its limits are exact normal ones."""
    data = rows(sheet, 1, 10)
    got = phe_sii(data, "Quantile", "Population", value="Value", se="StandardError",
                  repetitions=100_000, type="standard", seed=7)
    pop = data["Population"].to_numpy(float)
    sqrt_a = np.sqrt(pop / pop.sum())
    design = np.vstack([sqrt_a, relative_ranks(pop) * sqrt_a])
    weights = np.linalg.solve(design @ design.T, design)[1] * sqrt_a
    sd = np.sqrt(np.sum(weights ** 2 * data["StandardError"].to_numpy() ** 2))
    centre = float(weights @ data["Value"].to_numpy())
    assert centre == pytest.approx(float(got.loc[0, "sii"]), rel=1e-12)
    z = norm.ppf(0.975)
    assert abs(got.loc[0, "sii_lower95_0cl"] - (centre - z * sd)) < 0.05 * sd
    assert abs(got.loc[0, "sii_upper95_0cl"] - (centre + z * sd)) < 0.05 * sd


def test_full_type_metadata(sheet):
    got = phe_sii(rows(sheet, 306, 325), "Quantile", "Population", by=BY, value_type=1,
                  value="Value", lower_cl="LowerCL", upper_cl="UpperCL", transform=True,
                  repetitions=1000, confidence=[95, 98])
    assert got.loc[0, ["indicator_type", "transform", "CI_confidence", "CI_method"]].tolist() == [
        "rate", "log", "95%, 98%", "simulation 1000 reps"]


def test_grouped_life_expectancy_example_drops_incomplete_area():
    """PHE's worked example (LE_data = LE_testdata.csv): E06000053 lacks deciles and is dropped."""
    le = pd.read_csv(SHEET.parent.parent / "LE_testdata.csv")
    with pytest.warns(UserWarning, match="some records have been removed"):
        got = phe_sii(le, "Decile", "Pop", by=["Sex", "GeoCode"], value="LifeExp", se="SE",
                      repetitions=1000, confidence=[0.95, 0.998])
    assert "E06000053" not in set(got["GeoCode"])
    assert len(got) == le.groupby(["Sex", "GeoCode"]).ngroups - le.query(
        "GeoCode == 'E06000053'")["Sex"].nunique()
    inside = (got["sii_lower99_8cl"] <= got["sii_lower95_0cl"]) & (
        got["sii_lower95_0cl"] <= got["sii"]) & (got["sii"] <= got["sii_upper95_0cl"]) & (
        got["sii_upper95_0cl"] <= got["sii_upper99_8cl"])
    assert inside.all()
    assert (got["sii"] > 0).mean() > 0.9  # life expectancy rises from most to least deprived


# ---------------------------------------------------------------- errors and warnings (PHE's)

@pytest.mark.parametrize("first,last,kwargs,message", [
    (151, 160, {"value": "Value", "se": "StandardError"}, "zero, negative or missing population"),
    (161, 165, {"value": "Value", "se": "StandardError"}, "negative or missing standard errors"),
    (191, 200, {"value": "Value", "se": "StandardError"}, "negative or missing standard errors"),
    (166, 170, {"x": "Count", "value_type": 2, "se": "StandardError"}, "zero or negative count x"),
    (1, 20, {"value": "Value", "value_type": 2, "se": "StandardError"},
     "value proportions are not all between 0 and 1"),
    (171, 175, {"value": "Value", "value_type": 2, "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
     "confidence limit proportions are not all between 0 and 1"),
    (176, 180, {"value": "Value", "value_type": 2, "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
     "confidence limit proportions are not all between 0 and 1"),
    (1, 3, {"value": "Value", "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
     "Number of quantiles must be between 5 and 100"),
    (191, 200, {"value": "Value", "lower_cl": "LowerCL", "upper_cl": "UpperCL"},
     "missing lower or upper confidence limits"),
    (1, 20, {"se": "StandardError"}, "requires value field, or x field"),
    (1, 20, {"value": "Value", "lower_cl": "LowerCL"}, "either lower_cl and upper_cl fields, or se"),
    (1, 20, {"value": "Value", "se": "StandardError", "value_type": 3}, "value_type should be 0, 1 or 2"),
    (1, 20, {"value": "Value", "se": "StandardError", "repetitions": 999}, "1000 or greater"),
    (1, 20, {"value": "Value", "se": "StandardError", "confidence": 0.8}, "between 90 and 100"),
    (1, 20, {"value": "Value", "se": "StandardError", "transform": True, "value_type": 0},
     "value_type should be 1 or 2 when transform is true"),
    (1, 20, {"value": "Value", "se": "StandardError", "transform": True, "value_type": 1},
     "se to be missing when transform is true"),
])
def test_phe_errors(sheet, first, last, kwargs, message):
    with pytest.raises(ValueError, match=message):
        phe_sii(rows(sheet, first, last), "Quantile", "Population", by=BY, **kwargs)


def test_non_numeric_and_unknown_columns(sheet):
    with pytest.raises(TypeError, match="non-numeric"):
        phe_sii(rows(sheet, 151, 160), "Quantile", "Grouping1", by=BY, value="Value",
                se="StandardError")
    with pytest.raises(ValueError, match="value is not a field name from data: 'Valu'"):
        phe_sii(rows(sheet, 1, 20), "Quantile", "Population", value="Valu", se="StandardError")


def test_phe_warnings(sheet):
    incomplete = sheet.iloc[list(range(15)) + list(range(16, 20))]
    with pytest.warns(UserWarning, match="some records have been removed"):
        got = phe_sii(incomplete, "Quantile", "Population", by=BY, value="Value",
                      lower_cl="LowerCL", upper_cl="UpperCL", repetitions=1000)
    assert got["Area"].tolist() == ["area1"]
    with pytest.warns(UserWarning, match="large number of quantiles"):
        phe_sii(rows(sheet, 211, 225), "Quantile", "Population", by=BY, value="Value",
                lower_cl="LowerCL", upper_cl="UpperCL", repetitions=1000)
