"""Hand-written DuckDB SQL for the indicator catalogue's engine stage: the benchmark's SQL baseline.

One query per indicator, straight over the Parquet files, giving exactly what
``joinedup.indicators.compute.monthly_counts(ds, indicator).events`` gives (same keys, same
columns), plus the population denominators that ``monthly_counts(...).population`` gives. It
shares no code with the Ibis definitions; only the code lists (data, declared once in
``joinedup.indicators.codelists``) are pasted into the SQL text so that the two cannot drift apart.

Written the way an analyst who knows DuckDB would write it: filters first, ``count(*)`` and
``count(*) FILTER``, ``EXISTS`` or a join for the "did something follow" questions, and each distinct population
aggregation once (several indicators share a denominator).

    import duckdb
    con = duckdb.connect()
    events, population = run_all(con, "out/demo/data")
    events["readmissions_30d"].head()
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.indicators import codelists as cl

# --- code lists, rendered as SQL literals --------------------------------------------------------


def _in(codes) -> str:
    return "(" + ", ".join(f"'{c}'" for c in codes) + ")"


_ACSC = [c for codes in cl.ACSC_CHRONIC.values() for c in codes]
_SURGICAL = [c for k in cl.ACSC_EXCLUDED_CONDITIONS for c in cl.ACSC_CHRONIC[k]]
_SQL_CODES = {
    "acsc3": _in(c for c in _ACSC if len(c) == 3),
    "acsc4": _in(c for c in _ACSC if len(c) == 4),
    "bronchitis3": _in(cl.ACSC_BRONCHITIS),
    "copd_secondary": "(^|;)(" + "|".join(cl.ACSC_BRONCHITIS_SECONDARY) + ")",
    "surgical3": _in(c for c in _SURGICAL if len(c) == 3),
    "surgical4": _in(c for c in _SURGICAL if len(c) == 4),
    "procedures3": _in(cl.ACSC_EXCLUDED_PROCEDURES),
    "injury": cl.INJURY_PRIMARY_PATTERN,
    "fall": cl.FALL_EXTERNAL_PATTERN,
}
assert all(len(c) == 3 for c in cl.ACSC_BRONCHITIS + cl.ACSC_EXCLUDED_PROCEDURES)

# --- the queries ---------------------------------------------------------------------------------
# {admissions}, {ae}, {persons}, {social_care}, {delayed} and {population} are read_parquet(...) calls.

MONTH = "CAST(date_trunc('month', {col}) AS DATE)"
BAND = "CAST(least(age // 5 * 5, 90) AS INTEGER)"


def _dsr(where: str) -> str:
    """Emergency admissions by area, month of admission, sex and 5-year band (for the DSR): starts of
    continuous inpatient spells, so not a spell that began as a transfer from another hospital
    (joinedup's rule, HES guidance; simulated data codes transfers as admission method "other",
    so the filter removes nothing there, but it is work joinedup does and so must the hand SQL)."""
    return f"""
SELECT area_code, {MONTH.format(col='admission_date')} AS month, sex, {BAND} AS band_start,
       CAST(count(*) AS DOUBLE) AS numerator
FROM {{admissions}}
WHERE admission_method = 'emergency' AND NOT transfer_in {where}
GROUP BY ALL"""


def _delayed(org: str | None) -> str:
    where = f"WHERE responsible_org = '{org}'" if org else ""
    return f"""
SELECT area_code, {MONTH.format(col='month')} AS month, CAST(sum(delayed_days) AS DOUBLE) AS numerator
FROM {{delayed}}
{where}
GROUP BY ALL"""


_ALIVE = "discharge_destination <> 'died' AND admission_method <> 'maternity'"

EVENTS: dict[str, str] = {
    "emergency_admissions": _dsr(""),
    "emergency_admissions_65plus": _dsr("AND age >= 65"),
    "acsc_chronic": _dsr("""
  AND (left(primary_diagnosis, 3) IN {acsc3} OR primary_diagnosis IN {acsc4}
       OR (left(primary_diagnosis, 3) IN {bronchitis3}
           AND regexp_matches(coalesce(secondary_diagnoses, ''), '{copd_secondary}')))
  AND NOT ((left(primary_diagnosis, 3) IN {surgical3} OR primary_diagnosis IN {surgical4})
           AND left(coalesce("procedure", ''), 3) IN {procedures3})""".format(**_SQL_CODES)),
    "falls_65plus": _dsr("""
  AND age >= 65
  AND regexp_matches(primary_diagnosis, '{injury}')
  AND regexp_matches(coalesce(secondary_diagnoses, ''), '{fall}')""".format(**_SQL_CODES)),
    "emergency_bed_days": f"""
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       CAST(sum(discharge_date - admission_date) AS DOUBLE) AS numerator
FROM {{admissions}}
WHERE admission_method = 'emergency'
GROUP BY ALL""",
    "los_p90_emergency_65plus": f"""
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       CAST(discharge_date - admission_date AS DOUBLE) AS amount, count(*) AS n
FROM {{admissions}}
WHERE admission_method = 'emergency' AND age >= 65
GROUP BY ALL""",
    "ae_attendances": f"""
