"""The canonical tables of joinedup, each declared once.

Names in the issue's interface lists (``area_code``, ``admission_date``, ...) are public: other tools
rely on them. Extra columns may be added; none may be renamed.

Example:
    >>> from joinedup.data.tables import TABLES
    >>> sorted(TABLES)[:3]
    ['admissions', 'ae_attendances', 'areas']
"""

from __future__ import annotations

from joinedup.data import codes
from joinedup.data.schema import Check, Column, Table

C = Column


def _belongs(code_col: str, group_col: str, groups: dict[str, tuple[str, ...]]):
    """A row rule: the code column holds one of the codes listed for the row's group."""

    def rule(t):
        import ibis

        cases = [(t[group_col] == g, t[code_col].isin(list(cs))) for g, cs in groups.items()]
        both_missing = t[code_col].isnull() & t[group_col].isnull()  # an open spell has neither
        return ibis.cases(*cases, else_=both_missing)

    return rule

AREA = C("area_code", "string", "ONS code of the upper-tier local authority of residence",
         pattern=r"^E[0-9]{8}$", references="areas.area_code")
PERSON = C("person_id", "int64", "Pseudonymous person identifier (replaces the NHS number)",
           minimum=0, references="persons.person_id")
PRACTICE_CODE_PATTERN = r"^[A-Z][0-9]{5}$"
SEX = C("sex", "string", "Sex: `F` female, `M` male", allowed=codes.SEXES)
DATE_MIN, DATE_MAX = "1900-01-01", "2100-12-31"

AREAS = Table(
    "areas",
    "Upper-tier local authorities: the areas indicators and impact analyses compare.",
    "ONS local authority codes and names; IMD 2015 (MHCLG); ONS 2011 rural-urban classification.",
    (
        C("area_code", "string", "ONS GSS code (E06, E08, E09, E10)", pattern=r"^E[0-9]{8}$", unique=True),
        C("area_name", "string", "Authority name"),
        C("region", "string", "English region", allowed=codes.REGIONS),
        C("imd_score", "float64", "Index of Multiple Deprivation average score (higher is more deprived)",
          minimum=0, maximum=100),
        C("imd_decile", "int32", "National decile of imd_score, 1 most deprived", minimum=1, maximum=10),
        C("rurality", "string", "Rural-urban classification", allowed=codes.RURALITY),
        C("population", "int64", "Resident population at mid-year of the first simulated year", minimum=0),
    ),
    primary_key=("area_code",),
)

POPULATION = Table(
    "population",
    "Resident population by area, year, sex and five-year age band at 30 June.",
    "ONS mid-year population estimates.",
    (
        AREA,
        C("year", "int32", "Calendar year of the mid-year (30 June) estimate", minimum=1990, maximum=2100),
        SEX,
        C("age_band", "string", "Five-year age band, 0-4 to 90+", allowed=codes.AGE_BANDS),
        C("persons", "int64", "Resident persons", minimum=0),
    ),
    primary_key=("area_code", "year", "sex", "age_band"),
)

PRACTICES = Table(
    "practices",
    "General practices and their registered list sizes.",
    "NHS Digital, Patients Registered at a GP Practice; practice codes from ODS.",
    (
        C("practice_code", "string", "ODS practice code", pattern=PRACTICE_CODE_PATTERN, unique=True),
        AREA,
        C("list_size", "int64", "Registered patients at the start of the first simulated year", minimum=0),
    ),
    primary_key=("practice_code",),
)

