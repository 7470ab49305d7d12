"""Canonical data: schema, sources (Ibis engines), validation and loading.

Example:
    >>> from joinedup.data import load_dataset
    >>> ds = load_dataset("out/demo/data")          # doctest: +SKIP  (validates, then opens)
"""

from __future__ import annotations

from joinedup.data.sources import Dataset, DataSourceError, open_dataset
from joinedup.data.validate import DataValidationError, ValidationReport, validate_dataset
from joinedup.options import Engine


def load_dataset(location, engine: Engine = "duckdb", tables: list[str] | None = None) -> Dataset:
    """Validate a dataset against the schema, then open it; raise DataValidationError on any error."""
    validate_dataset(location, engine, tables).raise_for_errors()
    return open_dataset(location, engine)


__all__ = [
    "Dataset", "DataSourceError", "DataValidationError", "ValidationReport", "load_dataset",
    "open_dataset", "validate_dataset",
]
