"""The patient-level cohort of the MDT economic evaluation: the enrolled, and a pool of controls.

* :func:`mdt_cohort`: patients enrolled in community MDT case management (``mdt_enrolments``), index
  date = enrolment date, aged ``min_age``+ (index year minus birth year) and alive on it.
* :func:`control_pool`: people aged ``min_age``+ registered at practices with no MDT on their
  pseudo-index date. Each candidate gets ONE pseudo-index date drawn (seeded) from the treated index
  dates, so controls have the same calendar spread as the enrolled; then the same age, alive and
  follow-up rules apply. By default the practice must also stay without an MDT to the end of
  follow-up, so that no control is case-managed during its follow-up (contamination).
* :func:`mdt_adoption`: when each practice's MDT started. The canonical tables have no adoption column,
  so it is the practice's first enrolment date in the MDT register (the simulator enrols at adoption);
  pass your own frame where sites report the dates.

Both carry baseline covariates at index: age, sex, ltc_count, prior 12-month emergency admissions, bed
days, A&E attendances, social care (days, new services, any), the risk score of
:func:`joinedup.economics.risk.risk_model`; and follow-up: ``followup_end`` (the earliest of index +
``followup_days``, death, end of data), ``censored`` (the data end before full follow-up) and, for the
enrolled, ``mdt_days`` enrolled inside follow-up. Death in follow-up is an outcome, never an exclusion;
``require_followup=True`` (default) keeps only rows whose full follow-up window lies inside the data.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/sim")                                              # doctest: +SKIP
    >>> both = study_cohort(ds, seed=1)                                           # doctest: +SKIP
    >>> both.groupby("treated").prior_emergency_admissions.mean()                 # doctest: +SKIP
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.economics.outcomes import require_columns, window_use
from joinedup.economics.pool import PRIOR, RISK_USE, eligible_pool
from joinedup.economics.risk import RiskModel, risk_model

PERSON_COLUMNS = ("person_id", "sex", "birth_year", "area_code", "practice_code", "ltc_count", "death_date")
ONE_DAY = pd.Timedelta(days=1)


def data_period(ds: Dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day and the day after the last day of activity data (admissions and A&E arrivals)."""
    adm, ae = ds.table("admissions"), ds.table("ae_attendances")
    a = ds.execute(adm.aggregate(lo=adm.admission_date.min(), hi=adm.admission_date.max()))
    e = ds.execute(ae.aggregate(lo=ae.arrival_date.min(), hi=ae.arrival_date.max()))
    lo = min(pd.Timestamp(a.lo[0]), pd.Timestamp(e.lo[0]))
    hi = max(pd.Timestamp(a.hi[0]), pd.Timestamp(e.hi[0]))
    return lo, hi + ONE_DAY


def mdt_adoption(ds: Dataset) -> pd.DataFrame:
    """practice_code, mdt_id, adoption_date (first enrolment) of every practice with an MDT.

    Example:
        >>> mdt_adoption(ds).head()                                               # doctest: +SKIP
    """
    e = ds.table("mdt_enrolments")
    expr = e.group_by(["practice_code", "mdt_id"]).aggregate(adoption_date=e.enrolment_date.min())
    out = ds.execute(expr)
    out["adoption_date"] = pd.to_datetime(out["adoption_date"])
    return out.sort_values("practice_code", ignore_index=True)


def default_reference_date(ds: Dataset) -> pd.Timestamp:
    """One year after the data start: the first date with a full year of prior use."""
    start, _ = data_period(ds)
    return start + pd.DateOffset(years=1)


