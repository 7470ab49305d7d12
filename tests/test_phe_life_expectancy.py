"""Life expectancy (Chiang II, Silcocks limits) against PHEindicatormethods 2.1.0's own tests.

Tolerance: PHE's, 4 decimal places (``testLifeExpectancy.R``: ``n <- 4``; both sides are rounded
to 4 dp and compared), which we apply as PHE does. Sharper checks where the reference allows:
the life expectancies themselves agree to 1e-7 absolute (stored to 8-10 significant digits;
closed-form method). The expected *limits* were made with z = 1.96 (PHE's Excel tool; the R code
uses qnorm(0.975) = 1.959964, so its limits differ from the sheet by up to 5e-6, inside 4 dp):
rebuilt with z = 1.96 from our standard errors they agree to 1e-7 too.

Reference data (GPL-3, test-only): tests/data/external/phe_indicatormethods_tests/
life_expectancy_df1_expected.csv (``df1`` and ``answer1`` of testLifeExpectancy.R); the
``answer_widecis`` values below are copied from the same file (commit 093fd288).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from joinedup.indicators.phe_life_expectancy import AGE_BANDS, phe_life_expectancy

N_DP = 4
ATOL = 1e-7
EXPECTED = (Path(__file__).resolve().parent / "data" / "external" / "phe_indicatormethods_tests"
            / "life_expectancy_df1_expected.csv")
COLS = ["value", "lowercl", "uppercl"]


@pytest.fixture(scope="module")
def df1() -> pd.DataFrame:
    return pd.read_csv(EXPECTED)


def answer(df1) -> np.ndarray:
    return df1[["le", "lowercl95", "uppercl95"]].to_numpy()


def check(got: pd.DataFrame, expected: np.ndarray, cols=COLS) -> None:
    """PHE's 4 dp on all columns; 1e-7 on the life expectancy (first column)."""
    values = got[cols].to_numpy(dtype=float)
    np.testing.assert_array_equal(np.round(values, N_DP), np.round(expected, N_DP))
    np.testing.assert_allclose(values[:, 0], expected[:, 0], atol=ATOL, rtol=0)


def test_limits_are_the_sheets_with_z_196(df1):
    """The sheet's limits = value -/+ 1.96 * SE: our SE (from a qnorm(0.975) interval) to 1e-7."""
    got = phe_life_expectancy(df1, "deaths", "pops", "startage", type="standard")
    se = (got["uppercl"] - got["lowercl"]) / (2 * norm.ppf(0.975))
    rebuilt = np.column_stack([got["value"] - 1.96 * se, got["value"] + 1.96 * se])
    np.testing.assert_allclose(rebuilt, answer(df1)[:, 1:], atol=ATOL, rtol=0)


def test_defaults_standard(df1):
    got = phe_life_expectancy(df1, "deaths", "pops", "startage", type="standard")
    assert list(got.columns) == ["startage", "value", "lowercl", "uppercl"]
    check(got, answer(df1))


def test_confidence_as_percent_and_shuffled_bands(df1):
    check(phe_life_expectancy(df1, "deaths", "pops", "startage", confidence=95), answer(df1))
    shuffled = df1.sample(frac=1, random_state=3)
    check(phe_life_expectancy(shuffled, "deaths", "pops", "startage"), answer(df1))


def test_text_age_bands_in_wrong_order(df1):
    labels = ["0", "1-4", "5-9"] + [f"{a} – {a + 4}" for a in range(10, 90, 5)] + ["90 +"]
    data = df1.assign(startage=labels).iloc[::-1]
    got = phe_life_expectancy(data, "deaths", "pops", "startage", age_contents=labels)
    check(got, answer(df1))
    with pytest.raises(ValueError, match="do not match the contents of the age_contents"):
        phe_life_expectancy(data, "deaths", "pops", "startage")


def test_grouped_single_area_and_le_age(df1):
    got = phe_life_expectancy(df1.assign(area="test"), "deaths", "pops", "startage", by="area")
    assert (got["area"] == "test").all()
    check(got, answer(df1))
    five = phe_life_expectancy(df1, "deaths", "pops", "startage", le_age=5)
    check(five, answer(df1)[[2]])
    full = phe_life_expectancy(df1, "deaths", "pops", "startage", le_age=[5, 25], type="full")
    assert full["pops_used"].tolist() == [745835, 568592]
    assert full["dths_used"].tolist() == [9331, 9284]
    assert full["statistic"].tolist() == ["life expectancy at 5", "life expectancy at 25"]
    assert set(full["method"]) == {"Chiang, using Silcocks et al for confidence limits"}
    assert set(full["confidence"]) == {"95%"}


def test_two_levels(df1):
    one = phe_life_expectancy(df1, "deaths", "pops", "startage", confidence=99.8)
    two = phe_life_expectancy(df1, "deaths", "pops", "startage", confidence=[95, 99.8])
    np.testing.assert_allclose(one[["lowercl", "uppercl"]].to_numpy(),
                               two[["lower99_8cl", "upper99_8cl"]].to_numpy())
    assert two.shape[1] == 9 - 2 + 2 * 2
    many = phe_life_expectancy(df1, "deaths", "pops", "startage", confidence=list(range(90, 100)))
    assert many.shape[1] == 9 - 2 + 2 * 10


