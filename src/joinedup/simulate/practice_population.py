"""Simulated practice list sizes by sex and age band: the canonical ``practice_population`` table.

Counted from the simulated registered persons (``persons``: practice, sex, year of birth, death) at
quarterly extract dates (1 January, April, July and October), as NHS Digital's "Patients Registered at
a GP Practice" publication counts registered patients on its extract dates. A person counts at an
extract date when born by then (births are taken as 1 July of the birth year, the file holds only the
year) and not dead before it; the age band is that of the completed years on the date.

Example:
    >>> table = practice_population_table("data/england/persons", (2012, 2016))   # doctest: +SKIP
    >>> table.column_names
    ['practice_code', 'extract_date', 'sex', 'age_band', 'persons']
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from joinedup.data.duckdb_memory import duckdb_config
from joinedup.data.tables import TABLES


def practice_population_table(persons_folder: str | Path, years: tuple[int, int]) -> pa.Table:
    """Registered patients by practice, quarterly extract date, sex and five-year age band."""
    first, last = int(years[0]), int(years[1])
    glob = str(Path(persons_folder) / "*.parquet").replace("'", "''")
    sql = f"""
        with dates as (
            select cast(d as date) as extract_date
            from range(date '{first}-01-01', date '{last}-12-31', interval 3 month) t(d)),
        ages as (
            select p.practice_code, d.extract_date, p.sex,
                   floor(date_diff('day', make_date(p.birth_year, 7, 1), d.extract_date) / 365.25) as age
            from read_parquet('{glob}') p, dates d
            where make_date(p.birth_year, 7, 1) <= d.extract_date
              and (p.death_date is null or p.death_date >= d.extract_date))
        select practice_code, extract_date, sex,
               case when age >= 90 then '90+'
                    else cast(cast(floor(age / 5) * 5 as int) as varchar) || '-'
                         || cast(cast(floor(age / 5) * 5 + 4 as int) as varchar) end as age_band,
               cast(count(*) as bigint) as persons
        from ages group by all order by practice_code, extract_date, sex, age_band"""
    con = duckdb.connect(config=duckdb_config())
    try:
        con.execute("set enable_progress_bar = false")
        table = con.sql(sql).arrow()
    finally:
        con.close()
    if hasattr(table, "read_all"):  # newer DuckDB returns a record batch reader
        table = table.read_all()
    return table.cast(TABLES["practice_population"].arrow_schema())
