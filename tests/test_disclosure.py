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
