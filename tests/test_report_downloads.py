"""Issue 16: every table as CSV and as one Excel workbook (contents sheet with caption and source, one
sheet per table), read back from the controlled files that write_table wrote."""

import openpyxl
import pandas as pd

from joinedup.outputs import write_table
from joinedup.report import downloads
from joinedup.report.downloads import downloads_html, write_workbook


def test_workbook_has_contents_and_one_sheet_per_table(tmp_path, monkeypatch):
    write_table(pd.DataFrame({"area": ["A", "B"], "people": [3, 120]}), tmp_path, "small_counts", ["people"])
    write_table(pd.DataFrame({"x": range(12)}), tmp_path, "a_very_long_table_name_beyond_thirty_one_a", [])
    write_table(pd.DataFrame({"x": range(3)}), tmp_path, "a_very_long_table_name_beyond_thirty_one_b", [])
    monkeypatch.setattr(downloads, "EXCEL_MAX_ROWS", 10)  # a small cap, to see the cut noted
    path = write_workbook(tmp_path / "tables", tmp_path / "tables.xlsx", {"small_counts": "People by area"})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Contents" and len(wb.sheetnames) == 4
    assert len({n.lower() for n in wb.sheetnames}) == 4 and all(len(n) <= 31 for n in wb.sheetnames)
    rows = list(wb["Contents"].iter_rows(values_only=True))
    assert rows[0] == ("Sheet", "Table", "Caption", "Source", "Rows", "Note")
    by_table = {r[1]: r for r in rows[1:]}
    assert by_table["small_counts"][2] == "People by area" and "tables/small_counts.csv" in by_table["small_counts"][3]
    assert "first 10 of 12 rows" in by_table["a_very_long_table_name_beyond_thirty_one_a"][5]
    sheet = wb[by_table["small_counts"][0]]
    values = list(sheet.iter_rows(values_only=True))
    # disclosure control held: 3 people suppressed (empty), 120 kept (rounded to 5)
    assert values[0][:2] == ("area", "people") and values[1][1] is None and values[2][1] == 120


def test_downloads_list_links_every_csv(tmp_path):
    write_table(pd.DataFrame({"x": [1]}), tmp_path, "one", [])
    write_table(pd.DataFrame({"x": [1]}), tmp_path, "two", [])
    html = downloads_html(tmp_path / "tables")
    assert 'href="tables.xlsx"' in html and 'href="tables/one.csv"' in html and 'href="tables/two.csv"' in html
