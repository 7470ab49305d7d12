"""Every output table as one Excel workbook (what NHS analysts pass on): a contents sheet listing
each table with its caption, source and size, then one sheet per table. The CSV of each table is
written by :func:`joinedup.outputs.write_table`; this reads the same controlled files back, so the
workbook holds exactly what passed disclosure control.

Example:
    >>> path = write_workbook("out/demo/tables", "out/demo/tables.xlsx")            # doctest: +SKIP
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

# Excel takes 1,048,575 rows under a header, but openpyxl writes about 2,000 rows a second here (the
# 310,000-row indicator table of a 0.5% run took 166 s and 26 MB): a sheet holds at most this many
# rows, the contents sheet says where a table was cut, and the CSV always has every row.
EXCEL_MAX_ROWS = 50_000
STEP_OF_PREFIX = {"impact": "impact (WP1)", "synthesis": "synthesis (WP3)", "survey": "key-informant survey (WP1)",
                  "typology": "typology (WP1)", "economics": "economic evaluation (WP2)",
                  "indicator": "indicators (WP1)", "site": "indicators (WP1)"}


def caption_of(name: str) -> str:
    """A readable caption from a table's file name (``impact_cs_dynamic`` -> ``Impact cs dynamic``)."""
    return name.replace("_", " ").capitalize()


def source_of(name: str) -> str:
    step = STEP_OF_PREFIX.get(name.split("_")[0], "overview")
    return f"joinedup, {step} step: tables/{name}.csv (after disclosure control)"


def _sheet_names(names: list[str]) -> dict[str, str]:
    """Excel sheet names: at most 31 characters, unique."""
    out, used = {}, set()
    for name in names:
        base = name[:31]
        candidate, i = base, 2
        while candidate.lower() in used:
            suffix = f"~{i}"
            candidate, i = base[:31 - len(suffix)] + suffix, i + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def write_workbook(tables_dir: str | Path, path: str | Path, captions: dict[str, str] | None = None) -> Path:
    """Write every ``tables/*.parquet`` as a sheet of one workbook with a contents sheet first."""
    import openpyxl
    from openpyxl.styles import Font

    from joinedup.outputs import table_files

    captions = captions or {}
    files = sorted(Path(tables_dir).glob("*.parquet"))
    names = [f.stem for f in files]
    sheets = _sheet_names(names)
    wb = openpyxl.Workbook(write_only=True)
    contents = wb.create_sheet("Contents")
    contents.append(["Sheet", "Table", "Caption", "Source", "Rows", "Note"])
    frames = {}
    for f in files:
        frame = pd.read_parquet(f)
        frames[f.stem] = frame
        note = (f"first {EXCEL_MAX_ROWS:,} of {len(frame):,} rows ; the {table_files(tables_dir, f.stem)[0]} file has all"
                if len(frame) > EXCEL_MAX_ROWS else "")
        contents.append([sheets[f.stem], f.stem, captions.get(f.stem, caption_of(f.stem)), source_of(f.stem),
                         len(frame), note])
    bold = Font(bold=True)
    for name, frame in frames.items():
        ws = wb.create_sheet(sheets[name])
        header = []
        for col in frame.columns:
            cell = openpyxl.cell.WriteOnlyCell(ws, value=str(col))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in frame.head(EXCEL_MAX_ROWS).itertuples(index=False, name=None):
            ws.append([_cell(v) for v in row])
    path = Path(path)
    wb.save(path)
    return path


def _cell(value):
    """Excel takes numbers, text, dates and booleans; missing values are left empty."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value if isinstance(value, (int, float, str, bool)) else str(value)


def downloads_html(tables_dir: str | Path, workbook: str | None = "tables.xlsx") -> str:
    """The report's list of downloads: the workbook, then each table's CSV (relative links); a large
    table written as Parquet only (``[output] table_format``, :data:`joinedup.outputs.LARGE_TABLES`)
    links its Parquet."""
    from joinedup.outputs import table_files

    names = sorted({p.stem for p in Path(tables_dir).glob("*.csv")} | {p.stem for p in Path(tables_dir).glob("*.parquet")})
    files = {n: table_files(tables_dir, n)[0] for n in names}
    items = "".join(f'<li><a href="tables/{html.escape(files[n])}" download>{html.escape(caption_of(n))}</a> '
                    f'<span class="muted">({html.escape(files[n])})</span></li>' for n in names)
    head = (f'<p><a href="{html.escape(workbook)}" download>Every table in one Excel workbook</a> (a contents '
            "sheet, then one sheet per table, with each table's caption and source).</p>") if workbook else ""
    return head + f"<p>Each table as CSV:</p><ul class=\"downloads\">{items}</ul>"
