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
