"""QALYs of the MDT evaluation from its EQ-5D-5L questionnaires (table ``eq5d_responses``).

Patients answer at the index date (wave 0), 6 months (wave 1) and 12 months (wave 2); the comparison
sample is a separate group of similar high-risk patients in practices without an MDT. Per person:

* utilities at the nominal wave times (0, 0.5, 1 year: questionnaires are sent on schedule and come
  back within four weeks), and a utility of 0 at death when the person dies within the horizon (later
  waves are then absent);
* QALYs = area under that curve up to the horizon (trapezium, :func:`~joinedup.economics.cea.qaly_auc`),
  discounted continuously at ``rate`` (3.5% a year by default, NICE);
* complete cases: a baseline (wave 0) and an end point (the wave at the horizon, or death). People
  missing either are counted in ``QalyData.excluded`` and left out (a complete-case analysis: state
  it; multiple imputation is the better choice when response is informative);
* incremental QALYs adjusted for baseline utility by OLS (Manca, Hawkins & Sculpher 2005).

Example:
    >>> q = eq5d_qalys(ds)                                                        # doctest: +SKIP
    >>> q.adjusted.estimate, q.counts                                             # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from joinedup.data import Dataset
from joinedup.economics.cea.qaly import NICE_RATE, BaselineAdjusted, baseline_adjusted, qaly_auc

WAVE_YEARS = {0: 0.0, 1: 0.5, 2: 1.0}


@dataclass(frozen=True)
class QalyData:
    """Per-person QALYs (``people``: person_id, sample, treated, u0, qaly, qaly_adjusted), the
    baseline-adjusted increment, and how many were left out and why."""

    people: pd.DataFrame
    adjusted: BaselineAdjusted
    counts: pd.DataFrame  # sample x (sampled, complete, no_baseline, no_end_point)
    horizon_years: float
    rate: float


def eq5d_qalys(ds: Dataset, horizon_years: float = 1.0, rate: float = NICE_RATE) -> QalyData:
    """QALYs over ``horizon_years`` (0.5 or 1: the waves) for the MDT and comparison samples.

    Example:
        >>> q = eq5d_qalys(ds, horizon_years=1.0)                                 # doctest: +SKIP
        >>> q.people.groupby("sample").qaly.mean()                                # doctest: +SKIP
    """
    if not ds.has("eq5d_responses"):
        raise ValueError("the dataset has no eq5d_responses table: QALYs need EQ-5D questionnaires "
                         "(simulate with joinedup simulate, or load the evaluation's own)")
    eq = ds.execute(ds.table("eq5d_responses").select("person_id", "sample", "index_date", "wave", "utility"))
    people, counts = complete_case_qalys(eq, deaths_of(ds, eq["person_id"].unique().tolist()), horizon_years, rate)
    people["treated"] = (people["sample"] == "mdt").astype(int)
    if people["treated"].nunique() < 2:
        raise ValueError("EQ-5D complete cases are needed in both the mdt and the comparison sample")
    adj = baseline_adjusted(people, "qaly", "u0", "treated")
    people["qaly_adjusted"] = adj.adjusted.to_numpy()
    cols = ["person_id", "sample", "treated", "index_date", "death_years", "u0", "qaly", "qaly_adjusted"]
    return QalyData(people[cols].reset_index(drop=True), adj, counts, float(horizon_years), float(rate))


def deaths_of(ds: Dataset, ids) -> pd.DataFrame:
    """person_id and death_date of those of ``ids`` who died (the ``persons`` table)."""
    p = ds.table("persons")
    return ds.execute(p.filter(p.person_id.isin(list(ids)) & p.death_date.notnull()).select("person_id", "death_date"))


def complete_case_qalys(eq: pd.DataFrame, deaths: pd.DataFrame, horizon_years: float = 1.0,
                        rate: float = NICE_RATE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """QALYs of each (person, sample) with a baseline and an end point, from questionnaire rows.

    ``eq``: person_id, sample, index_date, wave (0, 1, 2), utility; ``deaths``: person_id, death_date.
    Returns (people: person_id, sample, index_date, death_years, u0, qaly; counts per sample).
    Shared by :func:`eq5d_qalys` and the cohort design's QALYs (:mod:`joinedup.cohort.economics`).

    Example:
        >>> eq = pd.DataFrame({"person_id": 1, "sample": "a", "index_date": pd.Timestamp("2015-01-01"),
        ...                    "wave": [0, 1, 2], "utility": [0.6, 0.8, 0.8]})
        >>> people, _ = complete_case_qalys(eq, pd.DataFrame(columns=["person_id", "death_date"]), 1.0, 0.0)
        >>> round(float(people["qaly"].iloc[0]), 3)
        0.75
    """
    end_wave = {0.5: 1, 1.0: 2}.get(float(horizon_years))
    if end_wave is None:
        raise ValueError(f"horizon_years must be 0.5 or 1 (the EQ-5D waves); got {horizon_years}")
    eq = eq.copy()
    eq["index_date"] = pd.to_datetime(eq["index_date"])
    people = eq.groupby(["person_id", "sample"], as_index=False)["index_date"].first()
    people = people.merge(deaths, on="person_id", how="left")
    died_t = (pd.to_datetime(people["death_date"]) - people["index_date"]).dt.days / 365.0
    people["death_years"] = died_t.where(died_t < horizon_years)

    eq = eq[eq["wave"] <= end_wave].assign(years=eq["wave"].map(WAVE_YEARS))
    points = eq.merge(people[["person_id", "sample", "death_years"]], on=["person_id", "sample"])
    points = points[points["death_years"].isna() | (points["years"] < points["death_years"])]
    dead = people.dropna(subset=["death_years"])
    points = pd.concat([points[["person_id", "sample", "years", "utility"]].assign(death=False),
                        pd.DataFrame({"person_id": dead["person_id"], "sample": dead["sample"],
                                      "years": dead["death_years"], "utility": 0.0, "death": True})],
                       ignore_index=True)

    key = people["person_id"].astype(str) + "|" + people["sample"]
    points["key"] = points["person_id"].astype(str) + "|" + points["sample"]
    has_base = key.isin(points.loc[points["years"] == 0.0, "key"])
    ends = points.loc[(points["years"] == WAVE_YEARS[end_wave]) | points["death"], "key"]
    has_end = key.isin(ends)
    people["u0"] = key.map(points[points["years"] == 0.0].set_index("key")["utility"])
    counts = pd.DataFrame({"sample": people["sample"], "sampled": 1, "complete": has_base & has_end,
                           "no_baseline": ~has_base, "no_end_point": has_base & ~has_end}
                          ).groupby("sample").sum().reset_index()
    people = people[has_base & has_end].copy()
    keep = points["key"].isin(key[has_base & has_end])
    q = qaly_auc(points[keep], "key", "years", "utility", rate=rate)
    people["qaly"] = (people["person_id"].astype(str) + "|" + people["sample"]).map(q).to_numpy()
    return people, counts


def programmed_utility_gain(truth: dict) -> float | None:
    """The scenario's utility gain of MDT case management (``mdt_effect_utility``), if recorded.

    Example:
        >>> programmed_utility_gain({"scenario": {"mdt_effect_utility": 0.02}})
        0.02
    """
    value = truth.get("scenario", {}).get("mdt_effect_utility")
    return None if value is None else float(value)


