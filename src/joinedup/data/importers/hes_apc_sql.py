"""The SQL of the HES APC import, stage by stage (DuckDB). Each rule names the convention it follows.

Conventions: NHS Digital, *Hospital Episode Statistics Admitted Patient Care data dictionary* and
*HES analysis guide* (spells, null dates, CIPS); NHS Outcomes Framework 2.3.i / NHS Digital IAP00068
(emergency admissions as CIPS starts); the Health Foundation's open HES pipeline
(github.com/HFAnalyticsLab/HES_pipeline: duplicates, ADMIDATE filling, STARTAGE 7001-7007).
"""

from __future__ import annotations

from joinedup.data import codes
from joinedup.data.importers.common import in_list

DIAG = [f"DIAG_4_{i:02d}" for i in range(1, 21)]
OPERTN = ["OPERTN_4_01"]
FIELDS = ["HESID", "TOKEN_PERSON_ID", "EPIKEY", "PROCODE3", "ADMIDATE", "EPIORDER", "EPISTART", "EPIEND",
          "EPISTAT", "DISDATE", "SPELEND", "ADMIMETH", "ADMISORC", "DISDEST", "DISMETH", "CLASSPAT",
          "STARTAGE", "SEX", *DIAG, *OPERTN, "RESLADST_ONS", "GPPRAC"]
REQUIRED = [("HESID", "TOKEN_PERSON_ID"), "PROCODE3", "ADMIDATE", "EPIORDER", "EPISTART", "EPIEND",
            "EPISTAT", "DISDATE", "SPELEND", "ADMIMETH", "ADMISORC", "DISDEST", "CLASSPAT", "STARTAGE",
            "SEX", "DIAG_4_01", "RESLADST_ONS"]
# HES null dates (data dictionary): 1800-01-01 not applicable/null, 1801-01-01 invalid; older years
# also carry 1600-01-01 and 1582-10-15.
NULL_DATES = ("1800-01-01", "1801-01-01", "1600-01-01", "1582-10-15", "18000101", "18010101")
NO_PRACTICE = ("V81997", "V81998", "V81999")  # HES GPPRAC: no registered practice / not known
REGULAR_ATTENDERS = ("3", "4")                 # CLASSPAT 3 regular day, 4 regular night attender
ICD10 = r"^[A-Z][0-9]{2}[0-9X]?$"
OPCS4 = r"^[A-Z][0-9]{2}[0-9]?$"
ENGLAND = r"^E[0-9]{8}$"

MACROS = f"""
CREATE OR REPLACE MACRO hes_missing(s) AS s IS NULL OR trim(s) = '' OR trim(s) IN ({in_list(NULL_DATES)});
CREATE OR REPLACE MACRO hes_date(s) AS CASE WHEN hes_missing(s) THEN NULL ELSE CAST(coalesce(
    try_strptime(trim(s), '%Y-%m-%d'), try_strptime(trim(s), '%d/%m/%Y'), try_strptime(trim(s), '%Y%m%d'),
    try_strptime(trim(s), '%Y-%m-%d %H:%M:%S')) AS DATE) END;
CREATE OR REPLACE MACRO hes_bad_date(s) AS NOT hes_missing(s) AND hes_date(s) IS NULL;
CREATE OR REPLACE MACRO hes_code(s) AS nullif(upper(regexp_replace(coalesce(s, ''), '[^A-Za-z0-9]', '', 'g')), '');
CREATE OR REPLACE MACRO icd10(s) AS CASE WHEN regexp_matches(left(hes_code(s), 4), '{ICD10}')
    THEN left(hes_code(s), 4) END;
"""


def dedup_sql() -> str:
    """Episodes identical in every field but EPIKEY (and the file they came from) are one episode,
    across all years together (the Health Foundation pipeline's duplicate rule); the first copy's
    source is kept."""
    content = ", ".join(c for c in FIELDS if c != "EPIKEY")
    return f"SELECT {content}, min(EPIKEY) AS EPIKEY, min(__src) AS __src FROM raw GROUP BY ALL"