def test_wide_intervals_suppressed_values_but_not_limits():
    """answer_widecis of testLifeExpectancy.R: Area 1 (312 deaths among 311 aged 90+) is all
    missing; Area 2's values from age 45 are suppressed (interval > 20 years), limits kept. (R
    appends suppressed groups after the others, so its first 20 rows are Area 2's.)"""
    ages = list(AGE_BANDS)
    pops = [270, 235, 246, 248, 243, 238, 246, 257, 261, 355, 350, 356, 346, 339, 337, 337, 333,
            323, 311, 311]
    deaths = [17, 9, 4, 8, 20, 15, 24, 33, 50, 51, 10, 16, 26, 30, 36, 22, 13, 5, 6, 1]
    area1 = pd.DataFrame({"area": "Area 1", "startage": ages, "pops": pops,
                          "deaths": deaths[:-1] + [312]})
    area2 = pd.DataFrame({"area": "Area 2", "startage": ages, "pops": pops, "deaths": deaths})
    with pytest.warns(UserWarning) as caught:
        got = phe_life_expectancy(pd.concat([area1, area2]), "deaths", "pops", "startage",
                                  by="area", confidence=[0.95, 0.998])
    messages = " ".join(str(w.message) for w in caught)
    assert "more deaths than population" in messages
    assert "confidence interval > 20 years" in messages
    value = [19.22914685, 19.44120610, 18.33467808, 14.67659995, 11.81284556, 11.63815414,
             10.05641628, 9.93152356, 11.95846561] + [np.nan] * 11
    lower = [16.43900644, 16.53437505, 15.62922550, 12.08108630, 9.21823373, 8.68414661,
             6.54020385, 4.71570153, 2.37762283, -1.60695210, -10.33328815, -17.16409724,
             -26.91715103, -45.04820928, -76.27067271, -137.12203187, -195.39453664,
             -242.37480291, -266.74198466, -298.54880400]
    upper = [22.01928726, 22.34803716, 21.04013066, 17.27211361, 14.40745738, 14.59216167,
             13.57262872, 15.14734559, 21.53930839, 50.29765396, 97.99598549, 107.54413263,
             128.91238524, 181.91668353, 278.06441642, 472.32822039, 649.40455756, 783.50845564,
             841.04259816, 920.54880400]
    second = got[got["area"] == "Area 2"]
    expected = np.column_stack([value, lower, upper])
    check(second, expected, ["value", "lower95_0cl", "upper95_0cl"])
    assert got.loc[got["area"] == "Area 1", ["value", "lower95_0cl", "upper95_0cl"]].isna().all(
        axis=None)


@pytest.mark.parametrize("change,message", [
    (lambda d: d.assign(deaths=d["deaths"].where(d["startage"] != 10, -5)), "negative deaths"),
    (lambda d: d.assign(pops=d["pops"].where(d["startage"] != 20, 0)), "zero or less population"),
    (lambda d: d.assign(pops=d["pops"].where(d["startage"] != 85, 119)),
     "more deaths than population"),
    (lambda d: d.assign(pops=np.arange(100, 120), deaths=50),
     "total population of less than 5,000"),
])
def test_bad_groups_give_missing_outputs_with_phe_warnings(df1, change, message):
    with pytest.warns(UserWarning, match=message):
        got = phe_life_expectancy(change(df1), "deaths", "pops", "startage")
    assert got[COLS].isna().all(axis=None)


def test_missing_band_and_grouped_warnings(df1):
    short = df1[df1["startage"] != 90]
    with pytest.warns(UserWarning, match="different number of age bands than 20"):
        got = phe_life_expectancy(short, "deaths", "pops", "startage",
                                  age_contents=AGE_BANDS[:-1])
    assert got[COLS].isna().all(axis=None)
    good = df1.assign(area="good")
    bad = df1.assign(area="bad", deaths=df1["deaths"].where(df1["startage"] != 5, -2))
    with pytest.warns(UserWarning, match="negative deaths"):
        got = phe_life_expectancy(pd.concat([good, bad]), "deaths", "pops", "startage", by="area")
    assert len(got) == 40
    assert got.loc[got["area"] == "bad", COLS].isna().all(axis=None)
    check(got[got["area"] == "good"], answer(df1))


def test_phe_errors(df1):
    with pytest.raises(ValueError, match="first age band in age_contents must be 0"):
        phe_life_expectancy(df1, "deaths", "pops", "startage", age_contents=[1, 0] + list(
            range(5, 95, 5)))
    labels = ["0", "1 4", "5 9", "20 24", "25 29", "10 14", "15 19", "30 34", "35 39", "40 44",
              "45 49", "50 54", "55 59", "60 64", "65 69", "70 74", "75 79", "80 84", "85 89",
              "90+"]
    with pytest.raises(ValueError, match="out of position: 20 24, 25 29, 10 14, 15 19"):
        phe_life_expectancy(df1, "deaths", "pops", "startage", age_contents=labels)
    with pytest.raises(ValueError, match="between 90 and 100 or between 0.9 and 1"):
        phe_life_expectancy(df1, "deaths", "pops", "startage", confidence=0.8)
    with pytest.raises(ValueError, match="population is not a field name from data"):
        phe_life_expectancy(df1, "deaths", "pop", "startage")
    with pytest.warns(UserWarning, match="le_age not in the vector"):
        got = phe_life_expectancy(df1, "deaths", "pops", "startage", le_age=[4, 6])
    assert len(got) == 20
