"""What every importer shares: reading extracts as text, a scratch DuckDB that spills to disk, the
count report, progress and the rejects file.

Extracts are read with DuckDB, every column as text (a reader's type guess could silently coerce a
value): CSV, pipe-delimited text as NHS Digital delivers it (``.txt``), or Parquet. Each row keeps its
source file and row number (the data row, 1 for the first row under the header), so a reject can say
where it came from. Column names are matched case-insensitively.

Example:
    >>> detect_delimiter_line("FYEAR|HESID|EPIKEY")
    '|'
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

Progress = Callable[[str, int, float], None]  # (stage, rows, seconds) -> None


class ImportError_(ValueError):
    """An extract cannot be imported as a whole (a missing file or column): names what and where."""


@dataclass
class ImportReport:
    """Counts of one import: read, written, de-duplicated, excluded and rejected, with reasons."""

    table: str
    read: int = 0
    written: int = 0
    deduplicated: dict[str, int] = field(default_factory=dict)
    excluded: dict[str, int] = field(default_factory=dict)
    cleaned: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.read / max(self.seconds, 1e-9)

    def summary(self) -> str:
        """Plain text for the console, one count a line."""
        lines = [(f"{self.table}: read {self.read:,} records, wrote {self.written:,} rows in "
                 f"{self.seconds:.1f} s ({self.rows_per_second:,.0f} records/s)")]
        for title, counts in (("de-duplicated", self.deduplicated), ("excluded", self.excluded),
                              ("rejected", self.rejected), ("cleaned", self.cleaned)):
            lines.append(f"  {title}: {sum(counts.values()):,}")
            lines += [f"    {n:>12,}  {why}" for why, n in counts.items() if n]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def detect_delimiter_line(line: str) -> str:
    """``|`` for NHS Digital's pipe-delimited text, tab for TSV, else comma."""
    for sep in ("|", "\t"):
        if sep in line:
            return sep
    return ","


def scratch_connection(memory_limit: str = "2GB", threads: int | None = None):
    """An in-memory DuckDB capped at ``memory_limit`` that spills to a temporary folder beyond it (so
    joins, sorts and stage tables never grow past the cap, and no write-ahead log is kept)."""
    folder = Path(tempfile.mkdtemp(prefix="joinedup-import-"))
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET temp_directory = '{folder / 'spill'}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con, folder


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_extracts(con, files: list[Path], table: str, wanted: list[str],
                  required: list[str | tuple[str, ...]], progress: Progress | None = None,
                  aliases: dict[str, tuple[str, ...]] | None = None) -> int:
    """Load ``files`` into ``table`` as text columns ``wanted`` plus ``__src`` (file index * 10**12 +
    row) and register their names in ``{table}_files``; a column missing from a file is NULL, unless
    it is ``required`` (a tuple means: one of these), which stops the import naming file and column.
    ``aliases`` gives other names a column may have in a file (e.g. ECDS's for HES A&E's), first found
    used; each file may use either."""
    aliases = aliases or {}
    con.execute(f"CREATE OR REPLACE TABLE {table}_files (file_index INTEGER, source_file VARCHAR)")
    created = False
    total = 0
    for index, path in enumerate(files):
        path = Path(path)
        if not path.is_file():
            raise ImportError_(f"input file {str(path)!r} does not exist")
        t0 = time.perf_counter()
        scan = _scan(path)
        try:
            present = {c.upper(): c for c in (r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall())}
        except duckdb.Error as exc:
            raise ImportError_(f"cannot read {path}: {exc}") from exc
        for name, others in aliases.items():
            if name not in present:
                found = next((o for o in others if o in present), None)
                if found:
                    present[name] = present[found]
        for need in required:
            options = need if isinstance(need, tuple) else (need,)
            if not any(o in present for o in options):
                found = ", ".join(sorted(present)[:40])
                names = [n for o in options for n in (o, *aliases.get(o, ()))]
                raise ImportError_(f"{path}: column {' or '.join(names)} is missing (columns found: {found})")
        cols = ", ".join(
            f"CAST({_quote(present[c])} AS VARCHAR) AS {c}" if c in present else f"CAST(NULL AS VARCHAR) AS {c}"
            for c in wanted)
        src = f"CAST({index} AS BIGINT) * 1000000000000 + row_number() OVER ()"
        select = f"SELECT {cols}, {src} AS __src FROM {scan}"
        con.execute(f"INSERT INTO {table}_files VALUES ({index}, {_sql_text(str(path))})")
        try:
            if created:
                con.execute(f"INSERT INTO {table} {select}")
            else:
                con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}")
                created = True
        except duckdb.Error as exc:
            raise ImportError_(f"cannot read {path}: {exc}") from exc
        rows = con.execute(f"SELECT count(*) FROM {table} WHERE __src // 1000000000000 = {index}").fetchone()[0]
        total += rows
        if progress:
            progress(f"read {path.name}", rows, time.perf_counter() - t0)
    return total


def _scan(path: Path) -> str:
    name = _sql_text(str(path))
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({name})"
    with open(path, encoding="utf-8", errors="replace") as fh:
        delim = detect_delimiter_line(fh.readline())
    return f"read_csv({name}, delim={_sql_text(delim)}, header=true, all_varchar=true, quote='\"')"


def write_rejects(con, rejects_sql: str, files_table: str, out: Path, table: str) -> int:
    """Write ``DATASET/rejects/<table>.csv`` (source_file, row, field, value, reason); returns rows."""
    n = con.execute(f"SELECT count(*) FROM ({rejects_sql})").fetchone()[0]
    path = out / "rejects" / f"{table}.csv"
    if not n:
        if path.exists():
            path.unlink()
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"""COPY (SELECT f.source_file, r.__src % 1000000000000 AS "row", r.field, r.value, r.reason
        FROM ({rejects_sql}) r JOIN {files_table} f ON f.file_index = r.__src // 1000000000000
        ORDER BY r.__src, r.field) TO {_sql_text(str(path))} (HEADER, DELIMITER ',')""")
    return int(n)


def copy_parquet(con, select_sql: str, path: Path) -> int:
    """Write a query to one Parquet file (streamed by DuckDB); returns rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({select_sql}) TO {_sql_text(str(path))} (FORMAT parquet)")
    return int(con.execute(f"SELECT count(*) FROM read_parquet({_sql_text(str(path))})").fetchone()[0])


def in_list(values) -> str:
    """SQL ``IN`` list of text literals."""
    return ", ".join(_sql_text(v) for v in values)