def typed_sql() -> str:
    """Typed episodes; the person is HESID or, in newer extracts, TOKEN_PERSON_ID."""
    return f"""
    SELECT __src, EPIKEY,
        nullif(trim(coalesce(HESID, TOKEN_PERSON_ID)), '') AS person_raw,
        nullif(upper(trim(PROCODE3)), '') AS procode,
        hes_date(ADMIDATE) AS admidate, hes_date(EPISTART) AS epistart, hes_date(EPIEND) AS epiend,
        hes_date(DISDATE) AS disdate, hes_bad_date(EPISTART) AS bad_epistart, EPISTART AS epistart_text,
        ADMIDATE AS admidate_text,
        coalesce(try_cast(trim(EPIORDER) AS INTEGER), 99) AS epiorder, trim(EPISTAT) AS epistat,
        upper(trim(coalesce(SPELEND, ''))) = 'Y' AS spelend,
        upper(trim(ADMIMETH)) AS admimeth, trim(ADMISORC) AS admisorc, trim(DISDEST) AS disdest,
        DISDATE AS disdate_text, trim(CLASSPAT) AS classpat, STARTAGE AS startage_text,
        try_cast(trim(STARTAGE) AS INTEGER) AS startage, trim(SEX) AS sex_code,
        DIAG_4_01 AS diag_text, icd10(DIAG_4_01) AS diag1,
        concat_ws(';', {", ".join(f"icd10({d})" for d in DIAG[1:])}) AS diag_rest,
        ({" + ".join(f"CASE WHEN hes_code({d}) IS NOT NULL AND icd10({d}) IS NULL THEN 1 ELSE 0 END" for d in DIAG[1:])})
            AS bad_secondary,
        hes_code(OPERTN_4_01) AS opertn,
        upper(trim(RESLADST_ONS)) AS area_code, upper(trim(GPPRAC)) AS gpprac
    FROM dedup"""


def superseded_sql() -> str:
    """An unfinished episode (EPISTAT 1) that a later extract holds finished (EPISTAT 3; same person,
    provider, start and order) is the same episode seen before it ended: the finished copy is kept."""
    return """
    SELECT u.__src FROM ep_all u JOIN ep_all f ON u.person_raw = f.person_raw AND u.procode = f.procode
      AND u.epistart = f.epistart AND u.epiorder = f.epiorder AND f.epistat = '3'
    WHERE u.epistat = '1'"""


def episode_rejects_sql() -> str:
    """Episodes that cannot be placed in a spell (HES analysis guide: person, provider and a date)."""
    return """
    SELECT __src, 'HESID/TOKEN_PERSON_ID' AS field, NULL AS value, 'no person identifier' AS reason
      FROM ep WHERE person_raw IS NULL
    UNION ALL SELECT __src, 'PROCODE3', NULL, 'no provider code' FROM ep
      WHERE person_raw IS NOT NULL AND procode IS NULL
    UNION ALL SELECT __src, 'EPISTART', coalesce(epistart_text, admidate_text),
        'no admission date and no episode start that parses' FROM ep
      WHERE person_raw IS NOT NULL AND procode IS NOT NULL AND epistart IS NULL AND admidate IS NULL"""


