"""Compile indicator definitions to counts on the engine, for every reporting unit and period.

Two stages. The engine does the heavy work once per indicator: filter and join the events and count
them by area, month and stratum (sex and age band for standardised rates). Those tables are then
summed into periods (months nest in quarters and financial years) and reporting units: every
area; every Pioneer site (the sum of its areas); each Pioneer wave; all Pioneers and the rest of
England; England.

``period_counts`` here does that second stage in pandas (the reference, and the route of the
breakdowns); ``compute_indicators`` does it on the engine (``engine_periods``), same table.

Denominators are the mid-year population of the calendar year in which the period starts; a rate is
for its period (not annualised). A period counts only if it lies wholly inside the months the
indicator's events cover, and, for measures with follow-up (readmissions, 91 days at home), only if
the follow-up of every event in it is inside the data.

Example:
    >>> monthly = monthly_counts(ds, CATALOGUE["emergency_admissions"])          # doctest: +SKIP
    >>> quarterly = period_counts(monthly, "quarter", reporting_units(ds))      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.indicators.catalogue import Indicator
from joinedup.options import Period, check_option

LEVEL_KEYS = ["level", "unit"]


def period_end(starts: pd.Series, period: str) -> pd.Series:
    months = {"month": 1, "quarter": 3, "financial_year": 12}[period]
    return pd.to_datetime(starts) + pd.DateOffset(months=months) - pd.Timedelta(days=1)


def reporting_units(ds: Dataset, programme=None) -> pd.DataFrame:
    """Which reporting units each area belongs to: ``area_code, level, unit, unit_name``.

    The site levels (codes ``pioneer_site``, ``pioneer_wave``, ``programme``, kept for the readers of
    the table) follow ``programme`` (a :class:`joinedup.programme.Programme`, default the built-in
    Pioneers); a practice-level programme's sites are not sums of areas, so it adds no site levels."""
    areas = ds.execute(ds.table("areas").select("area_code", "area_name"))
    if programme is None:
        prog = ds.execute(ds.table("programmes").filter(ibis._.programme == "pioneer").select("site", "area_code", "wave"))
        wave_word, all_word = "Pioneer wave ", "All Pioneers"
    else:
        prog = programme.sites[["site", "area_code", "wave"]] if programme.unit == "area" else \
            pd.DataFrame(columns=["site", "area_code", "wave"])
        wave_word, all_word = f"{programme.name} wave ", f"All {programme.name}"
    rows = [areas.assign(level="area", unit=areas.area_code, unit_name=areas.area_name)]
    rows.append(prog.assign(level="pioneer_site", unit=prog.site, unit_name=prog.site))
    waves = prog.drop_duplicates("area_code")
    rows.append(waves.assign(level="pioneer_wave", unit="wave_" + waves.wave.astype(str),
                             unit_name=wave_word + waves.wave.astype(str)))
    pioneer = areas.area_code.isin(prog.area_code)
    rows.append(areas.assign(level="programme", unit=np.where(pioneer, "pioneers", "rest_of_england"),
                             unit_name=np.where(pioneer, all_word, "Rest of England")))
    rows.append(areas.assign(level="england", unit="england", unit_name="England"))
    cols = ["area_code", "level", "unit", "unit_name"]
    return pd.concat([r[cols] for r in rows], ignore_index=True).sort_values(cols).reset_index(drop=True)


