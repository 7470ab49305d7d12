"""A person-level scheme added to a simulated England: enrolment triggered by an admission or a risk score.

Unlike the practice MDTs (:mod:`joinedup.simulate.mdt`, annual rounds of the top 2%), these schemes
enrol continuously, as care-navigation and frailty services do: each month, people aged ``min_age``+
registered at the scheme's practices (a seeded share of the practices without an MDT) become eligible
when triggered, and a seeded share ``uptake`` of them is enrolled on a random day of the month:

* ``trigger="admission"``: an emergency admission in the month before;
* ``trigger="risk"``: in the top ``risk_share`` of their practice's 65+ by prior 12-month emergency
  admissions and long-term conditions (:func:`joinedup.simulate.mdt.score`).

The programmed effect thins the enrolled people's emergency admissions in the ``effect_months`` from
enrolment (each kept with probability 1 + ``effect``); ``effect=0`` is the null scenario. The scheme
is applied to the written canonical tables (``admissions`` is rewritten; A&E attendances and
readmissions derived during the simulation are left as they were, so the effect is on emergency
admissions only), ``enrolled.csv`` is written next to them, and ``truth.json`` gets a
``cohort_scheme`` entry with the enrolled count, the trigger and the effect.

Example:
    >>> add_triggered_scheme("out/sim", trigger="admission", effect=-0.2, seed=5)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from joinedup.simulate.cohort_eq5d import cohort_eq5d
from joinedup.simulate.mdt import score
from joinedup.simulate.writer import write_table

Trigger = Literal["admission", "risk"]


def _monthly(admissions: pd.DataFrame, persons: pd.DataFrame, first: pd.Timestamp, n_months: int) -> np.ndarray:
    em = admissions[admissions["admission_method"] == "emergency"]
    rows = np.searchsorted(persons["person_id"].to_numpy(), em["person_id"].to_numpy())
    d = pd.DatetimeIndex(em["admission_date"])
    m = (d.year - first.year) * 12 + d.month - first.month
    out = np.zeros((len(persons), n_months), dtype=np.int32)
    ok = (m >= 0) & (m < n_months)
    np.add.at(out, (rows[ok], np.asarray(m)[ok]), 1)
    return out


def add_triggered_scheme(data_dir, *, trigger: Trigger = "admission", effect: float = -0.2, start: str | None = None,
                         months: int = 24, uptake: float = 0.5, practice_share: float = 0.25, risk_share: float = 0.02,
                         min_age: int = 65, effect_months: int = 12, scheme: str = "triggered scheme",
                         seed: int = 2013, eq5d_share: float = 0.5, utility_gain: float = 0.0) -> pd.DataFrame:
    """Enrol people by ``trigger`` for ``months`` from ``start`` (default: two years into the data),
    thin their admissions by ``effect``, write ``enrolled.csv`` and the truth; return the enrolments.

    ``eq5d_share`` of the enrolled and of a comparison sample (triggered the same month at practices
    outside the scheme) answer EQ-5D questionnaires (``cohort_eq5d.csv``,
    :mod:`joinedup.simulate.cohort_eq5d`); the scheme adds ``utility_gain`` at follow-up.
    """
    if not -1 < effect <= 0:
        raise ValueError(f"effect must be in (-1, 0] (a reduction, or 0 for the null scenario); got {effect}")
    if trigger not in ("admission", "risk"):
        raise ValueError(f"trigger must be 'admission' or 'risk'; got {trigger!r}")
    folder = Path(data_dir)
    rng = np.random.default_rng(seed)
    persons = pd.read_parquet(folder / "persons").sort_values("person_id", ignore_index=True)
    admissions = pd.read_parquet(folder / "admissions")
    mdt_file = next((p for p in (folder / "mdt_enrolments.parquet", folder / "mdt_enrolments") if p.exists()), None)
    mdt = pd.read_parquet(mdt_file, columns=["practice_code"]) if mdt_file else pd.DataFrame({"practice_code": []})
    dates = pd.to_datetime(admissions["admission_date"])
    first = dates.min().to_period("M").to_timestamp()
    n_months = (dates.max().year - first.year) * 12 + dates.max().month - first.month + 1
    begin = pd.Timestamp(start) if start else first + pd.DateOffset(years=2)
    m0 = (begin.year - first.year) * 12 + begin.month - first.month
    if m0 < 12 or m0 + months > n_months:
        raise ValueError(f"the enrolment window ({months} months from {begin.date()}) must start a year into the data "
                         f"and end inside it ({first.date()} + {n_months} months)")

    practices = np.array(sorted(set(persons["practice_code"]) - set(mdt["practice_code"])))
    chosen = np.sort(rng.choice(practices, size=max(1, int(round(practice_share * len(practices)))), replace=False))
    monthly = _monthly(admissions, persons, first, n_months)
    cum = np.concatenate([np.zeros((len(persons), 1), np.int32), np.cumsum(monthly, axis=1)], axis=1)
    death = pd.to_datetime(persons["death_date"])
    death_m = np.where(death.isna(), 10**6, (death.dt.year - first.year) * 12 + death.dt.month - first.month)
    in_scheme = persons["practice_code"].isin(chosen).to_numpy()
    birth = persons["birth_year"].to_numpy()
    ltc = persons["ltc_count"].to_numpy()
    taken = np.zeros(len(persons), bool)
    who, when = [], []
    # the EQ-5D comparison sample draws from its own generator: enrolment is the same with or without it
    rng_q = np.random.default_rng(seed + 2)
    outside = ~in_scheme & ~persons["practice_code"].isin(mdt["practice_code"]).to_numpy()
    sampled = np.zeros(len(persons), bool)
    comp_who, comp_month = [], []
    for m in range(m0, m0 + months):
        month_start = first + pd.DateOffset(months=m)
        age = month_start.year - birth
        base = in_scheme & (age >= min_age) & (death_m >= m) & ~taken
        if trigger == "admission":
            hit = base & (monthly[:, m - 1] > 0)
        else:
            s = score(cum[:, m] - cum[:, m - 12], ltc, age)
            hit = np.zeros(len(persons), bool)
            frame = pd.DataFrame({"s": s, "p": persons["practice_code"]})[base & (age >= min_age)]
            rank = frame.groupby("p")["s"].rank(method="first", ascending=False)
            size = frame.groupby("p")["s"].transform("size")
            hit[frame.index[rank <= np.maximum(1, np.round(risk_share * size))]] = True
        comp = _comparison(trigger, outside & (age >= min_age) & (death_m >= m) & ~sampled, monthly, cum, ltc, age,
                           persons["practice_code"], m, risk_share)
        comp = comp[rng_q.random(len(comp)) < eq5d_share]
        sampled[comp] = True
        comp_who.append(comp)
        comp_month.append(np.full(len(comp), m))
        idx = np.flatnonzero(hit)
        idx = idx[rng.random(len(idx)) < uptake]
        days = month_start.days_in_month
        offs = rng.integers(0, days, len(idx))
        offs = np.minimum(offs, np.where(death_m[idx] == m, death.iloc[idx].dt.day.fillna(days).to_numpy() - 1, days))
        taken[idx] = True
        who.append(idx)
        when.append(month_start + pd.to_timedelta(np.maximum(offs, 0), unit="D"))
    rows = np.concatenate(who)
    enrol_date = pd.DatetimeIndex(np.concatenate([np.asarray(w, dtype="datetime64[ns]") for w in when]))
    enrolled = pd.DataFrame({"person_id": persons["person_id"].to_numpy()[rows], "enrolment_date": enrol_date,
                             "scheme": scheme, "site": persons["area_code"].to_numpy()[rows]})
    enrolled = enrolled.sort_values(["enrolment_date", "person_id"], ignore_index=True)

    removed = 0
    if effect < 0:
        start_of = pd.Series(enrolled["enrolment_date"].to_numpy(), index=enrolled["person_id"])
        s = admissions["person_id"].map(start_of)
        window = (admissions["admission_method"] == "emergency") & s.notna() & (dates >= s) & \
            (dates < s + pd.DateOffset(months=effect_months))
        u = np.random.default_rng(seed + 1).random(len(admissions))
        drop = window.to_numpy() & (u >= 1 + effect)
        removed = int(drop.sum())
        table = pa.Table.from_pandas(admissions.loc[~drop], preserve_index=False)
        schema = pq.read_schema(next((folder / "admissions").glob("*.parquet")))
        for old in (folder / "admissions").glob("*.parquet"):
            old.unlink()
        write_table(folder / "admissions" / "part-00000.parquet", table.cast(schema))
    enrolled.assign(enrolment_date=enrolled["enrolment_date"].dt.strftime("%Y-%m-%d")).to_csv(
        folder / "enrolled.csv", index=False)
    eq5d = _eq5d(persons, enrolled, np.concatenate(comp_who), np.concatenate(comp_month), first, cum, death,
                 dates.max() + pd.Timedelta(days=1), eq5d_share, utility_gain, rng_q)
    eq5d.assign(index_date=eq5d["index_date"].dt.strftime("%Y-%m-%d"),
                response_date=eq5d["response_date"].dt.strftime("%Y-%m-%d")).to_csv(folder / "cohort_eq5d.csv",
                                                                                    index=False)
    truth_path = folder / "truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else {}
    truth["cohort_scheme"] = {
        "scheme": scheme, "trigger": trigger, "relative_change": effect, "rate_ratio": 1 + effect,
        "outcome": "emergency admissions of the enrolled in the effect_months from enrolment",
        "effect_months": effect_months, "start": begin.date().isoformat(), "months": months, "uptake": uptake,
        "min_age": min_age, "practices": chosen.tolist(), "enrolled": int(len(enrolled)),
        "admissions_removed": removed, "seed": seed, "null_scenario": effect == 0,
        "eq5d_share": eq5d_share, "utility_gain": utility_gain, "qaly_gain_alive_undiscounted": 0.75 * utility_gain,
        "eq5d_people": {s: int(n) for s, n in eq5d.groupby("sample")["person_id"].nunique().items()},
    }
    truth_path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return enrolled


def _comparison(trigger, base, monthly, cum, ltc, age, practice, m, risk_share) -> np.ndarray:
    """Rows of people outside the scheme who met its trigger in month ``m`` (the EQ-5D comparison pool)."""
    if trigger == "admission":
        return np.flatnonzero(base & (monthly[:, m - 1] > 0))
    s = score(cum[:, m] - cum[:, m - 12], ltc, age)
    frame = pd.DataFrame({"s": s, "p": practice})[base]
    rank = frame.groupby("p")["s"].rank(method="first", ascending=False)
    size = frame.groupby("p")["s"].transform("size")
    return np.sort(frame.index[rank <= np.maximum(1, np.round(risk_share * size))].to_numpy())


def _eq5d(persons, enrolled, comp_rows, comp_month, first, cum, death, data_end, share, gain, rng) -> pd.DataFrame:
    """EQ-5D rows of a ``share`` of the enrolled and of the comparison sample."""
    ids = persons["person_id"].to_numpy()
    rows = np.searchsorted(ids, enrolled["person_id"].to_numpy())
    keep = rng.random(len(rows)) < share
    rows = rows[keep]
    index = pd.DatetimeIndex(enrolled["enrolment_date"])[keep]
    m_enr = (index.year - first.year) * 12 + index.month - first.month
    parts = []
    for sample, r, m, idx in (("enrolled", rows, np.asarray(m_enr), index),
                              ("comparison", comp_rows, comp_month,
                               pd.DatetimeIndex([first + pd.DateOffset(months=int(x)) for x in comp_month]))):
        parts.append(cohort_eq5d(ids[r], idx, sample, idx.year.to_numpy() - persons["birth_year"].to_numpy()[r],
                                 persons["ltc_count"].to_numpy()[r], cum[r, m] - cum[r, np.maximum(m - 12, 0)],
                                 pd.DatetimeIndex(death.iloc[r]), data_end, gain, rng))
    return pd.concat(parts, ignore_index=True)
