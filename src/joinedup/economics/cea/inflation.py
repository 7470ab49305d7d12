"""Move unit costs between price years with a pay-and-prices index by financial year.

The built-in table (``data/nhs_cost_inflation.csv``) is small and labelled row by row: 2007/08 to
2015/16 are HCHS pay & prices changes taken from a secondary source (the R package inflatably,
which cites PSSRU Unit Costs 2017) and not checked against PSSRU; 2016/17 onwards are
ILLUSTRATIVE placeholders, not published NHSCII figures. So :func:`inflate` refuses the built-in
table unless ``allow_illustrative=True``: for real work pass ``table=`` with the current PSSRU
(Jones et al., *Unit Costs of Health and Social Care*) NHSCII pay & prices series.

Example:
    >>> mine = pd.DataFrame({"financial_year": ["2019/20", "2020/21", "2021/22"], "pct_change": [0, 2.0, 3.0]})
    >>> round(inflate(100.0, "2019/20", "2021/22", table=mine), 2)
    105.06
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

_TABLE = Path(__file__).parent / "data" / "nhs_cost_inflation.csv"


def inflation_index(table: pd.DataFrame | None = None, base: str | None = None) -> pd.DataFrame:
    """The index by financial year (``base`` year = 100; default the first), from annual % changes.

    ``pct_change`` of a year is its change on the year before (the first year's value is unused).
    """
    frame = (pd.read_csv(_TABLE) if table is None else table.copy()).reset_index(drop=True)
    for col in ("financial_year", "pct_change"):
        if col not in frame.columns:
            raise ValueError(f"inflation table needs a {col!r} column")
    frame["financial_year"] = [_fy(y) for y in frame["financial_year"]]
    starts = np.array([int(y[:4]) for y in frame["financial_year"]])
    if np.any(np.diff(starts) != 1):
        raise ValueError("inflation table must list consecutive financial years in order")
    growth = 1 + frame["pct_change"].to_numpy(dtype=float) / 100
    growth[0] = 1.0
    level = np.cumprod(growth)
    base_row = 0 if base is None else _row(frame, base)
    frame["index"] = 100 * level / level[base_row]
    if "status" not in frame.columns:
        frame["status"] = "user"
    return frame


def inflate(cost, from_year, to_year, table: pd.DataFrame | None = None, allow_illustrative: bool = False):
    """Express ``cost`` (scalar, array or Series) in ``to_year`` prices from ``from_year`` prices.

    Years are ``"2015/16"`` strings or the integer year the financial year starts (2015).

    Example:
        >>> round(inflate(1000.0, "2012/13", "2014/15", allow_illustrative=True), 2)   # 1.7%, 2.7%
        1044.46
    """
    index = inflation_index(table)
    a, b = _row(index, from_year), _row(index, to_year)
    if table is None and not allow_illustrative:
        raise ValueError("the built-in inflation table is illustrative / unverified (see docs/economics-cea.md); "
                         "pass table= with the current PSSRU NHSCII series, or allow_illustrative=True")
    factor = index["index"].iloc[b] / index["index"].iloc[a]
    if isinstance(cost, pd.Series):
        return cost * factor
    out = np.asarray(cost, dtype=float) * factor
    return out if out.ndim else float(out)


def _fy(year) -> str:
    if isinstance(year, (int, np.integer)):
        return f"{year}/{(year + 1) % 100:02d}"
    text = str(year).strip()
    m = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})", text)
    if not m or int(m.group(2)[-2:]) != (int(m.group(1)) + 1) % 100:
        raise ValueError(f"financial year must look like '2015/16' or 2015; got {year!r}")
    return f"{m.group(1)}/{m.group(2)[-2:]}"


def _row(frame: pd.DataFrame, year) -> int:
    fy = _fy(year)
    hits = np.flatnonzero(frame["financial_year"].to_numpy() == fy)
    if not len(hits):
        first, last = frame["financial_year"].iloc[0], frame["financial_year"].iloc[-1]
        raise ValueError(f"no index for {fy}; the table covers {first} to {last}")
    return int(hits[0])
