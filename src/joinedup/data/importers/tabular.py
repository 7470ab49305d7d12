"""The shape shared by the row-by-row importers (ONS populations, GP registrations, HES A&E): read
the files as text, type each row in SQL, send rows with a reason to the rejects file, count the
excluded ones, then write the canonical table.

Example:
    >>> spec = RowImport("population", fields=["AGE"], required=["AGE"], typed="SELECT 1", rejects=[],
    ...                  excluded=[], select="SELECT 1")
    >>> spec.table
    'population'
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from joinedup.data.importers.common import (
    ImportReport,
    Progress,
    copy_parquet,
    read_extracts,
    scratch_connection,
    write_rejects,
)
from joinedup.data.importers.hes_apc_sql import MACROS


@dataclass(frozen=True)
class RowImport:
    """``typed`` reads ``raw`` into ``typed``; each reject is (field, value SQL, reason, condition);
    each exclusion is (reason, condition) on ``typed`` rows that are not rejected; ``select`` reads
    ``kept`` and gives the canonical columns; ``dedup`` collapses rows identical but for ``ignore``."""

    table: str
    fields: list[str]
    required: list[str | tuple[str, ...]]
    typed: str
    rejects: list[tuple[str, str, str, str]]
    excluded: list[tuple[str, str]]
    select: str
    dedup_ignore: tuple[str, ...] | None = None
    person: bool = False
    cleaned: list[tuple[str, str]] = field(default_factory=list)
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other names of a field, per file


def run_import(spec: RowImport, files, out, key: bytes | None = None, *, memory_limit: str = "2GB",
               progress: Progress | None = None) -> ImportReport:
    """Run one :class:`RowImport` and write ``out/<table>.parquet`` (and rejects); return the counts."""
    from joinedup.data.importers.pseudonym import build_person_map

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = ImportReport(spec.table)
    t_start = time.perf_counter()
    con, scratch = scratch_connection(memory_limit)
    try:
        con.execute(MACROS)
        report.read = read_extracts(con, [Path(f) for f in files], "raw", spec.fields, spec.required, progress,
                                    spec.aliases)
        source = "raw"
        if spec.dedup_ignore is not None:
            content = ", ".join(c for c in spec.fields if c not in spec.dedup_ignore)
            con.execute(f"CREATE TABLE dedup AS SELECT {content}, min(__src) AS __src FROM raw GROUP BY ALL")
            n = con.execute("SELECT count(*) FROM dedup").fetchone()[0]
            but = f" but {', '.join(spec.dedup_ignore)}" if spec.dedup_ignore else ""
            report.deduplicated[f"identical rows (all fields{but})"] = report.read - n
            source = "dedup"
        con.execute(f"CREATE TABLE typed AS {spec.typed.replace('{source}', source)}")
        rejects = " UNION ALL ".join(
            f"SELECT __src, '{f}' AS field, CAST({v} AS VARCHAR) AS value, '{r}' AS reason FROM typed WHERE {cond}"
            for f, v, r, cond in spec.rejects) or "SELECT NULL::BIGINT AS __src, '' AS field, '' AS value, '' AS reason WHERE false"
        con.execute(f"CREATE TABLE rejected AS SELECT DISTINCT * FROM ({rejects})")  # unpivoted rows repeat
        for reason, n in con.execute("SELECT reason, count(DISTINCT __src) FROM rejected GROUP BY 1 ORDER BY 1").fetchall():
            report.rejected[reason] = int(n)
        con.execute("CREATE TABLE ok AS SELECT * FROM typed ANTI JOIN rejected USING (__src)")
        keep = "true"
        for reason, cond in spec.excluded:
            report.excluded[reason] = int(con.execute(f"SELECT count(*) FROM ok WHERE ({keep}) AND ({cond})").fetchone()[0])
            keep += f" AND NOT ({cond})"
        for reason, cond in spec.cleaned:
            report.cleaned[reason] = int(con.execute(f"SELECT count(*) FROM ok WHERE ({keep}) AND ({cond})").fetchone()[0])
        if spec.person:
            build_person_map(con, key, f"SELECT person_raw FROM ok WHERE {keep}")
            con.execute(f"CREATE TABLE kept AS SELECT ok.*, m.person_id FROM ok JOIN person_map m USING (person_raw) "
                        f"WHERE {keep}")
        else:
            con.execute(f"CREATE TABLE kept AS SELECT * FROM ok WHERE {keep}")
        t0 = time.perf_counter()
        report.written = copy_parquet(con, spec.select, out / f"{spec.table}.parquet")
        if progress:
            progress(f"write {spec.table}.parquet", report.written, time.perf_counter() - t0)
        write_rejects(con, "SELECT * FROM rejected", "raw_files", out, spec.table)
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    report.seconds = time.perf_counter() - t_start
    return report
