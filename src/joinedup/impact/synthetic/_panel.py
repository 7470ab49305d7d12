"""Checks on a long unit x time panel and its wide outcome matrix, shared by synth and sdid.

Bad input stops here with a ValueError that names the column, unit or period at fault; nothing is
dropped silently.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": ["a", "a", "b", "b"], "t": [1, 2, 1, 2], "y": [1.0, 2, 3, 4]})
    >>> wide_outcome(df, "u", "t", "y").shape
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd


def check_columns(data: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise a ValueError naming the first column that ``data`` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    for col in columns:
        if col not in data.columns:
            raise ValueError(f"column {col!r} not in data (columns: {list(data.columns)})")


def check_balanced(data: pd.DataFrame, unit: str, time: str) -> None:
    """Every unit observed exactly once in every period, else a ValueError naming one offender."""
    for col in (unit, time):
        if data[col].isna().any():
            raise ValueError(f"column {col!r} has missing values")
    dup = data.duplicated([unit, time])
    if dup.any():
        row = data.loc[dup].iloc[0]
        raise ValueError(f"unit {row[unit]!r} has more than one row for {time} {row[time]!r}")
    n_times = data[time].nunique()
    counts = data.groupby(unit, sort=False, observed=True)[time].size()
    short = counts[counts < n_times]
    if len(short):
        u = short.index[0]
        have = set(data.loc[data[unit] == u, time])
        missing = [t for t in sorted(data[time].unique()) if t not in have]
        raise ValueError(f"unbalanced panel: unit {u!r} has no row for {time} {missing[:5]} "
                         f"({len(short)} unit(s) short of the {n_times} periods)")


def wide_outcome(data: pd.DataFrame, unit: str, time: str, outcome: str,
                 times: Sequence | None = None) -> pd.DataFrame:
    """Units x periods matrix of ``outcome`` (sorted), refusing missing values in ``times``."""
    wide = data.pivot(index=unit, columns=time, values=outcome).sort_index(axis=0).sort_index(axis=1)
    wide = wide.astype(float)
    part = wide if times is None else wide.loc[:, list(times)]
    bad = part.isna()
    if bad.to_numpy().any():
        units = list(part.index[bad.any(axis=1)])
        periods = list(part.columns[bad.any(axis=0)])
        raise ValueError(f"column {outcome!r} has missing values for unit(s) {units[:5]} "
                         f"in period(s) {periods[:5]}")
    return wide


def check_units(data: pd.DataFrame, unit: str, wanted: Iterable, role: str) -> list:
    """Return ``wanted`` as a list, raising a ValueError naming any unit not in the data."""
    present = set(data[unit].unique())
    wanted = list(wanted)
    for u in wanted:
        if u not in present:
            raise ValueError(f"{role} {u!r} is not a value of column {unit!r}")
    return wanted


def check_periods(periods: Iterable, available: Sequence, what: str) -> list:
    """Periods as a list, each one present in the data (else a ValueError naming it)."""
    periods = [periods] if np.isscalar(periods) else list(periods)
    have = set(available)
    for p in periods:
        if p not in have:
            raise ValueError(f"{what}: period {p!r} is not in the data")
    if not periods:
        raise ValueError(f"{what}: no periods given")
    return periods
