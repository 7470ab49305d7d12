"""The period and reporting-unit stage of the indicators on the engine (Ibis), not in pandas.

:func:`joinedup.indicators.compute.monthly_counts` leaves each indicator's counts by area and month
(and stratum) as an engine table. This module sums them into periods (months nest in quarters and
financial years) and reporting units (areas, sites, waves, programme, England) with one Ibis query
per indicator for all its kinds of period, so what crosses to Python is about one row per unit and
period (per stratum for DSRs): the table's final size, whatever the size of the data. Only the confidence limits are computed in Python,
vectorised in numpy with the PHEindicatormethods formulas of :mod:`joinedup.indicators.stats`:

- crude rates and proportions: numerator and denominator per unit and period, then
  :func:`joinedup.indicators.methods.indicator_values` (Byar's/exact and Wilson limits);
- directly standardised rates: the engine gives the events per unit, period and stratum with the
  stratum's residents and weight; numpy adds the Dobson sums in a fixed order (so DuckDB and Spark
  agree to the bit) and the limits (:func:`joinedup.indicators.phe_standardised.dsr_from_sums`,
  shared with ``stats.dsr``);
- percentiles (type 7): the engine ranks the frequency table with a cumulative window and picks the
  two values to mix; numpy mixes them.

It gives the same table as the pandas route (``period_counts`` then ``indicator_values``, kept as
the reference and for the breakdowns): counts exactly, sums of amounts and rates to rounding in the
last bits (the strata are added in another order); ``tests/test_indicator_engine_periods.py`` compares
them on every indicator and period. The same expressions run on DuckDB and Spark.

Example:
    >>> monthly = monthly_counts(ds, CATALOGUE["acsc_chronic"], keep=True)     # doctest: +SKIP
    >>> values = engine_values(ds, monthly, "quarter", reporting_units(ds))    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.data.sources import memtable
from joinedup.indicators.compute import LEVEL_KEYS, MonthlyCounts, _finish, _periods, _strata
from joinedup.indicators.methods import ESP2013, KEYS, LIMITS, OUTPUT, indicator_values
from joinedup.indicators.phe_standardised import dsr_from_sums
from joinedup.options import Period, check_option

UNIT_PERIOD = ["period", "uid", "period_start", "period_end"]  # uid: an integer for (level, unit), cheap to group on
MONTHS = {"month": 1, "quarter": 3, "financial_year": 12}


def calendar(monthly: MonthlyCounts, periods) -> pd.DataFrame:
    """Every month of every period lying wholly inside the indicator's months, with its period
    (``period``, ``period_start``, ``period_end``): a month is in one period of each kind.

    Example:
        >>> import datetime as dt
        >>> m = MonthlyCounts(None, None, None, dt.date(2014, 2, 1), dt.date(2014, 12, 31))
        >>> calendar(m, ["quarter"])["period_start"].dt.month.unique().tolist()
        [4, 7, 10]
    """
    parts = []
    for period in periods:
        frame = _periods(monthly.first, monthly.last, period)
        steps = np.arange(MONTHS[period])
        rows = frame.loc[frame.index.repeat(len(steps))].reset_index(drop=True)
        offsets = np.tile(steps, len(frame))
        rows["month"] = [start + pd.DateOffset(months=int(k)) for start, k in zip(rows["period_start"], offsets)]
        parts.append(rows.assign(period=period))
    cols = ["month", "period", "period_start", "period_end"]
    return pd.concat(parts, ignore_index=True)[cols]


def unit_ids(units: pd.DataFrame) -> pd.DataFrame:
    """``level, unit, uid``: one integer per reporting unit."""
    ids = units[LEVEL_KEYS].drop_duplicates().sort_values(LEVEL_KEYS).reset_index(drop=True)
    return ids.assign(uid=np.arange(len(ids), dtype="int64"))


def _memtable(frame: pd.DataFrame) -> ibis.Table:
    """A pandas frame as an engine table, datetime columns as dates."""
    schema = {c: ("date" if c in ("month", "period_start", "period_end") else
                  "string" if c == "period" else str(frame[c].dtype)) for c in frame.columns}
    return memtable(frame, schema=schema)


def _periods_by_year(monthly: MonthlyCounts, periods) -> ibis.Table:
    """The periods and the calendar year of their denominator (the year in which they start)."""
    frame = pd.concat([_periods(monthly.first, monthly.last, p).assign(period=p) for p in periods],
                      ignore_index=True)
    return _memtable(frame.assign(year=frame["period_start"].dt.year.astype("int64")))


def _unit_population(monthly: MonthlyCounts, units: pd.DataFrame, ids: pd.DataFrame, cache) -> pd.DataFrame:
    """The denominator population summed to reporting units and years (small: units x years x strata),
    added in pandas in the order the pandas route adds, so denominators are bit for bit the same."""
    strata = _strata(monthly.indicator)

    def compute():
        pop = monthly.population.merge(units[["area_code"] + LEVEL_KEYS], on="area_code")
        pop = pop.groupby(LEVEL_KEYS + ["year"] + strata, as_index=False)["population"].sum()
        pop = pop.merge(ids, on=LEVEL_KEYS).drop(columns=LEVEL_KEYS)
        return pop.assign(year=pop["year"].astype("int64"), population=pop["population"].astype("float64"))

    if cache is None:
        return compute()
    ind = monthly.indicator  # one cache serves one run: one dataset, one set of reporting units
    key = ("unit_population", ind.method == "dsr", ind.min_age, ind.adult_population)
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def _to_units(monthly: MonthlyCounts, periods, units: pd.DataFrame, ids: pd.DataFrame) -> ibis.Table:
    """The monthly engine table joined to its periods (whole periods only) and reporting units."""
    cal = _memtable(calendar(monthly, periods))
    unit_t = memtable(units[["area_code"] + LEVEL_KEYS].merge(ids, on=LEVEL_KEYS)[["area_code", "uid"]]
                      .astype({"area_code": str}))
    counts = monthly.table
    if monthly.indicator.method == "dsr":  # unknown sex: counted apart by monthly_counts (not_standardised)
        counts = counts.filter(counts.sex.notnull())
    return counts.inner_join(cal, "month").inner_join(unit_t, "area_code")


def _rates(monthly: MonthlyCounts, periods, units, ids, cache) -> ibis.Table:
    """Numerator and denominator per unit and period: every unit x period with residents appears
    (zero events where none), as ``period_counts`` does (an outer join, written as a union and a sum)."""
    j = _to_units(monthly, periods, units, ids)
    counts = j.group_by(UNIT_PERIOD).aggregate(numerator=j.numerator.sum().cast("float64"))
    pop_t = memtable(_unit_population(monthly, units, ids, cache))
    p = pop_t.inner_join(_periods_by_year(monthly, periods), "year")
    zero = ibis.literal(0.0, type="float64")
    left = p.select(*[p[k] for k in UNIT_PERIOD], numerator=zero, denominator=p.population)
    right = counts.select(*[counts[k] for k in UNIT_PERIOD], numerator=counts.numerator, denominator=zero)
    both = left.union(right, distinct=False)
    # Each key is on each side at most once: adding 0.0 leaves either value exactly as it was.
    return both.group_by(UNIT_PERIOD).aggregate(numerator=both.numerator.sum(), denominator=both.denominator.sum())


def _dsr_strata(monthly: MonthlyCounts, periods, units, ids, cache) -> tuple[ibis.Table, pd.DataFrame]:
    """For a directly standardised rate: the events per unit, period and stratum with the stratum's
    residents and ESP weight (an engine query: at most units x periods x strata rows, whatever the
    size of the data), and the residents and weights of the strata with residents per unit and
    period (pandas, from the small unit population)."""
    pop = _unit_population(monthly, units, ids, cache)
    pop = pop.assign(esp=pop["band_start"].map(ESP2013).astype("float64"), band_start=pop["band_start"].astype("int32"))
    has = pop[pop["population"] > 0]
    totals = has.groupby(["uid", "year"], as_index=False).agg(total_pop=("population", "sum"), stdpop=("esp", "sum"))
    frame = pd.concat([_periods(monthly.first, monthly.last, p).assign(period=p) for p in periods], ignore_index=True)
    totals = frame.assign(year=frame["period_start"].dt.year).merge(totals, on="year").drop(columns="year")
    j = _to_units(monthly, periods, units, ids)
    x = j.group_by(UNIT_PERIOD + ["sex", "band_start"]).aggregate(x=j.numerator.sum().cast("float64"))
    x = x.mutate(year=x.period_start.year().cast("int64"), band_start=x.band_start.cast("int32"))
    pop_t = memtable(pop[["uid", "year", "sex", "band_start", "population", "esp"]])
    t = x.left_join(pop_t, [x.uid == pop_t.uid, x.year == pop_t.year, x.sex == pop_t.sex,
                            x.band_start == pop_t.band_start])
    t = t.select(*[t[k] for k in UNIT_PERIOD + ["sex", "band_start", "x", "population", "esp"]])
    # A fixed order, so that the sums below add in the same order on every engine.
    return t.order_by(UNIT_PERIOD + ["sex", "band_start"]), totals


def _dsr_sums(strata: pd.DataFrame, totals: pd.DataFrame) -> pd.DataFrame:
    """The Dobson sums per unit and period (PHE calculate_dsr): over the strata with residents,
    sum of x w / n and of x (w / n)^2 and the events; the events in strata without residents apart
    (counted in the numerator, never silently lost). Added in numpy in the rows' order, so DuckDB
    and Spark give the same bits."""
    keys = ["period", "uid", "period_start"]
    n = strata["population"].to_numpy(dtype="float64", na_value=np.nan)
    live = n > 0  # NaN (no residents' row at all) is not live either
    safe = np.where(live, n, 1.0)
    x = strata["x"].to_numpy(dtype="float64")
    w = strata["esp"].to_numpy(dtype="float64", na_value=0.0)
    ratio = w / safe
    terms = {"total_count": np.where(live, x, 0.0), "wt_rate": np.where(live, x * w / safe, 0.0),
             "sq_rate": np.where(live, x * (ratio * ratio), 0.0), "events_without_population": np.where(live, 0.0, x)}
    if len(strata):
        new = np.ones(len(strata), dtype=bool)
        new[1:] = np.any([strata[k].to_numpy()[1:] != strata[k].to_numpy()[:-1] for k in keys], axis=0)
        starts = np.flatnonzero(new)
        sums = strata.loc[starts, keys].reset_index(drop=True)
        for name, values in terms.items():
            sums[name] = np.add.reduceat(values, starts)
    else:
        sums = pd.DataFrame({**{k: strata[k] for k in keys}, **{k: pd.Series(dtype="float64") for k in terms}})
    out = totals.merge(sums, on=keys, how="left")  # a unit-period needs residents somewhere, as before
    return out.fillna({k: 0.0 for k in terms})


def _percentile_parts(monthly: MonthlyCounts, periods, units, ids, p: float) -> ibis.Table:
    """Per unit and period: the two values a type-7 percentile mixes, and the number of values."""
    j = _to_units(monthly, periods, units, ids)
    freq = j.group_by(UNIT_PERIOD + ["amount"]).aggregate(n=j.n.sum())
    upto = ibis.cumulative_window(group_by=UNIT_PERIOD, order_by="amount")  # amounts unique per group
    freq = freq.mutate(cum=freq.n.sum().over(upto), total=freq.n.sum().over(group_by=UNIT_PERIOD))
    h = (freq.total - 1).cast("float64") * p
    lo_rank, hi_rank = h.floor() + 1, h.ceil() + 1
    before = freq.cum - freq.n
    amount = freq.amount.cast("float64")
    none = ibis.null("float64")
    v_lo = ((before < lo_rank) & (freq.cum >= lo_rank)).ifelse(amount, none)
    v_hi = ((before < hi_rank) & (freq.cum >= hi_rank)).ifelse(amount, none)
    return freq.group_by(UNIT_PERIOD).aggregate(v_lo=v_lo.max(), v_hi=v_hi.max(), denominator=freq.n.sum())


def _fetch(ds: Dataset, expr: ibis.Table | None, ids: pd.DataFrame | None, units: pd.DataFrame, indicator,
           frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """Run the query (or take ``frame``); with ``ids``, name the units again (level, unit, unit_name)
    and add the indicator."""
    if frame is None:
        frame = ds.backend.to_pyarrow(expr).to_pandas()
        for col in ("period_start", "period_end"):
            frame[col] = pd.to_datetime(frame[col])
    if ids is None:
        return frame
    frame = frame.merge(ids, on="uid").drop(columns="uid")
    return _finish(frame, units, indicator)


def engine_values(ds: Dataset, monthly: MonthlyCounts, periods: Sequence[Period], units: pd.DataFrame,
                  cache: dict | None = None) -> pd.DataFrame:
    """One row per kind of period, unit and period: ``period`` and the columns of
    :data:`joinedup.indicators.methods.OUTPUT` (numerator, denominator, value, limits, method), from
    ``monthly_counts(..., keep=True)``; one engine query for all ``periods``."""
    if isinstance(periods, str):
        periods = [periods]
    for period in periods:
        check_option("period", period)
    indicator = monthly.indicator
    if monthly.table is None:
        raise ValueError(f"indicator {indicator.id!r}: monthly_counts(..., keep=True) keeps the engine table")
    ids = unit_ids(units)
    if indicator.method == "percentile":
        expr, finish = _percentile_parts(monthly, periods, units, ids, indicator.percentile), \
            lambda f: _percentile_values(f, indicator.percentile)
    elif indicator.method == "proportion":
        j = _to_units(monthly, periods, units, ids)
        expr = j.group_by(UNIT_PERIOD).aggregate(numerator=j.numerator.sum(), denominator=j.denominator.sum())
        finish = lambda f: indicator_values(f, indicator)
    elif indicator.method == "dsr":
        expr, totals = _dsr_strata(monthly, periods, units, ids, cache)
        finish = lambda f: _dsr_values(f, indicator)
    else:
        expr, finish = _rates(monthly, periods, units, ids, cache), lambda f: indicator_values(f, indicator)
    if indicator.method == "dsr":
        frame = _fetch(ds, expr, None, units, indicator)
        frame = _fetch(ds, None, ids, units, indicator, _dsr_sums(frame, totals))
    else:
        frame = _fetch(ds, expr, ids, units, indicator)
    # The limits, vectorised over the few rows per kind of period (units x periods).
    return pd.concat([finish(frame[frame["period"] == p].drop(columns="period")).assign(period=p)
                      for p in periods], ignore_index=True)


def _dsr_values(frame: pd.DataFrame, indicator) -> pd.DataFrame:
    res = dsr_from_sums(frame, multiplier=indicator.multiplier, confidence=(0.95, 0.998))
    out = frame[KEYS].copy()
    out["numerator"] = frame["total_count"] + frame["events_without_population"]
    out["denominator"] = frame["total_pop"]
    out["value"] = res["value"]
    for phe, ours in LIMITS.items():
        out[ours] = res[phe]
    out["method"] = np.where(out["value"].isna(), "DSR (ESP 2013), not given for fewer than 10 events",
                             "DSR (ESP 2013), Dobson limits")
    return out[OUTPUT].sort_values(KEYS[1:5], kind="stable").reset_index(drop=True)


def _percentile_values(frame: pd.DataFrame, p: float) -> pd.DataFrame:
    out = frame.copy()
    h = (out["denominator"].to_numpy() - 1) * p  # as methods._percentile: the same arithmetic in numpy
    out["value"] = out["v_lo"] + (h - np.floor(h)) * (out["v_hi"] - out["v_lo"])
    out["numerator"] = np.nan
    for col in LIMITS.values():
        out[col] = np.nan
    out["method"] = f"{p:.0%} percentile (type 7), no limits"
    return out[OUTPUT].sort_values(KEYS[1:5], kind="stable").reset_index(drop=True)