def spell_keys_sql() -> str:
    """Provider spells: a person's episodes at one provider, in order; a new spell starts at
    EPIORDER 1, after an episode that ended a spell (SPELEND = 'Y'), or when ADMIDATE changes. A
    missing ADMIDATE is then filled from the spell's recorded ADMIDATE or its first EPISTART (Health
    Foundation pipeline)."""
    order = "coalesce(admidate, epistart), coalesce(epistart, admidate), epiorder, __src"
    return f"""
    WITH o AS (
      SELECT *, lag(spelend) OVER w AS prev_end, lag(admidate) OVER w AS prev_adm,
             row_number() OVER w AS pos
      FROM ep_ok WINDOW w AS (PARTITION BY person_raw, procode ORDER BY {order})
    ), s AS (
      SELECT *, sum(CASE WHEN pos = 1 OR epiorder = 1 OR prev_end
                          OR (admidate IS NOT NULL AND prev_adm IS NOT NULL AND admidate <> prev_adm)
                     THEN 1 ELSE 0 END) OVER (PARTITION BY person_raw, procode ORDER BY {order}
                                              ROWS UNBOUNDED PRECEDING) AS spell_seq
      FROM o
    )
    SELECT *, coalesce(admidate, max(admidate) OVER sp, min(epistart) OVER sp) AS admission_date,
           admidate IS NULL AS admidate_filled,
           row_number() OVER (sp ORDER BY {order}) AS ep_rank
    FROM s WINDOW sp AS (PARTITION BY person_raw, procode, spell_seq)"""


def spells_sql() -> str:
    """One row per provider spell: admission facts from its first episode, discharge facts from the
    episode with SPELEND = 'Y' (DISDATE, else that episode's EPIEND); no such episode: an open spell."""
    first = lambda c: f"max(CASE WHEN ep_rank = 1 THEN {c} END)"
    last = lambda c: f"max(CASE WHEN spelend THEN {c} END)"
    return f"""
    SELECT person_raw, procode, spell_seq, min(admission_date) AS admission_date,
      {first('__src')} AS __src, {first('admimeth')} AS admimeth, {first('admisorc')} AS admisorc,
      {first('classpat')} AS classpat, {first('startage')} AS startage, {first('startage_text')} AS startage_text,
      {first('sex_code')} AS sex_code, {first('diag1')} AS diag1, {first('diag_text')} AS diag_text,
      {first('diag_rest')} AS diag_rest, {first('opertn')} AS opertn, {first('area_code')} AS area_code,
      {first('gpprac')} AS gpprac,
      bool_or(spelend) AS ended, {last('coalesce(disdate, epiend)')} AS discharge_date,
      {last('disdest')} AS disdest, {last('disdate_text')} AS disdate_text
    FROM ep_spell GROUP BY person_raw, procode, spell_seq"""


_ADMIMETH = in_list(codes.ADMIMETH_CODES)
_DISDEST = in_list(codes.DISDEST_CODES)


def spell_rejects_sql() -> str:
    """Spells whose first episode has an unknown code in a required field, or that end without a
    discharge date: they go to the rejects file, never silently."""
    return f"""
    SELECT __src, 'ADMIMETH' AS field, admimeth AS value, 'unknown admission method code' AS reason
      FROM spells WHERE admimeth IS NULL OR admimeth NOT IN ({_ADMIMETH})
    UNION ALL SELECT __src, 'STARTAGE', startage_text, 'age is not 0-120 or 7001-7007' FROM spells
      WHERE startage IS NULL OR NOT (startage BETWEEN 0 AND 120 OR startage BETWEEN 7001 AND 7007)
    UNION ALL SELECT __src, 'DIAG_4_01', diag_text, 'primary diagnosis is not an ICD-10 code' FROM spells
      WHERE diag1 IS NULL
    UNION ALL SELECT __src, 'DISDEST', disdest, 'unknown discharge destination code' FROM spells
      WHERE ended AND (disdest IS NULL OR disdest NOT IN ({_DISDEST}))
    UNION ALL SELECT __src, 'DISDATE', disdate_text, 'spell ends (SPELEND = Y) but no discharge date parses'
      FROM spells WHERE ended AND discharge_date IS NULL
    UNION ALL SELECT __src, 'DISDATE', disdate_text, 'discharge before admission' FROM spells
      WHERE discharge_date < admission_date"""


