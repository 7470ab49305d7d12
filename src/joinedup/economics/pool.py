"""The economics control pool built on the engine: only the eligible controls, with their baseline, reach pandas.

:func:`joinedup.economics.cohort.control_pool` used to read everyone old enough (at scale 1.0 some 11
million people aged 65+) into pandas, draw each a pseudo-index date there, apply the age, alive,
look-back, follow-up and MDT-free rules there, and then upload the survivors' windows again to count
their prior use. Here the same rules are an Ibis query:

1. the persons old enough by the last index date, filtered on the engine (only their ids, sorted, reach
   the driver);
2. the seeded draw, done in numpy exactly as before (``rng.choice`` over the sorted index dates, one
   per person in ``person_id`` order: the same generator calls, so the same dates for the same
   people), uploaded as one narrow Arrow table (person_id, index date; 12 bytes a person);
3. the eligibility rules and the practice's MDT adoption (a small table) as filters;
4. prior use in the look-back window (and in the last 365 days for the risk score) counted per row
   on the engine with the joins of :mod:`joinedup.economics.outcomes`, joined to the pool there.

One frame comes back: the eligible controls, the columns :func:`control_pool` always returned (the
matching's covariates, exact-matching keys and what the matched analysis reads), in the same order
with the same values; the risk score is then added in numpy. ``tests/test_economics_pool.py``
checks the frame equals the pandas route's (:mod:`joinedup.economics.pool_reference`) exactly.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/sim")                                              # doctest: +SKIP
    >>> pool = eligible_pool(ds, dates, np.random.default_rng(7), 65, 365, 365, data_period(ds),
    ...                      mdt_adoption(ds), True, True)                        # doctest: +SKIP
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from joinedup.data import Dataset
from joinedup.data.sources import memtable
from joinedup.economics.outcomes import _ae, _emergency, _social_care

PRIOR = {"prior_emergency_admissions": "emergency_admissions", "prior_bed_days": "bed_days",
         "prior_ae_attendances": "ae_attendances", "prior_social_care_days": "social_care_days",
         "prior_social_care_services": "social_care_services"}
RISK_USE = ("emergency_admissions", "bed_days", "ae_attendances")


def _draws(ds: Dataset, people: ibis.Table, dates: np.ndarray, rng: np.random.Generator) -> ibis.Table:
    """One pseudo-index date per person, drawn as the pandas route drew them (person_id order).

    Only the sorted person ids come to the driver (8 bytes a person) and go back with their date:
    a plain equi-join then, where a rank computed on the engine (a window over everyone old enough)
    was measured slower than the pandas route it replaced."""
    ids = ds.backend.to_pyarrow(people.select("person_id")).column("person_id").to_numpy()
    ids = np.sort(ids)
    pick = rng.choice(len(dates), size=len(ids), replace=True)  # the same generator calls as choice(dates, n)
    day = dates.astype("datetime64[D]")[pick]
    return ibis.memtable(pa.table({"d_person": pa.array(ids, pa.int64()), "d_index": pa.array(day, pa.date32())}))


def _adoption_table(adoption: pd.DataFrame) -> ibis.Table:
    """practice_code -> adoption date (a timestamp, as the pandas route compared them)."""
    codes = adoption["practice_code"]
    if codes.duplicated().any():
        twice = codes[codes.duplicated()].iloc[0]
        raise ValueError(f"adoption: practice_code {twice!r} has more than one adoption date")
    frame = pd.DataFrame({"a_practice": codes.astype("string"),
                          "a_date": pd.to_datetime(adoption["adoption_date"]).astype("datetime64[us]")})
    return memtable(frame, schema={"a_practice": "string", "a_date": "timestamp"})


def _rules(pool: ibis.Table, min_age: int, lookback_days: int, followup_days: int, period,
           require_followup: bool) -> ibis.Table:
    """cohort._eligible's rules on the engine: age, alive, a full look-back (and follow-up)."""
    start, end = (pd.Timestamp(p).date() for p in period)
    idx = pool.index_date
    full = idx + ibis.interval(days=followup_days)
    keep = ((idx.year() - pool.birth_year) >= min_age) & (pool.death_date.isnull() | (pool.death_date > idx))
    keep &= (idx - ibis.interval(days=lookback_days)) >= ibis.literal(start)
    if require_followup:
        keep &= full <= ibis.literal(end)
    pool = pool.filter(keep)
    full = (pool.index_date + ibis.interval(days=followup_days)).cast("date")
    last = ibis.literal(end)
    return pool.mutate(age=(pool.index_date.year() - pool.birth_year).cast("int64"),
                       followup_end=ibis.least(full, pool.death_date.fill_null(full), last),
                       censored=full > last)


def _windows(pool: ibis.Table, days: int) -> ibis.Table:
    """The ``[index - days, index)`` window of each pool row, keyed as outcomes' joins expect."""
    return pool.select(k_row=pool.p_row, k_person=pool.person_id,
                       k_start=(pool.index_date - ibis.interval(days=days)).cast("date"), k_end=pool.index_date)


