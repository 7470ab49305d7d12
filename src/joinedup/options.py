"""Every user-facing option as a ``Literal`` type, validated in one place.

Example:
    >>> check_option("engine", "duckdb")
    'duckdb'
    >>> check_option("engine", "oracle")
    Traceback (most recent call last):
    ...
    ValueError: engine must be one of 'duckdb', 'spark'; got 'oracle'
"""

from __future__ import annotations

from typing import Literal, get_args

Engine = Literal["duckdb", "spark"]
ScenarioName = Literal["default", "null"]
Period = Literal["month", "quarter", "financial_year"]
# how the largest output tables are written (outputs.LARGE_TABLES); every other table is always both
TableFormat = Literal["parquet", "both"]

_OPTIONS = {"engine": Engine, "scenario": ScenarioName, "period": Period, "table_format": TableFormat}


def allowed_values(option: str) -> tuple[str, ...]:
    """The values an option accepts."""
    return get_args(_OPTIONS[option])


def check_option(option: str, value: str) -> str:
    """Return ``value`` if ``option`` allows it, else raise a ValueError listing the allowed values."""
    allowed = allowed_values(option)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{option} must be one of {listed}; got {value!r}")
    return value
