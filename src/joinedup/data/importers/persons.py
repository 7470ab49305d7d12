"""A person-level registration spine (GP registration / PDS extract) -> the canonical ``persons`` table.

What an ICS or trust analyst is given to link activity to people: one row per registered person with
the NHS number (or a token standing for it), sex, date or year of birth, registered practice, local
authority of residence, date of death and, where the extract has one, a long-term-condition count.
The identifier is pseudonymised with the SAME keyed hash as ``import hes-apc`` (HESID), so
``persons.person_id`` links to the imported admissions and A&E attendances when both extracts carry
the same identifier.

Field names (case-insensitive; the first found is used, file by file):

* person: ``NHS_NUMBER``, ``NHSNUMBER``, ``PSEUDO_NHS_NUMBER``, ``TOKEN_PERSON_ID``, ``HESID``, ``PERSON_ID``
* sex: ``SEX`` or ``GENDER``: NHS Data Dictionary person stated gender codes 1 male, 2 female (also M/F,
  MALE/FEMALE); 0 not known and 9 not specified are rejected, since ``persons.sex`` is M or F
* birth: ``DATE_OF_BIRTH``/``DOB`` (YYYY-MM-DD, DD/MM/YYYY, YYYYMMDD) or ``YEAR_OF_BIRTH``/``BIRTH_YEAR``
* practice: ``GPPRAC``, ``PRACTICE_CODE``, ``REGISTERED_PRACTICE`` (ODS code A12345)
* area: ``RESLADST_ONS``, ``LA_CODE``, ``LOCAL_AUTHORITY``, ``AREA_CODE`` (ONS code E########)
* death: ``DATE_OF_DEATH``, ``DOD``, ``REG_DATE_OF_DEATH`` (empty while alive)
* optional: ``LTC_COUNT`` (whole number 0-30); when the extract has none, 0 is written and counted as
  cleaned, and the risk score and eligibility rules then see no long-term conditions.
* optional: ``ETHNIC_CATEGORY`` (or ``ETHNOS``): the NHS Data Dictionary ethnic category code, mapped to
  the ONS 2021 high-level group; ``IMD_DECILE``: the national IMD decile of the person's LSOA (1 most
  deprived; the extract or an ONS LSOA lookup gives it). Absent, not stated or invalid: written empty
  (an invalid value is counted as cleaned), never a reason to drop the person.

Rows identical in every field are kept once (counted as de-duplicated); an identifier that appears on
two or more different rows is rejected on every row (which registration is right cannot be told), so
nobody is silently picked. The rejects file names file, row and field but never writes the identifier
itself (the row number finds it in the extract).

Example:
    >>> import_persons(["registrations.csv"], "data/mine", key=load_key("secret.key"))   # doctest: +SKIP
"""

from __future__ import annotations

from joinedup.data.importers.common import ImportReport, Progress
from joinedup.data.importers.tabular import RowImport, run_import

_ALIASES = {
    "NHS_NUMBER": ("NHSNUMBER", "PSEUDO_NHS_NUMBER", "TOKEN_PERSON_ID", "HESID", "PERSON_ID"),
    "SEX": ("GENDER",),
    "DATE_OF_BIRTH": ("DOB",),
    "YEAR_OF_BIRTH": ("BIRTH_YEAR",),
    "GPPRAC": ("PRACTICE_CODE", "REGISTERED_PRACTICE"),
    "RESLADST_ONS": ("LA_CODE", "LOCAL_AUTHORITY", "AREA_CODE"),
    "DATE_OF_DEATH": ("DOD", "REG_DATE_OF_DEATH"),
    "ETHNIC_CATEGORY": ("ETHNOS", "ETHNICITY"),
    "IMD_DECILE": ("LSOA_IMD_DECILE",),
}
_FIELDS = ["NHS_NUMBER", "SEX", "DATE_OF_BIRTH", "YEAR_OF_BIRTH", "GPPRAC", "RESLADST_ONS", "DATE_OF_DEATH",
           "LTC_COUNT", "ETHNIC_CATEGORY", "IMD_DECILE"]

# NHS Data Dictionary ETHNIC CATEGORY (2001 census codes) -> the ONS 2021 high-level groups of
# ``persons.ethnic_group``; Chinese (R) is in the Asian group in 2021. Z (not stated), 99 (not known)
# and anything else are written empty: an optional attribute never costs a person their row.
_ETHNIC = {"white": "ABC", "mixed": "DEFG", "asian": "HJKLR", "black": "MNP", "other": "S"}
_ETHNIC_CASE = "CASE " + " ".join(
    f"WHEN upper(trim(ETHNIC_CATEGORY)) IN ({', '.join(repr(c) for c in codes)}) THEN '{group}'"
    for group, codes in _ETHNIC.items()) + " END"


