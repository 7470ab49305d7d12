"""PHE rates, proportions, means, DSRs and ISRs against PHEindicatormethods 2.1.0's own test sheets.

Tolerance: 1e-6 relative (``RTOL``). The expected values were computed by R in double precision and
stored with 15-17 significant digits (the non-independent DSR rows with 8 decimals); our formulas
are the same and our quantiles (scipy's normal, chi-square and t) agree with R's to about 1e-13,
so we see agreement to 1e-11 or better. 1e-6 is the bar set for this port: loose enough for stored
rounding, tight enough that any difference of method (a wrong quantile, the exact/Byar's switch at
10, the < 10 suppression, the non-independent variance) fails by orders of magnitude.

Reference data (GPL-3, test-only, never in the package): tests/data/external/phe_indicatormethods_tests
(provenance in tests/data/external/README.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaincinv
from scipy.stats import chi2, norm
from scipy.stats import t as student_t

from joinedup.indicators.stats import (
    byars_lower,
    byars_upper,
    crude_rate,
    dsr,
    exact_lower,
    exact_upper,
    israte,
    isratio,
    mean_ci,
    poisson_limits,
    proportion,
    smr,
    wilson_lower,
    wilson_upper,
)

RTOL = 1e-6
EXTERNAL = Path(__file__).resolve().parent / "data" / "external"
SHEETS = EXTERNAL / "phe_indicatormethods_tests" / "sheets_csv"

TWO = (0.95, 0.998)
LIMITS_2 = ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]


def sheet(name: str) -> pd.DataFrame:
    return pd.read_csv(SHEETS / f"{name}.csv")


def esp2013() -> np.ndarray:
    return pd.read_csv(EXTERNAL / "esp2013.csv")["esp2013"].to_numpy()


def raises(message: str):
    """Type problems raise TypeError, bad values ValueError; both name the argument."""
    kind = TypeError if any(s in message for s in ("must be numeric", "data frame",
                                                    "True or False")) else ValueError
    return pytest.raises(kind, match=message)


def close(actual, expected, rtol=RTOL):
    """Relative closeness, NaN matching NaN (PHE's NA)."""
    np.testing.assert_allclose(np.asarray(actual, dtype="float64"),
                               np.asarray(expected, dtype="float64"), rtol=rtol, atol=0)


def limits_for(level) -> list[tuple[str, str]]:
    """(our column, sheet column) pairs for a confidence argument."""
    if level == TWO:
        return [(c, c) for c in LIMITS_2]
    tag = "95_0" if level == 0.95 else "99_8"
    return [("lowercl", f"lower{tag}cl"), ("uppercl", f"upper{tag}cl")]


# ---------------------------------------------------------------- quantiles (scipy, as the methods call it)

def test_quantiles_match_closed_forms():
    p = np.array([1e-9, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999])
    back = np.array([0.5 * math.erfc(-z / math.sqrt(2)) for z in norm.ppf(p)])
    close(back, p, rtol=1e-12)
    close(chi2.ppf(p, 2), -2 * np.log1p(-p), rtol=1e-12)  # chi-square, 2 df
    tails = p[p != 0.5]
    close(student_t.ppf(tails, 1), -1 / np.tan(np.pi * tails), rtol=1e-12)  # Cauchy
    close(student_t.ppf(p, 2), (2 * p - 1) / np.sqrt(2 * p * (1 - p)), rtol=1e-12)
    x = float(gammaincinv(5.0, 0.025))  # P(5, x) = 1 - e^-x sum_{j<5} x^j/j!
    close(1 - math.exp(-x) * sum(x ** j / math.factorial(j) for j in range(5)), 0.025, rtol=1e-12)
    assert np.isnan(chi2.ppf(0.025, 0))  # scipy needs df > 0 ...
    assert exact_lower([0.0])[0] == 0.0  # ... so exact_lower gives R's qchisq(p, 0) = 0 itself


# ---------------------------------------------------------------- Byar's and Wilson

@pytest.mark.parametrize("rows, confidence", [([0, 1, 2], 0.95), ([3, 4, 5], 0.998),
                                              ([3, 4, 5], 99.8), ([12], 0.998)])
def test_byars_limits(rows, confidence):
    ref = sheet("testdata_Byars_Wilson__testdata_B_W").iloc[rows]
    close(byars_lower(ref["x"], confidence), ref["lowercl"])  # row 12: negative lower -> NaN
    close(byars_upper(ref["x"], confidence), ref["uppercl"])


@pytest.mark.parametrize("rows, confidence", [([6, 7, 8], 0.95), ([9, 10, 11], 0.998),
                                              ([9, 10, 11], 99.8)])
def test_wilson_limits(rows, confidence):
    ref = sheet("testdata_Byars_Wilson__testdata_B_W").iloc[rows]
    close(wilson_lower(ref["x"], ref["n"], confidence), ref["lowercl"])
    close(wilson_upper(ref["x"], ref["n"], confidence), ref["uppercl"])


def test_wilson_at_confidence_one_is_zero_to_one():
    assert wilson_lower([65, 1045], [100, 5000], 1).tolist() == [0, 0]
    assert wilson_upper([65, 1045], [100, 5000], 100).tolist() == [1, 1]


@pytest.mark.parametrize("call, message", [
    (lambda: byars_lower([65, 0, -4]), r"x: observed events must all be .*positions.*\[2\]"),
    (lambda: byars_upper([65, 0, -4]), r"observed events must all be greater than or equal"),
    (lambda: byars_lower([65, 80], confidence=0.7), "between 90 and 100 or between 0.9 and 1"),
    (lambda: byars_upper([65, 80], confidence=14), "between 90 and 100 or between 0.9 and 1"),
    (lambda: byars_lower([65, 80], confidence=125), "between 90 and 100 or between 0.9 and 1"),
    (lambda: wilson_lower([65, 0, -4], [100, 5000, 1]), "observed events must all be"),
    (lambda: wilson_upper([65, 80, 1000], [100, 5000, -6]), r"n: sample sizes .*\[2\]"),
    (lambda: wilson_lower([65, 80, 1000], [100, 50, 5000]),
     r"x: numerators must be less than or equal to denominator .*\[1\]"),
    (lambda: wilson_upper([65, 80], [100, 100], confidence=0.7), "between 90 and 100"),
])
def test_limit_errors(call, message):
    with raises(message):
        call()


# ---------------------------------------------------------------- crude rates

RATE_ROWS = {100: slice(0, 8), 100_000: slice(8, 16)}


@pytest.mark.parametrize("multiplier", [100, 100_000])
@pytest.mark.parametrize("confidence", [0.95, 0.998, 99.8, TWO])
def test_crude_rate_matches_phe_rate(multiplier, confidence):
    ref = sheet("testdata_Rate__testdata_Rate").iloc[RATE_ROWS[multiplier]]
    out = crude_rate(ref["Numerator"], ref["Denominator"], multiplier=multiplier,
                     confidence=confidence)
    close(out["value"], ref["value"])
    for ours, theirs in limits_for(confidence):
        close(out[ours], ref[theirs])
    assert out["method"].tolist() == ref["method"].tolist()  # Exact below 10, Byars from 10
    assert set(out["statistic"]) == {f"rate per {multiplier}"}
    assert set(out["confidence"]) == {"95%, 99.8%" if confidence == TWO else
                                      ("95%" if confidence == 0.95 else "99.8%")}


def test_crude_rate_missing_values_and_numerator_above_denominator():
    ref = sheet("testdata_Rate__testdata_Rate").iloc[16:20]  # Area09-11 missing, Area12 250/220
    out = crude_rate(ref["Numerator"], ref["Denominator"], confidence=TWO)
    for col in ["value"] + LIMITS_2:
        close(out[col], ref[col])
    assert [m if isinstance(m, str) else None for m in out["method"]] == \
        [m if isinstance(m, str) else None for m in ref["method"]]


def test_crude_rate_grouped_sums_first():
    data = sheet("testdata_Rate__testdata_Rate")
    expected = sheet("testdata_Rate__testdata_Rate_g")
    out = crude_rate(data["Numerator"], data["Denominator"], by=data["Area"])
    expected = expected.sort_values("Area").reset_index(drop=True)  # PHE's test arranges by Area
    assert out["Area"].tolist() == expected["Area"].tolist()
    for col in ["Numerator", "Denominator"]:
        close(out["x" if col == "Numerator" else "n"], expected[col])
    for col in ["value", "lowercl", "uppercl"]:
        close(out[col], expected[col])


@pytest.mark.parametrize("kwargs, message", [
    ({"x": [-65, 80, 30]}, r"x: numerators must be greater than or equal to zero.*\[0\]"),
    ({"n": [100, 100, 0]}, r"n: denominators must be greater than zero.*\[2\]"),
    ({"n": [100, -100, 100]}, r"n: denominators must be greater than zero.*\[1\]"),
    ({"confidence": 0.5}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": 40}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": 9998}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": (0.95, 0.998, 1.0)}, "a maximum of two confidence levels"),
    ({"confidence": (0.95, 0.98)}, "only be produced if they are specified as 0.95 and 0.998"),
    ({"multiplier": "1000"}, "multiplier must be numeric"),
    ({"x": ["a", "b", "c"]}, "x must be numeric"),
])
def test_crude_rate_errors(kwargs, message):
    args = {"x": [65, 80, 30], "n": [100, 100, 100], **kwargs}
    with raises(message):
        crude_rate(**args)


# ---------------------------------------------------------------- proportions

PROP_ROWS = {1: slice(0, 8), 100: slice(8, 16)}


@pytest.mark.parametrize("multiplier", [1, 100])
@pytest.mark.parametrize("confidence", [0.95, 0.998, 99.8, TWO])
def test_proportion_matches_phe_proportion(multiplier, confidence):
    ref = sheet("testdata_Proportion__testdata_Prop").iloc[PROP_ROWS[multiplier]]
    out = proportion(ref["Numerator"], ref["Denominator"], multiplier=multiplier,
                     confidence=confidence)
    close(out["value"], ref["value"])
    for ours, theirs in limits_for(confidence):
        close(out[ours], ref[theirs])
    assert out["statistic"].tolist() == ref["statistic"].tolist()
    assert set(out["method"]) == {"Wilson"}


def test_proportion_missing_values_give_missing_results():
    ref = sheet("testdata_Proportion__testdata_Prop").iloc[16:19]
    out = proportion(ref["Numerator"], ref["Denominator"], confidence=TWO)
    for col in ["value"] + LIMITS_2:
        close(out[col], ref[col])


def test_proportion_grouped_and_without_limits():
    data = sheet("testdata_Proportion__testdata_Prop")
    expected = sheet("testdata_Proportion__testdata_Prop_g")
    out = proportion(data["Numerator"], data["Denominator"], by=data["Area"])
    expected = expected.sort_values("Area").reset_index(drop=True)  # PHE's test arranges by Area
    assert out["Area"].tolist() == expected["Area"].tolist()
    for col in ["value", "lowercl", "uppercl"]:
        close(out[col], expected[col])
    bare = proportion(expected["Numerator"][:8], expected["Denominator"][:8], confidence=None)
    assert list(bare.columns) == ["x", "n", "value", "statistic"]
    close(bare["value"], expected["value"][:8])


@pytest.mark.parametrize("kwargs, message", [
    ({"x": [65, -80, 30]}, r"x: numerators must be greater than or equal to zero.*\[1\]"),
    ({"n": [100, 0, 100]}, r"n: denominators must be greater than zero.*\[1\]"),
    ({"n": [100, 100, -100]}, r"denominators must be greater than zero.*\[2\]"),
    ({"x": [101, 80, 30]}, (r"numerators must be less than or equal to denominator for a "
                            r"proportion statistic.*\[0\]")),
    ({"confidence": 0.8}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": 50}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": 130}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": (0.95, 0.998, 0.8)}, "a maximum of two confidence levels"),
    ({"confidence": (0.95, 0.98)}, "specified as 0.95 and 0.998"),
])
def test_proportion_errors(kwargs, message):
    args = {"x": [65, 80, 30], "n": [100, 100, 100], **kwargs}
    with raises(message):
        proportion(**args)


# ---------------------------------------------------------------- means

def test_mean_grouped_and_ungrouped_match_phe_mean():
    data = sheet("testdata_Mean__testdata_Mean")
    ref = sheet("testdata_Mean__testdata_Mean_results")
    grouped = mean_ci(data["values"], by=data["area"], confidence=TWO)
    overall = mean_ci(data["values"], confidence=TWO)
    assert grouped["area"].tolist() == ["Area1", "Area2"]
    for col in ["value_sum", "value_count", "stdev", "value"] + LIMITS_2:
        close(grouped[col], ref[col][:2])
        close(overall[col], ref[col][2:])
    single = mean_ci(data["values"], by=data["area"], confidence=99.8)
    close(single["lowercl"], ref["lower99_8cl"][:2])
    close(single["uppercl"], ref["upper99_8cl"][:2])
    assert set(grouped["method"]) == {"Student's t-distribution"}


def test_mean_errors():
    with pytest.raises(ValueError, match="a maximum of two confidence levels"):
        mean_ci([1.0, 2.0], confidence=(0.95, 0.998, 0.9))
    with raises("values must be numeric"):
        mean_ci(["a", "b"])


# ---------------------------------------------------------------- DSR

def multiarea_esp() -> pd.DataFrame:
    data = sheet("testdata_DSR_ISR__testdata_multiarea")
    return data.assign(esp2013=np.tile(esp2013(), 3))


def nonindependent() -> pd.DataFrame:
    """The sheet pivoted to one row per area x age band x frequency, as PHE's LoadTestdata.R."""
    wide = sheet("testdata_DSR_ISR__testdata_nonindepe").drop(columns="count")
    long = wide.melt(id_vars=["area", "ageband", "pop"], value_vars=["f1", "f2", "f3", "f4"],
                     var_name="freq", value_name="persons")
    long["freq"] = long["freq"].str[1:].astype(int)
    small = long["area"].isin(["testdata_nonind_dummy", "testdata_nonind_small",
                               "testdata_nonind_tiny"])
    long = long[~(small & (long["freq"] == 4))].sort_values(["freq", "ageband"])
    long = long.reset_index(drop=True)
    return long.assign(esp2013=esp2013()[long.groupby(["area", "freq"]).cumcount()])


DSR_COLUMNS = ["total_count", "total_pop", "value"]


@pytest.mark.parametrize("multiplier, rows", [(100_000, slice(4, 7)), (10_000, slice(0, 3))])
@pytest.mark.parametrize("confidence", [0.95, 0.998, 99.8, TWO])
def test_dsr_matches_calculate_dsr(multiplier, rows, confidence):
    ref = sheet("testdata_DSR_ISR__testresults_DSR").iloc[rows]
    out = dsr(multiarea_esp(), "count", "pop", "esp2013", by="area", multiplier=multiplier,
              confidence=confidence)
    assert out["area"].tolist() == ref["area"].tolist()
    for col in DSR_COLUMNS:
        close(out[col], ref[col])  # testdata_tiny: total count 9 -> NaN
    for ours, theirs in limits_for(confidence):
        close(out[ours], ref[theirs])
    assert out["statistic"].tolist() == ref["statistic"].tolist()
    assert set(out["method"]) == {"Dobson"}


def test_dsr_standard_population_as_a_sequence_and_ungrouped():
    ref = sheet("testdata_DSR_ISR__testresults_DSR")
    data = sheet("testdata_DSR_ISR__testdata_1976")
    for multiplier, row in ((100_000, 7), (10_000, 3)):
        out = dsr(data, "count", "pop", data["esp1976"].tolist(), multiplier=multiplier)
        for col in DSR_COLUMNS:
            close(out[col], ref[col][row:row + 1])
        close(out["lowercl"], ref["lower95_0cl"][row:row + 1])
        close(out["uppercl"], ref["upper95_0cl"][row:row + 1])
    # the sheet's 99.8% cells for testdata_1976 are 10x the DSR itself (lower 7659 > value 859):
    # PHE never reads them; ours sit around the value as they must
    wide = dsr(data, "count", "pop", "esp1976", multiplier=10_000, confidence=TWO)
    assert wide["lower99_8cl"].iloc[0] < wide["value"].iloc[0] < wide["upper99_8cl"].iloc[0]


@pytest.mark.parametrize("confidence, by", [(TWO, "area"), (0.95, ["area", "freq"])])
def test_dsr_nonindependent_events(confidence, by):
    ref = sheet("testdata_DSR_ISR__testresults_DSR").iloc[8:12]
    out = dsr(nonindependent(), "persons", "pop", "esp2013", by=by, confidence=confidence,
              independent_events=False, eventfreq="freq", ageband="ageband")
    assert out["area"].tolist() == ref["area"].tolist()
    for col in DSR_COLUMNS:
        close(out[col], ref[col])
    for ours, theirs in limits_for(confidence):
        close(out[ours], ref[theirs])
    assert out["method"].tolist() == ref["method"].tolist()
    assert out["statistic"].tolist() == ref["statistic"].tolist()


def _esp_err(name):
    data = sheet(f"testdata_DSR_ISR__{name}")
    return data.assign(esp2013=np.tile(esp2013(), len(data) // 19))


@pytest.mark.parametrize("call, message", [
    (lambda: dsr(sheet("testdata_DSR_ISR__testdata_err1"), "count", "pop", "stdpop"),
     r"x: numerators must all be greater than or equal to zero.*\[5\]"),
    (lambda: dsr(_esp_err("testdata_err2"), "count", "pop", "esp2013", by="area"),
     r"n: denominators must all be greater than zero.*\[1\]"),
    (lambda: dsr(sheet("testdata_DSR_ISR__testdata_err3"), "count", "pop", "stdpop"),
     r"n: denominators must all be greater than zero.*\[1\]"),
    (lambda: dsr(sheet("testdata_DSR_ISR__testdata_err4"), "count", "pop", "stdpop"),
     r"stdpop: stdpop must all be greater than or equal to zero.*\[5\]"),
    (lambda: dsr(multiarea_esp(), "countX", "pop", "esp2013", by="area"),
     "x is not a field name from data"),
    (lambda: dsr(multiarea_esp(), "count", "popX", "esp2013", by="area"),
     "n is not a field name from data"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp", by="area"),
     "stdpop is not a field name from data"),
    (lambda: dsr("a", "count", "pop", "esp2013"), "data must be a data frame object"),
    (lambda: dsr(multiarea_esp().assign(count="CHAR"), "count", "pop", "esp2013"),
     "field x must be numeric"),
    (lambda: dsr(multiarea_esp().assign(pop="CHAR"), "count", "pop", "esp2013"),
     "field n must be numeric"),
    (lambda: dsr(multiarea_esp().assign(esp2013="CHAR"), "count", "pop", "esp2013"),
     "field stdpop must be numeric"),
    (lambda: dsr(multiarea_esp().assign(pop=np.nan), "count", "pop", "esp2013"),
     "field n cannot have missing values"),
    (lambda: dsr(multiarea_esp().assign(esp2013=np.nan), "count", "pop", "esp2013"),
     "field stdpop cannot have missing values"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", confidence="0.95"),
     "confidence must be numeric"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", confidence=0.74),
     "between 90 and 100 or between 0.9 and 1"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", confidence=3),
     "between 90 and 100 or between 0.9 and 1"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", confidence=1000),
     "between 90 and 100 or between 0.9 and 1"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", confidence=(90.95, 0.998, 1.0)),
     "a maximum of two confidence levels"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", confidence=(0.95, 1.0)),
     "specified as 0.95 and 0.998"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", multiplier="1000"),
     "multiplier must be numeric"),
    (lambda: dsr(multiarea_esp(), "count", "pop", "esp2013", multiplier=-1),
     "multiplier must be greater than 0"),
    (lambda: dsr(nonindependent(), "persons", "pop", "esp2013", independent_events="a"),
     "independent_events must be True or False"),
    (lambda: dsr(nonindependent(), "persons", "pop", "esp2013", by="area",
                 independent_events=False, ageband="ageband"),
     "requires an eventfreq column to be specified when independent_events is False"),
    (lambda: dsr(nonindependent(), "persons", "pop", "esp2013", by="area",
                 independent_events=False, eventfreq="freq"),
     "requires an ageband column to be specified when independent_events is False"),
    (lambda: dsr(nonindependent(), "persons", "pop", "esp2013", by="area",
                 independent_events=False, eventfreq="efreq", ageband="ageband"),
     "eventfreq is not a field name from data"),
    (lambda: dsr(nonindependent().assign(freq="CHAR"), "persons", "pop", "esp2013", by="area",
                 independent_events=False, eventfreq="freq", ageband="ageband"),
     "eventfreq field must be numeric"),
    (lambda: dsr(nonindependent(), "persons", "pop", "esp2013", by="area",
                 independent_events=False, eventfreq="freq", ageband="ab"),
     "ageband is not a field name from data"),
    (lambda: dsr(nonindependent().assign(freq=np.nan), "persons", "pop", "esp2013", by="area",
                 independent_events=False, eventfreq="freq", ageband="ageband"),
     "eventfreq field must not have any missing values"),
    (lambda: dsr(nonindependent().assign(ageband=np.nan), "persons", "pop", "esp2013",
                 by="area", independent_events=False, eventfreq="freq", ageband="ageband"),
     "ageband field must not have any missing values"),
])
def test_dsr_errors(call, message):
    with raises(message):
        call()


@pytest.mark.parametrize("column", ["pop", "esp2013"])
def test_dsr_nonindependent_needs_one_population_per_age_band(column):
    data = nonindependent()
    data.loc[0, column] = 1
    with pytest.raises(ValueError, match="same grouping variables and ageband but with different"):
        dsr(data, "persons", "pop", "esp2013", by="area", independent_events=False,
            eventfreq="freq", ageband="ageband")


# ---------------------------------------------------------------- ISR

def isr_inputs():
    own = sheet("testdata_DSR_ISR__testdata_multiarea_isr")
    ref = sheet("testdata_DSR_ISR__refdata")
    return own, ref["refcount"], ref["refpop"]


ISR_RATE = {100_000: slice(0, 3), 1000: slice(3, 6)}
ISR_RATIO = {1: slice(6, 9), 100: slice(9, 12)}


@pytest.mark.parametrize("multiplier", [100_000, 1000])
@pytest.mark.parametrize("confidence", [0.95, 99.8, TWO])
@pytest.mark.parametrize("refs", ["vector", "field"])
def test_israte_matches_calculate_israte(multiplier, confidence, refs):
    ref = sheet("testdata_DSR_ISR__testresults_ISR").iloc[ISR_RATE[multiplier]]
    own, x_ref, n_ref = isr_inputs()
    if refs == "field":
        x_ref, n_ref = "refcount", "refpop"
    out = israte(own, "count", "pop", x_ref, n_ref, by="area", multiplier=multiplier,
                 confidence=confidence)
    for col in ["observed", "expected", "ref_rate", "value"]:
        close(out[col], ref[col])
    for ours, theirs in limits_for(confidence):
        close(out[ours], ref[theirs])
    assert out["method"].tolist() == ref["method"].tolist()  # Exact for 9 observed
    assert out["statistic"].tolist() == ref["statistic"].tolist()


@pytest.mark.parametrize("refvalue", [1, 100])
@pytest.mark.parametrize("confidence", [0.95, 0.998, TWO])
def test_isratio_matches_calculate_isratio(refvalue, confidence):
    ref = sheet("testdata_DSR_ISR__testresults_ISR").iloc[ISR_RATIO[refvalue]]
    own, x_ref, n_ref = isr_inputs()
    out = isratio(own, "count", "pop", x_ref, n_ref, by="area", refvalue=refvalue,
                  confidence=confidence)
    for col in ["observed", "expected", "value"]:
        close(out[col], ref[col])
    for ours, theirs in limits_for(confidence):
        close(out[ours], ref[theirs])
    assert out["statistic"].tolist() == ref["statistic"].tolist()
    arrays = smr(ref["observed"], ref["expected"], refvalue=refvalue, confidence=confidence)
    for ours, theirs in limits_for(confidence):
        close(arrays[ours], ref[theirs])


def test_isr_with_observed_totals_missing_reference_counts_and_zero_population():
    results = sheet("testdata_DSR_ISR__testresults_ISR")
    own, x_ref, n_ref = isr_inputs()
    totals = sheet("testdata_DSR_ISR__testdata_multiarea_lookup")
    out = isratio(own.drop(columns="count"), "total_count", "pop", x_ref, n_ref, by="area",
                  observed_totals=totals)
    for col in ["observed", "expected", "value", "lowercl", "uppercl"]:
        close(out[col], results[col.replace("cl", "95_0cl") if "cl" in col else col][6:9])
    with_na = x_ref.astype("float64").copy()
    with_na[2] = np.nan  # PHE counts a missing reference count as 0 (it is 0 here)
    out = israte(own, "count", "pop", with_na, n_ref, by="area")
    close(out["value"], results["value"][0:3])
    err2 = sheet("testdata_DSR_ISR__testdata_err2")  # a population of 0 is allowed
    rate = israte(err2, "count", "pop", x_ref, n_ref, by="area")
    ratio = isratio(err2, "count", "pop", x_ref, n_ref, by="area", refvalue=100)
    for col in ["observed", "expected", "ref_rate", "value", "lower95_0cl", "upper95_0cl"]:
        close(rate[col.replace("95_0", "")], results[col][12:14])
    for col in ["observed", "expected", "value", "lower95_0cl", "upper95_0cl"]:
        close(ratio[col.replace("95_0", "")], results[col][14:16])


@pytest.mark.parametrize("fn", [isratio, israte])
@pytest.mark.parametrize("change, message", [
    ({"data": "testdata_err1"}, r"x: numerators must all be greater than or equal to zero"),
    ({"data": "testdata_err3"}, r"n: denominators must all be greater than or equal to zero"),
    ({"confidence": 0.74}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": 3}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": 1000}, "between 90 and 100 or between 0.9 and 1"),
    ({"confidence": (0.95, 0.998, 0.98)}, "a maximum of two confidence levels"),
    ({"confidence": (0.95, 0.98)}, "specified as 0.95 and 0.998"),
    ({"filter": True}, "data must contain the same number of rows for each group"),
    ({"x_ref": 18}, "x_ref length must equal number of rows in each group"),
    ({"n_ref": 18}, "n_ref length must equal number of rows in each group"),
    ({"x_ref": "ref_count"}, "x_ref is not a field name from data"),
    ({"n_ref": "ref_pop"}, "n_ref is not a field name from data"),
    ({"x": "countX"}, "x is not a field name from data"),
    ({"totals": True}, "observed_totals is provided but x"),
])
def test_isr_errors(fn, change, message):
    own, x_ref, n_ref = isr_inputs()
    data, by = own, "area"
    if "data" in change:
        data, by = sheet(f"testdata_DSR_ISR__{change['data']}"), None
    if change.get("filter"):
        data = own[own["count"].fillna(0) < 100]
    if isinstance(change.get("x_ref"), int):
        x_ref = x_ref[:18]
    if isinstance(change.get("n_ref"), int):
        n_ref = n_ref[1:]
    x_ref = change["x_ref"] if isinstance(change.get("x_ref"), str) else x_ref
    n_ref = change["n_ref"] if isinstance(change.get("n_ref"), str) else n_ref
    totals = sheet("testdata_DSR_ISR__testdata_multiarea_lookup") if "totals" in change else None
    with raises(message):
        fn(data, change.get("x", "count"), "pop", x_ref, n_ref, by=by, observed_totals=totals,
           confidence=change.get("confidence", 0.95))


# ---------------------------------------------------------------- properties

RNG = np.random.default_rng(20240501)


def test_limits_bracket_the_value_and_widen_at_99_8():
    x = np.concatenate([np.arange(0, 40), RNG.integers(40, 100_000, 200)]).astype(float)
    n = x * RNG.uniform(1.0, 50.0, len(x)) + RNG.integers(1, 100, len(x))
    for fn in (crude_rate, proportion):
        out = fn(x, n, confidence=TWO)
        assert (out["lower99_8cl"] <= out["lower95_0cl"]).all()
        assert (out["lower95_0cl"] <= out["value"]).all()
        assert (out["value"] <= out["upper95_0cl"]).all()
        assert (out["upper95_0cl"] < out["upper99_8cl"]).all()
    ratio = smr(x, x * RNG.uniform(0.5, 2.0, len(x)) + 1, confidence=TWO)
    assert (ratio["lower99_8cl"] <= ratio["lower95_0cl"]).all()
    assert (ratio["lower95_0cl"] <= ratio["value"]).all()
    assert (ratio["upper95_0cl"] < ratio["upper99_8cl"]).all()
    rates = dsr(multiarea_esp(), "count", "pop", "esp2013", by="area", confidence=TWO).dropna()
    assert (rates["lower99_8cl"] < rates["lower95_0cl"]).all()
    assert (rates["lower95_0cl"] < rates["value"]).all()
    assert (rates["upper95_0cl"] < rates["upper99_8cl"]).all()


def test_count_limits_rise_with_the_count_across_the_exact_to_byars_switch():
    x = np.arange(0, 60, dtype=float)
    for level in (0.95, 0.998):
        lower, upper, method = poisson_limits(x, level)
        assert np.all(np.diff(upper) > 0) and np.all(np.diff(lower) > 0)
        assert method[9] == "Exact" and method[10] == "Byars"
        # Byar's approximates the exact limits: within 2% from 10 events, 0.5% from 30
        close(lower[10:], exact_lower(x[10:], level), rtol=0.02)
        close(upper[10:], exact_upper(x[10:], level), rtol=0.02)
        close(lower[30:], exact_lower(x[30:], level), rtol=0.005)


def test_dsr_of_a_uniform_rate_is_that_rate():
    data = multiarea_esp()
    data = data.assign(count=(data["pop"] * 0.05).round(0))
    out = dsr(data.assign(pop=data["count"] / 0.05), "count", "pop", "esp2013", by="area")
    close(out["value"], np.full(3, 5000.0), rtol=1e-12)
