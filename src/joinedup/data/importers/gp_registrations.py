"""NHS Digital "Patients Registered at a GP Practice" (five-year age bands) -> ``practice_population``.

Reads the quarterly/monthly file by practice, sex and five-year band
(``gp-reg-pat-prac-quin-age.csv``): ``EXTRACT_DATE``, ``ORG_CODE`` (``CODE`` in older files),
``SEX`` (MALE, FEMALE, ALL), ``AGE_GROUP_5`` (0_4 ... 90_94, 95+, ALL), ``NUMBER_OF_PATIENTS`` and,
where present, ``ORG_TYPE``/``TYPE``. ``ALL`` rows are totals (excluded, counted, so nothing is counted
twice); 90_94 and 95+ are summed into 90+. Rows of other organisation types than GP are excluded.

Example:
    >>> import_gp_registrations(["gp-reg-pat-prac-quin-age.csv"], "data/mine")   # doctest: +SKIP
"""

from __future__ import annotations

from joinedup.data.importers.common import ImportReport, Progress
from joinedup.data.importers.tabular import RowImport, run_import

_DATE = ("CAST(coalesce(try_strptime(trim(EXTRACT_DATE), '%d%b%Y'), try_strptime(trim(EXTRACT_DATE), '%d-%b-%Y'), "
         "try_strptime(trim(EXTRACT_DATE), '%Y-%m-%d'), try_strptime(trim(EXTRACT_DATE), '%d/%m/%Y')) AS DATE)")

SPEC = RowImport(
    "practice_population",
    ["EXTRACT_DATE", "ORG_CODE", "CODE", "ORG_TYPE", "TYPE", "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"],
    ["EXTRACT_DATE", ("ORG_CODE", "CODE"), "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"],
    typed=f"""
      SELECT __src, upper(trim(coalesce(ORG_CODE, CODE))) AS practice_code, EXTRACT_DATE AS date_text,
             {_DATE} AS extract_date, upper(trim(coalesce(ORG_TYPE, TYPE, 'GP'))) AS org_type,
             upper(trim(SEX)) AS sex_text, upper(trim(AGE_GROUP_5)) AS age_text,
             CASE WHEN upper(trim(AGE_GROUP_5)) IN ('90_94', '95+', '95_PLUS', '90+') THEN '90+'
                  WHEN regexp_matches(trim(AGE_GROUP_5), '^[0-9]+_[0-9]+$') THEN replace(trim(AGE_GROUP_5), '_', '-')
             END AS age_band,
             NUMBER_OF_PATIENTS AS n_text, try_cast(trim(NUMBER_OF_PATIENTS) AS BIGINT) AS persons
      FROM {{source}}""",
    rejects=[("EXTRACT_DATE", "date_text", "extract date does not parse", "extract_date IS NULL"),
             ("SEX", "sex_text", "sex is not MALE, FEMALE or ALL", "sex_text IS NULL OR sex_text NOT IN ('MALE', 'FEMALE', 'ALL')"),
             ("AGE_GROUP_5", "age_text", "age group is not a five-year band, 95+ or ALL",
              ("age_text IS DISTINCT FROM 'ALL' AND (age_band IS NULL OR age_band NOT IN "
              "('0-4','5-9','10-14','15-19','20-24','25-29','30-34','35-39','40-44','45-49','50-54','55-59',"
              "'60-64','65-69','70-74','75-79','80-84','85-89','90+'))")),
             ("NUMBER_OF_PATIENTS", "n_text", "number of patients is not a whole number >= 0",
              "persons IS NULL OR persons < 0"),
             ("ORG_CODE", "practice_code", "not an ODS practice code",
              "org_type = 'GP' AND NOT regexp_matches(coalesce(practice_code, ''), '^[A-Z][0-9]{5}$')")],
    excluded=[("rows of organisations other than practices (ORG_TYPE not GP)", "org_type <> 'GP'"),
              ("total rows (SEX or AGE_GROUP_5 = ALL)", "sex_text = 'ALL' OR age_text = 'ALL'")],
    select="""
      SELECT practice_code, extract_date, CASE sex_text WHEN 'MALE' THEN 'M' ELSE 'F' END AS sex, age_band,
             CAST(sum(persons) AS BIGINT) AS persons
      FROM kept GROUP BY ALL ORDER BY practice_code, extract_date, sex, age_band""")


def import_gp_registrations(files, out, *, memory_limit: str = "2GB",
                            progress: Progress | None = None) -> ImportReport:
    """Write ``out/practice_population.parquet``; return the counts."""
    return run_import(SPEC, files, out, memory_limit=memory_limit, progress=progress)
