"""Unit costs (a small versioned table) and tariff-like costs of simulated hospital spells.

Spells are costed at the base price year (2015/16): an emergency spell is about £1,600 on average,
an elective inpatient spell about £3,500 and a day case about £700; stays past a trim point add excess
bed days. Later price years inflate the base by the NHS cost inflation index used by PSSRU.

Example:
    >>> rows = [r for r in unit_costs_table(950.0).to_pylist() if r["item"] == "mdt_case_management"]
    >>> row = rows[0]
    >>> row["year"], row["cost"], row["unit"]
    (2015, 950.0, 'per_year')
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from joinedup.simulate.hes_codes import (
    ANTENATAL,
    BABY,
    DELIVERY,
    ELECTIVE,
    EMERGENCY_KINDS,
    POSTNATAL,
    TRANSFER,
)

PRICE_YEAR = 2015
PRICE_YEARS = (2015, 2016, 2017, 2018)
INFLATION = {2015: 1.0, 2016: 1.021, 2017: 1.043, 2018: 1.067}  # NHS cost inflation, cumulative
NHS = "NHS Reference Costs 2015/16 (Department of Health, 2016); simulated price level"
PSSRU = "PSSRU Unit Costs of Health and Social Care 2016 (Curtis and Burns); simulated price level"

# item: (cost at the base price year, unit, source)
BASE_COSTS: dict[str, tuple[float, str, str]] = {
    "emergency_spell": (1600.0, "per_spell", NHS),
    "elective_spell": (3500.0, "per_spell", NHS),
    "day_case": (700.0, "per_spell", NHS),
    "maternity_spell": (1900.0, "per_spell", NHS),
    "excess_bed_day": (300.0, "per_bed_day", NHS),
    "ae_attendance": (138.0, "per_attendance", NHS),
    "home_care_week": (250.0, "per_week", PSSRU),
    "reablement_week": (300.0, "per_week", PSSRU),
    "residential_week": (600.0, "per_week", PSSRU),
    "nursing_week": (750.0, "per_week", PSSRU),
    "direct_payment_week": (300.0, "per_week", PSSRU),
    "gp_consultation": (36.0, "per_contact", PSSRU),
}
EMERGENCY_TRIM, ELECTIVE_TRIM = 14, 10


def unit_costs_table(mdt_cost_per_patient_year: float) -> pa.Table:
    """The unit_costs table: every item for each price year, MDT cost from the scenario."""
    from joinedup.data.tables import TABLES

    items = dict(BASE_COSTS)
    items["mdt_case_management"] = (mdt_cost_per_patient_year, "per_year",
                                    "joinedup scenario parameter mdt_cost_per_patient_year (simulated)")
    rows = [(item, year, round(cost * INFLATION[year], 2), unit, source)
            for item, (cost, unit, source) in sorted(items.items()) for year in PRICE_YEARS]
    cols = list(zip(*rows))
    arrays = [pa.array(cols[0]), pa.array(cols[1], pa.int32()), pa.array(cols[2], pa.float64()),
              pa.array(cols[3]), pa.array(cols[4])]
    return pa.Table.from_arrays(arrays, schema=TABLES["unit_costs"].arrow_schema())


def spell_cost(kind: np.ndarray, los: np.ndarray, day_case: np.ndarray, has_procedure: np.ndarray,
               rng: np.random.Generator) -> np.ndarray:
    """Cost of each spell (pounds, base price year): a tariff by type and stay, with case-mix noise."""
    los = np.asarray(los, dtype=float)
    noise = rng.lognormal(-0.045, 0.3, len(kind))  # mean 1
    xbd = BASE_COSTS["excess_bed_day"][0]
    em = BASE_COSTS["emergency_spell"][0]
    cost = np.zeros(len(kind))
    is_em = np.isin(kind, EMERGENCY_KINDS + (TRANSFER,))
    cost[is_em] = (em * (0.33 + 0.115 * np.minimum(los[is_em], EMERGENCY_TRIM))
                   + xbd * np.maximum(los[is_em] - EMERGENCY_TRIM, 0))
    el = kind == ELECTIVE
    inpatient = el & ~day_case
    cost[inpatient] = (BASE_COSTS["elective_spell"][0] * (0.68 + 0.095 * np.minimum(los[inpatient], ELECTIVE_TRIM))
                       + xbd * np.maximum(los[inpatient] - ELECTIVE_TRIM, 0))
    cost[el & day_case] = BASE_COSTS["day_case"][0]
    mat = np.isin(kind, (DELIVERY, ANTENATAL, POSTNATAL, BABY))
    cost[mat] = BASE_COSTS["maternity_spell"][0] * (0.45 + 0.2 * np.minimum(los[mat], 6))
    cost *= np.where(has_procedure & is_em, 1.5, 1.0) * noise
    return np.round(cost, 2)
