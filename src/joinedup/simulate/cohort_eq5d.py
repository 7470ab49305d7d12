"""EQ-5D utilities of a simulated enrolling scheme: the enrolled and a comparison sample, where measured.

Schemes that enrol people rarely survey everyone. Here a seeded share of the enrolled answer at
enrolment and 6 and 12 months later, and so does a comparison sample: the same share of the people
who met the scheme's trigger in the same month at practices outside the scheme (the pool the
risk-set design draws its controls from), with the first day of that month as their index date.

A person's utility is a fixed part (falling with age, long-term conditions and emergency admissions
in the 12 months before the index date, plus a person effect) and occasion noise; the scheme adds
``utility_gain`` to the enrolled's follow-up answers (0: the null scenario). A questionnaire is
missing after death, past the end of the data, or at random (``non_response``). The expected QALY
gain of someone alive over the year is ``0.75 * utility_gain`` undiscounted (trapezium: no gain at
enrolment, the full gain at 6 and 12 months).

Written as ``cohort_eq5d.csv`` (person_id, sample, index_date, wave, response_date, utility) next
to ``enrolled.csv``; the protocol's ``[cohort] eq5d`` names it.

Example:
    >>> rows = cohort_eq5d(np.array([3]), pd.DatetimeIndex(["2015-03-02"]), "enrolled", np.array([70]),
    ...                    np.array([2]), np.array([1]), pd.DatetimeIndex([pd.NaT]), pd.Timestamp("2017-01-01"),
    ...                    0.05, np.random.default_rng(1), non_response=0.0)
    >>> rows["wave"].tolist()
    [0, 1, 2]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WAVE_DAYS = (0, 182, 365)
FLOOR = -0.285  # the lowest EQ-5D-5L value for England (55555)


def cohort_eq5d(person_id: np.ndarray, index_date: pd.DatetimeIndex, sample: str, age: np.ndarray, ltc: np.ndarray,
                prior_admissions: np.ndarray, death_date: pd.DatetimeIndex, data_end: pd.Timestamp,
                utility_gain: float, rng: np.random.Generator, non_response: float = 0.1) -> pd.DataFrame:
    """Questionnaire rows of one sample (``utility_gain`` applies at waves 1 and 2 of the enrolled only)."""
    n = len(person_id)
    fixed = (0.82 - 0.010 * (age - 75) - 0.045 * ltc - 0.03 * np.minimum(prior_admissions, 4)
             + rng.normal(0, 0.10, n))
    out = []
    for wave, days in enumerate(WAVE_DAYS):
        when = index_date + pd.Timedelta(days=days)
        answered = rng.random(n) >= non_response
        alive = death_date.isna() | (death_date > when)
        keep = np.asarray(answered & alive & (when < data_end))
        u = fixed + rng.normal(0, 0.07, n) + (utility_gain if (wave > 0 and sample == "enrolled") else 0.0)
        out.append(pd.DataFrame({"person_id": person_id[keep], "sample": sample, "index_date": index_date[keep],
                                 "wave": wave, "response_date": when[keep],
                                 "utility": np.clip(u[keep], FLOOR, 1.0).round(3)}))
    return pd.concat(out, ignore_index=True)