PRACTICE_POPULATION = Table(
    "practice_population",
    "Patients registered at each GP practice by sex and five-year age band, at each extract date: the "
    "denominators of practice-level programmes.",
    "NHS Digital, Patients Registered at a GP Practice (quarterly files by five-year age band and sex: "
    "EXTRACT_DATE, ORG_CODE, SEX, AGE_GROUP_5, NUMBER_OF_PATIENTS).",
    (
        C("practice_code", "string", "ODS practice code", pattern=PRACTICE_CODE_PATTERN,
          references="practices.practice_code"),
        C("extract_date", "date", "Date of the registration extract (EXTRACT_DATE)",
          minimum=DATE_MIN, maximum=DATE_MAX),
        SEX,
        C("age_band", "string", "Five-year age band, 0-4 to 90+", allowed=codes.AGE_BANDS),
        C("persons", "int64", "Registered patients", minimum=0),
    ),
    primary_key=("practice_code", "extract_date", "sex", "age_band"),
    optional=True,
)

PERSONS = Table(
    "persons",
    "People registered with a practice in the period: the linkage spine of patient-level data.",
    "GP registration (NHAIS / PDS) with pseudonymised NHS number; deaths from ONS civil registration.",
    (
        C("person_id", "int64", "Pseudonymous person identifier (replaces the NHS number)",
          minimum=0, unique=True),
        SEX,
        C("birth_year", "int32", "Year of birth", minimum=1890, maximum=2100),
        AREA,
        C("practice_code", "string", "Registered practice", pattern=PRACTICE_CODE_PATTERN,
          references="practices.practice_code"),
        C("ltc_count", "int32", "Number of diagnosed long-term conditions at the start of follow-up",
          minimum=0, maximum=30),
        C("death_date", "date", "Date of death (empty if alive at the end of the period)",
          required=False, minimum=DATE_MIN, maximum=DATE_MAX),
        C("lsoa_imd_decile", "int32", "National IMD decile of the LSOA of residence, 1 most deprived "
          "(empty if unknown)", required=False, minimum=1, maximum=10),
        C("ethnic_group", "string", "Ethnic group, ONS 2021 high-level categories (empty if not "
          "stated)", required=False, allowed=codes.ETHNIC_GROUPS),
    ),
    primary_key=("person_id",),
)

ADMISSIONS = Table(
    "admissions",
    "Hospital inpatient spells (one row per spell, clinical fields from its first episode).",
    "HES Admitted Patient Care (SUS+ APC): ADMIDATE, DISDATE, ADMIMETH, DIAG_4_01..20, OPERTN_4_01, "
    "DISDEST, STARTAGE, SEX, RESLADST (area of residence); cost from the national tariff.",
    (
        C("spell_id", "int64", "Hospital provider spell identifier", minimum=0, unique=True),
        PERSON,
        AREA,
        C("practice_code", "string", "Registered practice at admission (empty when none is recorded: GPPRAC "
          "V81997-V81999)", required=False, pattern=PRACTICE_CODE_PATTERN,
          references="practices.practice_code"),
        C("admission_date", "date", "Date of admission (ADMIDATE)", minimum=DATE_MIN, maximum=DATE_MAX),
        C("discharge_date", "date", "Date of discharge (DISDATE); empty while the spell is open (unfinished "
          "episode at the end of the extract)", required=False, minimum=DATE_MIN, maximum=DATE_MAX),
        C("admission_method", "string", "Grouped admission method", allowed=codes.ADMISSION_METHODS),
        C("admimeth", "string", "HES admission method code (ADMIMETH)", allowed=codes.ADMIMETH_CODES),
        C("primary_diagnosis", "string", "Primary ICD-10 diagnosis, 4 characters, no dot (DIAG_4_01)",
          pattern=codes.ICD10_PATTERN),
        C("secondary_diagnoses", "string",
          "Secondary ICD-10 diagnoses (DIAG_4_02 onward), semicolon-separated", required=False,
          pattern=r"^[A-Z][0-9]{2}[0-9X]?(;[A-Z][0-9]{2}[0-9X]?)*$"),
        C("procedure", "string", "Main OPCS-4 procedure (OPERTN_4_01), if any", required=False,
          pattern=codes.OPCS4_PATTERN),
        C("discharge_destination", "string", "Grouped discharge destination (empty while the spell is open)",
          required=False, allowed=codes.DISCHARGE_DESTINATIONS),
        C("disdest", "string", "HES discharge destination code (DISDEST; empty while the spell is open)",
          required=False, allowed=codes.DISDEST_CODES),
        C("age", "int32", "Age at admission in whole years (STARTAGE; 7001-7007, under one year, is 0)",
          minimum=0, maximum=120),
        C("sex", "string", "Sex: `F` female, `M` male; empty when not known (kept, never dropped: counted in "
          "crude measures, left out of standardised ones)", required=False, allowed=codes.SEXES),
        C("cost", "float64", "Cost of the spell in pounds at the price year of the unit-cost table (empty "
          "when imported from HES, which carries no cost)", required=False, minimum=0),
        C("cips_id", "int64", "Continuous inpatient spell (CIPS): provider spells of one person joined by "
          "transfers between providers share it (NHS Digital CIPS methodology: DISDEST 49-53, 84; ADMISORC 49-53, 87; ADMIMETH 2B, 81)", minimum=0),
        C("transfer_in", "bool", "The spell began as a transfer from another hospital (linked to an earlier "
          "spell of its CIPS, or ADMIMETH 2B/81, ADMISORC 49-53, 87): never a new admission or a readmission"),
    ),
    primary_key=("spell_id",),
    checks=(
        Check("discharge_after_admission", lambda t: t.discharge_date >= t.admission_date,
              "discharge_date is on or after admission_date"),
        Check("admimeth_matches_method", _belongs("admimeth", "admission_method", codes.ADMIMETH_BY_METHOD),
              "admimeth is one of the HES codes of admission_method"),
        Check("disdest_matches_destination",
              _belongs("disdest", "discharge_destination", codes.DISDEST_BY_DESTINATION),
              "disdest is one of the HES codes of discharge_destination"),
    ),
)

