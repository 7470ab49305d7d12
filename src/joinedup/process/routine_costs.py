"""A routine cost indicator per site, for setting sites' reported progress on costs against data.

The key-informant item ``prog_costs`` ("per-person health and social care costs have decreased")
had no routine counterpart. This module gives one from the routine data the platform holds:
**emergency admission cost per head** per site and financial year,

    (emergency spells x ``emergency_spell`` + excess bed days x ``excess_bed_day``) / residents,

costed as the tariff pays an emergency admission (a price per spell plus a price per bed day past
the 14-day trim point, :data:`joinedup.economics.outcomes.EMERGENCY_TRIM`; the same costing as the
economic evaluation, :mod:`joinedup.economics.costs`), with the ``unit_costs`` table at one price
year (default its earliest; no inflation index is applied, as in the economics). Emergency spells
are all spells with ``admission_method == "emergency"`` by date of admission (transfers included,
as each is a costed spell), placed in the site by the programme's unit: the area of residence
(``area`` programmes) or the registered practice (``practice`` programmes). Residents are the
mid-year population of the year the financial year starts in (ONS convention for financial-year
rates); for practices, the mean of the registration extracts dated in the financial year. Only
financial years wholly inside the admissions data are given. Social care and A&E costs are not in
the indicator: social care services are not held for the whole population of a site.

Example:
    >>> costs = emergency_cost_per_head(ds, programme)                           # doctest: +SKIP
    >>> costs[["site", "financial_year", "cost_per_head"]].head()                # doctest: +SKIP
"""

from __future__ import annotations

import altair as alt
import ibis
import pandas as pd

from joinedup.report.charts import Figure

ITEMS = {"emergency_spell": "per_spell", "excess_bed_day": "per_bed_day"}
COLUMNS = ["site", "financial_year", "period_start", "period_end", "emergency_spells", "excess_bed_days",
           "residents", "cost", "cost_per_head", "price_year"]


def emergency_unit_costs(ds, price_year: int | None = None) -> tuple[int, dict[str, float]]:
    """``(price year, {item: cost})`` of the two items; ValueError naming what is missing."""
    t = ds.execute(ds.table("unit_costs"))
    t = t[t["item"].isin(list(ITEMS))]
    years = sorted(int(y) for y in t["year"].unique())
    if not years:
        raise ValueError(f"unit_costs has no {' or '.join(ITEMS)} rows")
    year = years[0] if price_year is None else int(price_year)
    part = t[t["year"] == year].set_index("item")
    for item, unit in ITEMS.items():
        if item not in part.index:
            raise ValueError(f"unit_costs has no item {item!r} for price year {year}")
        if part.at[item, "unit"] != unit:
            raise ValueError(f"unit_costs item {item!r} is {part.at[item, 'unit']!r}, expected {unit!r}")
    return year, {item: float(part.at[item, "cost"]) for item in ITEMS}


