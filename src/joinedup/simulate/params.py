"""Calibration constants of simulated England, in one place.

Rates are per person-year unless said otherwise. Age curves are given at anchor ages and interpolated
log-linearly to single years 0..110 (:func:`age_curve`). The overall levels (``*_SCALE``) were tuned by
running the simulator and comparing with the targets in docs/simulation.md.

Example:
    >>> curve = age_curve(EMERGENCY_AGE)
    >>> bool(curve[90] > 5 * curve[30])
    True
"""

from __future__ import annotations

import numpy as np

MAX_AGE = 110

# --- Population -----------------------------------------------------------------------------------
# England mid-2013 by five-year band (thousands; ONS mid-year estimates, rounded): the structure the
# first year's people are drawn from (back-projected to the first simulated year).
ENGLAND_2013_BANDS = np.array([
    3413, 3080, 2950, 3260, 3600, 3640, 3530, 3370, 3830, 3930,
    3560, 3110, 3170, 2950, 2150, 1740, 1280, 780, 430,
], dtype=float)
ENGLAND_2013_TOTAL = 53_865_800
# Age tilt by rurality/region: density *= exp(tilt * (age - 40) / 40); renormalised nationally.
AGE_TILT = {"London": -0.45, "predominantly_rural": 0.28, "urban_with_significant_rural": 0.12,
            "predominantly_urban": 0.0}
# Mortality q(age) = exp(MORT_A + MORT_B * age) (Gompertz), plus infant and young-adult floors.
MORT_A, MORT_B = -10.6, 0.094
MORT_INFANT, MORT_FLOOR, MORT_CAP = 0.0038, 0.0002, 0.65
MORT_RISK_PERM, MORT_RISK_AR = 0.5, 0.35  # log-mortality loads on the latent risk parts
MORT_IMD = 0.010  # per IMD score point
# Age-specific fertility (births per woman-year) for 15-19 ... 40-44.
ASFR = np.array([0.020, 0.063, 0.106, 0.117, 0.065, 0.014])
MIGRATION_RATE = 0.0042  # in-migrants per resident per year (young adults)
MIGRATION_LONDON = 1.8  # London's multiplier (others are scaled to keep the national rate)
MIGRATION_AGES = (np.arange(16, 46), np.exp(-0.5 * ((np.arange(16, 46) - 25.0) / 5.5) ** 2))

# --- Latent risk -----------------------------------------------------------------------------------
SIGMA_PERM, SIGMA_AR, RHO = 0.75, 0.60, 0.6

# --- Long-term conditions at the start of follow-up ------------------------------------------------
def ltc_mean(age: np.ndarray) -> np.ndarray:
    return 0.03 + 3.1 / (1.0 + np.exp(-(np.asarray(age, dtype=float) - 63.0) / 11.0))


LTC_RISK = 0.6

# --- Emergency admissions (index events, before readmissions and in-hospital deaths) ----------------
EMERGENCY_AGE = {0: 0.30, 1: 0.12, 3: 0.075, 5: 0.042, 10: 0.034, 15: 0.048, 20: 0.062, 30: 0.054,
                 40: 0.058, 50: 0.068, 60: 0.092, 65: 0.115, 70: 0.15, 75: 0.20, 80: 0.28, 85: 0.39,
                 90: 0.52, 95: 0.64, 100: 0.72, 110: 0.75}
EMERGENCY_SCALE = 0.88
EMERGENCY_IMD = 0.015  # log-rate per IMD point around the national mean
AREA_SD = 0.07  # lognormal area effect on emergency admissions
SEASON_AMPLITUDE = 0.08  # January +8%, July -8%
EMERGENCY_TREND = 0.0235  # secular log-growth per year (on top of ageing)
TREND_ORIGIN = 2013.5
READMISSION = {0: 0.075, 18: 0.095, 65: 0.12, 75: 0.135, 85: 0.14}  # by age from
READMIT_MAX_GAP = 30
HOSPITAL_DEATH_SHARE = 0.45  # deaths drawn to happen in hospital (plus deaths during a stay)

# --- Other admissions ----------------------------------------------------------------------------
ELECTIVE_AGE = {0: 0.05, 10: 0.04, 20: 0.075, 30: 0.10, 40: 0.14, 50: 0.21, 60: 0.33, 70: 0.46,
                80: 0.46, 90: 0.27, 110: 0.12}
ELECTIVE_SCALE = 1.08
ELECTIVE_TREND = 0.015
ELECTIVE_RISK = 0.4  # share of the latent log-risk that loads on elective care
OTHER_TRANSFER_RATE = 0.0015  # ADMIMETH 81/99 per person-year
BABY_ADMISSION_SHARE = 0.13  # births with a baby spell (ADMIMETH 82/83)
ANTENATAL_PER_BIRTH, POSTNATAL_PER_BIRTH = 0.30, 0.03

