"""Checked values from admin forms: a wave number, a date, a whole number in a range. Each bad value
is a ValueError naming the field and the value (shown to the admin with a 422), never a 500 from the
database (SQLite cannot hold an integer above 2**63) or from the date parser.

Example:
    >>> wave_number("3"), form_date("2015-06-01", "Opens on")
    (3, datetime.date(2015, 6, 1))
    >>> wave_number("99999999999999999999")
    Traceback (most recent call last):
    ...
    ValueError: wave number: '99999999999999999999' is not a whole number from 1 to 10,000
"""

from __future__ import annotations

import datetime as dt

MAX_WAVE = 10_000


def whole_number(value, label: str, low: int, high: int) -> int:
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 12 and low <= int(text) <= high):
        raise ValueError(f"{label}: {text[:40]!r} is not a whole number from {low:,} to {high:,}")
    return int(text)


def wave_number(value) -> int:
    return whole_number(value, "wave number", 1, MAX_WAVE)


def form_date(value, label: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``, as ``<input type="date">`` sends it)."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise ValueError(f"{label}: a date is needed (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) == 10 else _bad(text, label)
    except ValueError:
        return _bad(text, label)


def _bad(text: str, label: str):
    raise ValueError(f"{label}: {text[:40]!r} is not a date (YYYY-MM-DD)")
