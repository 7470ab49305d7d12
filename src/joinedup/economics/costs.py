"""Costs of patient-level use from the ``unit_costs`` table, at one price year.

The table gives a cost per unit for each item and price year (financial year starting in ``year``),
with its source. Costs here:

* emergency admissions: ``emergency_spell`` (per spell) plus ``excess_bed_day`` (per bed day past the
  14-day trim point), as the tariff pays them;
* A&E: ``ae_attendance`` (per attendance);
* social care: ``<service_type>_week`` (per week) times days of each service type / 7;
* the MDT: ``mdt_case_management`` (per patient-year) times years enrolled inside follow-up.

Costs stay in the price year chosen (default: the table's earliest, 2015/16 in the simulation): no
inflation index is available yet in :mod:`joinedup.economics.cea`, so a different price year is taken
from the table's own rows for that year rather than inflated here.

Example:
    >>> uc = unit_costs(ds, price_year=2015)                                      # doctest: +SKIP
    >>> costed = add_costs(outcomes(ds, cohort), uc)                              # doctest: +SKIP
    >>> costed.total_cost_after.mean()                                            # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.data.codes import SOCIAL_CARE_SERVICES

NEEDED = {"emergency_spell": "per_spell", "excess_bed_day": "per_bed_day", "ae_attendance": "per_attendance",
          **{f"{s}_week": "per_week" for s in SOCIAL_CARE_SERVICES}}
MDT_ITEM = "mdt_case_management"


@dataclass(frozen=True)
class UnitCosts:
    """Unit costs at one price year: ``table`` has item, cost, unit, source."""

    price_year: int
    table: pd.DataFrame

    def cost(self, item: str) -> float:
        row = self.table[self.table["item"] == item]
        if row.empty:
            raise ValueError(f"unit_costs has no item {item!r} for price year {self.price_year} "
                             f"(it has: {', '.join(self.table['item'])})")
        return float(row["cost"].iloc[0])

    def tidy(self) -> pd.DataFrame:
        return self.table.assign(price_year=self.price_year)


def unit_costs(ds: Dataset, price_year: int | None = None,
               mdt_cost_per_patient_year: float | None = None) -> UnitCosts:
    """The unit costs of one price year (default: the earliest in the table).

    ``mdt_cost_per_patient_year`` is used when the table has no ``mdt_case_management`` row (for
    instance the scenario truth's value); it is an error to have neither.

    Example:
        >>> unit_costs(ds).cost("emergency_spell")                                # doctest: +SKIP
        1600.0
    """
    t = ds.execute(ds.table("unit_costs"))
    years = sorted(int(y) for y in t["year"].unique())
    if not years:
        raise ValueError("unit_costs is empty")
    year = years[0] if price_year is None else int(price_year)
    if year not in years:
        raise ValueError(f"unit_costs has no price year {year} (it has: {', '.join(map(str, years))}); "
                         "no inflation index is available to convert between years")
    t = t[t["year"] == year][["item", "cost", "unit", "source"]].reset_index(drop=True)
    for item, unit in NEEDED.items():
        row = t[t["item"] == item]
        if row.empty:
            raise ValueError(f"unit_costs has no item {item!r} for price year {year}")
        if row["unit"].iloc[0] != unit:
            raise ValueError(f"unit_costs item {item!r} is {row['unit'].iloc[0]!r}, expected {unit!r}")
    if MDT_ITEM not in set(t["item"]):
        if mdt_cost_per_patient_year is None:
            raise ValueError(f"unit_costs has no item {MDT_ITEM!r} for price year {year}: "
                             "give mdt_cost_per_patient_year")
        t = pd.concat([t, pd.DataFrame([{"item": MDT_ITEM, "cost": float(mdt_cost_per_patient_year),
                                         "unit": "per_year", "source": "given mdt_cost_per_patient_year"}])],
                      ignore_index=True)
    return UnitCosts(year, t)


def add_costs(frame: pd.DataFrame, uc: UnitCosts, days: int = 365) -> pd.DataFrame:
    """Add cost columns (pounds, ``uc.price_year``) for each ``_before``/``_after`` window of
    :func:`joinedup.economics.outcomes.outcomes`.

    Adds ``emergency_cost_*``, ``ae_cost_*``, ``social_care_cost_*``, ``total_cost_*`` (the three
    together) and, after the index date, ``mdt_cost_after`` (from ``mdt_days``: days enrolled inside
    follow-up, 0 for controls; absent: 0) with ``total_cost_after`` including it.

    Example:
        >>> costed = add_costs(outcomes(ds, cohort), unit_costs(ds))              # doctest: +SKIP
    """
    out = frame.copy()
    for side in ("before", "after"):
        need = [f"emergency_admissions_{side}", f"excess_bed_days_{side}", f"ae_attendances_{side}",
                *(f"days_{s}_{side}" for s in SOCIAL_CARE_SERVICES)]
        missing = [c for c in need if c not in out.columns]
        if missing:
            raise ValueError(f"outcomes frame is missing column(s) {', '.join(missing)}")
        em = (out[f"emergency_admissions_{side}"] * uc.cost("emergency_spell")
              + out[f"excess_bed_days_{side}"] * uc.cost("excess_bed_day"))
        ae = out[f"ae_attendances_{side}"] * uc.cost("ae_attendance")
        sc = sum(out[f"days_{s}_{side}"] * uc.cost(f"{s}_week") / 7.0 for s in SOCIAL_CARE_SERVICES)
        out[f"emergency_cost_{side}"] = em
        out[f"ae_cost_{side}"] = ae
        out[f"social_care_cost_{side}"] = sc
        out[f"total_cost_{side}"] = em + ae + sc
    mdt_days = out["mdt_days"] if "mdt_days" in out.columns else pd.Series(0, index=out.index)
    # MDT cost per patient-year: a year here is the follow-up window (365 days), not 365.25.
    out["mdt_cost_after"] = np.asarray(mdt_days, dtype=float) / days * uc.cost(MDT_ITEM)
    out["total_cost_after"] = out["total_cost_after"] + out["mdt_cost_after"]
    return out
