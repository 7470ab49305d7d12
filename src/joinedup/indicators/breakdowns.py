"""Indicators broken down by deprivation quintile, age band, sex and ethnic group.

Each catalogue indicator whose events belong to persons (admissions, A&E attendances, social care)
is recomputed for every group of each breakdown, per reporting unit (area, site, programme,
England) and financial year, with the catalogue's own method: directly standardised rates
(ESP 2013, Dobson limits), crude rates (Byar's limits) or proportions (Wilson limits), from the
PHEindicatormethods ports in :mod:`joinedup.indicators.stats`.

Breakdowns (protocol ``[indicators] breakdowns``):

- ``imd_quintile``: quintile of the national IMD decile of the person's LSOA (1 = most deprived,
  deciles 1-2), persons.lsoa_imd_decile;
- ``age_band``: 0-17, 18-64, 65-74, 75-84, 85+ (age at the event);
- ``sex``: F, M;
- ``ethnicity``: ONS 2021 high-level groups, persons.ethnic_group.

Denominators of rates come from the persons table (the population table has no deprivation or
ethnicity): people alive on 30 June of the year a period starts, with age ``year - birth_year - 1``
(the table holds the birth year only, so half are a year younger than their age that day).
People whose group is unknown (no LSOA, ethnicity not stated) form the group ``unknown``, so the
groups add up to the whole. A DSR broken down by age band standardises within the band.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/demo/data")                                         # doctest: +SKIP
    >>> table = compute_breakdowns(ds, ["emergency_admissions"], ["imd_quintile"])  # doctest: +SKIP
    >>> table.columns[:4].tolist()                                                 # doctest: +SKIP
    ['indicator', 'breakdown', 'group', 'group_label']
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.indicators.catalogue import CATALOGUE, Indicator
from joinedup.indicators.compute import LEVEL_KEYS, _periods, reporting_units
from joinedup.indicators.methods import indicator_values

BREAKDOWNS: tuple[str, ...] = ("imd_quintile", "age_band", "sex", "ethnicity")
AGE_GROUPS: tuple[tuple[int, str], ...] = ((0, "0-17"), (18, "18-64"), (65, "65-74"), (75, "75-84"),
                                           (85, "85+"))
UNKNOWN = "unknown"
LABELS = {
    "imd_quintile": {"1": "1 (most deprived)", "2": "2", "3": "3", "4": "4", "5": "5 (least deprived)"},
    "sex": {"F": "Female", "M": "Male"},
    "ethnicity": {"white": "White", "mixed": "Mixed or Multiple ethnic groups",
                  "asian": "Asian or Asian British", "black": "Black or Black British",
                  "other": "Other ethnic group"},
}
PERIOD = "financial_year"
COLUMNS = ["indicator", "breakdown", "group", "group_label", "level", "unit", "unit_name",
           "period_start", "period_end", "numerator", "denominator", "value", "lower", "upper",
           "lower_998", "upper_998", "method"]


def supported(indicator: Indicator) -> bool:
    """Whether an indicator can be broken down: person-linked events, a method with groups."""
    return indicator.method in ("dsr", "crude_rate", "proportion") and not indicator.id.startswith(
        "delayed_transfers") and indicator.id != "deaths_in_hospital_share"


def _age_group(age):
    cases = [(age >= lo, label) for lo, label in reversed(AGE_GROUPS)]
    return ibis.cases(*cases, else_=ibis.literal(UNKNOWN))


def _group_expr(t, breakdown: str, age):
    """The group of each row: a string, ``unknown`` where the person's attribute is missing."""
    if breakdown == "imd_quintile":
        q = ((t.lsoa_imd_decile + 1) // 2).cast("string")
        return ibis.coalesce(q, ibis.literal(UNKNOWN))
    if breakdown == "ethnicity":
        return ibis.coalesce(t.ethnic_group, ibis.literal(UNKNOWN))
    if breakdown == "sex":
        return ibis.coalesce(t.sex, ibis.literal(UNKNOWN))
    return _age_group(age)


def _band_start(age):
    return ibis.least((age // 5) * 5, 90).cast("int32")


def _event_counts(ds: Dataset, indicator: Indicator, breakdown: str) -> pd.DataFrame:
    """Numerators (and row counts for proportions) by area, financial year, group (and strata)."""
    events = indicator.events(ds)
    persons = ds.table("persons").select("person_id", "lsoa_imd_decile", "ethnic_group")
    t = events.left_join(persons, "person_id")
    month = t.event_date.truncate("M").cast("date")
    fy = ibis.ifelse(month.month() >= 4, month.year(), month.year() - 1)
    t = t.mutate(fy=fy, group=_group_expr(t, breakdown, t.age))
    keys = ["area_code", "fy", "group"]
    if indicator.method == "proportion":
        metrics = {"numerator": t.hit.cast("int64").sum(), "denominator": t.count()}
    else:
        if indicator.method == "dsr":
            t = t.mutate(sex_s=t.sex, band_start=_band_start(t.age))
            keys += ["sex_s", "band_start"]
            t = t.filter(t.sex.notnull())
        metrics = {"numerator": t.amount.sum()}
    return ds.execute(t.group_by(keys).aggregate(**metrics))


def _population(ds: Dataset, indicator: Indicator, breakdown: str, years: Sequence[int]) -> pd.DataFrame:
    """Persons alive on 30 June of each year, by area, group (and sex and band for DSRs)."""
    p = ds.table("persons")
    parts = []
    for year in years:
        mid = ibis.date(int(year), 6, 30)
        age = (ibis.literal(int(year)) - p.birth_year - 1).cast("int32")
        alive = p.filter(p.death_date.isnull() | (p.death_date > mid)).mutate(age=age)
        alive = alive.filter(alive.age >= max(indicator.min_age, 0))
        alive = alive.mutate(fy=ibis.literal(int(year)), group=_group_expr(alive, breakdown, alive.age))
        keys = ["area_code", "fy", "group"]
        if indicator.method == "dsr":
            alive = alive.mutate(sex_s=alive.sex, band_start=_band_start(alive.age))
            keys += ["sex_s", "band_start"]
        parts.append(alive.group_by(keys).aggregate(population=alive.count()))
    frame = ds.execute(ibis.union(*parts))
    frame["population"] = frame["population"].astype("float64")
    return frame


def _years(ds: Dataset) -> tuple[int, int]:
    pop = ds.table("population")
    out = ds.execute(pop.aggregate(lo=pop.year.min(), hi=pop.year.max()))
    return int(out["lo"].iloc[0]), int(out["hi"].iloc[0])


def _indicator_breakdown(ds: Dataset, indicator: Indicator, breakdown: str,
                         units: pd.DataFrame) -> pd.DataFrame:
    lo, hi = _years(ds)
    periods = _periods(pd.Timestamp(lo, 4, 1).date(), pd.Timestamp(hi, 12, 31).date(), PERIOD)
    periods["fy"] = periods["period_start"].dt.year
    events = _event_counts(ds, indicator, breakdown)
    events = events[events["fy"].isin(periods["fy"])]
    strata = ["sex_s", "band_start"] if indicator.method == "dsr" else []
    keys = ["fy", "group"] + strata
    unit_map = units[["area_code"] + LEVEL_KEYS]
    if indicator.method == "proportion":
        counts = events.merge(unit_map, on="area_code").groupby(
            LEVEL_KEYS + keys, as_index=False)[["numerator", "denominator"]].sum()
    else:
        pop = _population(ds, indicator, breakdown, periods["fy"].tolist())
        pop = pop.merge(unit_map, on="area_code").groupby(LEVEL_KEYS + keys, as_index=False)[
            "population"].sum()
        num = events.merge(unit_map, on="area_code").groupby(LEVEL_KEYS + keys, as_index=False)[
            "numerator"].sum()
        counts = pop.merge(num, on=LEVEL_KEYS + keys, how="outer").fillna(
            {"numerator": 0.0, "population": 0.0}).rename(columns={"population": "denominator"})
    counts = counts.merge(periods, on="fy").drop(columns="fy")
    names = units.drop_duplicates(LEVEL_KEYS)[LEVEL_KEYS + ["unit_name"]]
    counts = counts.merge(names, on=LEVEL_KEYS, how="left")
    parts = []
    for group, frame in counts.groupby("group", sort=True):
        frame = frame.drop(columns="group").rename(columns={"sex_s": "sex"})
        frame.insert(0, "indicator", indicator.id)
        values = indicator_values(frame, indicator)
        parts.append(values.assign(breakdown=breakdown, group=group))
    out = pd.concat(parts, ignore_index=True)
    out["group_label"] = [_label(breakdown, g) for g in out["group"]]
    return out


def _label(breakdown: str, group: str) -> str:
    if group == UNKNOWN:
        return "Not known"
    return LABELS.get(breakdown, {}).get(group, group)


def compute_breakdowns(ds: Dataset, ids: Sequence[str] | None, breakdowns: Sequence[str],
                       programme=None) -> pd.DataFrame:
    """The long table of indicator values by breakdown group (no disclosure control yet: it is
    applied where the table is written, :func:`joinedup.outputs.write_table`)."""
    unknown = [b for b in breakdowns if b not in BREAKDOWNS]
    if unknown:
        raise ValueError(f"unknown breakdown(s) {unknown}; allowed: {', '.join(BREAKDOWNS)}")
    missing = [c for c in ("lsoa_imd_decile", "ethnic_group")
               if c not in ds.table("persons").columns]
    if missing and set(breakdowns) & {"imd_quintile", "ethnicity"}:
        raise ValueError(f"breakdowns by imd_quintile or ethnicity need persons columns {missing} "
                         f"(absent in the persons table at {ds.location})")
    ids = [i for i in (ids or list(CATALOGUE)) if supported(CATALOGUE[i])]
    units = reporting_units(ds, programme)
    parts = [_indicator_breakdown(ds, CATALOGUE[i], b, units) for i in ids for b in breakdowns]
    if not parts:
        return pd.DataFrame(columns=COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    for col in ("period_start", "period_end"):
        table[col] = pd.to_datetime(table[col]).dt.date
    table["numerator"] = table["numerator"].astype("float64")
    return table[COLUMNS].sort_values(["indicator", "breakdown", "level", "unit", "period_start",
                                       "group"], kind="stable").reset_index(drop=True)


def sii_by_unit(breakdowns: pd.DataFrame, repetitions: int = 10_000, seed: int = 18) -> pd.DataFrame:
    """Slope and relative index of inequality across IMD quintiles, per indicator, unit and period.

    PHE's ``phe_sii`` on the quintile rows (value and 95% limits, rates as ``value_type=1``,
    proportions as ``2`` on the 0-1 scale); units lacking a usable value in any quintile (a DSR
    under 10 events, a zero rate, a suppressed cell) get no SII. A negative SII means the value
    falls from the most to the least deprived quintile.
    """
    from joinedup.indicators.phe_sii import phe_sii

    rows = breakdowns[(breakdowns["breakdown"] == "imd_quintile")
                      & (breakdowns["group"] != UNKNOWN)].copy()
    keys = ["indicator", "level", "unit", "unit_name", "period_start", "period_end"]
    if rows.empty:
        return pd.DataFrame(columns=keys + ["sii", "rii"])
    rows["quintile"] = rows["group"].astype(int)
    proportion = rows["method"].str.contains("Wilson")
    scale = np.where(proportion, 100.0, 1.0)  # proportions are stored as percentages
    for col in ("value", "lower", "upper"):
        rows[col] = rows[col] / scale
    usable = rows[["value", "lower", "upper"]].notna().all(axis=1) & (rows["lower"] > 0) & (
        rows["denominator"] > 0)
    rows = rows[usable & ~(proportion & (rows["upper"] >= 1))]
    complete = rows.groupby(keys)["quintile"].transform("nunique") == 5
    rows = rows[complete]
    parts = []
    rng = np.random.default_rng(seed)
    for is_prop, frame in rows.groupby(proportion.loc[rows.index]):
        res = phe_sii(frame, "quintile", "denominator", by=keys, value="value", lower_cl="lower",
                      upper_cl="upper", value_type=2 if is_prop else 1, rii=True,
                      multiplier=100.0 if is_prop else 1.0, repetitions=repetitions, seed=rng,
                      type="standard")
        parts.append(res)
    if not parts:
        return pd.DataFrame(columns=keys + ["sii", "rii"])
    out = pd.concat(parts, ignore_index=True)
    out["method"] = (f"PHE phe_sii across IMD quintiles (1 most deprived), {repetitions} "
                     "simulations for the limits")
    return out.sort_values(keys, kind="stable").reset_index(drop=True)
