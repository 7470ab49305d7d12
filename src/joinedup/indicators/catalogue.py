"""The indicator catalogue: each indicator declared once (events, population, method, source).

The ids are the public interface. Definitions are data: ``events`` builds the rows (any engine),
the other fields say how to count them, against which population, and with which statistical
method (:mod:`joinedup.indicators.methods`).

Example:
    >>> CATALOGUE["emergency_admissions_65plus"].min_age
    65
    >>> sorted(CATALOGUE)[:3]
    ['acsc_chronic', 'ae_attendances', 'care_home_admissions_65plus']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from joinedup.indicators import events as ev

Method = Literal["dsr", "crude_rate", "proportion", "percentile", "rate_per_day"]


@dataclass(frozen=True)
class Indicator:
    """One indicator. ``min_age`` restricts the population denominator (and the events builder
    applies the same restriction); ``adult_population`` uses residents 18+."""

    id: str
    title: str
    method: Method
    events: Callable
    source: str
    multiplier: float = 100_000
    min_age: int = 0
    adult_population: bool = False
    percentile: float | None = None
    followup_days: int = 0
    limits: bool = True
    lower_is_better: bool = True
    unit: str = "per 100,000"


_EM = "HES APC: spells with ADMIMETH 21-28, 2A-2D, counted by area of residence and date of admission"
CATALOGUE: dict[str, Indicator] = {i.id: i for i in (
    Indicator("emergency_admissions", "Emergency admissions", "dsr", ev.emergency,
              f"{_EM}; directly age/sex standardised to the 2013 European Standard Population",
              unit="per 100,000, directly standardised (ESP 2013)"),
    Indicator("emergency_admissions_65plus", "Emergency admissions, 65 and over", "dsr",
              lambda ds: ev.emergency(ds, 65), f"{_EM}; ages 65+; standardised to ESP 2013",
              min_age=65, unit="per 100,000 aged 65+, directly standardised (ESP 2013)"),
    Indicator("acsc_chronic", "Emergency admissions for chronic ambulatory care sensitive conditions",
              "dsr", ev.acsc_chronic,
              "NHS Outcomes Framework 2.3.i (NHS Digital IAP00068): emergency spells, primary diagnosis in "
              "the chronic ACSC list, acute bronchitis only with a COPD secondary code, cardiac "
              "procedure exclusions for angina, heart failure and hypertension; ESP 2013",
              unit="per 100,000, directly standardised (ESP 2013)"),
    Indicator("readmissions_30d", "Emergency readmissions within 30 days of discharge", "proportion",
              ev.readmissions_30d,
              "After NHS Outcomes Framework 3b: emergency or elective spells ending alive (maternity "
              "excluded), with an emergency admission 0-29 days after discharge; by date of discharge",
              multiplier=100, followup_days=30, unit="% of discharges"),
    Indicator("emergency_bed_days", "Emergency bed days", "crude_rate", ev.emergency_bed_days,
              "HES APC: days from admission to discharge of emergency spells, by date of discharge; "
              "crude rate (bed days are not Poisson counts, so no confidence limits are given)",
              limits=False, unit="bed days per 100,000"),
    Indicator("los_p90_emergency_65plus", "90th percentile length of stay, emergency admissions 65+",
              "percentile", ev.emergency_los_65plus,
              "HES APC: length of stay in days of emergency spells of people 65+, by date of discharge; "
              "90th percentile (linear interpolation, as R's quantile type 7)",
              min_age=65, percentile=0.9, unit="days"),
    Indicator("ae_attendances", "A&E attendances", "crude_rate", ev.ae_attendances,
              "HES A&E / ECDS: attendances at all department types by area of residence and date of "
              "arrival; crude rate with Byar's limits", multiplier=1_000, unit="per 1,000"),
    Indicator("falls_65plus", "Emergency admissions due to falls, 65 and over", "dsr", ev.falls_65plus,
              "PHE Public Health Outcomes Framework 2.24 (Fingertips 22401): emergency spells of people "
              "65+ with an injury (S00-T98) as primary diagnosis and a fall (W00-W19) as external cause; "
              "ESP 2013", min_age=65, unit="per 100,000 aged 65+, directly standardised (ESP 2013)"),
    Indicator("care_home_admissions_65plus",
              "Permanent admissions to residential and nursing care homes, 65 and over", "crude_rate",
              ev.care_home_admissions_65plus,
              "ASCOF 2A(2): council-supported (LA-funded or joint with the NHS) permanent residential or "
              "nursing placements of people 65+ starting in the period",
              min_age=65, unit="per 100,000 aged 65+"),
    Indicator("reablement_at_home_91d", "Still at home 91 days after discharge into reablement, 65+",
              "proportion", ev.reablement_at_home_91d,
              "ASCOF 2B(1): people 65+ discharged from hospital into reablement, alive and not in "
              "permanent residential or nursing care 91 days after discharge; by date of discharge "
              "(ASCOF itself counts October-December discharges only)",
              multiplier=100, followup_days=91, lower_is_better=False, unit="% of people"),
    Indicator("reablement_coverage", "Offered reablement after discharge, 65+", "proportion",
              ev.reablement_coverage,
              "ASCOF 2B(2): people 65+ discharged alive from hospital (maternity excluded) who went into "
              "reablement; by date of discharge", multiplier=100, lower_is_better=False,
              unit="% of discharges"),
    *[Indicator(f"delayed_transfers{suffix}", f"Delayed transfer of care days{label}", "rate_per_day",
                ev.delayed_transfers(org),
                "ASCOF 2C(1)/(2): delayed days from the monthly DToC SitReps divided by days in the period, "
                "per 100,000 residents 18+ (18+ estimated as 20+ and 40% of 15-19 from five-year bands)",
                adult_population=True, unit="delayed days per day per 100,000 adults")
      for suffix, label, org in (("", "", None), ("_nhs", " attributable to the NHS", "nhs"),
                                 ("_social_care", " attributable to social care", "social_care"),
                                 ("_both", " attributable to both", "both"))],
    Indicator("discharges_usual_residence", "Discharges to usual place of residence", "proportion",
              ev.discharges_usual_residence,
              "HES APC: spells ending alive (maternity excluded) with DISDEST 19; by date of discharge",
              multiplier=100, lower_is_better=False, unit="% of discharges"),
    Indicator("weekend_discharges", "Weekend discharges", "proportion", ev.weekend_discharges,
              "HES APC: spells ending alive (maternity excluded) on a Saturday or Sunday",
              multiplier=100, lower_is_better=False, unit="% of discharges"),
    Indicator("deaths_in_hospital", "Deaths in hospital", "proportion", ev.deaths_in_hospital,
              "ONS deaths linked to HES APC: deaths of residents on the day a spell ended in death "
              "(DISDEST 79), of all deaths; the rest died at their usual residence or elsewhere",
              multiplier=100, unit="% of deaths"),
)}
