"""Disclosure control at the output boundary: 1-7 suppressed, others rounded to 5; tested at 6, 7, 8."""

import numpy as np
import pandas as pd
import pytest

from joinedup.disclosure import control_counts
from joinedup.outputs import write_table


@pytest.mark.parametrize(
    "count, shown, suppressed",
    [(0, 0.0, False), (1, None, True), (6, None, True), (7, None, True), (8, 10.0, False),
     (12, 10.0, False), (12.5, 15.0, False), (13, 15.0, False), (1234, 1235.0, False)],
)
def test_rule_at_the_boundaries(count, shown, suppressed):
    out = control_counts(pd.DataFrame({"n": [count]}), ["n"])
    assert bool(out["suppressed"].iloc[0]) is suppressed
    if shown is None:
        assert np.isnan(out["n"].iloc[0])
    else:
        assert out["n"].iloc[0] == shown


def test_rates_are_exempt_and_any_suppressed_count_flags_the_row():
    frame = pd.DataFrame({"admissions": [6, 8], "persons": [1000, 7], "rate": [6.0, 1142.857]})
    out = control_counts(frame, ["admissions", "persons"])
    assert out["rate"].tolist() == frame["rate"].tolist()
    assert out["suppressed"].tolist() == [True, True]
    assert out["persons"].iloc[0] == 1000 and np.isnan(out["persons"].iloc[1])


def test_national_counts_are_left_as_they_are():
    out = control_counts(pd.DataFrame({"n": [6, 12]}), ["n"], national=True)
    assert out["n"].tolist() == [6, 12] and not out["suppressed"].any()


def test_written_files_carry_controlled_counts_only(tmp_path):
    frame = pd.DataFrame({"area": ["a", "b", "c"], "n": [6, 7, 8]})
    write_table(frame, tmp_path, "t", ["n"])
    for read in (pd.read_csv, pd.read_parquet):
        path = tmp_path / "tables" / ("t.csv" if read is pd.read_csv else "t.parquet")
        got = read(path)
        assert got["n"].isna().tolist() == [True, True, False]
        assert got["n"].iloc[2] == 10


def test_unknown_count_column_is_an_error():
    with pytest.raises(KeyError, match="count column"):
        control_counts(pd.DataFrame({"n": [1]}), ["m"])


def test_a_rate_with_a_small_numerator_is_suppressed_with_it():
    """HES guidance: a sub-national rate whose numerator is 1-7 goes with it (a published denominator
    would give the count back); a mean over 1-7 people likewise; national rows stay."""
    from joinedup.disclosure import control_rates

    frame = pd.DataFrame({"admissions": [0, 1, 7, 8], "persons": [1000, 1000, 1000, 1000],
                          "rate": [0.0, 1.0, 7.0, 8.0], "mean_age": [np.nan, 70.0, 71.0, 72.0]})
    out = control_rates(frame, {"rate": "admissions", "mean_age": "admissions"})
    assert out["rate"].isna().tolist() == [False, True, True, False]
    assert out["mean_age"].isna().tolist() == [True, True, True, False]
    assert out["suppressed"].tolist() == [False, True, True, False]
    assert control_rates(frame, {"rate": "admissions"}, national=True)["rate"].tolist() == [0.0, 1.0, 7.0, 8.0]
    with pytest.raises(KeyError, match="rate/numerator"):
        control_rates(frame, {"rate": "events"})


def test_write_table_controls_rates_and_counts_together(tmp_path):
    frame = pd.DataFrame({"k": [3, 12, 20], "n": [1000, 5, 40], "pct": [0.3, 240.0, 50.0]})
    out = write_table(frame, tmp_path, "t", ["k", "n"], rates={"pct": "k"})
    # the suppressed numerator 3 cannot come back as pct * n / 100 = 0.3 * 1000 / 100
    assert np.isnan(out["k"].iloc[0]) and out["n"].iloc[0] == 1000
    assert out["pct"].isna().tolist() == [True, False, False] and out["suppressed"].tolist() == [True, True, False]


def test_survey_percentages_need_a_base_of_eleven():
    from joinedup.disclosure import SURVEY_MIN_BASE, require_base

    out = require_base(pd.DataFrame({"n": [0, 10, 11, 40], "pct": [np.nan, 50.0, 45.5, 20.0]}), ["pct"], "n")
    assert SURVEY_MIN_BASE == 11 and out["pct"].isna().tolist() == [True, True, False, False]


def test_declared_rates_are_applied_by_table_name_and_percentages_use_rounded_counts(tmp_path):
    """write_table reads each table's rates from joinedup.disclosure_rates: a caller cannot forget them."""
    frame = pd.DataFrame({"group": ["a", "b", "c"], "admissions": [3, 12, 0], "persons": [1000, 1002, 998],
                          "rate_per_1000": [3.0, 12 / 1.002, 0.0]})
    out = write_table(frame, tmp_path, "emergency_by_month", ["admissions", "persons"])
    assert np.isnan(out["rate_per_1000"].iloc[0]) and out["suppressed"].tolist() == [True, False, False]
    # 12 of 1002 shown as 10 of 1000: the rate is 10 per 1,000, not 11.98 (which gives 12 back)
    assert out["rate_per_1000"].iloc[1] == 10.0 and out["rate_per_1000"].iloc[2] == 0.0
    off = write_table(frame, tmp_path, "emergency_by_month", ["admissions", "persons"], disclosure_control=False)
    assert off["rate_per_1000"].tolist() == frame["rate_per_1000"].tolist()


def test_indicator_values_limits_and_percentiles_follow_their_own_numerators(tmp_path):
    frame = pd.DataFrame({
        "level": ["area", "area", "area", "area", "england"],
        "method": ["Wilson score, % (PHEindicatormethods phe_proportion)"] * 2
        + ["90% percentile (type 7), no limits", "crude rate, Byar's limits (exact below 10 events)",
           "crude rate, Byar's limits (exact below 10 events)"],
        "numerator": [3.0, 12.0, np.nan, 9.0, 4.0], "denominator": [40.0, 41.0, 5.0, 1000.0, 5000.0],
        "value": [7.5, 12 / 41 * 100, 6.0, 9.0, 0.8], "lower": [2.6, 17.3, np.nan, 4.1, 0.2],
        "upper": [19.9, 44.8, np.nan, 17.1, 2.0]})
    out = write_table(frame, tmp_path, "indicators", ["numerator", "denominator"],
                      national=(frame["level"] == "england").to_numpy())
    assert out["value"].isna().tolist() == [True, False, True, False, False]  # 3 events; 5 stays
    assert out["lower"].isna().tolist() == [True, False, True, False, False]
    assert out["value"].iloc[1] == pytest.approx(10 / 40 * 100)  # from the rounded 10 of 40
    assert out["value"].iloc[3] == 9.0 and out["value"].iloc[4] == 0.8  # rates beside one count; England