SELECT area_code, {MONTH.format(col='arrival_date')} AS month, CAST(count(*) AS DOUBLE) AS numerator
FROM {{ae}}
GROUP BY ALL""",
    # The index spells readmitted within 0-29 days, found once by a join on the person (measured
    # faster here than EXISTS, an ASOF join, or GROUP BY + LEFT JOIN), then counted by month.
    # Transfers follow the HES continuous inpatient spell (CIPS), as the catalogue does: a spell followed
    # in its CIPS by a transfer in is not a discharge, and a spell that began as a transfer (or is in the
    # index spell's own CIPS) is never a readmission.
    "readmissions_30d": f"""
WITH moved_on AS (
  SELECT DISTINCT a.spell_id
  FROM {{admissions}} a
  JOIN {{admissions}} n ON n.transfer_in AND n.cips_id = a.cips_id AND n.spell_id <> a.spell_id
   AND n.admission_date >= a.discharge_date
   AND (n.admission_date > a.admission_date OR (n.admission_date = a.admission_date AND n.spell_id > a.spell_id))
), idx AS (
  SELECT spell_id, person_id, cips_id, area_code, discharge_date
  FROM {{admissions}}
  WHERE discharge_date IS NOT NULL AND discharge_destination <> 'died'
    AND admission_method IN ('emergency', 'elective') AND spell_id NOT IN (SELECT spell_id FROM moved_on)
), em AS (
  SELECT person_id, spell_id, cips_id, admission_date
  FROM {{admissions}}
  WHERE admission_method = 'emergency' AND NOT transfer_in
), readmitted AS (
  SELECT DISTINCT i.spell_id
  FROM idx i
  JOIN em e ON e.person_id = i.person_id AND e.spell_id <> i.spell_id AND e.cips_id <> i.cips_id
           AND e.admission_date >= i.discharge_date AND e.admission_date < i.discharge_date + 30
)
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       count(*) FILTER (WHERE spell_id IN (SELECT spell_id FROM readmitted)) AS numerator,
       count(*) AS denominator
FROM idx
GROUP BY ALL""",
    "discharges_usual_residence": f"""
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       count(*) FILTER (WHERE discharge_destination = 'usual_residence') AS numerator, count(*) AS denominator
FROM {{admissions}}
WHERE {_ALIVE}
GROUP BY ALL""",
    "weekend_discharges": f"""
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       count(*) FILTER (WHERE isodow(discharge_date) >= 6) AS numerator, count(*) AS denominator
FROM {{admissions}}
WHERE {_ALIVE}
GROUP BY ALL""",
    "deaths_in_hospital": f"""
WITH flagged AS (
  SELECT p.area_code, p.death_date,
         EXISTS (SELECT 1 FROM {{admissions}} a
                 WHERE a.discharge_destination = 'died' AND a.person_id = p.person_id
                   AND a.discharge_date = p.death_date) AS hit
  FROM {{persons}} p
  WHERE p.death_date IS NOT NULL
)
SELECT area_code, {MONTH.format(col='death_date')} AS month,
       count(*) FILTER (WHERE hit) AS numerator, count(*) AS denominator
FROM flagged
GROUP BY ALL""",
    "care_home_admissions_65plus": f"""
SELECT s.area_code, {MONTH.format(col='s.start_date')} AS month, CAST(count(*) AS DOUBLE) AS numerator
FROM {{social_care}} s
JOIN {{persons}} p ON p.person_id = s.person_id
WHERE s.service_type IN ('residential', 'nursing') AND s.permanent
  AND s.funding IN ('la_funded', 'joint_nhs')
  AND year(s.start_date) - p.birth_year >= 65
GROUP BY ALL""",
    "reablement_at_home_91d": f"""
WITH reab AS (
  SELECT s.area_code, s.person_id, a.discharge_date
  FROM {{social_care}} s
  JOIN {{admissions}} a ON a.spell_id = s.spell_id
  WHERE s.service_type = 'reablement' AND s.referral_source = 'hospital_discharge' AND a.age >= 65
), home AS (
  SELECT person_id, start_date
  FROM {{social_care}}
  WHERE service_type IN ('residential', 'nursing') AND permanent
), flagged AS (
  SELECT r.area_code, r.discharge_date,
         (p.death_date IS NULL OR p.death_date > r.discharge_date + 91)
         AND NOT EXISTS (SELECT 1 FROM home h
                         WHERE h.person_id = r.person_id AND h.start_date > r.discharge_date
                           AND h.start_date <= r.discharge_date + 91) AS hit
  FROM reab r
  LEFT JOIN {{persons}} p ON p.person_id = r.person_id
)
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       count(*) FILTER (WHERE hit) AS numerator, count(*) AS denominator
FROM flagged
GROUP BY ALL""",
    "reablement_coverage": f"""
