"""Statistical disclosure control, applied once where results leave the program.

The rule NHS Digital applies to HES: sub-national counts from 1 to 7 are suppressed and other counts
rounded to the nearest 5; zero stays zero; totals are computed from unrounded values before control.
A sub-national rate or percentage whose numerator is 1-7, and a mean over 1-7 people, is suppressed
with it (:func:`control_rates`), or the published denominator would give the count back; standardised
rates and model estimates are otherwise exempt. Survey percentages shown per site need a base of
:data:`SURVEY_MIN_BASE` respondents (:func:`require_base`, the NHS Staff Survey's threshold).

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
SURVEY_MIN_BASE = 11  # NHS Staff Survey: no result is published for fewer than 11 respondents


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


def control_rates(frame: pd.DataFrame, rates: dict, national: bool | np.ndarray = False) -> pd.DataFrame:
    """Suppress each rate, percentage or mean whose numerator (or number of people) is 1-7.

    ``rates`` maps each rate column to its numerator column: the count a rate or percentage is of,
    or the number of people a mean is over (a column name, or an array of the numerators row by
    row, for tables whose rows count different things). Apply it before :func:`control_counts` (it
    needs the unrounded numerators). Rows marked ``national`` are left as they are; ``suppressed``
    is set (or extended) on rows where a rate was suppressed.

    Example:
        >>> out = control_rates(pd.DataFrame({"k": [0, 3, 8], "pct": [0.0, 30.0, 80.0]}), {"pct": "k"})
        >>> out["pct"].tolist(), out["suppressed"].tolist()
        ([0.0, nan, 80.0], [False, True, False])
    """
    missing = [c for pair in rates.items() for c in pair if isinstance(c, str) and c not in frame.columns]
    if missing:
        raise KeyError(f"disclosure control: rate/numerator column(s) {missing} not in table {list(frame.columns)}")
    out = frame.copy()
    national_rows = np.broadcast_to(np.asarray(national, dtype=bool), (len(out),))
    any_suppressed = out["suppressed"].to_numpy(dtype=bool) if "suppressed" in out else np.zeros(len(out), bool)
    for rate, numerator in rates.items():
        counts = out[numerator] if isinstance(numerator, str) else pd.Series(numerator, index=out.index)
        _, small = control_values(counts.to_numpy(dtype="float64"))
        small &= ~national_rows
        out[rate] = out[rate].where(~small)
        any_suppressed |= small
    out["suppressed"] = any_suppressed
    return out


def from_rounded(controlled: pd.DataFrame, column: str, numerator: str, denominator: str, multiplier: float,
                 rows: np.ndarray | None = None) -> pd.DataFrame:
    """Recompute a percentage (or simple rate) from the controlled, rounded counts shown beside it.

    NHS Digital's HES guide computes a sub-national percentage from the rounded numerator and
    denominator, so that it cannot give the unrounded counts back. Only ``rows`` (default: all) whose
    value is still shown are recomputed; a zero or missing denominator leaves the value missing.

    Example:
        >>> t = pd.DataFrame({"k": [10.0, 0.0], "n": [15.0, 20.0], "pct": [73.3, 0.0]})
        >>> from_rounded(t, "pct", "k", "n", 100)["pct"].round(1).tolist()
        [66.7, 0.0]
    """
    out = controlled.copy()
    mask = out[column].notna().to_numpy() & (np.ones(len(out), bool) if rows is None else np.asarray(rows, bool))
    num = out[numerator].astype("float64")
    den = out[denominator].astype("float64")
    recomputed = (num / den.where(den > 0)) * multiplier
    out[column] = out[column].astype("float64").where(~mask, recomputed)
    return out


def require_base(frame: pd.DataFrame, columns: list[str], base: str, minimum: int = SURVEY_MIN_BASE) -> pd.DataFrame:
    """Blank the ``columns`` (percentages) of rows whose ``base`` (respondents) is under ``minimum``.

    Example:
        >>> require_base(pd.DataFrame({"n": [10, 11], "pct": [50.0, 45.5]}), ["pct"], "n")["pct"].tolist()
        [nan, 45.5]
    """
    out = frame.copy()
    small = out[base].astype("float64").fillna(0) < minimum
    for col in columns:
        out[col] = out[col].where(~small)
    return out