def cips_sql() -> str:
    """Continuous inpatient spells, by NHS Digital's "Methodology to create provider and CIP spells
    from HES APC data" (the rule UKHSA's epidm::cip_spells implements, citing it): a person's next
    spell joins the previous one when it starts 0, 1 or 2 days after the previous discharge and a
    transfer took place: the previous spell was discharged to another hospital (DISDEST 49-53, 84), or
    the next was admitted from one (ADMISORC 49-53, 87) or as a transfer (ADMIMETH 2B, 81); except a
    discharge home (DISDEST 19) followed by an emergency admission through A&E (ADMIMETH 21) from
    another provider's A&E (ADMISORC 51), which is a new admission. Regular attenders (CLASSPAT 3, 4)
    are excluded before this step. A spell is ``transfer_in`` if it joined a CIPS or its own record
    says it is a transfer (ADMIMETH 2B, 81, or ADMISORC 49-53, 87 unless admitted through this
    provider's A&E, ADMIMETH 21: ADMISORC 51 also means another provider's emergency department)."""
    tr = in_list(codes.TRANSFER_SOURCES)
    td = in_list(codes.TRANSFER_DESTINATIONS)
    tm = in_list(codes.TRANSFER_ADMIMETH)
    order = "admission_date, discharge_date NULLS LAST, procode, spell_seq"
    return f"""
    WITH o AS (
      SELECT *, lag(discharge_date) OVER w AS prev_disc, lag(disdest) OVER w AS prev_dest
      FROM kept WINDOW w AS (PARTITION BY person_id ORDER BY {order})
    ), l AS (
      SELECT *, coalesce(prev_disc IS NOT NULL AND admission_date - prev_disc BETWEEN 0 AND 2
                AND (prev_dest IN ({td}) OR admisorc IN ({tr}) OR admimeth IN ({tm}))
                AND NOT (prev_dest = '19' AND admisorc = '51' AND admimeth = '21'), false) AS linked
      FROM o
    ), c AS (
      SELECT *, row_number() OVER (ORDER BY person_id, {order}) - 1 AS spell_id,
             sum(CASE WHEN linked THEN 0 ELSE 1 END) OVER (PARTITION BY person_id ORDER BY {order}
                 ROWS UNBOUNDED PRECEDING) AS cips_seq
      FROM l
    )
    SELECT *, min(spell_id) OVER (PARTITION BY person_id, cips_seq) AS cips_id,
           linked OR admimeth IN ({tm})
             OR coalesce(admisorc IN ({tr}) AND admimeth <> '21', false) AS transfer_in
    FROM c"""


def _case(column: str, groups: dict[str, tuple[str, ...]]) -> str:
    whens = " ".join(f"WHEN {column} IN ({in_list(cs)}) THEN '{g}'" for g, cs in groups.items())
    return f"CASE {whens} END"


def admissions_sql() -> str:
    """The canonical ``admissions`` columns, in schema order."""
    return f"""
    SELECT CAST(spell_id AS BIGINT) AS spell_id, person_id, area_code,
      CASE WHEN gpprac IN ({in_list(NO_PRACTICE)}) OR NOT regexp_matches(coalesce(gpprac, ''), '^[A-Z][0-9]{{5}}$')
           THEN NULL ELSE gpprac END AS practice_code,
      admission_date, discharge_date,
      {_case('admimeth', codes.ADMIMETH_BY_METHOD)} AS admission_method, admimeth,
      diag1 AS primary_diagnosis, nullif(diag_rest, '') AS secondary_diagnoses,
      CASE WHEN regexp_matches(left(coalesce(opertn, ''), 4), '{OPCS4}') THEN left(opertn, 4) END AS procedure,
      {_case('disdest', codes.DISDEST_BY_DESTINATION)} AS discharge_destination, disdest,
      CAST(CASE WHEN startage BETWEEN 7001 AND 7007 THEN 0 ELSE startage END AS INTEGER) AS age,
      CASE sex_code WHEN '1' THEN 'M' WHEN '2' THEN 'F' END AS sex,
      CAST(NULL AS DOUBLE) AS cost, CAST(cips_id AS BIGINT) AS cips_id, transfer_in
    FROM cips ORDER BY spell_id"""
