"""GPPS shares and their bases (docs/person-centred.md): ``base`` is the share's own percentage base
(``Q9_12pct`` is of those who tried, ``Q9_1234base``), not everyone who answered (``Q9base``), falling
back with a note when a file lacks it; and the long-term-condition items verified for 2022 and 2023
(Q32, Q94, Q97 from the list of report variables) are read from their share and base columns."""

from __future__ import annotations

import io

import pytest

from joinedup.experience._rejects import PublishedLayoutError
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


def test_care_plan_and_confidence_in_2023_read_their_own_share_and_base():
    text = ("Practice_Code,Q97base,Q97_1,Q97_2,Q97_3,Q97_1pct,Q97_2pct,Q94base,Q94_1234base,Q94_12pct\n"
            "A81001,50,20,25,5,0.4,0.5,60,48,0.75\n")
    read = read_gpps(io.StringIO(text), 2023, ["care_plan", "confidence_managing"])
    got = read.table.set_index("measure")[["question", "base", "positive", "value"]]
    # care_plan: % yes of all who answered (Q97_1pct, base Q97base: 'don't know' is in the base)
    assert got.loc["care_plan"].tolist() == ["Q97", 50.0, pytest.approx(20.0), 0.4]
    assert got.loc["confidence_managing"].tolist() == ["Q94", 48.0, pytest.approx(36.0), 0.75]
    assert read.notes == [] and read.rejects.empty


def test_ltc_support_is_read_in_2022_and_still_needs_an_item_map_in_2021():
    text = "practice_code,Q32base,Q32_123base,Q32_12pct\nA81001,100,70,0.6\n"
    row = read_gpps(io.StringIO(text), 2022, ["ltc_support"]).table.iloc[0]
    assert (row["question"], row["base"], row["value"]) == ("Q32", 70.0, 0.6)
    assert row["positive"] == pytest.approx(42.0)
    with pytest.raises(PublishedLayoutError, match="no verified question number for 2021.*List of report variables"):
        read_gpps(io.StringIO(text), 2021, ["ltc_support"])


def test_a_yes_no_item_without_its_share_column_stops_naming_it():
    with pytest.raises(PublishedLayoutError, match="column 'q97_1pct' \\(care_plan, Q97 in 2023\\) missing"):
        read_gpps(io.StringIO("Practice_Code,Q97base,Q97_12pct\nA81001,50,0.4\n"), 2023, ["care_plan"])
