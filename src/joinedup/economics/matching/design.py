"""From a formula and a data frame to the arrays matching needs, with R's column names.

The propensity model uses treatment contrasts (R ``model.matrix`` defaults: the first level of a
factor is the reference), so ``race`` with levels black/hispan/white gives ``racehispan`` and
``racewhite``. Balance tables use every level (MatchIt's ``get.covs.matrix`` with
``contrasts = FALSE``), so all three race dummies appear, as in ``summary(m.out)``.

Bad input stops here, with an error naming the column and how many rows are affected.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 0, 1, 0], "x": [1.0, 2, 3, 4], "g": list("abab")})
    >>> d = parse_design("t ~ x + g", df)
    >>> list(d.ps_matrix.columns), list(d.covariates.columns)
    (['(Intercept)', 'x', 'gb'], ['x', 'ga', 'gb'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Design:
    """The treatment, the propensity-model matrix and the balance covariates of one formula."""

    formula: str
    treat_name: str
    treat: np.ndarray          # int8, 1 = treated, in data order
    ps_matrix: pd.DataFrame    # with "(Intercept)", treatment contrasts
    covariates: pd.DataFrame   # every factor level, no intercept (balance tables)
    variables: tuple[str, ...]  # data columns the right-hand side reads


def r_names(columns) -> list[str]:
    """formulaic's ``race[T.hispan]`` / ``race[hispan]`` → R's ``racehispan``; ``Intercept`` →
    ``(Intercept)``."""
    out = []
    for c in columns:
        c = "(Intercept)" if c == "Intercept" else re.sub(r"\[(?:T\.)?([^\]]*)\]", r"\1", str(c))
        out.append(c)
    return out


def parse_design(formula: str, data: pd.DataFrame) -> Design:
    """Check ``formula`` against ``data`` and build the matrices (see module docstring)."""
    from formulaic import Formula

    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    if "~" not in formula:
        raise ValueError(f"formula must have a treatment on the left, like 'treat ~ age + educ'; got {formula!r}")
    f = Formula(formula)
    lhs = sorted(f.lhs.required_variables)
    if len(lhs) != 1:
        raise ValueError(f"the left-hand side of the formula must be one treatment column; got {lhs}")
    treat_name = lhs[0]
    rhs_vars = tuple(sorted(f.rhs.required_variables))
    check_columns(data, [treat_name, *rhs_vars], what="formula")
    treat = binary_treatment(data[treat_name], treat_name)
    check_complete(data, rhs_vars, what="covariate")

    ps = _model_matrix(str(f.rhs), data, full_rank=True)
    exprs = _factor_exprs(f.rhs)
    if list(ps.columns) == ["(Intercept)", *exprs]:  # all numeric: reuse, don't rebuild
        covs = ps.drop(columns="(Intercept)")
    else:
        covs = covariate_matrix(exprs, data) if exprs else pd.DataFrame(index=data.index)
    return Design(formula, treat_name, treat, ps, covs, rhs_vars)


def covariate_matrix(exprs, data: pd.DataFrame) -> pd.DataFrame:
    """Every level of every factor, no intercept (MatchIt's ``get.covs.matrix``)."""
    mm = _model_matrix(" + ".join(exprs), data, full_rank=False)
    return mm.drop(columns="(Intercept)", errors="ignore")


def variable_list(spec, data: pd.DataFrame, what: str) -> list[str]:
    """``exact`` / ``mahvars`` as a list of column names (a string, a list, or ``"~ a + b"``)."""
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = [s.strip() for s in spec.replace("~", "").split("+") if s.strip()]
    spec = list(spec)
    check_columns(data, spec, what=what)
    check_complete(data, spec, what=f"{what} variable")
    return spec


def check_columns(data: pd.DataFrame, names, what: str) -> None:
    missing = [n for n in names if n not in data.columns]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        raise KeyError(f"{what} names column(s) not in the data: {listed}; "
                       f"the data has {len(data.columns)} columns: {', '.join(map(str, data.columns[:20]))}")


def check_complete(data: pd.DataFrame, names, what: str) -> None:
    """MatchIt refuses missing and non-finite covariates; say which column and how many rows."""
    for n in names:
        col = data[n]
        bad = col.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            bad = bad | ~np.isfinite(col.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            rows = ", ".join(map(str, data.index[bad][:5])) + (", ..." if bad.sum() > 5 else "")
            raise ValueError(f"{what} {n!r} has {int(bad.sum())} missing or non-finite value(s) "
                             f"(rows {rows}); impute or drop them before matching")


def binary_treatment(col: pd.Series, name: str) -> np.ndarray:
    """0/1 or False/True, nothing else (no silent recoding of a two-level factor)."""
    if col.isna().any():
        raise ValueError(f"treatment {name!r} has {int(col.isna().sum())} missing value(s)")
    values = set(pd.unique(col).tolist())
    if not values <= {0, 1, True, False} or not pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        shown = sorted(map(str, values))[:6]
        raise ValueError(f"treatment {name!r} must be binary (0/1 or False/True); found values {shown}")
    if len(values) < 2:
        raise ValueError(f"treatment {name!r} has only one value ({values.pop()}); need treated and controls")
    return col.to_numpy().astype(np.int8)


def _model_matrix(rhs: str, data: pd.DataFrame, full_rank: bool) -> pd.DataFrame:
    plain = _plain_columns(rhs, data)
    if plain is not None:
        return _plain_model_matrix(plain, data, full_rank)
    from formulaic import model_matrix

    mm = model_matrix(rhs, data, ensure_full_rank=full_rank, na_action="raise")
    return pd.DataFrame(np.asarray(mm, dtype=float), index=data.index, columns=r_names(mm.columns), copy=False)


def _plain_columns(rhs: str, data: pd.DataFrame) -> list[str] | None:
    """The right-hand side's columns when it is only column names (numbers, or text without
    brackets in its values) with no missing values: the case :func:`_plain_model_matrix` builds
    without formulaic. Anything else (transforms, interactions, booleans, pandas categoricals with
    their own level order, missing values) returns None and goes to formulaic."""
    terms = [t.strip() for t in rhs.split("+")]
    terms = [t for t in terms if t != "1"]
    if not terms or len(set(terms)) != len(terms):
        return None
    for t in terms:
        if not t.isidentifier() or t not in data.columns:
            return None
        col = data[t]
        if pd.api.types.is_bool_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype) or col.isna().any():
            return None
        if pd.api.types.is_numeric_dtype(col):
            continue
        if not pd.api.types.is_string_dtype(col):
            return None
        levels = pd.unique(col)
        if not all(isinstance(v, str) and "[" not in v and "]" not in v for v in levels):
            return None
    return terms


def _plain_model_matrix(terms: list[str], data: pd.DataFrame, full_rank: bool) -> pd.DataFrame:
    """formulaic's model matrix of plain columns, built straight into one float array: formulaic
    held three to four copies of it on the way (at scale 1.0, 10 million controls, the matching's
    design peaked at 3 GB for a 730 MB matrix). Same columns, names and values: an intercept, each
    number as it is, each text column's levels sorted with the first dropped when ``full_rank``
    (treatment contrasts), all kept otherwise; ``tests/test_economics_matching_design.py``
    compares the two."""
    names, parts = ["(Intercept)"], [None]
    for t in terms:
        col = data[t]
        if pd.api.types.is_numeric_dtype(col):
            names.append(t)
            parts.append((col, None))
            continue
        codes, levels = pd.factorize(col, sort=True)
        for i, level in enumerate(levels):
            if not (full_rank and i == 0):
                names.append(f"{t}{level}")
                parts.append((codes, i))
    out = np.empty((len(data), len(names)))
    out[:, 0] = 1.0
    for j, (values, level) in enumerate(parts[1:], start=1):
        out[:, j] = values.to_numpy(dtype=float) if level is None else values == level
    return pd.DataFrame(out, index=data.index, columns=names, copy=False)  # pandas 3 copies an array unless told


def _factor_exprs(rhs) -> list[str]:
    """The variables of the right-hand side (R ``model.frame`` columns): each factor of each term
    once, in order; interactions contribute their parts, as in MatchIt's balance tables."""
    seen: dict[str, None] = {}
    for term in rhs:
        for factor in term.factors:
            if factor.expr != "1":
                seen.setdefault(factor.expr, None)
    return list(seen)