def _persons(ds: Dataset, ids: ibis.Column | None = None, max_birth_year: int | None = None) -> pd.DataFrame:
    """The persons' columns the cohort needs, filtered in the engine: the whole persons table (61
    million people at scale 1.0) never reaches pandas. ``ids``: a column of another table (e.g. the
    enrolments' person_id) whose persons to keep."""
    p = ds.table("persons").select(*PERSON_COLUMNS)
    if max_birth_year is not None:
        p = p.filter(p.birth_year <= max_birth_year)
    if ids is not None:
        p = p.filter(p.person_id.isin(ids))
    df = ds.execute(p)
    df["death_date"] = pd.to_datetime(df["death_date"])
    return df


def _eligible(df: pd.DataFrame, min_age: int, lookback_days: int, followup_days: int,
              period: tuple[pd.Timestamp, pd.Timestamp], require_followup: bool) -> pd.DataFrame:
    """Apply the age, alive, look-back and follow-up rules; add age and follow-up columns."""
    start, end = period
    idx = pd.to_datetime(df["index_date"])
    df = df.assign(index_date=idx, age=(idx.dt.year - df["birth_year"]).astype("int64"))
    keep = (df["age"] >= min_age) & (df["death_date"].isna() | (df["death_date"] > idx))
    keep &= idx - pd.Timedelta(days=lookback_days) >= start  # a full look-back inside the data
    full = idx + pd.Timedelta(days=followup_days)
    if require_followup:
        keep &= full <= end
    df = df[keep].copy()
    full = df["index_date"] + pd.Timedelta(days=followup_days)
    df["followup_end"] = pd.concat([full, df["death_date"].fillna(full), pd.Series(end, index=df.index)],
                                   axis=1).min(axis=1)
    df["censored"] = full > end
    return df.drop(columns="birth_year")


def _baseline(ds: Dataset, df: pd.DataFrame, lookback_days: int, risk: RiskModel | None) -> pd.DataFrame:
    """Prior use in the look-back window and the risk score (prior use over the last 365 days)."""
    prior = window_use(ds, df, "before", lookback_days)
    df = df.assign(prior_emergency_admissions=prior["emergency_admissions"], prior_bed_days=prior["bed_days"],
                   prior_ae_attendances=prior["ae_attendances"],
                   prior_social_care_days=prior["social_care_days"],
                   prior_social_care_services=prior["social_care_services"],
                   prior_social_care=(prior["social_care_days"] > 0).astype("int64"))
    if risk is not None:
        use = prior if lookback_days == 365 else window_use(ds, df, "before", 365)
        frame = pd.concat([df[["age", "sex", "ltc_count"]],
                           use[["emergency_admissions", "bed_days", "ae_attendances"]]], axis=1)
        df["risk_score"] = risk.predict(frame)
    return df.reset_index(drop=True)


def _enrolled(ds: Dataset, min_age: int, lookback_days: int, followup_days: int, period,
              require_followup: bool) -> pd.DataFrame:
    enrolments = ds.table("mdt_enrolments")
    e = ds.execute(enrolments)
    e = e.rename(columns={"enrolment_date": "index_date", "end_date": "enrolment_end"})
    e["enrolment_end"] = pd.to_datetime(e["enrolment_end"])
    people = _persons(ds, enrolments.person_id).drop(columns="practice_code")
    df = e.merge(people, on="person_id", how="left", validate="many_to_one")
    if df["sex"].isna().any():
        missing = df.loc[df["sex"].isna(), "person_id"].iloc[0]
        raise ValueError(f"mdt_enrolments.person_id {missing} is not in persons")
    df = _eligible(df, min_age, lookback_days, followup_days, period, require_followup)
    stop = pd.concat([df["enrolment_end"].fillna(df["followup_end"]), df["followup_end"]], axis=1).min(axis=1)
    df["mdt_days"] = (stop - df["index_date"]).dt.days.clip(lower=0).astype("int64")
    df["treated"] = 1
    return df.sort_values(["index_date", "person_id"], ignore_index=True)