def _use(ds: Dataset, keys: ibis.Table, prefix: str, columns) -> list[tuple[ibis.Table, dict]]:
    """outcomes' per-row counts over ``keys``, each renamed to ``prefix + column``."""
    parts = [_emergency(ds, keys), _ae(ds, keys)]
    if ds.has("social_care_services"):
        parts.append(_social_care(ds, keys))
    out = []
    for part in parts:
        mine = {f"{prefix}{c}": part[c] for c in columns if c in part.columns}
        if mine:
            out.append((part.select(u_row=part.k_row, **mine), mine))
    return out


def eligible_pool(ds: Dataset, dates: np.ndarray, rng: np.random.Generator, min_age: int, lookback_days: int,
                  followup_days: int, period, adoption: pd.DataFrame, mdt_free_followup: bool,
                  require_followup: bool, with_risk_use: bool) -> pd.DataFrame:
    """The eligible controls with their prior use (``prior_*``) and, with ``with_risk_use``, the
    last 365 days' use for the risk score (``risk_*``), sorted by index date and person_id.

    ``dates``: the treated index dates, sorted (datetime64). Example: see the module docstring.
    """
    p = ds.table("persons").select("person_id", "sex", "birth_year", "area_code", "practice_code",
                                   "ltc_count", "death_date")
    p = p.filter(p.birth_year <= pd.Timestamp(dates[-1]).year - min_age)  # old enough by the last date
    draws = _draws(ds, p, dates, rng)
    pool = p.inner_join(draws, p.person_id == draws.d_person).drop("d_person").rename(index_date="d_index")
    pool = _rules(pool, min_age, lookback_days, followup_days, period, require_followup)
    adopted = _adoption_table(adoption)
    pool = pool.left_join(adopted, pool.practice_code == adopted.a_practice)
    free_until = (pool.index_date + ibis.interval(days=followup_days if mdt_free_followup else 0)).cast("timestamp")
    pool = pool.filter(pool.a_date.isnull() | (pool.a_date > free_until)).drop("a_practice", "a_date")
    pool = pool.mutate(p_row=pool.person_id)  # one row per person: the person is the window's key
    # Ibis registers in-memory tables (the draws, the adoption dates) before an execution, but its
    # PySpark cache() compiles and runs the SQL without doing so (TABLE_OR_VIEW_NOT_FOUND): an empty
    # execution first registers them, on every backend.
    ds.backend.to_pyarrow(pool.limit(0))
    pool = pool.cache()
    try:
        parts = _use(ds, _windows(pool, lookback_days), "prior_", PRIOR.values())
        if with_risk_use and lookback_days != 365:
            parts += _use(ds, _windows(pool, 365), "risk_", RISK_USE)
        joined, counts = pool, []
        for part, cols in parts:
            joined = joined.left_join(part, joined.p_row == part.u_row).drop("u_row")
            counts += list(cols)
        joined = joined.mutate(**{c: joined[c].fill_null(0).cast("int64") for c in counts})
        joined = joined.order_by(["index_date", "person_id"]).drop("p_row", "birth_year")
        df = ds.backend.to_pyarrow(joined).to_pandas()
    finally:
        _release(pool)
    df = _pandas_types(ds, df, counts, dates, period[1])
    # Arrow's allocator keeps what the conversion freed for reuse: at scale 1.0 some 600 MB the
    # matching that follows (numpy, not Arrow) cannot use (benchmarks/results/economics_memory_scale1.0.txt)
    pa.default_memory_pool().release_unused()
    return df


def _release(table: ibis.Table) -> None:
    try:
        table.release()
    except Exception:  # noqa: BLE001 - a backend without cache release keeps it for the session
        pass


def _pandas_types(ds: Dataset, df: pd.DataFrame, counts: list[str], dates: np.ndarray, end) -> pd.DataFrame:
    """The dtypes the pandas route produced, whose datetime units follow its inputs (pandas 3 keeps
    the unit of each operand): death_date as Ibis converts the persons' dates, index_date as the
    treated index dates, followup_end as the pandas minimum of those and the data end gave."""
    p = ds.table("persons")
    death = pd.to_datetime(ds.execute(p.select("death_date").limit(1))["death_date"]).dtype
    idx = pd.Series(np.array(["2000-01-01"], dtype="datetime64[D]")).astype(dates.dtype)
    full = idx + pd.Timedelta(days=1)
    dead = pd.Series([pd.NaT]).astype(death)
    followup = pd.concat([full, dead.fillna(full), pd.Series(end, index=idx.index)], axis=1).min(axis=1).dtype
    for column, dtype in (("death_date", death), ("index_date", dates.dtype), ("followup_end", followup)):
        df[column] = pd.to_datetime(df[column]).astype(dtype)
    for c in counts:
        df[c] = df[c].astype("int64")
    df["censored"] = df["censored"].astype(bool)
    return df
