"""GPPS shares and their bases (docs/person-centred.md): ``base`` is the share's own percentage base
(``Q9_12pct`` is of those who tried, ``Q9_1234base``), not everyone who answered (``Q9base``), falling
back with a note when a file lacks it."""

from __future__ import annotations

import io

import pytest

from joinedup.experience.gpps import read_gpps


def test_the_base_is_the_share_s_percentage_base_when_the_file_has_it():
    # 120 answered Q9; 20 of them said 'I have not tried', so the 55% is of 100 people: 55 positive, not 66
    text = "Practice_Code,Q9base,Q9_1234base,Q9_12,Q9_12pct\nA81001,120,100,55,0.55\nA81002,80,0,0,0\n"
    read = read_gpps(io.StringIO(text), 2019, ["preferred_gp"])
    row = read.table.iloc[0]
    assert (row["base"], row["value"]) == (100.0, 0.55) and row["positive"] == pytest.approx(55.0)
    assert read.notes == []
    # a practice whose percentage base is 0 has no share to use, however many answered Q9
    assert read.rejects.set_index("row").loc[2, ["field", "reason"]].tolist() == [
        "q9_1234base", "base (number answering) is not a number > 0"]


def test_without_the_percentage_base_the_base_falls_back_to_everyone_who_answered_and_says_so():
    read = read_gpps(io.StringIO("Practice_Code,Q9base,Q9_12pct\nA81001,120,0.55\n"), 2015, ["preferred_gp"])
    row = read.table.iloc[0]
    assert row["base"] == 120.0 and row["positive"] == pytest.approx(66.0)
    [note] = read.notes
    assert "no q9_1234base column" in note and "from q9base" in note and "overstated" in note
