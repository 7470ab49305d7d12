"""The indicator step's outputs: disclosure control at 6, 7 and 8 on every file and page it writes."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.data.tables import TABLES
from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol
from tiny_dataset import ROWS


def add_admissions(folder, counts_by_area):
    rows = [dict(r) for r in ROWS["admissions"]]
    spell = 100
    for area, n in counts_by_area.items():
        person, practice = (1, "A81001") if area == "E06000001" else (2, "C85001")
        for day in range(n):
            spell += 1
            rows.append(dict(rows[0], spell_id=spell, person_id=person, area_code=area, practice_code=practice,
                             admission_date=dt.date(2013, 3, 1 + day), discharge_date=dt.date(2013, 3, 2 + day)))
    pq.write_table(pa.Table.from_pylist(rows, schema=TABLES["admissions"].arrow_schema()),
                   folder / "admissions.parquet")


def run(tmp_path, tiny, counts, table_format=None):
    add_admissions(tiny, counts)
    path = tmp_path / "p.toml"
    output = f'[output]\ntable_format = "{table_format}"\n' if table_format else ""
    path.write_text(f'[evaluation]\nname = "t"\n[data]\nsource = "{tiny}"\n'
                    '[indicators]\nids = ["emergency_admissions", "ae_attendances"]\nperiods = ["month"]\n'
                    'headline = "emergency_admissions"\n' + output)
    return run_protocol(load_protocol(path), out=tmp_path / "out")


def test_counts_of_6_and_7_are_suppressed_and_8_rounded_in_files_and_report(tmp_path, tiny):
    result = run(tmp_path, tiny, {"E06000001": 6, "E08000016": 8}, table_format="both")  # CSV on request
    for read, name in ((pd.read_csv, "indicators.csv"), (pd.read_parquet, "indicators.parquet")):
        table = read(result.out_dir / "tables" / name)
        march = table[(table.indicator == "emergency_admissions") & (table.period_start.astype(str) == "2013-03-01")]
        area = march[march.level == "area"].set_index("unit")
        assert pd.isna(area.loc["E06000001", "numerator"]) and bool(area.loc["E06000001", "suppressed"])
        assert area.loc["E08000016", "numerator"] == 10 and not bool(area.loc["E08000016", "suppressed"])
        england = march[march.level == "england"].iloc[0]
        assert england["numerator"] == 14  # national totals from unrounded values, not controlled
        sub = table[table.level != "england"]["numerator"].dropna()
        assert ((sub == 0) | ((sub >= 8) & (sub % 5 == 0))).all()
    html = result.report.read_text()
    assert "suppressed" in html


def test_a_count_of_7_is_suppressed(tmp_path, tiny):
    result = run(tmp_path, tiny, {"E06000001": 7, "E08000016": 9})
    table = pd.read_parquet(result.out_dir / "tables" / "indicators.parquet")
    march = table[(table.indicator == "emergency_admissions") & (table.period_start.astype(str) == "2013-03-01")
                  & (table.level == "area")].set_index("unit")
    assert pd.isna(march.loc["E06000001", "numerator"]) and march.loc["E08000016", "numerator"] == 10
    funnel = pd.read_csv(result.out_dir / "tables" / "indicator_funnel.csv")
    observed = funnel["observed"].dropna()
    assert ((observed == 0) | ((observed >= 8) & (observed % 5 == 0))).all()


def test_the_indicators_table_is_parquet_only_by_default_and_csv_on_request(tmp_path, tiny):
    """[output] table_format: the largest table's CSV only when asked for; small tables always both;
    the report's downloads link whichever file was written; a CSV left by an earlier run is removed."""
    (tmp_path / "both").mkdir()
    both = run(tmp_path / "both", tiny, {"E06000001": 9}, table_format="both")
    tables = both.out_dir / "tables"
    assert (tables / "indicators.csv").is_file() and 'href="tables/indicators.csv"' in both.report.read_text()
    again = run(tmp_path / "both", tiny, {"E06000001": 9})  # the same folder, the default format
    assert not (tables / "indicators.csv").exists() and (tables / "indicators.parquet").is_file()
    assert (tables / "indicator_funnel.csv").is_file() and (tables / "indicator_funnel.parquet").is_file()
    html = again.report.read_text()
    assert 'href="tables/indicators.parquet"' in html and 'href="tables/indicators.csv"' not in html
    assert 'href="tables/indicator_funnel.csv"' in html
    assert len(pd.read_parquet(tables / "indicators.parquet")) > 0


def test_an_unknown_table_format_names_the_allowed_values(tmp_path, tiny):
    import pytest

    from joinedup.protocol import ProtocolError

    with pytest.raises(ProtocolError, match="parquet"):
        run(tmp_path, tiny, {"E06000001": 9}, table_format="xlsx")
