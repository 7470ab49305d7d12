"""Statistical disclosure control, applied once where results leave the program.

The rule NHS Digital applies to HES: sub-national counts from 1 to 7 are suppressed and other counts
rounded to the nearest 5; zero stays zero; totals are computed from unrounded values before control;
rates, standardised rates and model estimates are exempt (they are not counts).

Example:
    >>> import pandas as pd
    >>> out = control_counts(pd.DataFrame({"n": [0, 6, 7, 8, 12]}), ["n"])
    >>> out["n"].tolist(), out["suppressed"].tolist()
    ([0.0, nan, nan, 10.0, 10.0], [False, True, True, False, False])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SUPPRESS_MAX = 7
ROUND_TO = 5


def control_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Controlled counts (NaN where suppressed) and the suppression mask, for an array of counts."""
    counts = np.asarray(values, dtype="float64")
    suppressed = (counts >= 1) & (counts <= SUPPRESS_MAX)
    # round half up, as HES tables do (np.round would round 12.5 to even)
    rounded = np.floor(counts / ROUND_TO + 0.5) * ROUND_TO
    return np.where(suppressed, np.nan, rounded), suppressed


def control_counts(frame: pd.DataFrame, count_columns: list[str],
                   national: bool | np.ndarray = False) -> pd.DataFrame:
    """Return a copy with count columns controlled and a ``suppressed`` column (any count suppressed).

    ``national`` marks counts for the whole of England, which the rule leaves as they are: True for
    the whole table, or a boolean per row for tables that mix national and sub-national rows.
    """
    missing = [c for c in count_columns if c not in frame.columns]
    if missing:
        raise KeyError(f"disclosure control: count column(s) {missing} not in table {list(frame.columns)}")
    out = frame.copy()
    national_rows = np.broadcast_to(np.asarray(national, dtype=bool), (len(out),))
    any_suppressed = np.zeros(len(out), dtype=bool)
    for col in count_columns:
        counts = out[col].to_numpy(dtype="float64")
        controlled, suppressed = control_values(counts)
        out[col] = np.where(national_rows, counts, controlled)
        any_suppressed |= suppressed & ~national_rows
    out["suppressed"] = any_suppressed
    return out
