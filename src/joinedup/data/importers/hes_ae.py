"""HES Accident and Emergency attendances -> canonical ``ae_attendances``.

Reads HES A&E (to March 2019) with its standard field names: ``HESID`` or ``TOKEN_PERSON_ID``,
``AEKEY``, ``ARRIVALDATE``, ``AEDEPTTYPE``, ``AEATTENDDISP``, ``ARRIVALAGE``, ``SEX``,
``RESLADST_ONS``. ECDS extracts (from April 2019) carry other names and SNOMED discharge codes: export
them with these HES A&E names (mapping ECDS discharge status to the AEATTENDDISP groups below) first.
Rows identical in every field, AEKEY included (one attendance delivered twice, e.g. in two years' files),
are one attendance. Unlike HES APC episodes, rows differing only in AEKEY are kept: without the arrival
time, two attendances of one person on one day with the same outcome look the same. AEATTENDDISP (HES data dictionary):
01 admitted; 02, 03 discharged; 04, 05, 06, 11 referred; 07 transferred; 10 died; 12, 13 left before
or refusing treatment; 14 (other) and 99 (not known) have no canonical disposal and are rejected, so
they are listed, never silently dropped. AEDEPTTYPE 01 major, 02 single specialty, 03 and 04 other/UTC.

Example:
    >>> import_hes_ae(["hes_ae_1718.txt"], "data/mine", key=b"...")    # doctest: +SKIP
"""

from __future__ import annotations

from joinedup.data.importers.common import ImportReport, Progress
from joinedup.data.importers.hes_apc_sql import ENGLAND
from joinedup.data.importers.tabular import RowImport, run_import

DISPOSAL = {"01": "admitted", "02": "discharged", "03": "discharged", "04": "referred", "05": "referred",
            "06": "referred", "11": "referred", "07": "transferred", "10": "died", "12": "left", "13": "left"}
_DISP = " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in DISPOSAL.items())

SPEC = RowImport(
    "ae_attendances",
    ["HESID", "TOKEN_PERSON_ID", "AEKEY", "ARRIVALDATE", "AEDEPTTYPE", "AEATTENDDISP", "ARRIVALAGE", "SEX",
     "RESLADST_ONS"],
    [("HESID", "TOKEN_PERSON_ID"), "ARRIVALDATE", "AEDEPTTYPE", "AEATTENDDISP", "ARRIVALAGE", "SEX",
     "RESLADST_ONS"],
    dedup_ignore=(),
    person=True,
    typed="""
      SELECT __src, nullif(trim(coalesce(HESID, TOKEN_PERSON_ID)), '') AS person_raw,
             ARRIVALDATE AS date_text, hes_date(ARRIVALDATE) AS arrival_date,
             lpad(trim(AEDEPTTYPE), 2, '0') AS dept, lpad(trim(AEATTENDDISP), 2, '0') AS disp,
             ARRIVALAGE AS age_text, try_cast(trim(ARRIVALAGE) AS INTEGER) AS age_raw, trim(SEX) AS sex_code,
             upper(trim(RESLADST_ONS)) AS area_code
      FROM {source}""",
    rejects=[("HESID/TOKEN_PERSON_ID", "NULL", "no person identifier", "person_raw IS NULL"),
             ("ARRIVALDATE", "date_text", "arrival date does not parse", "arrival_date IS NULL"),
             ("AEDEPTTYPE", "dept", "department type is not 01-04", "dept IS NULL OR dept NOT IN ('01', '02', '03', '04')"),
             ("AEATTENDDISP", "disp", "disposal is not known or has no canonical group (14 other, 99 not known)",
              f"disp IS NULL OR disp NOT IN ({', '.join(repr(c) for c in DISPOSAL)})"),
             ("ARRIVALAGE", "age_text", "age is not 0-120 or 7001-7007",
              "age_raw IS NULL OR NOT (age_raw BETWEEN 0 AND 120 OR age_raw BETWEEN 7001 AND 7007)")],
    excluded=[("attendances of people living outside England or nowhere known (RESLADST_ONS)",
               f"NOT regexp_matches(coalesce(area_code, ''), '{ENGLAND}')")],
    cleaned=[("sex not known (kept)", "sex_code IS NULL OR sex_code NOT IN ('1', '2')")],
    select=f"""
      SELECT CAST(row_number() OVER (ORDER BY person_id, arrival_date, __src) - 1 AS BIGINT) AS attendance_id,
             person_id, area_code, arrival_date,
             CAST(CASE WHEN dept = '04' THEN 3 ELSE CAST(dept AS INTEGER) END AS INTEGER) AS department_type,
             CASE disp {_DISP} END AS disposal,
             CAST(CASE WHEN age_raw BETWEEN 7001 AND 7007 THEN 0 ELSE age_raw END AS INTEGER) AS age,
             CASE sex_code WHEN '1' THEN 'M' WHEN '2' THEN 'F' END AS sex
      FROM kept ORDER BY attendance_id""")


def import_hes_ae(files, out, key: bytes, *, memory_limit: str = "2GB",
                  progress: Progress | None = None) -> ImportReport:
    """Write ``out/ae_attendances.parquet``; return the counts."""
    return run_import(SPEC, files, out, key, memory_limit=memory_limit, progress=progress)
