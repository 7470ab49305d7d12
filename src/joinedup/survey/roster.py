"""The panel roster from CSV: ``panelist_id, name, email, pioneer, org_type, role, is_lead``.

Every problem is collected (missing columns, empty values, malformed e-mail addresses, unknown
organisation types or Pioneers, duplicate ids or addresses, is_lead not yes/no) and reported at once
with the CSV line and column; nothing is imported from a file with problems.

Example:
    >>> frame = read_roster("panel.csv", pioneers=PIONEER_NAMES)                   # doctest: +SKIP
    >>> store.upsert_panelists(frame)                                              # doctest: +SKIP
    (360, 0)
"""

from __future__ import annotations

import re

import pandas as pd

from joinedup.survey.store import ORG_TYPES

COLUMNS = ("panelist_id", "name", "email", "pioneer", "org_type", "role", "is_lead")
REQUIRED = ("panelist_id", "name", "email", "pioneer", "org_type", "is_lead")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[A-Za-z]{2,}$")


class RosterError(ValueError):
    """A roster that cannot be imported; ``problems`` lists every one."""

    def __init__(self, name: str, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:30]) + ("" if len(problems) <= 30 else f"\n  ... {len(problems) - 30} more")
        super().__init__(f"{name}: {len(problems)} problem(s):\n  {shown}")


def read_roster_bytes(content: bytes, name: str) -> pd.DataFrame:
    r"""An uploaded roster file as text columns; a file that is not UTF-8 CSV, or whose rows have more
    fields than its header (a ragged file), is refused with the file and line named.

    Example:
        >>> try:
        ...     read_roster_bytes(b"a,b\n1,2,3\n", "panel.csv")
        ... except RosterError as exc:
        ...     print(exc)
        panel.csv: 1 problem(s):
          not a well-formed CSV file (a row with a different number of fields); line 2: 3 field(s), the header has 2
    """
    import csv
    import io

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(name, [f"not UTF-8 text (byte {exc.start + 1}): save the file as CSV UTF-8"]) from None
    if not text.strip():
        raise RosterError(name, ["the file is empty"])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, r) for r in reader]  # line_num: the file line a record ends on
    except csv.Error as exc:
        raise RosterError(name, [f"not a well-formed CSV file (line {reader.line_num}): {exc}"]) from None
    header, body = rows[0][1], [r for _, r in rows[1:] if r]  # a blank line is no row
    # pandas would quietly take a row with one field too many as having an index column: count instead
    ragged = [f"line {n}: {len(r)} field(s), the header has {len(header)}"
              for n, r in rows[1:] if r and len(r) != len(header)]
    if ragged:
        raise RosterError(name, ["not a well-formed CSV file (a row with a different number of fields); " + ragged[0],
                                 *ragged[1:]])
    return pd.DataFrame(body, columns=header, dtype=str)


def read_roster(source, pioneers=None, name: str | None = None) -> pd.DataFrame:
    """Read and check a roster (path or DataFrame); ``pioneers`` restricts the Pioneer names."""
    if isinstance(source, pd.DataFrame):
        frame, name = source.astype(str).copy(), name or "roster"
    else:
        frame = pd.read_csv(source, dtype=str, keep_default_na=False)
        name = name or str(source).rsplit("/", 1)[-1]
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise RosterError(name, [f"missing column(s) {', '.join(missing)} (have: {', '.join(frame.columns)})"])
    if "role" not in frame.columns:
        frame["role"] = ""
    frame = frame[list(COLUMNS)].apply(lambda s: s.fillna("").str.strip())
    frame["email"] = frame["email"].str.lower()
    problems = []
    for i, row in frame.iterrows():
        line = i + 2
        for col in REQUIRED:
            if not row[col]:
                problems.append(f"line {line}, column {col}: empty")
        if row["email"] and not EMAIL.match(row["email"]):
            problems.append(f"line {line}, column email: {row['email']!r} is not an e-mail address")
        if row["org_type"] and row["org_type"] not in ORG_TYPES:
            problems.append(f"line {line}, column org_type: {row['org_type']!r} is not one of {', '.join(ORG_TYPES)}")
        if row["is_lead"] and row["is_lead"] not in ("yes", "no"):
            problems.append(f"line {line}, column is_lead: {row['is_lead']!r} is not yes or no")
        if pioneers is not None and row["pioneer"] and row["pioneer"] not in set(pioneers):
            problems.append(f"line {line}, column pioneer: {row['pioneer']!r} is not a Pioneer")
    for col in ("panelist_id", "email"):
        dup = frame[col].duplicated(keep="first") & (frame[col] != "")
        problems += [f"line {i + 2}, column {col}: {frame.at[i, col]!r} already on line "
                     f"{frame.index[frame[col] == frame.at[i, col]][0] + 2}" for i in frame.index[dup]]
    if problems:
        raise RosterError(name, problems)
    return frame
