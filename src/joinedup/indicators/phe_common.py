"""Shared plumbing for the PHE methods: confidence levels, column names, validation, grouping.

Confidence follows PHEindicatormethods: one level (0.9 to 1, or 90 to 100 as a percentage) gives
columns ``lowercl``/``uppercl``; the pair ``(0.95, 0.998)`` gives ``lower95_0cl``, ``upper95_0cl``,
``lower99_8cl``, ``upper99_8cl``.

Example:
    >>> parse_confidence(99.8)
    (0.998,)
    >>> limit_columns((0.95, 0.998))
    [('lower95_0cl', 'upper95_0cl'), ('lower99_8cl', 'upper99_8cl')]
    >>> confidence_label((0.95, 0.998))
    '95%, 99.8%'
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd

MAX_POSITIONS_SHOWN = 10


def parse_confidence(confidence) -> tuple[float, ...]:
    """Validate a confidence argument (PHE rules) and return the levels as fractions."""
    levels = list(confidence) if isinstance(confidence, (list, tuple, np.ndarray)) else [confidence]
    if not all(isinstance(c, Real) and not isinstance(c, bool) for c in levels):
        raise TypeError(f"confidence must be numeric; got {confidence!r}")
    if len(levels) > 2:
        raise ValueError("confidence: a maximum of two confidence levels can be provided")
    if len(levels) == 2:
        if not (levels[0] == 0.95 and levels[1] == 0.998):
            raise ValueError("confidence: two confidence levels can only be produced if they are "
                             f"specified as 0.95 and 0.998; got {tuple(levels)}")
        return (0.95, 0.998)
    if len(levels) == 0:
        raise ValueError("confidence must be numeric; got an empty sequence")
    c = float(levels[0])
    if c < 0.9 or 1 < c < 90 or c > 100 or np.isnan(c):
        raise ValueError("confidence level must be between 90 and 100 or between 0.9 and 1; "
                         f"got {c!r}")
    return (c / 100 if c >= 90 else c,)


def _level_tag(level: float) -> str:
    return f"{level * 100:.1f}".replace(".", "_")


def limit_columns(levels: tuple[float, ...]) -> list[tuple[str, str]]:
    """Names of the (lower, upper) columns for each level."""
    if len(levels) == 1:
        return [("lowercl", "uppercl")]
    return [(f"lower{_level_tag(c)}cl", f"upper{_level_tag(c)}cl") for c in levels]


def confidence_label(levels: tuple[float, ...]) -> str:
    """'95%' or '95%, 99.8%', as PHE's metadata column."""
    return ", ".join(f"{c * 100:.10g}%" for c in levels)


def format_number(value: float) -> str:
    """A multiplier as PHE prints it: 100000 not 1e+05, 0.5 as 0.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:.15g}"


def as_float(values, name: str) -> np.ndarray:
    """A float array from array-like input, or a ValueError naming the argument."""
    if isinstance(values, (pd.Series, pd.Index)):
        if not (pd.api.types.is_numeric_dtype(values.dtype) or values.isna().all()):
            raise TypeError(f"{name} must be numeric; got dtype {values.dtype}")
        return values.to_numpy(dtype="float64", na_value=np.nan)
    arr = np.asarray(values)
    if arr.dtype == object:
        try:
            return pd.to_numeric(pd.Series(arr.ravel()), errors="raise").to_numpy(
                dtype="float64", na_value=np.nan).reshape(arr.shape)
        except (ValueError, TypeError):
            raise TypeError(f"{name} must be numeric") from None
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}")
    return arr.astype("float64")


def positions(mask: np.ndarray) -> str:
    """'[0, 3, 7]' (0-based row positions), truncated after a few."""
    where = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in where[:MAX_POSITIONS_SHOWN])
    more = f", ... ({len(where)} in all)" if len(where) > MAX_POSITIONS_SHOWN else ""
    return f"[{shown}{more}]"


def require(bad: np.ndarray, name: str, message: str) -> None:
    """Raise ValueError('<name>: <message>; offending positions: [...]') where ``bad`` holds."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        raise ValueError(f"{name}: {message}; offending positions (0-based): {positions(bad)}")


def same_length(**arrays: np.ndarray) -> int:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"arguments must have the same length; got {lengths}")
    return next(iter(lengths.values()))


def group_keys(by, length: int) -> list[pd.Series]:
    """Grouping keys for array input: None, one array-like, a list of them, or a DataFrame."""
    if by is None:
        return []
    if isinstance(by, pd.DataFrame):
        items = [by[c] for c in by.columns]
    elif isinstance(by, (pd.Series, np.ndarray)) or (
            isinstance(by, Sequence) and not isinstance(by, str)
            and len(by) > 0 and not isinstance(by[0], (pd.Series, np.ndarray, list, tuple))):
        items = [by]
    else:
        items = list(by)
    keys = []
    for i, item in enumerate(items):
        series = item if isinstance(item, pd.Series) else pd.Series(np.asarray(item))
        if len(series) != length:
            raise ValueError(f"by: grouping key {i} has length {len(series)}, expected {length}")
        name = series.name if series.name is not None else ("group" if len(items) == 1
                                                            else f"group{i}")
        keys.append(pd.Series(series.to_numpy(), name=name))
    return keys


def check_columns(data: pd.DataFrame, **columns: str | None) -> None:
    """Each named argument must be a column of ``data`` (PHE: '<arg> is not a field name from data')."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a data frame object; got {type(data).__name__}")
    for arg, col in columns.items():
        if col is not None and col not in data.columns:
            raise ValueError(f"{arg} is not a field name from data: {col!r} not in "
                             f"{list(data.columns)}")


def by_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)
