"""Code lists behind the indicator definitions, kept as data with their source.

ICD-10 codes are written as HES stores them (DIAG_4_01: three characters plus an optional fourth, no
dot); a three-character entry matches every code that starts with it.

Example:
    >>> "J45" in ACSC_CHRONIC["asthma"]
    True
"""

from __future__ import annotations

# Chronic ambulatory-care-sensitive conditions: NHS Outcomes Framework 2.3.i / CCG OIS 2.6
# (NHS Digital indicator IAP00068), after Purdy et al. (2010). Primary diagnosis only.
ACSC_CHRONIC: dict[str, tuple[str, ...]] = {
    "asthma": ("J45", "J46"),
    "angina": ("I20", "I240", "I248", "I249", "I25"),
    "copd": ("J41", "J42", "J43", "J44", "J47"),
    "epilepsy": ("G40", "G41", "R56", "O15"),
    "dementia": ("F00", "F01", "F02", "F03"),
    "diabetes": ("E10", "E11", "E12", "E13", "E14"),
    "heart_failure": ("I110", "I50", "J81", "I130"),
    "hypertension": ("I10", "I119"),
    "iron_deficiency_anaemia": ("D501", "D508", "D509", "D51", "D52"),
    "nutritional_deficiency": ("E40", "E41", "E42", "E43", "E550", "E643"),
    "chronic_hepatitis_b": ("B180", "B181"),
}
# Acute bronchitis counts as COPD only with a COPD code among the secondary diagnoses.
ACSC_BRONCHITIS = ("J20",)
ACSC_BRONCHITIS_SECONDARY = ("J41", "J42", "J43", "J44", "J47")

# Spells of these conditions with a main procedure starting with one of these OPCS-4 codes are
# excluded: they are admissions for an intervention, not failures of ambulatory care. The list is
# the cardiac-procedure exclusion of the ACSC specification (coronary, valve and pacing procedures).
ACSC_EXCLUDED_CONDITIONS = ("angina", "heart_failure", "hypertension")
ACSC_EXCLUDED_PROCEDURES = (
    "K40", "K41", "K42", "K43", "K44", "K45", "K46", "K47", "K48", "K49", "K50", "K60", "K61", "K66",
    "K67", "L91", "M29", "M34", "M35", "M36", "M38", "M45", "T90", "X40", "X41", "X42", "X43",
)

# Emergency admissions due to falls, 65+ (PHE Fingertips 22401): primary diagnosis an injury
# (ICD-10 S00-T98) with an external cause of a fall (W00-W19) in any other position.
INJURY_PRIMARY_PATTERN = r"^(?:S[0-9]|T[0-8]|T9[0-8])"
FALL_EXTERNAL_PATTERN = r"(?:^|;)W(?:0[0-9]|1[0-9])"


def starts_with_any(codes: tuple[str, ...]) -> str:
    """A regular expression matching a code that starts with any of ``codes``."""
    return "^(" + "|".join(codes) + ")"