AE_ATTENDANCES = Table(
    "ae_attendances",
    "Attendances at accident and emergency departments.",
    "HES A&E to March 2019, then the Emergency Care Data Set (ECDS): ARRIVALDATE, AEATTENDDISP, "
    "AEDEPTTYPE, RESLADST.",
    (
        C("attendance_id", "int64", "Attendance identifier", minimum=0, unique=True),
        PERSON,
        AREA,
        C("arrival_date", "date", "Date of arrival", minimum=DATE_MIN, maximum=DATE_MAX),
        C("department_type", "int32", "A&E department type: 1 major, 2 single specialty, 3 other/UTC",
          minimum=1, maximum=3),
        C("disposal", "string", "What happened at the end of the attendance", allowed=codes.AE_DISPOSALS),
        C("age", "int32", "Age at arrival in whole years (ARRIVALAGE; 7001-7007, under one year, is 0)",
          minimum=0, maximum=120),
        C("sex", "string", "Sex: `F` female, `M` male; empty when not known (kept)", required=False,
          allowed=codes.SEXES),
    ),
    primary_key=("attendance_id",),
)

SOCIAL_CARE_SERVICES = Table(
    "social_care_services",
    "Adult social care services received, one row per service episode.",
    "Adult Social Care Client Level Data (from 2023) and SALT returns (2014/15 onward); "
    "unit costs from ASC-FR.",
    (
        C("service_id", "int64", "Service episode identifier", minimum=0, unique=True),
        PERSON,
        AREA,
        C("service_type", "string", "Type of service", allowed=codes.SOCIAL_CARE_SERVICES),
        C("start_date", "date", "Start of the service", minimum=DATE_MIN, maximum=DATE_MAX),
        C("end_date", "date", "End of the service (empty while ongoing)", required=False,
          minimum=DATE_MIN, maximum=DATE_MAX),
        C("permanent", "bool", "Permanent (long-term) placement or service rather than short-term"),
        C("weekly_cost", "float64", "Gross weekly cost in pounds", minimum=0),
        C("funding", "string", "Who pays", allowed=codes.SOCIAL_CARE_FUNDING),
        C("referral_source", "string", "Route into the service", allowed=codes.SOCIAL_CARE_REFERRALS),
        C("spell_id", "int64", "Hospital spell discharged into this service, if any", required=False,
          minimum=0),
    ),
    primary_key=("service_id",),
    checks=(
        Check("end_after_start", lambda t: t.end_date.isnull() | (t.end_date >= t.start_date),
              "end_date is empty or on or after start_date"),
    ),
)

