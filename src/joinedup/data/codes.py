"""Code lists shared by the schema, the simulator and the indicators.

HES codes are those of the HES Admitted Patient Care data dictionary (ADMIMETH, DISDEST); the
readable categories beside them are joinedup's own, documented in the data dictionary.

Example:
    >>> AGE_BANDS[0], AGE_BANDS[-1], len(AGE_BANDS)
    ('0-4', '90+', 19)
    >>> age_band_of(67)
    '65-69'
"""

from __future__ import annotations

import numpy as np

# The 19 five-year bands of the ONS mid-year estimates and the 2013 European Standard Population.
AGE_BANDS: tuple[str, ...] = tuple(f"{a}-{a + 4}" for a in range(0, 90, 5)) + ("90+",)

SEXES: tuple[str, ...] = ("F", "M")
# ONS Census 2021 high-level ethnic groups (TS021), as simulate.deprivation draws them.
ETHNIC_GROUPS: tuple[str, ...] = ("white", "mixed", "asian", "black", "other")

REGIONS: tuple[str, ...] = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)

RURALITY: tuple[str, ...] = ("predominantly_urban", "urban_with_significant_rural", "predominantly_rural")

ADMISSION_METHODS: tuple[str, ...] = ("emergency", "elective", "maternity", "other")

# HES ADMIMETH: 11-13 elective; 21-28 and 2A-2D emergency; 31-32 maternity; 81-83, 99 other.
ADMIMETH_BY_METHOD: dict[str, tuple[str, ...]] = {
    "elective": ("11", "12", "13"),
    "emergency": ("21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"),
    "maternity": ("31", "32"),
    "other": ("81", "82", "83", "99"),
}
ADMIMETH_CODES: tuple[str, ...] = tuple(c for codes in ADMIMETH_BY_METHOD.values() for c in codes)
# Transfers between providers, as NHS Digital's "Methodology to create provider and CIP spells from HES
# APC data" defines them (as implemented in UKHSA's epidm::cip_spells, which cites it): ADMIMETH 2B
# (emergency transfer of an admitted patient) and 81 (other transfer); a discharge to another hospital,
# DISDEST 49-53 (NHS hospital providers: high and medium security, general, maternity, mental health
# wards) or 84 (non-NHS medium secure unit); an admission from one, ADMISORC 49-53 or 87 (non-NHS run
# hospital).
TRANSFER_ADMIMETH: tuple[str, ...] = ("2B", "81")
TRANSFER_SOURCES: tuple[str, ...] = ("49", "50", "51", "52", "53", "87")       # ADMISORC
TRANSFER_DESTINATIONS: tuple[str, ...] = ("49", "50", "51", "52", "53", "84")  # DISDEST
# Emergency admissions as counted (CIPS starts): ADMIMETH 21-28, 2A, 2C, 2D; 2B is a transfer.
EMERGENCY_ADMISSION_ADMIMETH: tuple[str, ...] = tuple(
    c for c in ADMIMETH_BY_METHOD["emergency"] if c not in TRANSFER_ADMIMETH)

# HES DISDEST grouped into the categories the indicators use.
DISDEST_BY_DESTINATION: dict[str, tuple[str, ...]] = {
    "usual_residence": ("19",),
    "temporary_residence": ("29",),
    "care_home": ("54", "65", "85", "88"),
    "other_hospital": ("49", "50", "51", "52", "53", "87"),
    "died": ("79",),
    "other": ("30", "37", "38", "48", "66", "84", "98", "99"),
}
DISCHARGE_DESTINATIONS: tuple[str, ...] = tuple(DISDEST_BY_DESTINATION)
DISDEST_CODES: tuple[str, ...] = tuple(c for codes in DISDEST_BY_DESTINATION.values() for c in codes)

AE_DISPOSALS: tuple[str, ...] = ("admitted", "discharged", "referred", "transferred", "left", "died")

SOCIAL_CARE_SERVICES: tuple[str, ...] = ("home_care", "reablement", "residential", "nursing", "direct_payment")
SOCIAL_CARE_FUNDING: tuple[str, ...] = ("la_funded", "joint_nhs", "self_funded")
SOCIAL_CARE_REFERRALS: tuple[str, ...] = ("hospital_discharge", "community", "other")

DELAY_RESPONSIBILITY: tuple[str, ...] = ("nhs", "social_care", "both")

PROGRAMMES: tuple[str, ...] = ("pioneer", "vanguard")
VANGUARD_TYPES: tuple[str, ...] = ("pacs", "mcp", "care_homes", "uec", "acc")

SCHEME_TYPES: tuple[str, ...] = (
    "community_mdt",
    "care_navigator",
    "risk_stratification",
    "single_point_of_access",
    "shared_care_record",
    "reablement",
    "rapid_response",
    "integrated_discharge",
    "prevention_self_management",
    "vcs_navigation",
)
TARGET_GROUPS: tuple[str, ...] = (
    "older_people",
    "long_term_conditions",
    "frail_elderly",
    "all_adults",
    "end_of_life",
    "mental_health",
    "children",
)

UNIT_COST_UNITS: tuple[str, ...] = ("per_spell", "per_bed_day", "per_attendance", "per_week", "per_contact", "per_year")

# EQ-5D-5L: five dimensions, each answered at levels 1 (no problems) to 5 (extreme problems / unable).
EQ5D_DIMENSIONS: tuple[str, ...] = ("mobility", "self_care", "usual_activities", "pain_discomfort",
                                    "anxiety_depression")
# The EQ-5D-5L value set for England: utility = 1 - the sum of each dimension's decrement at its level
# (Devlin NJ, Shah KK, Feng Y, Mulhern B, van Hout B. Valuing health-related quality of life: an EQ-5D-5L
# value set for England. Health Economics 2018;27(1):7-22; the published coefficients, as also tabulated
# by the R package eq5d). Range: 1 (11111) to -0.285 (55555). NICE's 2019 position statement and 2022
# manual prefer 5L answers mapped to 3L utilities (Hernandez Alava et al.); that mapping needs age and sex
# and its own tables, so it is left to the analysis, which can apply it to the stored levels.
EQ5D5L_ENGLAND: dict[str, tuple[float, ...]] = {
    "mobility": (0.0, 0.058, 0.076, 0.207, 0.274),
    "self_care": (0.0, 0.050, 0.080, 0.164, 0.203),
    "usual_activities": (0.0, 0.050, 0.063, 0.162, 0.184),
    "pain_discomfort": (0.0, 0.063, 0.084, 0.276, 0.335),
    "anxiety_depression": (0.0, 0.078, 0.104, 0.285, 0.289),
}
EQ5D5L_ENGLAND_MIN = round(1.0 - sum(d[-1] for d in EQ5D5L_ENGLAND.values()), 3)  # -0.285
EQ5D_SAMPLES: tuple[str, ...] = ("mdt", "comparison")

# ICD-10 as HES stores it in DIAG_4_nn: three characters plus an optional fourth, no dot.
ICD10_PATTERN = r"^[A-Z][0-9]{2}[0-9X]?$"
# OPCS-4 as in OPERTN_4_nn.
OPCS4_PATTERN = r"^[A-Z][0-9]{2}[0-9]?$"


def age_band_of(age: int | np.ndarray) -> str | np.ndarray:
    """The five-year band (``'0-4'`` ... ``'90+'``) of an age in whole years, scalar or array."""
    index = np.minimum(np.asarray(age) // 5, len(AGE_BANDS) - 1)
    bands = np.asarray(AGE_BANDS, dtype=object)[index]
    return str(bands) if np.ndim(bands) == 0 else bands
