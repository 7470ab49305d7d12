"""The machinery for declaring canonical tables once.

A :class:`Table` lists its :class:`Column` objects; each column carries its type, whether it may be
missing, its constraints and a one-line description. The same declaration drives validation
(:mod:`joinedup.data.validate`), the simulator's output types (:func:`Table.arrow_schema`) and the
generated data dictionary (:func:`joinedup.data.dictionary.render_markdown`).

Example:
    >>> from joinedup.data.tables import TABLES
    >>> TABLES["areas"].column("area_code").dtype
    'string'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import pyarrow as pa

DType = Literal["string", "int64", "int32", "float64", "date", "bool"]

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "date": pa.date32(),
    "bool": pa.bool_(),
}

# DuckDB types used to cast text input; a value that does not cast is a type error, never a NULL.
SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "float64": "DOUBLE",
    "date": "DATE",
    "bool": "BOOLEAN",
}

# Ibis type names for casting and comparing, and the broad kind a stored column must have.
IBIS_TYPES: dict[str, str] = {
    "string": "string", "int64": "int64", "int32": "int32", "float64": "float64", "date": "date",
    "bool": "boolean",
}


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``allowed`` lists the permitted values, ``minimum``/``maximum`` bound numbers and dates (dates as
    ISO strings), ``pattern`` is a regular expression the whole value must match, ``references`` names
    a ``table.column`` the value must exist in.
    """

    name: str
    dtype: DType
    description: str
    required: bool = True
    allowed: tuple[str, ...] | None = None
    minimum: float | str | None = None
    maximum: float | str | None = None
    pattern: str | None = None
    references: str | None = None
    unique: bool = False

    def rules(self) -> list[str]:
        """Human-readable constraints, as the data dictionary shows them."""
        out = ["required" if self.required else "may be missing"]
        if self.unique:
            out.append("unique")
        if self.allowed is not None:
            out.append("one of " + ", ".join(f"`{v}`" for v in self.allowed))
        if self.minimum is not None:
            out.append(f">= {self.minimum}")
        if self.maximum is not None:
            out.append(f"<= {self.maximum}")
        if self.pattern is not None:
            out.append(f"matches `{self.pattern}`")
        if self.references is not None:
            out.append(f"exists in `{self.references}`")
        return out


@dataclass(frozen=True)
class Check:
    """A rule across columns of one row: ``rule(table)`` is an Ibis boolean that must hold.

    Written as an Ibis expression, not SQL text, so that it runs unchanged on every backend.
    """

    name: str
    rule: Callable[[Any], Any]
    description: str


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns, primary key, row checks and the NHS sources it maps to."""

    name: str
    description: str
    sources: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    checks: tuple[Check, ...] = field(default_factory=tuple)
    # Collected only by some evaluations (e.g. EQ-5D questionnaires): a dataset may lack it.
    optional: bool = False

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema every writer of this table uses."""
        return pa.schema(
            [pa.field(c.name, ARROW_TYPES[c.dtype], nullable=not c.required) for c in self.columns]
        )