def _band_start(age):
    return ibis.least((age // 5) * 5, 90).cast("int32")


@dataclass(frozen=True)
class MonthlyCounts:
    """What the engine returns for one indicator: counts by area and month (and stratum), the
    population by area and year (and stratum), and the months the events cover."""

    indicator: Indicator
    events: pd.DataFrame
    population: pd.DataFrame | None
    first: dt.date
    last: dt.date
    # Directly standardised rates need a sex: events whose sex is not known (kept by the importers)
    # are counted here instead of being lost silently from the strata.
    not_standardised: float = 0.0
    # The same counts kept on the engine (``keep=True``; month as a date; events of unknown sex still
    # in, as in ``events`` before the filter above) for the period and unit stage there (``engine_periods``).
    table: object = None


def _strata(indicator: Indicator) -> list[str]:
    return ["sex", "band_start"] if indicator.method == "dsr" else []


def _cached(cache: dict | None, key: tuple, compute):
    """Dataset-wide facts (population, year range) are queried once per run, not per indicator."""
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _last_admission(ds: Dataset) -> pd.Timestamp:
    return pd.Timestamp(ds.execute(ds.table("admissions").admission_date.max()))


def _years(ds: Dataset) -> tuple[int, int]:
    years = ds.execute(ds.table("population").aggregate(lo=ibis._.year.min(), hi=ibis._.year.max()))
    return int(years["lo"].iloc[0]), int(years["hi"].iloc[0])


def monthly_counts(ds: Dataset, indicator: Indicator, cache: dict | None = None,
                   keep: bool = False) -> MonthlyCounts:
    """Run the indicator's definition on the engine: one aggregate query (and one for population).

    ``cache``: a dict shared across indicators of one run on one dataset, to query the population
    and the data's time span once. ``keep``: also keep the counts as a cached engine table
    (``.table``; call ``.table.release()`` when done) for :mod:`joinedup.indicators.engine_periods`.
    """
    events = indicator.events(ds)
    events = events.mutate(month=events.event_date.truncate("M").cast("date"))
    keys = ["area_code", "month"]
    if indicator.method == "proportion":
        metrics = {"numerator": events.hit.cast("int64").sum(), "denominator": events.count()}
    elif indicator.method == "percentile":
        keys, metrics = keys + ["amount"], {"n": events.count()}
    else:
        if indicator.method == "dsr":
            events = events.mutate(band_start=_band_start(events.age))
        keys, metrics = keys + _strata(indicator), {"numerator": events.amount.sum()}
    # Arrow straight to pandas skips Ibis's per-column pandas conversion (a large share of the time
    # for the many-row percentile and DSR tables); month arrives as dates and is converted below.
    table = events.group_by(keys).aggregate(**metrics)
    if keep:  # computed once, read by the fetch below and by every period's query
        table = table.cache()
    counts = ds.backend.to_pyarrow(table).to_pandas()
    if counts.empty:
        raise ValueError(f"indicator {indicator.id!r}: no events in the dataset at {ds.location}")
    counts["month"] = pd.to_datetime(counts["month"])
    not_standardised = 0.0
    if indicator.method == "dsr":
        unknown = counts["sex"].isna()
        not_standardised = float(counts.loc[unknown, "numerator"].sum())
        counts = counts[~unknown]
    first, last = counts["month"].min(), counts["month"].max() + pd.offsets.MonthEnd(0)
    if indicator.followup_days:  # only events whose follow-up lies inside the data
        last_admission = _cached(cache, ("last_admission",), lambda: _last_admission(ds))
        last = min(last, last_admission - pd.Timedelta(days=indicator.followup_days))
    # Periods stay inside the years the data describe (the population table's years): services
    # that began before them (people already in a care home) have no denominator.
    lo, hi = _cached(cache, ("years",), lambda: _years(ds))
    first, last = max(first, pd.Timestamp(lo, 1, 1)), min(last, pd.Timestamp(hi, 12, 31))
    population = None
    if indicator.method not in ("proportion", "percentile"):
        key = ("population", indicator.method == "dsr", indicator.min_age, indicator.adult_population)
        population = _cached(cache, key, lambda: _population(ds, indicator))
    return MonthlyCounts(indicator, counts, population, first.date(), last.date(), not_standardised,
                         table if keep else None)


def _periods(first: dt.date, last: dt.date, period: str) -> pd.DataFrame:
    """The periods lying wholly inside [first, last]."""
    months = {"month": 1, "quarter": 3, "financial_year": 12}[period]
    anchor = {"month": 1, "quarter": 1, "financial_year": 4}[period]
    start = pd.Timestamp(first)
    while (start.month - anchor) % months:
        start += pd.DateOffset(months=1)
    starts = pd.date_range(start, pd.Timestamp(last), freq=pd.DateOffset(months=months))
    frame = pd.DataFrame({"period_start": starts})
    frame["period_end"] = period_end(frame["period_start"], period)
    return frame[frame["period_end"] <= pd.Timestamp(last)].reset_index(drop=True)


def _period_of(months: pd.Series, period: str) -> pd.Series:
    """The start of the period each month falls in (datetime64: fast keys for merges)."""
    if period == "month":
        return months
    if period == "quarter":
        return months.dt.to_period("Q").dt.start_time
    year = months.dt.year - (months.dt.month < 4).astype(int)
    return pd.to_datetime({"year": year, "month": 4, "day": 1})


def _population(ds: Dataset, indicator: Indicator) -> pd.DataFrame:
    """Denominator population by area, year (and sex and band); bands below min_age dropped.

    The engine sums whole persons (exact in any order); the 18+ weighting is applied here, so
    results are identical run to run whatever order a parallel engine adds in.
    """
    pop = ds.table("population")
    pop = pop.mutate(band_start=pop.age_band.re_extract(r"^([0-9]+)", 1).cast("int32"))
    lowest = 15 if indicator.adult_population else indicator.min_age
    if lowest:
        pop = pop.filter(pop.band_start >= lowest)
    keys = ["area_code", "year"] + _strata(indicator)
    band_keys = keys if "band_start" in keys else keys + ["band_start"]
    frame = ds.execute(pop.group_by(band_keys).aggregate(population=pop.persons.sum()))
    frame["population"] = frame["population"].astype("float64")
    if indicator.adult_population:  # 18+ from five-year bands: 20+ and two fifths of 15-19
        frame.loc[frame["band_start"] == 15, "population"] *= 0.4
    return frame.groupby(keys, as_index=False)["population"].sum()


def period_counts(monthly: MonthlyCounts, period: Period, units: pd.DataFrame) -> pd.DataFrame:
    """Numerators and denominators by reporting unit and period (and stratum for DSRs)."""
    check_option("period", period)
    indicator = monthly.indicator
    periods = _periods(monthly.first, monthly.last, period)
    events = monthly.events[(monthly.events["month"] >= pd.Timestamp(monthly.first))
                            & (monthly.events["month"] <= pd.Timestamp(monthly.last))]
    events = events.assign(period_start=_period_of(events["month"], period)).drop(columns="month")
    strata = _strata(indicator)
    # Sum months into periods per area first: the fan-out to reporting units then moves few rows.
    area_keys = ["area_code", "period_start"] + strata + (["amount"] if indicator.method == "percentile" else [])
    events = events.groupby(area_keys, as_index=False, sort=False).sum()
    events = events.merge(units[["area_code"] + LEVEL_KEYS], on="area_code").drop(columns="area_code")
    if monthly.population is None:
        extra = ["amount"] if indicator.method == "percentile" else []
        frame = events.groupby(LEVEL_KEYS + ["period_start"] + extra, as_index=False).sum()
        return _finish(frame.merge(periods, on="period_start"), units, indicator)
    keys = LEVEL_KEYS + ["period_start"] + strata
    counts = events.groupby(keys, as_index=False)["numerator"].sum()
    pop = monthly.population.merge(units[["area_code"] + LEVEL_KEYS], on="area_code")
    pop = pop.groupby(LEVEL_KEYS + ["year"] + strata, as_index=False)["population"].sum()
    # Every unit x period x stratum with residents appears, with zero events where there were none;
    # the denominator is the mid-year population of the calendar year in which the period starts.
    # Events in a stratum without residents are kept (denominator 0) for the method to report.
    frame = pop.merge(periods.assign(year=periods["period_start"].dt.year), on="year")
    frame = frame.drop(columns="year").merge(counts.merge(periods, on="period_start"),
                                            on=keys + ["period_end"], how="outer")
    frame = frame.fillna({"numerator": 0.0, "population": 0.0})
    return _finish(frame.rename(columns={"population": "denominator"}), units, indicator)


def indicator_counts(ds: Dataset, indicator: Indicator, period: Period) -> pd.DataFrame:
    """Both stages for one indicator and one period (convenient; slower for many periods)."""
    return period_counts(monthly_counts(ds, indicator), period, reporting_units(ds))


def _finish(frame: pd.DataFrame, units: pd.DataFrame, indicator: Indicator) -> pd.DataFrame:
    names = units.drop_duplicates(LEVEL_KEYS)[LEVEL_KEYS + ["unit_name"]]
    frame = frame.merge(names, on=LEVEL_KEYS, how="left")
    frame.insert(0, "indicator", indicator.id)
    return frame
