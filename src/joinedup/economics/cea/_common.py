"""Shared plumbing for the CEA layer: options, input coercion, and the text/HTML summary type.

Example:
    >>> check_choice("ci", "bca", ("percentile", "bca"))
    'bca'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

CIMethod = Literal["percentile", "bca"]
CI_METHODS: tuple[str, ...] = ("percentile", "bca")

#: BCEA's default grid of willingness-to-pay values: 0 to 50,000 in steps of 100 (501 points).
DEFAULT_K = np.arange(0, 50_001, 100, dtype=float)
#: NICE's usual range of thresholds (£ per QALY), reported as net monetary benefit.
NICE_THRESHOLDS = (20_000.0, 30_000.0)


def check_choice(option: str, value: str, allowed: Sequence[str]) -> str:
    """Return ``value`` if allowed, else raise a ValueError that lists the allowed values."""
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{option} must be one of {listed}; got {value!r}")
    return value


def as_matrix(values, name: str, names: Sequence[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """A float (n_sim x n_interventions) matrix and the intervention names (columns or given)."""
    if isinstance(values, pd.DataFrame):
        cols = [str(c) for c in values.columns]
        values = values.to_numpy(dtype=float)
    else:
        values = np.asarray(values, dtype=float)
        if values.ndim == 1:  # one column of simulations is a single intervention
            values = values[:, None]
        cols = [f"intervention {j + 1}" for j in range(values.shape[1])] if values.ndim == 2 else []
    if values.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (simulations x interventions) array; got {values.ndim}-D")
    if not np.all(np.isfinite(values)):
        bad = np.argwhere(~np.isfinite(values))[0]
        raise ValueError(f"{name} has a non-finite value at simulation {bad[0]}, column {bad[1]}")
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != values.shape[1]:
            raise ValueError(f"interventions has {len(names)} names but {name} has {values.shape[1]} columns")
        cols = names
    return values, cols


def resolve_ref(ref, names: Sequence[str]) -> int:
    """The column index of the reference intervention, given by name or position."""
    if isinstance(ref, str):
        if ref not in names:
            raise ValueError(f"ref {ref!r} is not an intervention; choose from {', '.join(map(repr, names))}")
        return list(names).index(ref)
    idx = int(ref)
    if not -len(names) <= idx < len(names):
        raise ValueError(f"ref {ref} is out of range for {len(names)} interventions")
    return idx % len(names)


def k_chunks(k: np.ndarray, per_k: int, budget: int = 4_000_000):
    """Slices of the k grid whose broadcast work arrays stay under ``budget`` elements (memory)."""
    step = max(1, budget // max(per_k, 1))
    for start in range(0, len(k), step):
        yield slice(start, min(start + step, len(k)))


class Summary(str):
    """A summary that is plain text (``str``) and renders as tables in notebooks."""

    def __new__(cls, text: str, tables: dict[str, pd.DataFrame], header: str):
        obj = super().__new__(cls, text)
        obj.tables, obj.header = tables, header
        return obj

    def _repr_html_(self) -> str:
        parts = [f"<p>{self.header}</p>"]
        for title, table in self.tables.items():
            parts.append(f"<h4>{title}</h4>" + table.to_html(index=False, float_format=lambda v: f"{v:,.4f}"))
        return "".join(parts)