def mdt_cohort(ds: Dataset, min_age: int = 65, lookback_days: int = 365, followup_days: int = 365, *,
               require_followup: bool = True, risk: RiskModel | None = None,
               with_risk: bool = True) -> pd.DataFrame:
    """The MDT-enrolled patients, one row each, index date = enrolment date, with baseline covariates.

    ``risk``: a fitted :class:`~joinedup.economics.risk.RiskModel` for ``risk_score`` (default: fitted
    at :func:`default_reference_date`; ``with_risk=False`` leaves the score out).

    Example:
        >>> treated = mdt_cohort(ds)                                              # doctest: +SKIP
        >>> treated[["index_date", "prior_emergency_admissions", "risk_score"]].describe()  # doctest: +SKIP
    """
    period = data_period(ds)
    df = _enrolled(ds, min_age, lookback_days, followup_days, period, require_followup)
    if with_risk and risk is None:
        risk = risk_model(ds, default_reference_date(ds), min_age)
    return _baseline(ds, df, lookback_days, risk if with_risk else None)


def pool_inputs(ds: Dataset, min_age: int, lookback_days: int, followup_days: int, seed, index_dates,
                adoption: pd.DataFrame | None, require_followup: bool):
    """What every route to the control pool starts from: the generator, the data period, the sorted
    treated index dates (the enrolled's by default) and the MDT adoption dates (checked).

    Example:
        >>> rng, period, dates, adoption = pool_inputs(ds, 65, 365, 365, 7, None, None, True)  # doctest: +SKIP
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    period = data_period(ds)
    if index_dates is None:
        index_dates = _enrolled(ds, min_age, lookback_days, followup_days, period, require_followup)["index_date"]
    dates = pd.to_datetime(pd.Series(index_dates)).sort_values().to_numpy()
    if len(dates) == 0:
        raise ValueError("no treated index dates to draw pseudo-index dates from")
    adoption = mdt_adoption(ds) if adoption is None else adoption
    require_columns(adoption, ("practice_code", "adoption_date"), "adoption")
    return rng, period, dates, adoption


def control_pool(ds: Dataset, min_age: int = 65, lookback_days: int = 365, followup_days: int = 365, *,
                 seed: int | np.random.Generator = 2013, index_dates=None, adoption: pd.DataFrame | None = None,
                 mdt_free_followup: bool = True, require_followup: bool = True,
                 risk: RiskModel | None = None, with_risk: bool = True) -> pd.DataFrame:
    """Eligible controls: people aged ``min_age``+ in practices without an MDT on their pseudo-index date.

    Every person gets one pseudo-index date drawn with replacement from ``index_dates`` (default: the
    index dates of :func:`mdt_cohort` under the same rules) using ``seed``; rows then follow the same
    age, alive, look-back and follow-up rules as the enrolled. A practice counts as having an MDT from
    its ``adoption`` date (default :func:`mdt_adoption`); with ``mdt_free_followup`` it must have none
    until the end of follow-up either. Anyone ever enrolled before their pseudo-index is left out.

    Example:
        >>> controls = control_pool(ds, seed=7)                                   # doctest: +SKIP
        >>> len(controls), controls.index_date.min()                              # doctest: +SKIP
    """
    rng, period, dates, adoption = pool_inputs(ds, min_age, lookback_days, followup_days, seed, index_dates,
                                               adoption, require_followup)
    if with_risk and risk is None:
        risk = risk_model(ds, default_reference_date(ds), min_age)
    # On the engine: the draw, the rules and prior use; only the eligible controls come back
    # (joinedup.economics.pool; the pandas route it replaced is pool_reference.control_pool_pandas).
    df = eligible_pool(ds, dates, rng, min_age, lookback_days, followup_days, period, adoption,
                       mdt_free_followup, require_followup, with_risk_use=with_risk)
    for column in PRIOR:
        if column not in df.columns:  # no social_care_services table: no social care
            df[column] = 0
    first = [c for c in df.columns if c not in PRIOR and not c.startswith("risk_")]
    rest = [c for c in df.columns if c not in first]
    df = df.assign(mdt_days=0, treated=0)[first + ["mdt_days", "treated"] + rest]  # the old column order
    df["prior_social_care"] = (df["prior_social_care_days"] > 0).astype("int64")
    if with_risk:
        risk_use = "prior_" if lookback_days == 365 else "risk_"
        frame = df[["age", "sex", "ltc_count"]].assign(**{c: df[risk_use + c] for c in RISK_USE})
        df["risk_score"] = risk.predict(frame)
        df = df.drop(columns=[c for c in df.columns if c.startswith("risk_") and c != "risk_score"])
    return df


def study_cohort(ds: Dataset, min_age: int = 65, lookback_days: int = 365, followup_days: int = 365, *,
                 seed: int | np.random.Generator = 2013, risk: RiskModel | None = None, **kwargs) -> pd.DataFrame:
    """The enrolled (``treated = 1``) and the control pool (``treated = 0``) in one frame, one risk model.

    Example:
        >>> both = study_cohort(ds, seed=3)                                       # doctest: +SKIP
    """
    risk = risk or risk_model(ds, default_reference_date(ds), min_age)
    treated = mdt_cohort(ds, min_age, lookback_days, followup_days, risk=risk, **kwargs)
    controls = control_pool(ds, min_age, lookback_days, followup_days, seed=seed,
                            index_dates=treated["index_date"], risk=risk, **kwargs)
    return pd.concat([narrow_counts(treated), narrow_counts(controls)], ignore_index=True)


# Per-person counts of one window (events, days, ages, flags): at scale 1.0 the study cohort has
# 10.1 million rows, and these nine columns as int64 were some 730 MB held through the matching, as
# int32 half that (benchmarks/results/pipeline_scale1.0_file_cache_int32.txt). Sums and group sums
# over them still accumulate in int64 (numpy and pandas sum small integers in the platform integer).
NARROW_COUNTS = ("age", "mdt_days", "treated", *PRIOR, "prior_social_care")
INT32_MAX = np.iinfo(np.int32).max


def narrow_counts(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its per-person count columns (:data:`NARROW_COUNTS`, those present) as int32.

    A value that int32 cannot hold is an error naming the column, never a wrapped number.

    Example:
        >>> narrow_counts(pd.DataFrame({"age": [70, 81], "person_id": [1, 2]})).dtypes.to_dict()
        {'age': dtype('int32'), 'person_id': dtype('int64')}
    """
    columns = [c for c in NARROW_COUNTS if c in df.columns]
    for c in columns:
        values = df[c].to_numpy()
        outside = values[(values < -INT32_MAX) | (values > INT32_MAX)]
        if len(outside):
            raise ValueError(f"cohort column {c}: {outside[0]} is outside what a per-person count can be "
                             f"(|value| <= {INT32_MAX})")
    return df.astype(dict.fromkeys(columns, "int32"))


def programme_groups(ds: Dataset) -> pd.Series:
    """Area code -> the area-level programmes it is in, e.g. ``"pioneer wave 1 + vanguard"`` or ``"none"``.

    Matching exactly on it makes area-level programmes (the Pioneer programme itself, Vanguards)
    act on both arms alike, so they cancel in a difference in differences, even where the controls
    cannot come from the enrolled patients' own areas.

    Example:
        >>> programme_groups(ds).value_counts()                                   # doctest: +SKIP
    """
    prog = ds.execute(ds.table("programmes").select("programme", "area_code", "wave"))
    areas = ds.execute(ds.table("areas").select("area_code"))["area_code"]
    label = prog.assign(label=prog["programme"].where(prog["programme"] != "pioneer",
                                                      "pioneer wave " + prog["wave"].astype("Int64").astype(str)))
    joined = label.groupby("area_code")["label"].agg(lambda s: " + ".join(sorted(set(s))))
    return areas.to_frame().assign(group=areas.map(joined).fillna("none")).set_index("area_code")["group"]
