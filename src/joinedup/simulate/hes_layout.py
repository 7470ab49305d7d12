"""Simulated England written as NHS extracts: HES APC episodes, pipe-delimited as NHS Digital delivers
them, one file per financial year; HES A&E attendances; ONS mid-year populations by single year of age;
the persons spine as a GP registration / PDS extract (``joinedup import persons``).
So the import route (import -> validate -> run) is tested end to end.

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

from joinedup.data.duckdb_memory import duckdb_config
from joinedup.data.sources import find_table_files

N_DIAG = 20


def write_hes_layout(data: str | Path, out: str | Path) -> dict[str, list[Path]]:
    """Write ``data``'s admissions as HES APC files into ``out``; return the files by extract."""
    data, out = Path(data), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = find_table_files(data)
    con = duckdb.connect(config=duckdb_config())
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
    result = {"hes_apc": written}
    if "ae_attendances" in files:
        result["hes_ae"] = [_write_ae(con, files["ae_attendances"].glob, out)]
    if "population" in files:
        result["ons_population"] = [_write_population(con, files["population"].glob, out)]
    if "persons" in files:
        result["persons"] = [_write_persons(con, files["persons"].glob, out)]
    con.close()
    return result


def _write_persons(con, glob: str, out: Path) -> Path:
    """The registration spine as a GP registration / PDS extract gives it (``import persons``): the same
    identifier as HESID, sex 1/2, year of birth, GPPRAC, RESLADST_ONS, date of death, LTC count."""
    path = out / "gp_registration_persons.csv"
    con.execute(f"""COPY (SELECT CAST(person_id AS VARCHAR) AS NHS_NUMBER,
        CASE sex WHEN 'M' THEN '1' WHEN 'F' THEN '2' ELSE '9' END AS SEX, CAST(birth_year AS VARCHAR) AS YEAR_OF_BIRTH,
        practice_code AS GPPRAC, area_code AS RESLADST_ONS, strftime(death_date, '%Y-%m-%d') AS DATE_OF_DEATH,
        CAST(ltc_count AS VARCHAR) AS LTC_COUNT
      FROM read_parquet('{glob}') ORDER BY person_id) TO '{path}' (HEADER, DELIMITER ',')""")
    return path


_AE_CODE = {"admitted": "01", "discharged": "03", "referred": "04", "transferred": "07", "died": "10", "left": "12"}


def _write_ae(con, glob: str, out: Path) -> Path:
    """HES A&E layout, pipe-delimited, one file (ECDS names are not written)."""
    disp = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _AE_CODE.items())
    path = out / "hes_ae.txt"
    con.execute(f"""COPY (SELECT CAST(person_id AS VARCHAR) AS HESID, CAST(attendance_id AS VARCHAR) AS AEKEY,
        strftime(arrival_date, '%Y-%m-%d') AS ARRIVALDATE, lpad(CAST(department_type AS VARCHAR), 2, '0') AS AEDEPTTYPE,
        CASE disposal {disp} END AS AEATTENDDISP, CASE WHEN age = 0 THEN '7002' ELSE CAST(age AS VARCHAR) END AS ARRIVALAGE,
        CASE sex WHEN 'M' THEN '1' WHEN 'F' THEN '2' ELSE '9' END AS SEX, area_code AS RESLADST_ONS
      FROM read_parquet('{glob}') ORDER BY attendance_id) TO '{path}' (HEADER, DELIMITER '|')""")
    return path


def _write_population(con, glob: str, out: Path) -> Path:
    """ONS MYEB layout (authority, sex, single year of age, one column per year). The simulator keeps
    five-year bands only, so each band's persons are spread over its single years (the first ones get
    the remainder; 90+ is age 90): they sum back to the band exactly."""
    years = [r[0] for r in con.execute(f"SELECT DISTINCT year FROM read_parquet('{glob}') ORDER BY 1").fetchall()]
    cols = ", ".join(f"sum(CASE WHEN year = {y} THEN n END) AS population_{y}" for y in years)
    path = out / "ons_mid_year_population.csv"
    con.execute(f"""COPY (
      WITH b AS (SELECT *, CAST(split_part(replace(age_band, '+', ''), '-', 1) AS INTEGER) AS lo,
                        age_band = '90+' AS top FROM read_parquet('{glob}')),
      s AS (SELECT area_code, year, sex, lo + k AS age,
                   CASE WHEN top THEN persons ELSE persons // 5 + CASE WHEN k < persons % 5 THEN 1 ELSE 0 END END AS n
            FROM b, range(5) r(k) WHERE NOT top OR k = 0)
      SELECT area_code AS ladcode21, CASE sex WHEN 'M' THEN '1' ELSE '2' END AS sex, age, {cols}
      FROM s GROUP BY ALL ORDER BY ladcode21, sex, age) TO '{path}' (HEADER, DELIMITER ',')""")
    return path
