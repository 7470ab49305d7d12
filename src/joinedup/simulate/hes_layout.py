"""Simulated England written as NHS extracts: HES APC episodes, pipe-delimited as NHS Digital delivers
them, one file per financial year, so the import route (import -> validate -> run) is tested end to end.

Each simulated spell is one finished episode (EPIORDER 1, EPISTAT 3, SPELEND Y); HESID is the simulated
person_id as text; PROCODE3 is a made-up provider per area; infants get STARTAGE 7003 (under one year)
and sex is coded 1 male, 2 female. ``joinedup import hes-apc`` on these files gives back the simulator's
own admissions (person ids through the pseudonym, spell ids renumbered, cost left empty).

Example:
    >>> write_hes_layout("out/england", "out/england/hes")        # doctest: +SKIP
    {'hes_apc': [PosixPath('out/england/hes/hes_apc_2010.txt'), ...]}
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from joinedup.data.sources import find_table_files

N_DIAG = 20


def write_hes_layout(data: str | Path, out: str | Path) -> dict[str, list[Path]]:
    """Write ``data``'s admissions as HES APC files into ``out``; return the files by extract."""
    data, out = Path(data), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = find_table_files(data)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW adm AS SELECT * FROM read_parquet('{files['admissions'].glob}')")
    diag = ", ".join(f"coalesce(split_part(coalesce(secondary_diagnoses, ''), ';', {i}), '') AS DIAG_4_{i + 1:02d}"
                     for i in range(1, N_DIAG))
    episodes = f"""
      SELECT CAST(person_id AS VARCHAR) AS HESID, CAST(spell_id AS VARCHAR) AS EPIKEY,
        'R' || lpad(CAST(dense_rank() OVER (ORDER BY area_code) AS VARCHAR), 2, '0') AS PROCODE3,
        strftime(admission_date, '%Y-%m-%d') AS ADMIDATE, '1' AS EPIORDER,
        strftime(admission_date, '%Y-%m-%d') AS EPISTART, strftime(discharge_date, '%Y-%m-%d') AS EPIEND,
        '3' AS EPISTAT, strftime(discharge_date, '%Y-%m-%d') AS DISDATE, 'Y' AS SPELEND, admimeth AS ADMIMETH,
        '19' AS ADMISORC, disdest AS DISDEST, CASE WHEN disdest = '79' THEN '4' ELSE '1' END AS DISMETH,
        '1' AS CLASSPAT, CASE WHEN age = 0 THEN '7003' ELSE CAST(age AS VARCHAR) END AS STARTAGE,
        CASE sex WHEN 'M' THEN '1' WHEN 'F' THEN '2' ELSE '9' END AS SEX,
        primary_diagnosis AS DIAG_4_01, {diag}, coalesce(procedure, '-') AS OPERTN_4_01,
        area_code AS RESLADST_ONS, coalesce(practice_code, 'V81999') AS GPPRAC,
        year(admission_date - INTERVAL 3 MONTH) AS fyear
      FROM adm"""
    con.execute(f"CREATE TABLE ep AS {episodes}")
    written = []
    for (fyear,) in con.execute("SELECT DISTINCT fyear FROM ep ORDER BY 1").fetchall():
        path = out / f"hes_apc_{fyear}.txt"
        con.execute(f"COPY (SELECT * EXCLUDE (fyear) FROM ep WHERE fyear = {fyear} ORDER BY HESID, ADMIDATE, EPIKEY) "
                    f"TO '{path}' (HEADER, DELIMITER '|')")
        written.append(path)
    con.close()
    return {"hes_apc": written}
