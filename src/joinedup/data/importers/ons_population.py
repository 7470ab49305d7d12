"""ONS mid-year population estimates -> canonical ``population`` (five-year bands).

Reads the long layout ONS publishes for local authorities by single year of age and sex (the MYEB
tables, e.g. ``MYEB1_detailed_population_estimates_series_UK_(2021_geog21).csv``): one row per
authority, sex and age, one ``population_YYYY`` column per year. Columns: ``ladcodeYY`` (or ``code``),
``sex`` (1 male, 2 female), ``age`` (0-90, 90 meaning 90 and over) and ``population_YYYY``. Single years
are summed into the 19 bands of the 2013 European Standard Population (0-4 ... 90+). Authorities outside
England (W, S, N codes) are excluded and counted.

Example:
    >>> import_ons_population(["MYEB1_2021.csv"], "data/mine")        # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from joinedup.data.duckdb_memory import duckdb_config
from joinedup.data.importers.common import ImportReport, Progress, _scan
from joinedup.data.importers.tabular import RowImport, run_import

CODES = [f"LADCODE{y:02d}" for y in range(11, 31)] + ["CODE", "AREA_CODE"]


def _year_columns(files) -> list[str]:
    con = duckdb.connect(config=duckdb_config())
    found = set()
    for f in files:
        cols = [r[0].upper() for r in con.execute(f"DESCRIBE SELECT * FROM {_scan(Path(f))}").fetchall()]
        found |= {c for c in cols if c.startswith("POPULATION_") and c[11:].isdigit()}
    return sorted(found)


def spec(years: list[str]) -> RowImport:
    if not years:
        years = ["POPULATION_0000"]  # nothing to unpivot: the required check names the problem first
    band = ("CASE WHEN age >= 90 THEN '90+' ELSE CAST(age // 5 * 5 AS VARCHAR) || '-' || "
            "CAST(age // 5 * 5 + 4 AS VARCHAR) END")
    return RowImport(
        "population", CODES + ["SEX", "AGE", *years],
        [tuple(CODES), "SEX", "AGE", tuple(years)],
        typed=f"""
          SELECT __src, upper(trim(coalesce({', '.join(CODES)}))) AS area_code, trim(SEX) AS sex_code,
                 AGE AS age_text, try_cast(replace(trim(AGE), '+', '') AS INTEGER) AS age,
                 CAST(right(yearcol, 4) AS INTEGER) AS year, value AS persons_text,
                 try_cast(trim(value) AS DOUBLE) AS persons
          FROM {{source}} UNPIVOT (value FOR yearcol IN ({', '.join(years)}))""",
        rejects=[("AGE", "age_text", "age is not 0-90", "age IS NULL OR age NOT BETWEEN 0 AND 90"),
                 ("SEX", "sex_code", "sex is not 1 (male) or 2 (female)", "sex_code IS NULL OR sex_code NOT IN ('1', '2')"),
                 ("POPULATION_YYYY", "persons_text", "population is not a whole number >= 0",
                  "persons IS NULL OR persons < 0 OR persons <> round(persons)")],
        excluded=[("authorities outside England (code not E + 8 digits)",
                   "NOT regexp_matches(coalesce(area_code, ''), '^E[0-9]{8}$')")],
        select=f"""
          SELECT area_code, CAST(year AS INTEGER) AS year, CASE sex_code WHEN '1' THEN 'M' ELSE 'F' END AS sex,
                 {band} AS age_band, CAST(sum(persons) AS BIGINT) AS persons
          FROM kept GROUP BY ALL ORDER BY area_code, year, sex, age_band""")


def import_ons_population(files, out, *, memory_limit: str = "2GB",
                          progress: Progress | None = None) -> ImportReport:
    """Write ``out/population.parquet`` from ONS mid-year estimate files; return the counts."""
    return run_import(spec(_year_columns(files)), files, out, memory_limit=memory_limit, progress=progress)
