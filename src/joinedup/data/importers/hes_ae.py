"""HES Accident and Emergency attendances and ECDS (Emergency Care Data Set) -> ``ae_attendances``.

Reads HES A&E (to March 2019) with its standard field names: ``HESID`` or ``TOKEN_PERSON_ID``,
``AEKEY``, ``ARRIVALDATE``, ``AEDEPTTYPE``, ``AEATTENDDISP``, ``ARRIVALAGE``, ``SEX``,
``RESLADST_ONS``; and ECDS (from April 2019) under its own names as NHS England's SUS+ ECDS tables
carry them (``tbl_Data_SUS_EC`` / ``EC_Core``): ``Der_Pseudo_NHS_Number``, ``EC_Ident``,
``Arrival_Date`` (or ``Der_EC_Arrival_Date_Time``), ``EC_Department_Type``, ``Age_At_Arrival`` (or
``Der_Age_At_CDS_Activity_Date``), ``Sex``, ``Der_Postcode_Dist_Unitary_Auth`` (local authority district
of residence, as RESLADST_ONS) and ``Discharge_Destination_SNOMED_CT`` (:data:`ECDS_ALIASES`). Each
file may use either layout, so HES A&E years and ECDS years import together. Names are matched
case-insensitively.

Rows identical in every field, AEKEY included (one attendance delivered twice, e.g. in two years' files),
are one attendance. Unlike HES APC episodes, rows differing only in AEKEY are kept: without the arrival
time, two attendances of one person on one day with the same outcome look the same. AEATTENDDISP (HES data dictionary):
01 admitted; 02, 03 discharged; 04, 05, 06, 11 referred; 07 transferred; 10 died; 12, 13 left before
or refusing treatment; 14 (other) and 99 (not known) have no canonical disposal and are rejected, so
they are listed, never silently dropped. AEDEPTTYPE / EC_Department_Type 01 major, 02 single specialty,
03 and 04 other/UTC. ECDS discharge destinations (SNOMED CT) are grouped as UKHSA's epidm package
groups them (``group_ecds_discharge_destination``, :data:`ECDS_DESTINATION`); a blank or other code is
rejected, listed with its value.

Example:
    >>> import_hes_ae(["hes_ae_1718.txt", "ecds_1920.csv"], "data/mine", key=b"...")    # doctest: +SKIP
"""

from __future__ import annotations

from joinedup.data.importers.common import ImportReport, Progress
from joinedup.data.importers.hes_apc_sql import ENGLAND
from joinedup.data.importers.tabular import RowImport, run_import

DISPOSAL = {"01": "admitted", "02": "discharged", "03": "discharged", "04": "referred", "05": "referred",
            "06": "referred", "11": "referred", "07": "transferred", "10": "died", "12": "left", "13": "left"}
_DISP = " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in DISPOSAL.items())
# ECDS Discharge_Destination_SNOMED_CT in UKHSA epidm's groups (data-raw/inpatient_lookups.R):
# discharged (home, residential home, nursing home, police custody, 50861005), ambulatory/short stay,
# admitted (ward, HDU, ICU, ...), transfer, died (mortuary). Ambulatory/short-stay care is not an
# inpatient admission: it becomes "referred" (referred on within the hospital), our reading.
ECDS_DESTINATION = {
    **dict.fromkeys(("306689006", "306691003", "306694006", "306705005", "50861005"), "discharged"),
    **dict.fromkeys(("1066331000000109", "1066341000000100", "1066351000000102"), "referred"),
    **dict.fromkeys(("306706006", "1066361000000104", "1066371000000106", "1066381000000108",
                     "1066391000000105", "1066401000000108"), "admitted"),
    "19712007": "transferred",
    "305398007": "died",
}
_ECDS = " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in ECDS_DESTINATION.items())
# ECDS (SUS+ ECDS) names of the HES A&E fields: either may be in a file.
ECDS_ALIASES = {
    "TOKEN_PERSON_ID": ("DER_PSEUDO_NHS_NUMBER", "TOKEN_PERSON_ID"),
    "AEKEY": ("EC_IDENT",),
    "ARRIVALDATE": ("ARRIVAL_DATE", "DER_EC_ARRIVAL_DATE_TIME"),
    "AEDEPTTYPE": ("EC_DEPARTMENT_TYPE",),
    "ARRIVALAGE": ("AGE_AT_ARRIVAL", "DER_AGE_AT_CDS_ACTIVITY_DATE"),
    "RESLADST_ONS": ("DER_POSTCODE_DIST_UNITARY_AUTH",),
}