def _fy(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    return d.dt.year - (d.dt.month < 4).astype(int)


def _spells(ds, unit_column: str) -> pd.DataFrame:
    """Emergency spells and excess bed days per unit and financial year (aggregated in the engine)."""
    from joinedup.economics.outcomes import EMERGENCY_TRIM

    adm = ds.table("admissions")
    adm = adm.filter(adm.admission_method == "emergency")
    los = adm.discharge_date.delta(adm.admission_date, unit="day")
    year = adm.admission_date.year()
    fy = ibis.ifelse(adm.admission_date.month() < 4, year - 1, year)
    t = adm.select(unit=adm[unit_column], financial_year=fy,
                   excess=ibis.greatest(los - EMERGENCY_TRIM, 0).fill_null(0))
    return ds.execute(t.group_by(["unit", "financial_year"]).aggregate(
        emergency_spells=t.count(), excess_bed_days=t.excess.sum()))


def _residents(ds, unit: str) -> pd.DataFrame:
    """Residents per unit and financial year."""
    if unit == "practice":
        pp = ds.execute(ds.table("practice_population").select("practice_code", "extract_date", "persons"))
        pp["financial_year"] = _fy(pp["extract_date"])
        per_extract = pp.groupby(["practice_code", "financial_year", "extract_date"], as_index=False)["persons"].sum()
        out = per_extract.groupby(["practice_code", "financial_year"], as_index=False)["persons"].mean()
        return out.rename(columns={"practice_code": "unit", "persons": "residents"})
    pop = ds.table("population")
    out = ds.execute(pop.group_by(["area_code", "year"]).aggregate(residents=pop.persons.sum()))
    return out.rename(columns={"area_code": "unit", "year": "financial_year"})


def emergency_cost_per_head(ds, programme, price_year: int | None = None) -> pd.DataFrame:
    """Per site of ``programme`` and complete financial year: spells, excess bed days, residents,
    cost (£, ``price_year`` prices) and cost per head (see the module docstring)."""
    year, cost = emergency_unit_costs(ds, price_year)
    units = programme.sites[["site", "area_code"]].drop_duplicates().rename(columns={"area_code": "unit"})
    spells = _spells(ds, "practice_code" if programme.unit == "practice" else "area_code")
    adm = ds.table("admissions")
    span = ds.execute(adm.aggregate(first=adm.admission_date.min(), last=adm.admission_date.max()))
    first, last = pd.Timestamp(span["first"].iloc[0]), pd.Timestamp(span["last"].iloc[0])
    # spells and residents summed over the site's units separately: a unit with no spell in a year
    # still has residents
    by_site = units.merge(spells, on="unit").groupby(["site", "financial_year"])[
        ["emergency_spells", "excess_bed_days"]].sum()
    residents = units.merge(_residents(ds, programme.unit), on="unit").groupby(
        ["site", "financial_year"])["residents"].sum()
    out = by_site.join(residents, how="inner").reset_index()
    out["period_start"] = pd.to_datetime(out["financial_year"].astype(str) + "-04-01")
    out["period_end"] = out["period_start"] + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    # whole financial years only: a part year would read as a fall in cost
    out = out[(out["period_start"] >= first.normalize().replace(day=1)) & (out["period_end"] <= last)]
    out["cost"] = out["emergency_spells"] * cost["emergency_spell"] + out["excess_bed_days"] * cost["excess_bed_day"]
    out["cost_per_head"] = out["cost"] / out["residents"]
    out["price_year"] = year
    return out[COLUMNS].sort_values(["site", "financial_year"]).reset_index(drop=True)


def cost_change(costs: pd.DataFrame, starts: pd.Series) -> pd.DataFrame:
    """``site, measure ("costs"), routine_change``: the percentage change of a site's cost per head
    from the mean of its financial years ending before its start to its last year (as
    :func:`joinedup.process.sources.routine_change` does for the indicators)."""
    from joinedup.process.sources import change_from_baseline

    return change_from_baseline(costs.rename(columns={"cost_per_head": "value"}), starts, "costs")


def routine_costs_figure(costs: pd.DataFrame) -> Figure:
    """Emergency admission cost per head by site and financial year, with the mean over sites."""
    d = costs.dropna(subset=["cost_per_head"]).assign(fy=lambda f: f["financial_year"].map(
        lambda y: f"{int(y)}/{str(int(y) + 1)[2:]}"))[["site", "financial_year", "fy", "cost_per_head", "price_year"]]
    lines = alt.Chart(d).mark_line(opacity=0.35, color="#888").encode(
        x=alt.X("fy:O", title="Financial year"), y=alt.Y("cost_per_head:Q", title="£ per head"), detail="site:N",
        tooltip=["site", "fy", alt.Tooltip("cost_per_head:Q", format=",.2f")])
    mean = alt.Chart(d).mark_line(point=True, color="#005eb8", strokeWidth=3).encode(
        x="fy:O", y="mean(cost_per_head):Q")
    by = d.groupby("fy")["cost_per_head"].mean()
    alt_text = (f"Emergency admission cost per head in {d['site'].nunique()} sites, "
                f"{d['price_year'].iloc[0]}/{str(int(d['price_year'].iloc[0]) + 1)[2:]} prices: mean "
                + "; ".join(f"{fy} £{v:,.2f}" for fy, v in by.items()) + ".") if len(d) else "No cost data."
    return Figure.from_chart("process-routine-costs", "Emergency admission cost per head (routine data)", alt_text,
                             (lines + mean).properties(width=420, height=240), d, width=None)
