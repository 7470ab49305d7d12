"""The output boundary: every results table leaves through here, with disclosure control applied.

Example:
    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> out = write_table(pd.DataFrame({"area": ["a"], "n": [6]}), folder, "t", ["n"])
    >>> bool(out["n"].isna().all()), sorted(p.name for p in folder.glob("tables/*"))
    (True, ['t.csv', 't.parquet'])
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.disclosure import control_counts, control_rates
from joinedup.disclosure_rates import rates_for, recompute_from_rounded
from joinedup.options import TableFormat, check_option

# Tables that grow with areas x periods x indicators x levels: hundreds of thousands of rows at any
# scale (indicators.csv was 100 MB at scale 0.005, its Parquet 7 MB). They are written as Parquet
# only unless a run asks for CSV too ([output] table_format = "both"); every other table is small and
# always comes as both, the CSV for people and the Parquet for the report, workbook and dashboards.
LARGE_TABLES = frozenset({"indicators"})


def write_table(frame: pd.DataFrame, out_dir: Path, name: str, count_columns: list[str],
                national=False, disclosure_control: bool = True, rates: dict[str, str] | None = None,
                table_format: TableFormat = "parquet") -> pd.DataFrame:
    """Write ``tables/{name}.parquet`` and ``.csv`` after disclosure control; return what was written.

    ``table_format`` applies to the tables in ``LARGE_TABLES``: ``"parquet"`` writes their Parquet
    only (and removes a CSV an earlier run left, so the folder never holds a stale copy),
    ``"both"`` their CSV too.

    ``national``: True if every row is for England as a whole, or a boolean per row. ``rates`` maps
    rate, percentage or mean columns to their numerator (or number of people): suppressed with a
    numerator of 1-7 (see :func:`joinedup.disclosure.control_rates`); each table's own are declared
    in :mod:`joinedup.disclosure_rates` and applied by name, with percentages shown beside their
    counts recomputed from the rounded counts.
    """
    check_option("table_format", table_format)
    controlled = frame.copy()
    if disclosure_control:
        rate_suppressed = False
        rates = {**rates_for(name, frame), **(rates or {})}  # declared once per table (disclosure_rates.py)
        if rates:  # before the counts are controlled: it needs the unrounded numerators
            controlled = control_rates(controlled, rates, national)
            rate_suppressed = controlled.pop("suppressed").to_numpy()
        controlled = control_counts(controlled, count_columns, national)
        controlled["suppressed"] |= rate_suppressed
        controlled = recompute_from_rounded(name, controlled, national)
    folder = Path(out_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    controlled.to_parquet(folder / f"{name}.parquet", index=False)
    csv = folder / f"{name}.csv"
    if name in LARGE_TABLES and table_format == "parquet":
        csv.unlink(missing_ok=True)
    else:
        controlled.to_csv(csv, index=False, date_format="%Y-%m-%d")
    return controlled


def table_files(tables_dir: str | Path, name: str) -> list[str]:
    """The file names a table was written as (CSV first where there is one).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = write_table(pd.DataFrame({"n": [10]}), folder, "indicators", [], disclosure_control=False)
        >>> table_files(folder / "tables", "indicators")
        ['indicators.parquet']
    """
    return [f"{name}.{ext}" for ext in ("csv", "parquet") if (Path(tables_dir) / f"{name}.{ext}").exists()]