SELECT area_code, {MONTH.format(col='discharge_date')} AS month,
       count(*) FILTER (WHERE spell_id IN (SELECT spell_id FROM {{social_care}}
                             WHERE service_type = 'reablement'
                               AND referral_source = 'hospital_discharge')) AS numerator,
       count(*) AS denominator
FROM {{admissions}}
WHERE {_ALIVE} AND age >= 65
GROUP BY ALL""",
    "delayed_transfers": _delayed(None),
    "delayed_transfers_nhs": _delayed("nhs"),
    "delayed_transfers_social_care": _delayed("social_care"),
    "delayed_transfers_both": _delayed("both"),
}

# Population denominators: by area and year (and sex and band for DSRs), bands below the
# indicator's lowest age dropped; 18+ is 20+ and two fifths of 15-19.
_POP_BAND = "CAST(regexp_extract(age_band, '^([0-9]+)', 1) AS INTEGER)"
POPULATION: dict[str, str] = {
    "dsr_all": f"""
SELECT area_code, year, sex, {_POP_BAND} AS band_start, CAST(sum(persons) AS DOUBLE) AS population
FROM {{population}} GROUP BY ALL""",
    "dsr_65plus": f"""
SELECT area_code, year, sex, {_POP_BAND} AS band_start, CAST(sum(persons) AS DOUBLE) AS population
FROM {{population}} WHERE {_POP_BAND} >= 65 GROUP BY ALL""",
    "all_ages": """
SELECT area_code, year, CAST(sum(persons) AS DOUBLE) AS population
FROM {population} GROUP BY ALL""",
    "65plus": f"""
SELECT area_code, year, CAST(sum(persons) AS DOUBLE) AS population
FROM {{population}} WHERE {_POP_BAND} >= 65 GROUP BY ALL""",
    "adults": f"""
SELECT area_code, year,
       CAST(sum(persons) FILTER (WHERE {_POP_BAND} >= 20) AS DOUBLE)
       + 0.4 * CAST(coalesce(sum(persons) FILTER (WHERE {_POP_BAND} = 15), 0) AS DOUBLE) AS population
FROM {{population}} WHERE {_POP_BAND} >= 15 GROUP BY ALL""",
}

# Which denominator each indicator uses (None: proportions and percentiles have none).
POPULATION_OF: dict[str, str | None] = {
    "emergency_admissions": "dsr_all", "acsc_chronic": "dsr_all",
    "emergency_admissions_65plus": "dsr_65plus", "falls_65plus": "dsr_65plus",
    "emergency_bed_days": "all_ages", "ae_attendances": "all_ages",
    "care_home_admissions_65plus": "65plus",
    "delayed_transfers": "adults", "delayed_transfers_nhs": "adults",
    "delayed_transfers_social_care": "adults", "delayed_transfers_both": "adults",
    "los_p90_emergency_65plus": None, "readmissions_30d": None, "discharges_usual_residence": None,
    "weekend_discharges": None, "deaths_in_hospital": None, "reablement_at_home_91d": None,
    "reablement_coverage": None,
}


def sources(folder) -> dict[str, str]:
    """``read_parquet(...)`` for each table a query names: a folder of part files or one file."""
    folder = Path(folder)
    names = {"admissions": "admissions", "ae": "ae_attendances", "persons": "persons",
             "social_care": "social_care_services", "delayed": "delayed_transfers",
             "population": "population"}
    out = {}
    for key, table in names.items():
        path = folder / table
        glob = f"{path}/*.parquet" if path.is_dir() else f"{folder / table}.parquet"
        out[key] = f"read_parquet('{glob}')"
    return out


def query(indicator_id: str, folder) -> str:
    return EVENTS[indicator_id].format(**sources(folder))


def run_all(con, folder, ids=None) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Run every indicator's query (and each population aggregation once) on a DuckDB connection.

    Returns ``(events, population)``, both keyed by indicator id; indicators that share a
    denominator share the same DataFrame.
    """
    src = sources(folder)
    ids = list(ids) if ids else list(EVENTS)
    events = {i: con.sql(EVENTS[i].format(**src)).df() for i in ids}
    needed = sorted({POPULATION_OF[i] for i in ids if POPULATION_OF[i]})
    pops = {name: con.sql(POPULATION[name].format(**src)).df() for name in needed}
    population = {i: pops[POPULATION_OF[i]] for i in ids if POPULATION_OF[i]}
    return events, population
