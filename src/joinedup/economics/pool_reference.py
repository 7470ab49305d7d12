"""The control pool built in pandas, as :func:`joinedup.economics.cohort.control_pool` did before it
moved to the engine (:mod:`joinedup.economics.pool`). Kept as the reference the engine route is
tested against (``tests/test_economics_pool.py``) and measured against
(``benchmarks/control_pool_engine.py``); the pipeline does not use it.

Example:
    >>> controls = control_pool_pandas(ds, seed=7)                                # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.data import Dataset
from joinedup.economics.cohort import (
    _baseline,
    _eligible,
    _persons,
    default_reference_date,
    pool_inputs,
)
from joinedup.economics.risk import RiskModel, risk_model


def control_pool_pandas(ds: Dataset, min_age: int = 65, lookback_days: int = 365, followup_days: int = 365, *,
                        seed: int | np.random.Generator = 2013, index_dates=None,
                        adoption: pd.DataFrame | None = None, mdt_free_followup: bool = True,
                        require_followup: bool = True, risk: RiskModel | None = None,
                        with_risk: bool = True) -> pd.DataFrame:
    """:func:`joinedup.economics.cohort.control_pool`'s result, computed in pandas (same arguments)."""
    rng, period, dates, adoption = pool_inputs(ds, min_age, lookback_days, followup_days, seed, index_dates,
                                               adoption, require_followup)
    people = _persons(ds, max_birth_year=pd.Timestamp(dates[-1]).year - min_age)  # old enough by the last date
    people = people.sort_values("person_id", ignore_index=True)  # the draw must not depend on file order
    people["index_date"] = rng.choice(dates, size=len(people), replace=True)
    df = _eligible(people, min_age, lookback_days, followup_days, period, require_followup)
    adopted = df["practice_code"].map(adoption.set_index("practice_code")["adoption_date"])
    adopted = pd.to_datetime(adopted)
    free_until = df["index_date"] + pd.Timedelta(days=followup_days if mdt_free_followup else 0)
    df = df[adopted.isna() | (adopted > free_until)].copy()
    df["mdt_days"] = 0
    df["treated"] = 0
    df = df.sort_values(["index_date", "person_id"], ignore_index=True)
    if with_risk and risk is None:
        risk = risk_model(ds, default_reference_date(ds), min_age)
    return _baseline(ds, df, lookback_days, risk if with_risk else None)
