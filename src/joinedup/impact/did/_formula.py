"""Covariate formulas (``xformla``) read the way a user of R's ``model.matrix`` expects, via formulaic.

- Text, boolean and pandas categorical columns are factors with R's treatment coding: the first level
  is the reference (text levels sorted, as R's ``factor``; a pandas categorical keeps its own order, as
  R keeps a factor's levels); ``C(x)`` makes a numeric column a factor.
- Interactions (``a:b``, ``a*b``) and simple transforms (``I(x**2)``, ``np.log(x)``, ``np.exp``,
  ``np.sqrt``, ``np.log1p``) are allowed; any other function is refused by name (a formula is Python
  code to formulaic, so only these calls are let through).
- The intercept is always in the design (R ``did`` passes an intercept to DRDID); removing it is refused.
- Inside each ATT(g,t) cell R drops factor levels absent from the cell (``droplevels``) before
  ``model.matrix``, so the first level present becomes the reference: :func:`cell_columns` does the same.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"region": ["north", "south", "east", "south"], "x": [1.0, 2, 3, 4]})
    >>> d = build_design(df, "~ region + np.log(x)")
    >>> d.names
    ('(Intercept)', 'region[T.north]', 'region[T.south]', 'np.log(x)')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALLOWED_CALLS = ("C", "I", "np.log", "np.log1p", "np.exp", "np.sqrt")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s*\(")
_NO_INTERCEPT = re.compile(r"(^|[+~\s])(-\s*1|0)\s*($|[+\s])")


@dataclass(frozen=True)
class Design:
    matrix: np.ndarray                       # (rows, k), intercept first
    names: tuple[str, ...]
    factor_groups: tuple[tuple[int, ...], ...]   # columns of each factor main effect, level order
    level_cols: tuple[int, ...]              # every column that codes a factor level (may vanish in a cell)


def _rhs(xformla: str) -> str:
    text = str(xformla).strip()
    if not text.startswith("~"):
        raise ValueError(f"xformla must be a one-sided formula such as '~ lpop'; got {xformla!r}")
    rhs = text[1:].strip()
    for name in _CALL.findall(rhs):
        if name not in ALLOWED_CALLS:
            raise ValueError(f"xformla: function {name!r} is not supported in {xformla!r}; allowed are "
                             f"{', '.join(c + '()' for c in ALLOWED_CALLS)}, interactions (a:b, a*b) and columns")
    if _NO_INTERCEPT.search(" " + rhs + " "):
        raise ValueError(f"xformla: the intercept cannot be removed ({xformla!r}); R did always includes it")
    return rhs or "1"


def formula_columns(xformla: str | None, data: pd.DataFrame) -> list[str]:
    """The data columns ``xformla`` uses; raise naming a column that is not in the data.

    Example:
        >>> formula_columns("~ C(k) + x:k", pd.DataFrame({"k": [1], "x": [2.0]}))
        ['k', 'x']
    """
    if xformla is None:
        return []
    from formulaic import Formula
    rhs = _rhs(xformla)
    try:
        names = sorted(str(v) for v in Formula(rhs).required_variables)
    except Exception as err:  # formulaic's parser errors are many classes; report them all as ours
        raise ValueError(f"xformla: cannot read {xformla!r}: {err}") from None
    names = [v for v in names if v not in ("np",)]
    for v in names:
        if v not in data.columns:
            raise ValueError(f"xformla ({v}): column {v!r} is not in the data (columns: {list(data.columns)})")
    return names


def _as_factor_frame(data: pd.DataFrame, cols: list[str], rowname: str, ids) -> pd.DataFrame:
    out = {}
    for c in cols:
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s
        elif pd.api.types.is_bool_dtype(s):
            out[c] = pd.Categorical(np.where(s.to_numpy(), "TRUE", "FALSE"), categories=["FALSE", "TRUE"])
        elif pd.api.types.is_numeric_dtype(s):
            out[c] = s.astype(float)
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            text = s.astype(str)
            out[c] = pd.Categorical(text, categories=sorted(text.unique()))
        else:
            example = ids.iloc[0] if ids is not None else 0
            raise ValueError(f"xformla ({c}): column {c!r} has dtype {s.dtype}, which is neither numeric nor "
                             f"text/categorical (e.g. {rowname} {example!r}); convert it first")
    return pd.DataFrame(out, index=data.index)


def build_design(data: pd.DataFrame, xformla: str | None, rowname: str = "row", ids=None) -> Design:
    """The design matrix of ``xformla`` for every row of ``data`` (intercept only when None)."""
    n = len(data)
    if xformla is None or not _rhs(xformla).replace("1", "").strip(" +"):
        return Design(np.ones((n, 1)), ("(Intercept)",), (), ())
    from formulaic import model_matrix
    cols = formula_columns(xformla, data)
    frame = _as_factor_frame(data, cols, rowname, ids)
    try:
        with np.errstate(all="ignore"):      # np.log(0) and the like are reported below, by row
            mm = model_matrix(_rhs(xformla), frame, na_action="ignore", output="pandas")
    except Exception as err:
        raise ValueError(f"xformla: cannot build the design of {xformla!r}: {err}") from None
    names = [("(Intercept)" if c == "Intercept" else str(c)) for c in mm.columns]
    if names[0] != "(Intercept)":
        raise ValueError(f"xformla: the intercept cannot be removed ({xformla!r}); R did always includes it")
    matrix = mm.to_numpy(dtype=float)
    if not np.isfinite(matrix).all():
        bad = int(np.argmax(~np.isfinite(matrix).all(axis=1)))
        who = ids.iloc[bad] if ids is not None else bad
        raise ValueError(f"xformla: {xformla!r} gives a non-finite value (e.g. np.log of a value <= 0) at "
                         f"{rowname} {who!r}")
    groups, level_cols, pos = [], [], 0
    for part in mm.model_spec.structure:
        width = len(part.columns)
        idx = tuple(range(pos, pos + width))
        if any("[" in str(c) for c in part.columns):
            level_cols.extend(idx)
            if ":" not in str(part.term) and all("[T." in str(c) for c in part.columns):
                groups.append(idx)
        pos += width
    return Design(matrix, tuple(names), tuple(groups), tuple(level_cols))


def cell_columns(x: np.ndarray, design_groups: tuple, level_cols: tuple) -> np.ndarray | None:
    """Columns R's ``droplevels`` + ``model.matrix`` keep for one cell's rows ``x`` (None: all).

    Level columns that are all zero in the cell go; a factor whose reference level is absent takes
    its first present level as the new reference (that column goes too).
    """
    if not level_cols:
        return None
    drop = {j for j in level_cols if not x[:, j].any()}
    for group in design_groups:
        present = [j for j in group if j not in drop]
        ref_present = (x[:, list(group)] == 0).all(axis=1).any()
        if present and not ref_present:
            drop.add(present[0])
    if not drop:
        return None
    return np.array([j for j in range(x.shape[1]) if j not in drop])