DELAYED_TRANSFERS = Table(
    "delayed_transfers",
    "Delayed transfers of care: days delayed in the month by the organisation responsible.",
    "NHS England Delayed Transfers of Care monthly SitReps (August 2010 to February 2020).",
    (
        AREA,
        C("month", "date", "First day of the month", minimum=DATE_MIN, maximum=DATE_MAX),
        C("responsible_org", "string", "Organisation responsible for the delay",
          allowed=codes.DELAY_RESPONSIBILITY),
        C("delayed_days", "int64", "Total delayed days in the month", minimum=0),
    ),
    primary_key=("area_code", "month", "responsible_org"),
    checks=(Check("first_of_month", lambda t: t.month.day() == 1, "month is the first day of a month"),),
)

PROGRAMMES = Table(
    "programmes",
    "Programme membership: the 25 Integrated Care Pioneers and the 50 new care model Vanguards.",
    "Department of Health Pioneer announcements (Nov 2013, Jan 2015); NHS England Vanguard lists (2015).",
    (
        C("programme", "string", "Programme", allowed=codes.PROGRAMMES),
        C("site", "string", "Site name as announced"),
        AREA,
        C("wave", "int32", "Pioneer wave (1 from November 2013, 2 from January 2015); Vanguard round",
          minimum=1, maximum=9),
        C("model", "string", "Vanguard care model (empty for Pioneers)", required=False,
          allowed=codes.VANGUARD_TYPES),
        C("start_date", "date", "Date the site started in the programme", minimum=DATE_MIN, maximum=DATE_MAX),
    ),
    primary_key=("programme", "site", "area_code"),
)

SCHEMES = Table(
    "schemes",
    "Integration schemes run by each site, one row per scheme.",
    "Pioneer evaluation documentary analysis and site returns.",
    (
        C("scheme_id", "string", "Scheme identifier", unique=True),
        C("site", "string", "Site that runs the scheme"),
        C("scheme_type", "string", "Type of scheme", allowed=codes.SCHEME_TYPES),
        C("target_group", "string", "Main target group", allowed=codes.TARGET_GROUPS),
        C("start_date", "date", "Start of the scheme", minimum=DATE_MIN, maximum=DATE_MAX),
    ),
    primary_key=("scheme_id",),
)

MDT_ENROLMENTS = Table(
    "mdt_enrolments",
    "Patients enrolled in community multi-disciplinary team case management.",
    "Practice and community-trust MDT registers linked by pseudonymised NHS number.",
    (
        PERSON,
        C("practice_code", "string", "Practice whose MDT enrolled the patient", pattern=PRACTICE_CODE_PATTERN,
          references="practices.practice_code"),
        C("mdt_id", "string", "Identifier of the MDT"),
        C("enrolment_date", "date", "Date of enrolment (the index date)", minimum=DATE_MIN, maximum=DATE_MAX),
        C("end_date", "date", "Date case management ended (empty if ongoing)", required=False,
          minimum=DATE_MIN, maximum=DATE_MAX),
    ),
    primary_key=("person_id", "enrolment_date"),
    checks=(
        Check("end_after_enrolment", lambda t: t.end_date.isnull() | (t.end_date >= t.enrolment_date),
              "end_date is empty or on or after enrolment_date"),
    ),
)

