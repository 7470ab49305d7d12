"""Patient-level use of services in a window around an index date, counted on the engine with Ibis.

Each cohort row (``person_id``, ``index_date``) gets, for the ``days`` before the index date
(``[index - days, index)``) and the ``days`` after it (``[index, index + days)``):

* ``emergency_admissions``: emergency spells admitted in the window;
* ``bed_days``: length of stay (discharge minus admission date) of those spells, all of it counted in
  the window of admission, and ``excess_bed_days`` past the tariff trim point (14 days);
* ``ae_attendances``: A&E arrivals in the window (all department types);
* ``social_care_services``: social care service episodes starting in the window, and
  ``social_care_days``: days of any service inside the window (a service covers its start to end date
  inclusive; an ongoing one runs to the window's end), also by type (``days_home_care``, ...) so that
  they can be costed per week;
* after only: ``died`` (death in the window).

One query per activity table: the cohort is registered as an in-memory table, joined to the activity
table on person and date window, and aggregated. Rows are keyed by cohort position, so one person may
appear at several index dates. Costs are in :mod:`joinedup.economics.costs`.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/sim")                                              # doctest: +SKIP
    >>> cohort = pd.DataFrame({"person_id": [7], "index_date": [pd.Timestamp("2015-04-01")]})
    >>> use = window_use(ds, cohort, "after", days=365)                           # doctest: +SKIP
    >>> list(use.columns[:3])                                                     # doctest: +SKIP
    ['emergency_admissions', 'bed_days', 'excess_bed_days']
"""

from __future__ import annotations

from typing import Literal

import ibis
import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.data.codes import SOCIAL_CARE_SERVICES

Side = Literal["before", "after"]
EMERGENCY_TRIM = 14  # days: the tariff trim point past which excess bed days are paid
DAY = ibis.interval(days=1)
COUNTS = ("emergency_admissions", "bed_days", "excess_bed_days", "ae_attendances",
          "social_care_services", "social_care_days")
DAYS_BY_TYPE = tuple(f"days_{s}" for s in SOCIAL_CARE_SERVICES)


def require_columns(frame: pd.DataFrame, columns, what: str) -> None:
    """Raise a ValueError naming the missing columns of ``frame`` (``what`` says which frame)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} is missing column(s) {', '.join(missing)} (it has: {', '.join(map(str, frame.columns))})")


def _keys(cohort: pd.DataFrame, side: Side, days: int) -> tuple[pd.DataFrame, ibis.Table]:
    """The cohort's windows as a pandas frame and as an Ibis memtable keyed by row position."""
    require_columns(cohort, ("person_id", "index_date"), "cohort")
    index = pd.to_datetime(cohort["index_date"]).to_numpy().astype("datetime64[D]")
    offset = np.timedelta64(int(days), "D")
    start, end = (index - offset, index) if side == "before" else (index, index + offset)
    keys = pd.DataFrame({"k_row": np.arange(len(cohort), dtype=np.int64),
                         "k_person": cohort["person_id"].to_numpy(dtype=np.int64),
                         "k_start": pd.to_datetime(start), "k_end": pd.to_datetime(end)})
    schema = {"k_row": "int64", "k_person": "int64", "k_start": "date", "k_end": "date"}
    return keys, ibis.memtable(keys, schema=schema)


def _emergency(ds: Dataset, m: ibis.Table) -> ibis.Table:
    adm = ds.table("admissions")
    adm = adm.filter(adm.admission_method == "emergency")
    j = adm.inner_join(m, [adm.person_id == m.k_person, adm.admission_date >= m.k_start,
                           adm.admission_date < m.k_end])
    los = j.discharge_date.delta(j.admission_date, unit="day")
    j = j.select(k_row=j.k_row, los=los)
    return j.group_by("k_row").aggregate(
        emergency_admissions=j.count(), bed_days=j.los.sum(),
        excess_bed_days=ibis.greatest(j.los - EMERGENCY_TRIM, 0).sum())


def _ae(ds: Dataset, m: ibis.Table) -> ibis.Table:
    ae = ds.table("ae_attendances")
    j = ae.inner_join(m, [ae.person_id == m.k_person, ae.arrival_date >= m.k_start,
                          ae.arrival_date < m.k_end])
    return j.group_by("k_row").aggregate(ae_attendances=j.count())