def _date(col: str) -> str:
    t = f"trim({col})"
    return (f"CAST(coalesce(try_strptime({t}, '%Y-%m-%d'), try_strptime({t}, '%d/%m/%Y'), "
            f"try_strptime({t}, '%Y%m%d')) AS DATE)")


_BLANK = "nullif(trim({}), '')"

SPEC = RowImport(
    "persons",
    _FIELDS,
    ["NHS_NUMBER", "SEX", ("DATE_OF_BIRTH", "YEAR_OF_BIRTH"), "GPPRAC", "RESLADST_ONS"],
    typed=f"""
      SELECT *, count(*) OVER (PARTITION BY person_raw) AS copies FROM (
      SELECT __src, {_BLANK.format('NHS_NUMBER')} AS person_raw,
             upper(trim(SEX)) AS sex_text,
             CASE WHEN upper(trim(SEX)) IN ('1', 'M', 'MALE') THEN 'M'
                  WHEN upper(trim(SEX)) IN ('2', 'F', 'FEMALE') THEN 'F' END AS sex,
             coalesce({_BLANK.format('DATE_OF_BIRTH')}, {_BLANK.format('YEAR_OF_BIRTH')}) AS birth_text,
             CASE WHEN {_BLANK.format('DATE_OF_BIRTH')} IS NOT NULL THEN year({_date('DATE_OF_BIRTH')})
                  ELSE try_cast(trim(YEAR_OF_BIRTH) AS INTEGER) END AS birth_year,
             upper(trim(GPPRAC)) AS practice_code, upper(trim(RESLADST_ONS)) AS area_code,
             {_BLANK.format('DATE_OF_DEATH')} AS death_text, {_date('DATE_OF_DEATH')} AS death_date,
             {_BLANK.format('LTC_COUNT')} AS ltc_text, try_cast(trim(LTC_COUNT) AS INTEGER) AS ltc_value,
             {_BLANK.format('ETHNIC_CATEGORY')} AS ethnic_text, {_ETHNIC_CASE} AS ethnic_group,
             {_BLANK.format('IMD_DECILE')} AS imd_text, try_cast(trim(IMD_DECILE) AS INTEGER) AS imd_value
      FROM {{source}})""",
    rejects=[("NHS_NUMBER", "NULL", "no person identifier", "person_raw IS NULL"),
             ("NHS_NUMBER", "NULL", "person appears on more than one row with different details",
              "person_raw IS NOT NULL AND copies > 1"),
             ("SEX", "sex_text", "sex is not 1/M (male) or 2/F (female)", "sex IS NULL"),
             ("DATE_OF_BIRTH/YEAR_OF_BIRTH", "birth_text", "date or year of birth does not parse (or is before 1890 or after 2100)",
              "birth_year IS NULL OR birth_year < 1890 OR birth_year > 2100"),
             ("GPPRAC", "practice_code", "not an ODS practice code",
              "NOT regexp_matches(coalesce(practice_code, ''), '^[A-Z][0-9]{5}$')"),
             ("RESLADST_ONS", "area_code", "not an English local authority ONS code (E########)",
              "NOT regexp_matches(coalesce(area_code, ''), '^E[0-9]{8}$')"),
             ("DATE_OF_DEATH", "death_text", "date of death does not parse or is before the birth year",
              "death_text IS NOT NULL AND (death_date IS NULL OR year(death_date) < birth_year)"),
             ("LTC_COUNT", "ltc_text", "long-term-condition count is not a whole number 0-30",
              "ltc_text IS NOT NULL AND (ltc_value IS NULL OR ltc_value < 0 OR ltc_value > 30)")],
    excluded=[],
    cleaned=[("no long-term-condition count in the extract (0 written)", "ltc_text IS NULL"),
             ("ethnic category not stated, not known or not a Data Dictionary code (written empty)",
              "ethnic_text IS NOT NULL AND ethnic_group IS NULL"),
             ("IMD decile not a whole number 1-10 (written empty)",
              "imd_text IS NOT NULL AND (imd_value IS NULL OR imd_value < 1 OR imd_value > 10)")],
    dedup_ignore=(),
    person=True,
    aliases=_ALIASES,
    select="""
      SELECT person_id, sex, CAST(birth_year AS INTEGER) AS birth_year, area_code, practice_code,
             CAST(coalesce(ltc_value, 0) AS INTEGER) AS ltc_count, death_date,
             CAST(CASE WHEN imd_value BETWEEN 1 AND 10 THEN imd_value END AS INTEGER) AS lsoa_imd_decile,
             ethnic_group
      FROM kept ORDER BY person_id""")


def import_persons(files, out, key: bytes, *, memory_limit: str = "2GB",
                   progress: Progress | None = None) -> ImportReport:
    """Write ``out/persons.parquet`` (and ``out/rejects/persons.csv`` if any); return the counts."""
    return run_import(SPEC, files, out, key, memory_limit=memory_limit, progress=progress)
