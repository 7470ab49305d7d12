"""The enrolment file a scheme brings (``enrolled.csv``), checked before anything is matched.

Columns: ``person_id`` (as in the canonical ``persons`` table), ``enrolment_date`` (YYYY-MM-DD),
``scheme`` and ``site``. Every problem is collected and reported together, each naming the file, the
line (the header is line 1) and the value: a missing column, an unreadable id or date, an unknown
person, an enrolment date outside the data, a person enrolled twice. Nothing is dropped silently.
The messages carry pseudonymous ids only, and are for the analyst's console, not for outputs.

Example:
    >>> import io
    >>> read_enrolments(io.StringIO("person_id,enrolment_date,scheme,site\\n7,2015-04-02,frailty,Leeds\\n")).shape
    (1, 4)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("person_id", "enrolment_date", "scheme", "site")
SHOWN = 20  # problems listed in one message


class EnrolmentError(ValueError):
    """The enrolment file breaks a rule; the message lists every problem with file, line and value."""


def read_enrolments(source, known_ids=None, period: tuple[pd.Timestamp, pd.Timestamp] | None = None) -> pd.DataFrame:
    """Read and validate an enrolment file (path or file object) and return it typed.

    ``known_ids``: sorted person ids of the canonical tables (unknown people are errors);
    ``period``: first day and the day after the last day of the data (dates outside are errors).
    """
    name = str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "enrolments")
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise EnrolmentError(f"{name}: cannot be read as CSV: {exc}") from None
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise EnrolmentError(f"{name}: missing column(s) {', '.join(missing)} (it has: {', '.join(raw.columns)}; "
                             f"needs: {', '.join(COLUMNS)})")
    problems: list[str] = []
    line = np.arange(len(raw)) + 2

    def report(mask, what, column):
        for i in np.flatnonzero(mask)[:SHOWN]:
            problems.append(f"line {line[i]}: {column} {raw[column].iloc[i]!r} {what}")
        if mask.sum() > SHOWN:
            problems.append(f"... and {int(mask.sum()) - SHOWN} more line(s) where {column} {what}")

    ids = pd.to_numeric(raw["person_id"].str.strip(), errors="coerce")
    bad_id = ids.isna() | (ids < 0) | (ids != ids.round())
    report(bad_id.to_numpy(), "is not a whole non-negative number", "person_id")
    dates = pd.to_datetime(raw["enrolment_date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    report(dates.isna().to_numpy(), "is not a date (YYYY-MM-DD)", "enrolment_date")
    for col in ("scheme", "site"):
        report((raw[col].str.strip() == "").to_numpy(), "is empty", col)
    ok_id = ~bad_id
    if known_ids is not None:
        known = np.asarray(known_ids, dtype=np.int64)
        pos = np.clip(np.searchsorted(known, ids.fillna(-1).to_numpy(dtype=np.int64)), 0, max(len(known) - 1, 0))
        unknown = ok_id.to_numpy() & ~((len(known) > 0) & (known[pos] == ids.fillna(-1).to_numpy(dtype=np.int64)))
        report(unknown, "is not a person in the canonical persons table", "person_id")
    if period is not None:
        lo, hi = period
        outside = dates.notna() & ((dates < lo) | (dates >= hi))
        report(outside.to_numpy(), f"is outside the data ({lo.date()} to {(hi - pd.Timedelta(days=1)).date()})",
               "enrolment_date")
    dup = ok_id & ids.duplicated(keep="first")
    report(dup.to_numpy(), "is enrolled more than once (first enrolment only, please)", "person_id")
    if problems:
        raise EnrolmentError(f"{name}: {len(problems)} problem(s); nothing was read:\n  " + "\n  ".join(problems))
    return pd.DataFrame({"person_id": ids.astype("int64"), "enrolment_date": dates,
                         "scheme": raw["scheme"].str.strip(), "site": raw["site"].str.strip()})