SPEC = RowImport(
    "ae_attendances",
    ["HESID", "TOKEN_PERSON_ID", "AEKEY", "ARRIVALDATE", "AEDEPTTYPE", "AEATTENDDISP",
     "DISCHARGE_DESTINATION_SNOMED_CT", "ARRIVALAGE", "SEX", "RESLADST_ONS"],
    [("HESID", "TOKEN_PERSON_ID"), "ARRIVALDATE", "AEDEPTTYPE", ("AEATTENDDISP", "DISCHARGE_DESTINATION_SNOMED_CT"),
     "ARRIVALAGE", "SEX", "RESLADST_ONS"],
    dedup_ignore=(),
    person=True,
    typed="""
      SELECT __src, nullif(trim(coalesce(HESID, TOKEN_PERSON_ID)), '') AS person_raw,
             ARRIVALDATE AS date_text, hes_date(left(trim(ARRIVALDATE), 19)) AS arrival_date,
             lpad(trim(AEDEPTTYPE), 2, '0') AS dept,
             CASE WHEN AEATTENDDISP IS NOT NULL THEN lpad(trim(AEATTENDDISP), 2, '0') END AS disp,
             nullif(trim(DISCHARGE_DESTINATION_SNOMED_CT), '') AS ecds_dest,
             AEATTENDDISP IS NULL AND nullif(trim(DISCHARGE_DESTINATION_SNOMED_CT), '') IS NOT NULL AS is_ecds,
             ARRIVALAGE AS age_text, try_cast(trim(ARRIVALAGE) AS INTEGER) AS age_raw, trim(SEX) AS sex_code,
             upper(trim(RESLADST_ONS)) AS area_code
      FROM {source}""",
    rejects=[("HESID/TOKEN_PERSON_ID", "NULL", "no person identifier", "person_raw IS NULL"),
             ("ARRIVALDATE", "date_text", "arrival date does not parse", "arrival_date IS NULL"),
             ("AEDEPTTYPE", "dept", "department type is not 01-04", "dept IS NULL OR dept NOT IN ('01', '02', '03', '04')"),
             ("AEATTENDDISP", "disp", ("disposal (or ECDS discharge destination) is blank, or has no canonical "
                                       "group (14 other, 99 not known)"),
              f"NOT is_ecds AND (disp IS NULL OR disp NOT IN ({', '.join(repr(c) for c in DISPOSAL)}))"),
             ("DISCHARGE_DESTINATION_SNOMED_CT", "ecds_dest",
              "ECDS discharge destination is not a SNOMED CT code of the groups used",
              f"is_ecds AND ecds_dest NOT IN ({', '.join(repr(c) for c in ECDS_DESTINATION)})"),
             ("ARRIVALAGE", "age_text", "age is not 0-120 or 7001-7007",
              "age_raw IS NULL OR NOT (age_raw BETWEEN 0 AND 120 OR age_raw BETWEEN 7001 AND 7007)")],
    excluded=[("attendances of people living outside England or nowhere known (RESLADST_ONS)",
               f"NOT regexp_matches(coalesce(area_code, ''), '{ENGLAND}')")],
    cleaned=[("sex not known (kept)", "sex_code IS NULL OR sex_code NOT IN ('1', '2')")],
    select=f"""
      SELECT CAST(row_number() OVER (ORDER BY person_id, arrival_date, __src) - 1 AS BIGINT) AS attendance_id,
             person_id, area_code, arrival_date,
             CAST(CASE WHEN dept = '04' THEN 3 ELSE CAST(dept AS INTEGER) END AS INTEGER) AS department_type,
             CASE WHEN is_ecds THEN CASE ecds_dest {_ECDS} END ELSE CASE disp {_DISP} END END AS disposal,
             CAST(CASE WHEN age_raw BETWEEN 7001 AND 7007 THEN 0 ELSE age_raw END AS INTEGER) AS age,
             CASE sex_code WHEN '1' THEN 'M' WHEN '2' THEN 'F' END AS sex
      FROM kept ORDER BY attendance_id""",
    aliases=ECDS_ALIASES)


def import_hes_ae(files, out, key: bytes, *, memory_limit: str = "2GB",
                  progress: Progress | None = None) -> ImportReport:
    """Write ``out/ae_attendances.parquet``; return the counts."""
    return run_import(SPEC, files, out, key, memory_limit=memory_limit, progress=progress)