def _eq5d_utility_matches(t):
    """A row rule: utility is the England EQ-5D-5L value of the five levels (to 1e-6)."""
    import ibis

    total = ibis.literal(0.0)
    for dim, decrements in codes.EQ5D5L_ENGLAND.items():
        total = total + ibis.cases(*[(t[dim] == level, d) for level, d in enumerate(decrements, 1) if level > 1],
                                   else_=0.0)
    return (t.utility - (1.0 - total)).abs() < 1e-6


_EQ5D_LEVEL = "1 no problems, 2 slight, 3 moderate, 4 severe, 5 extreme problems / unable"
_EQ5D_LABEL = {"mobility": "mobility (walking about)", "self_care": "self-care (washing, dressing)",
               "usual_activities": "usual activities", "pain_discomfort": "pain/discomfort",
               "anxiety_depression": "anxiety/depression"}

EQ5D_RESPONSES = Table(
    "eq5d_responses",
    "EQ-5D-5L questionnaires of the MDT evaluation: patients enrolled in MDT case management at enrolment "
    "and 6 and 12 months later, and a comparison sample of similar high-risk people aged 65+ in practices "
    "without an MDT, at a pseudo-index date and 6 and 12 months later. One row per returned questionnaire.",
    "MDT evaluation patient questionnaires (EQ-5D-5L, EuroQol), linked by pseudonymised NHS number; "
    "utility from the EQ-5D-5L value set for England (Devlin et al., Health Economics 2018).",
    (
        PERSON,
        C("sample", "string", "`mdt`: enrolled in MDT case management; `comparison`: high-risk patient of a "
          "practice without an MDT", allowed=codes.EQ5D_SAMPLES),
        C("index_date", "date", "Enrolment date (mdt) or pseudo-index date (comparison) the waves count from",
          minimum=DATE_MIN, maximum=DATE_MAX),
        C("wave", "int32", "0 at the index date, 1 at 6 months, 2 at 12 months", minimum=0, maximum=2),
        C("response_date", "date", "Date the questionnaire was completed", minimum=DATE_MIN, maximum=DATE_MAX),
        *(C(dim, "int32", f"EQ-5D-5L {_EQ5D_LABEL[dim]}: {_EQ5D_LEVEL}", minimum=1, maximum=5)
          for dim in codes.EQ5D_DIMENSIONS),
        C("utility", "float64", "EQ-5D-5L index value, England value set (Devlin et al. 2018): 1 full health, "
          "0 dead, negative worse than dead; NICE's preferred 5L-to-3L mapping can be applied to the levels",
          minimum=codes.EQ5D5L_ENGLAND_MIN, maximum=1),
    ),
    primary_key=("person_id", "sample", "wave"),
    checks=(
        Check("response_after_index", lambda t: t.response_date >= t.index_date,
              "response_date is on or after index_date"),
        Check("utility_matches_value_set", _eq5d_utility_matches,
              "utility is the England EQ-5D-5L value of the five levels"),
    ),
    optional=True,
)

UNIT_COSTS = Table(
    "unit_costs",
    "Versioned unit costs used to cost activity, with their sources.",
    "NHS National Cost Collection / Reference Costs; PSSRU Unit Costs of Health and Social Care.",
    (
        C("item", "string", "Costed item, e.g. `emergency_spell`, `home_care_hour`"),
        C("year", "int32", "Price year (financial year starting in this calendar year)",
          minimum=1990, maximum=2100),
        C("cost", "float64", "Cost in pounds", minimum=0),
        C("unit", "string", "Unit the cost applies to", allowed=codes.UNIT_COST_UNITS),
        C("source", "string", "Citation of the source"),
    ),
    primary_key=("item", "year"),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        AREAS, POPULATION, PRACTICES, PRACTICE_POPULATION, PERSONS, ADMISSIONS, AE_ATTENDANCES, SOCIAL_CARE_SERVICES,
        DELAYED_TRANSFERS, PROGRAMMES, SCHEMES, MDT_ENROLMENTS, EQ5D_RESPONSES, UNIT_COSTS,
    )
}