def _social_care(ds: Dataset, m: ibis.Table) -> ibis.Table:
    sc = ds.table("social_care_services")
    end_excl = sc.end_date + DAY  # the end date is a day of service
    j = sc.inner_join(m, [sc.person_id == m.k_person, sc.start_date < m.k_end,
                          end_excl.fill_null(m.k_end) > m.k_start])
    lo = ibis.greatest(j.start_date, j.k_start)
    hi = ibis.least((j.end_date + DAY).fill_null(j.k_end), j.k_end)
    j = j.select(k_row=j.k_row, service_type=j.service_type, days=hi.delta(lo, unit="day"),
                 starts=((j.start_date >= j.k_start) & (j.start_date < j.k_end)).cast("int64"))
    by_type = {f"days_{s}": (j.service_type == s).ifelse(j.days, 0).sum() for s in SOCIAL_CARE_SERVICES}
    return j.group_by("k_row").aggregate(social_care_services=j.starts.sum(), social_care_days=j.days.sum(),
                                         **by_type)


def _died(ds: Dataset, m: ibis.Table) -> ibis.Table:
    p = ds.table("persons")
    j = p.inner_join(m, [p.person_id == m.k_person, p.death_date >= m.k_start, p.death_date < m.k_end])
    return j.group_by("k_row").aggregate(died=j.count())


def window_use(ds: Dataset, cohort: pd.DataFrame, side: Side = "after", days: int = 365) -> pd.DataFrame:
    """Use of services in the ``days`` before or after each cohort row's ``index_date``.

    Returns one row per cohort row (same order and index) with the columns of :data:`COUNTS`,
    :data:`DAYS_BY_TYPE` and, after the index date, ``died`` (0/1). Zero where nothing happened.

    Example:
        >>> before = window_use(ds, cohort, "before")                             # doctest: +SKIP
        >>> before.emergency_admissions.mean()                                    # doctest: +SKIP
        2.4
    """
    if side not in ("before", "after"):
        raise ValueError(f"side must be one of 'before', 'after'; got {side!r}")
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    keys, m = _keys(cohort, side, days)
    parts = [_emergency(ds, m), _ae(ds, m)]
    if ds.has("social_care_services"):  # imported NHS data has none: its columns are then 0
        parts.append(_social_care(ds, m))
    if side == "after":
        parts.append(_died(ds, m))
    out = pd.DataFrame(index=pd.RangeIndex(len(keys)))
    for expr in parts:
        got = ds.execute(expr).set_index("k_row")
        out = out.join(got, how="left")
    columns = list(COUNTS) + list(DAYS_BY_TYPE) + (["died"] if side == "after" else [])
    out = out.reindex(columns=columns).fillna(0).astype("int64")
    out.index = cohort.index
    return out


def outcomes(ds: Dataset, cohort: pd.DataFrame, days: int = 365) -> pd.DataFrame:
    """Wide per-person outcomes: every count ``_before`` and ``_after`` the index date, and ``died``.

    Keeps the cohort's own columns first. A person who dies in follow-up keeps the row: death is an
    outcome, and later use is zero because there is none.

    Example:
        >>> o = outcomes(ds, mdt_cohort(ds))                                      # doctest: +SKIP
        >>> o[["emergency_admissions_before", "emergency_admissions_after"]].mean()  # doctest: +SKIP
    """
    before = window_use(ds, cohort, "before", days)
    after = window_use(ds, cohort, "after", days)
    died = after.pop("died")
    return pd.concat([cohort, before.add_suffix("_before"), after.add_suffix("_after"),
                      died.rename("died")], axis=1)


def before_after(frame: pd.DataFrame, measures=("emergency_admissions", "bed_days", "ae_attendances",
                                                "social_care_days"), level: float = 0.95) -> pd.DataFrame:
    """Naive before/after: mean after minus mean before among the same people, with a paired t CI.

    This is NOT an effect estimate: people picked on a high recent count fall back towards their
    usual level whatever the MDT does (regression to the mean). Shown so the report can say how big
    that fall is; the effect needs the matched controls. Works on :func:`outcomes` output (or costed
    output: pass e.g. ``measures=("total_cost",)``).

    Example:
        >>> f = pd.DataFrame({"x_before": [3, 2, 4], "x_after": [1, 1, 2]})
        >>> before_after(f, ["x"])[["measure", "mean_before", "mean_after", "difference"]].to_dict("records")
        [{'measure': 'x', 'mean_before': 3.0, 'mean_after': 1.3333333333333333, 'difference': -1.6666666666666667}]
    """
    from scipy import stats

    rows = []
    for m in measures:
        require_columns(frame, (f"{m}_before", f"{m}_after"), "outcomes frame")
        b, a = frame[f"{m}_before"].astype(float), frame[f"{m}_after"].astype(float)
        d = a - b
        n = len(d)
        se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
        t = stats.t.ppf(0.5 + level / 2, n - 1) if n > 1 else float("nan")
        rows.append({"measure": m, "n": n, "mean_before": b.mean(), "mean_after": a.mean(),
                     "difference": d.mean(), "ci_low": d.mean() - t * se, "ci_high": d.mean() + t * se,
                     "relative_change": a.mean() / b.mean() - 1 if b.mean() else float("nan")})
    return pd.DataFrame(rows)