# --- A&E (attendances not admitted; admitted ones mirror ADMIMETH 21 admissions) --------------------
AE_AGE = {0: 0.78, 2: 0.58, 5: 0.30, 10: 0.31, 15: 0.43, 20: 0.48, 25: 0.41, 35: 0.34, 45: 0.29,
          55: 0.26, 65: 0.26, 75: 0.32, 85: 0.50, 95: 0.70, 110: 0.75}
AE_SCALE = 1.05
AE_TREND = 0.015
AE_RISK = 0.6
AE_DEATH_SHARE = 0.05  # out-of-hospital deaths recorded as an A&E attendance ending in death

# --- Social care ----------------------------------------------------------------------------------
CARE_HOME_PREVALENCE = {65: 0.004, 75: 0.02, 85: 0.10, 95: 0.20}  # at the start, by age from
CARE_HOME_HAZARD = {65: 0.0015, 75: 0.006, 85: 0.021}  # community route, per person-year
CARE_HOME_FROM_HOSPITAL = {0: 0.002, 65: 0.012, 80: 0.035}  # of emergency discharges alive
CARE_HOME_RETURN = 0.5  # residents' discharges recorded as back to the care home
NURSING_SHARE = 0.4
HOME_CARE_HAZARD = {18: 0.0012, 65: 0.008, 75: 0.022, 85: 0.06}
HOME_CARE_MEAN_YEARS = 1.8
DIRECT_PAYMENT_HAZARD = {18: 0.0011, 65: 0.0025}
DIRECT_PAYMENT_MEAN_YEARS = 4.0
REABLEMENT_SHARE = 0.03  # of 65+ emergency discharges alive to usual residence
REABLEMENT_CARE_HOME = 0.16  # enter a care home within 91 days
REABLEMENT_HOME_CARE = 0.30  # go on to long-term home care
WEEKLY_COST = {"home_care": 250.0, "reablement": 300.0, "residential": 600.0, "nursing": 750.0,
               "direct_payment": 300.0}

# --- Delayed transfers of care: delayed days per day per 100,000 adults (national) -----------------
DTOC_KNOTS = (("2010-08-01", 9.6), ("2012-12-01", 9.0), ("2017-02-01", 15.2), ("2019-12-01", 10.0))
DTOC_SHARES = {"nhs": 0.55, "social_care": 0.37, "both": 0.08}
DTOC_AREA_SD = 0.25


# --- EQ-5D-5L answers of the MDT evaluation samples (see simulate/eq5d.py) -------------------------------
# Latent ill-health s (higher = worse) = linear terms below + a person effect + occasion noise; each
# dimension's level is an ordered logit on EQ5D_LOADING * s + a person-by-dimension effect. Tuned so the
# high-risk 65+ samples average about 0.6-0.65 (SD about 0.25, a few % below 0) with the England 5L
# value set, like older people with multimorbidity in community case-management studies.
EQ5D_AGE = 0.30  # per 10 years over 80 (ageing: a slow decline over follow-up)
EQ5D_FEMALE = 0.15
EQ5D_LTC = 0.18  # per long-term condition over 3 (up to 8)
EQ5D_PERM, EQ5D_AR = 0.35, 0.25  # loads on the latent risk parts (the same risk that drives admissions)
EQ5D_ADMISSION, EQ5D_ADMISSION_DAYS = 0.70, 45.0  # per emergency admission, decaying exp(-days/45)
EQ5D_DEATH, EQ5D_DEATH_DAYS = 1.2, 120.0  # decline before death, exp(-days to death/120)
EQ5D_SD_PERSON, EQ5D_SD_OCCASION, EQ5D_SD_DIMENSION = 0.80, 0.35, 0.50
EQ5D_LOADING = (1.8, 1.8, 2.0, 1.5, 1.1)  # mobility, self-care, usual activities, pain, anxiety
EQ5D_CUTS = (  # thresholds between levels 1|2, 2|3, 3|4, 4|5 of each dimension, on the logit scale
    (-0.87, 1.13, 3.34, 5.46),
    (1.36, 3.13, 4.75, 6.39),
    (-0.11, 1.76, 3.80, 5.50),
    (-0.87, 1.20, 3.41, 5.58),
    (1.15, 2.61, 4.14, 5.73),
)

def age_curve(anchors: dict[int, float], max_age: int = MAX_AGE) -> np.ndarray:
    """Log-linear interpolation of a rate given at anchor ages, for ages 0..max_age."""
    ages = np.array(sorted(anchors), dtype=float)
    logs = np.log([anchors[int(a)] for a in ages])
    return np.exp(np.interp(np.arange(max_age + 1), ages, logs))


def step_curve(steps: dict[int, float], max_age: int = MAX_AGE) -> np.ndarray:
    """A rate that is constant from each given age to the next (0 before the first)."""
    out = np.zeros(max_age + 1)
    for age in sorted(steps):
        out[age:] = steps[age]
    return out


def mortality(age: np.ndarray) -> np.ndarray:
    """Annual probability of death at an age (before risk and deprivation)."""
    age = np.asarray(age, dtype=float)
    q = np.exp(MORT_A + MORT_B * age) + MORT_FLOOR + MORT_INFANT * (age < 1)
    return np.minimum(q, MORT_CAP)
