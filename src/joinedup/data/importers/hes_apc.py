"""Import HES Admitted Patient Care episodes into the canonical ``admissions`` table (one row per
provider spell, with its continuous inpatient spell).

Every step runs as DuckDB SQL in a scratch database that spills to disk, so a national year (about
20 million episodes) streams with bounded memory. The rules and the conventions they follow are in
:mod:`joinedup.data.importers.hes_apc_sql` and on the docs page ``docs/bring-your-own-data.md``.

Example:
    >>> report = import_hes_apc(["hes_apc_1415.txt", "hes_apc_1516.txt"], "data/mine",
    ...                         key=load_key("secret.key"))                  # doctest: +SKIP
    >>> print(report.summary())                                             # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from joinedup.data.importers import hes_apc_sql as Q
from joinedup.data.importers.common import (
    ImportReport,
    Progress,
    copy_parquet,
    read_extracts,
    scratch_connection,
    write_rejects,
)
from joinedup.data.importers.pseudonym import build_person_map


def import_hes_apc(files: list[str | Path], out: str | Path, key: bytes, *, memory_limit: str = "2GB",
                   threads: int | None = None, progress: Progress | None = None) -> ImportReport:
    """Read HES APC extracts (CSV, pipe-delimited text or Parquet; several years at once) and write
    ``out/admissions.parquet`` and, if any, ``out/rejects/admissions.csv``; return the counts."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = ImportReport("admissions")
    t_start = time.perf_counter()
    con, scratch = scratch_connection(memory_limit, threads)

    def stage(name: str, sql: str, count: str | None = None) -> int:
        t0 = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        n = con.execute(f"SELECT count(*) FROM {count or name}").fetchone()[0]
        if progress:
            progress(name, n, time.perf_counter() - t0)
        return int(n)

    def one(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0] or 0)

    try:
        con.execute(Q.MACROS)
        report.read = read_extracts(con, [Path(f) for f in files], "raw", Q.FIELDS, Q.REQUIRED, progress)
        n_dedup = stage("dedup", Q.dedup_sql())
        report.deduplicated["identical episodes (all fields but EPIKEY), across all files"] = report.read - n_dedup
        stage("ep_all", Q.typed_sql())
        stage("superseded", Q.superseded_sql())
        stage("ep", "SELECT * FROM ep_all ANTI JOIN superseded USING (__src)")
        report.deduplicated["unfinished episodes (EPISTAT 1) held finished in a later extract"] = one(
            "SELECT count(*) FROM superseded")
        stage("ep_rejects", Q.episode_rejects_sql())
        for reason, n in con.execute("SELECT reason, count(*) FROM ep_rejects GROUP BY 1 ORDER BY 1").fetchall():
            report.rejected[f"episodes: {reason}"] = int(n)
        stage("ep_ok", "SELECT * FROM ep ANTI JOIN ep_rejects USING (__src)")
        stage("ep_spell", Q.spell_keys_sql())
        report.cleaned["episodes whose missing ADMIDATE was filled from the spell"] = one(
            "SELECT count(*) FROM ep_spell WHERE admidate_filled")
        report.cleaned["secondary diagnosis codes that are not ICD-10, left out"] = one(
            "SELECT sum(bad_secondary) FROM ep_spell WHERE ep_rank = 1")
        stage("spells", Q.spells_sql())
        stage("spell_rejects", Q.spell_rejects_sql())
        for reason, n in con.execute("SELECT reason, count(DISTINCT __src) FROM spell_rejects GROUP BY 1 "
                                     "ORDER BY 1").fetchall():
            report.rejected[f"spells: {reason}"] = int(n)
        stage("usable", "SELECT * FROM spells ANTI JOIN spell_rejects USING (__src)")
        regular = f"classpat IN ({', '.join(repr(c) for c in Q.REGULAR_ATTENDERS)})"
        report.excluded["spells of regular day or night attenders (CLASSPAT 3, 4)"] = one(
            f"SELECT count(*) FROM usable WHERE {regular}")
        abroad = f"NOT regexp_matches(coalesce(area_code, ''), '{Q.ENGLAND}')"
        report.excluded["spells of people living outside England or nowhere known (RESLADST_ONS)"] = one(
            f"SELECT count(*) FROM usable WHERE NOT ({regular}) AND {abroad}")
        report.cleaned["practice not recorded or V81997-V81999 (kept, no practice)"] = one(
            f"SELECT count(*) FROM usable WHERE gpprac IS NULL OR gpprac IN ({', '.join(repr(c) for c in Q.NO_PRACTICE)})")
        report.cleaned["sex not known (kept, left out of standardised measures)"] = one(
            "SELECT count(*) FROM usable WHERE sex_code IS NULL OR sex_code NOT IN ('1', '2')")
        report.cleaned["open spells (no episode with SPELEND = Y): kept without a discharge"] = one(
            "SELECT count(*) FROM usable WHERE NOT ended")
        build_person_map(con, key, "SELECT person_raw FROM usable")
        stage("kept", f"SELECT u.*, m.person_id FROM usable u JOIN person_map m USING (person_raw) "
                      f"WHERE NOT ({regular}) AND NOT ({abroad})")
        stage("cips", Q.cips_sql())
        report.cleaned["spells that are transfers in (same CIPS, or ADMIMETH 2B/81, ADMISORC 49-53/87)"] = one(
            "SELECT count(*) FROM cips WHERE transfer_in")
        t0 = time.perf_counter()
        report.written = copy_parquet(con, Q.admissions_sql(), out / "admissions.parquet")
        if progress:
            progress("write admissions.parquet", report.written, time.perf_counter() - t0)
        rejects = ("SELECT __src, field, value, reason FROM ep_rejects UNION ALL "
                   "SELECT __src, field, value, reason FROM spell_rejects")
        write_rejects(con, rejects, "raw_files", out, "admissions")
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)
    report.seconds = time.perf_counter() - t_start
    return report
