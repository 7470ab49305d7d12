"""The GP Patient Survey and ASCOF importers read their published layouts (docs/person-centred.md):
good rows become practice / council values, bad rows go to the rejects with a reason, and files that
cannot be read as a whole stop with an error naming the file and what is missing."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from joinedup.experience._rejects import PublishedLayoutError, write_rejects
from joinedup.experience.ascof import read_ascof
from joinedup.experience.gpps import GPPS_MEASURES, gpps_era, question_for, read_gpps, read_item_map

GPPS = ("Practice_Code,Practice_Name,CCG_Code,distributed,received,resprate,Q9base,Q9_1,Q9_12pct,Q34base,Q34_12pct\n"
        "A81001,One,00K,400,160,0.4,120,30,0.55,80,0.7\n"
        "A81002,Two,00K,400,20,0.05,3,*,*,5,0.5\n"
        "A81003,Three,00K,400,150,0.375,90,20,-1,60,0.6\n"
        "a81004,Four,00K,400,150,0.375,100,25,0.40,70,1.4\n"
        "XX,Bad,00K,400,150,0.375,100,25,0.40,70,0.4\n"
        "A81001,Dup,00K,400,150,0.375,100,25,0.40,70,0.4\n")


def test_gpps_reads_the_published_practice_layout_and_rejects_with_reasons():
    read = read_gpps(io.StringIO(GPPS), 2016)
    assert read.table["unit_code"].tolist() == ["A81001", "A81004"]  # lower-case codes are upper-cased
    row = read.table.iloc[0]
    assert (row["question"], row["era"], row["base"], row["value"]) == ("Q9", "2012-2017", 120.0, 0.55)
    assert row["positive"] == pytest.approx(66.0)
    reasons = read.rejects.set_index("row")["reason"]
    assert reasons[2].startswith("suppressed") and reasons[3].startswith("suppressed")
    assert reasons[5] == "not a GP practice ODS code (letter + 5 digits)"
    assert reasons[6] == "duplicate practice (the first row is kept)"


def test_gpps_long_term_condition_items_need_a_verified_item_map():
    with pytest.raises(PublishedLayoutError, match="no verified question number for 2019.*List of report variables"):
        read_gpps(io.StringIO(GPPS), 2019, ["ltc_support"])
    item_map = read_item_map(io.StringIO("year,measure,question\n2019,ltc_support,Q34\n"))
    read = read_gpps(io.StringIO(GPPS), 2019, ["ltc_support"], item_map=item_map)
    assert read.table["era"].unique().tolist() == ["2018-2023"]
    assert "share above 100%" in read.rejects["reason"].tolist()  # A81004's 1.4
    with pytest.raises(PublishedLayoutError, match="known measure"):
        read_item_map(io.StringIO("year,measure,question\n2019,made_up,Q3\n"))


ITEM_NUMBERS = Path(__file__).parent / "data" / "external" / "gpps" / "item_numbers.csv"


def test_gpps_shipped_question_numbers_are_exactly_the_verified_cells_of_the_evidence_table():
    table = pd.read_csv(ITEM_NUMBERS, dtype=str, keep_default_na=False)
    assert set(table["measure"]) == set(GPPS_MEASURES)
    assert sorted(set(table["year"].astype(int))) == list(range(2012, 2024))
    assert table.groupby(["measure", "year"]).size().eq(1).all()  # one row per measure and year
    assert set(table["status"]) <= {"verified", "plausible", "not verified"}
    # a plausible cell names its candidate and source but is never shipped (only verified cells are)
    plausible = table[table["status"] == "plausible"]
    assert plausible["source"].str.strip().ne("").all() and plausible["csv_variable"].eq("").all()
    assert plausible["note"].str.contains(r"candidate Q\d+").all()
    verified = table[table["status"] == "verified"]
    assert verified["source"].str.strip().ne("").all() and verified["csv_variable"].str.match(r"^Q\d+$").all()
    shipped = {(m, y): q for m, measure in GPPS_MEASURES.items() for y, q in measure.questions.items()}
    assert shipped == {(r.measure, int(r.year)): r.csv_variable for r in verified.itertuples()}
    # the preferred-GP item in every year, the long-term-condition items in 2022 and 2023 only (the copy of the
    # list of report variables is of one of those two years; 2018-2021 and earlier are not tied to it)
    assert {m: sorted(int(y) for y in g["year"]) for m, g in verified.groupby("measure")} == {
        "preferred_gp": list(range(2012, 2024)), "ltc_support": [2022, 2023], "care_plan": [2022, 2023],
        "confidence_managing": [2022, 2023]}
    # printed questionnaire numbers (found for 2022 only) never become the practice files' names: where the
    # year is verified, its variable came from the list and differs from the printed number (an equal pair
    # would need its own evidence, and a change here); where not, the year still stops
    printed = table[table["printed_question"] != ""]
    assert set(printed["year"]) == {"2022"} and len(printed) == 3
    for r in printed.itertuples():
        if r.status == "verified":
            assert r.csv_variable != r.printed_question and question_for(r.measure, 2022) == r.csv_variable
            assert "List of report variables" in r.source
        else:
            assert r.csv_variable == ""
            with pytest.raises(PublishedLayoutError, match="no verified question number for 2022"):
                question_for(r.measure, 2022)


@pytest.mark.parametrize("year", range(2012, 2024))
def test_gpps_a_verified_year_reads_the_right_measure_from_its_columns(year):
    text = ("practice_code,Practice_Name,Q9base,Q9_12pct,Q28base,Q28_12pct\n"
            "A81001,One,120,0.55,300,0.9\nB82002,Two,80,0.25,200,0.7\n")
    read = read_gpps(io.StringIO(text), year, ["preferred_gp"])
    assert read.table[["unit_code", "measure", "question", "base", "value"]].values.tolist() == [
        ["A81001", "preferred_gp", "Q9", 120.0, 0.55], ["B82002", "preferred_gp", "Q9", 80.0, 0.25]]
    assert read.table["era"].unique().tolist() == [gpps_era(year)] and read.rejects.empty


def test_gpps_files_that_cannot_be_read_stop_with_the_file_and_column():
    with pytest.raises(PublishedLayoutError, match="column 'q9_12pct'"):
        read_gpps(io.StringIO("Practice_Code,Q9base\nA81001,10\n"), 2016)
    with pytest.raises(PublishedLayoutError, match="2024 questionnaire, a new series"):
        read_gpps(io.StringIO("ad_practicecode,overallexp.pcteval\nA81001,0.7\n"), 2024)
    with pytest.raises(PublishedLayoutError, match="no Practice_Code column"):
        read_gpps(io.StringIO("code,Q9base,Q9_12pct\nA81001,10,0.5\n"), 2016)
    with pytest.raises(PublishedLayoutError, match="does not exist"):
        read_gpps("/nonexistent/gpps.csv", 2016)


def test_gpps_per_cent_files_are_read_as_shares_and_said_so():
    read = read_gpps(io.StringIO("Practice_Code,Q9base,Q9_12pct\nA81001,100,55\nA81002,50,40\n"), 2015)
    assert read.table["value"].tolist() == [0.55, 0.40]
    assert any("per cent" in n for n in read.notes)


def test_gpps_questionnaire_eras():
    assert [gpps_era(y) for y in (2012, 2017, 2018, 2023, 2024)] == [
        "2012-2017", "2012-2017", "2018-2023", "2018-2023", "2024 on"]


HEAD = ("Geographical code,Geographical description,Geographical level,ONS code,ASCOF measure code,"
        "Disaggregation level,Measure type,Measure value\n")


def _ascof_rows(rows):
    return HEAD + "".join(",".join(map(str, r)) + "\n" for r in rows)


def test_ascof_reads_council_totals_and_rejects_bad_rows():
    la = ("104", "Northumberland", "Local authority", "E06000057")
    rows = [
        ("England", "England", "England", "E92000001", "3A", "Total", "Numerator", 100),
        (*la, "3A", "Total", "Numerator", 300), (*la, "3A", "Total", "Denominator", 500), (*la, "3A", "Total", "Outcome", 60),
        (*la, "3A", "Female", "Numerator", 200),
        (*la, "1A", "Total", "Outcome", 19.1), (*la, "1A", "Total", "Denominator", 480),
        (*la, "3D", "Total", "Numerator", 600), (*la, "3D", "Total", "Denominator", 500),
        ("105", "Leeds", "Local authority", "E08000035", "3A", "Total", "Numerator", "[c]"),
        ("105", "Leeds", "Local authority", "E08000035", "3A", "Total", "Denominator", 400),
        ("106", "Nowhere", "Local authority", "W06000001", "3A", "Total", "Numerator", 1),
    ]
    read = read_ascof(io.StringIO(_ascof_rows(rows)), 2016)
    got = read.table.set_index(["unit_code", "question"])["value"]
    assert got[("E06000057", "3A")] == pytest.approx(0.6)
    assert got[("E06000057", "1A")] == pytest.approx(19.1)
    assert ("E06000057", "3D") not in got.index  # numerator above denominator
    reasons = set(read.rejects["reason"])
    assert {"numerator above denominator", "value is suppressed or not a number", "not an English council ONS code",
            "a share needs both its Numerator and Denominator rows"} <= reasons
    assert any("1 England, regional or council-type rows skipped" in n for n in read.notes)


def test_ascof_aliases_and_missing_columns():
    rows = [("104", "N", "Local authority", "E06000057", "3C", "Total", "Numerator", 30),
            ("104", "N", "Local authority", "E06000057", "3C", "Total", "Denominator", 50)]
    read = read_ascof(io.StringIO(_ascof_rows(rows)), 2024, codes=("3A",), aliases={"3C": "3A"})
    assert read.table["value"].tolist() == [0.6]
    with pytest.raises(PublishedLayoutError, match="Measure value"):
        read_ascof(io.StringIO("ONS code,Measure type\nE06000057,Outcome\n"), 2016)
    with pytest.raises(PublishedLayoutError, match="not one of"):
        read_ascof(io.StringIO(_ascof_rows(rows)), 2016, codes=("9Z",))


def test_rejects_are_written_with_reasons(tmp_path):
    read = read_gpps(io.StringIO(GPPS), 2016)
    path = write_rejects(read, tmp_path, "gpps_2016")
    back = pd.read_csv(path)
    assert back.columns.tolist() == ["source_file", "row", "field", "value", "reason"]
    assert len(back) == len(read.rejects) >= 4
