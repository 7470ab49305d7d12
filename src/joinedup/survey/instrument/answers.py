"""Server-side checks of submitted answers: the same rules as the page, so nothing relies on the
browser. Types are coerced, answers to questions hidden by skip logic are dropped (in form order, so
a later question's ``relevant`` sees the cleaned earlier answers), constraints are checked, and, on
final submission only, required questions that are relevant must be answered.

Example:
    >>> clean, errors = validate_answers(form, {"org_type": "ccg", "n_staff": "12"}, final=False)  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt

from joinedup.survey.instrument import expr
from joinedup.survey.instrument.model import Form, Question

MAX_ANSWER_CHARS = 20_000  # as the store: a longer answer is refused with a message, never truncated


def _relevant(groups: list, q: Question, clean: dict) -> bool:
    texts = [g.relevant for g in groups if g.name in q.group and g.relevant] + ([q.relevant] if q.relevant else [])
    return all(bool(expr.evaluate(expr.parse(t), clean)) for t in texts)


def _coerce(q: Question, raw) -> tuple[object, str | None]:
    """(value, error) for one raw answer (a string, or a list for select_multiple)."""
    if q.type == "select_multiple":
        values = raw if isinstance(raw, (list, tuple)) else str(raw).split()
        bad = [v for v in values if v not in q.choice_names]
        return (list(values), None) if not bad else (None, f"{', '.join(map(repr, bad))} is not one of the choices")
    value = raw[-1] if isinstance(raw, (list, tuple)) else raw
    value = "" if value is None else str(value).strip()
    if len(value) > MAX_ANSWER_CHARS:
        return None, f"please keep this under {MAX_ANSWER_CHARS:,} characters"
    if value == "":
        return None, None
    if q.type == "select_one":
        return (value, None) if value in q.choice_names else (None, f"{value!r} is not one of the choices")
    if q.type == "integer":
        try:
            return int(value), None
        except ValueError:
            return None, "enter a whole number"
    if q.type == "decimal":
        try:
            return float(value), None
        except ValueError:
            return None, "enter a number"
    if q.type == "date":
        try:
            return dt.date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, "enter a date as YYYY-MM-DD"
    return value, None


def validate_answers(form: Form, raw: dict, final: bool) -> tuple[dict, dict[str, str]]:
    """(clean answers, {question: message}); unknown names in ``raw`` are ignored (not stored)."""
    clean: dict = {}
    errors: dict[str, str] = {}
    groups = form.groups()  # once, not once per question (every autosave runs this)
    for q in form.questions:
        if q.type == "note":
            continue
        if not _relevant(groups, q, clean):
            continue  # hidden by skip logic: any answer given is dropped
        value, error = _coerce(q, raw.get(q.name)) if q.name in raw else (None, None)
        if error:
            errors[q.name] = error
            continue
        empty = value is None or value == [] or value == ""
        if not empty and q.constraint and not expr.evaluate(expr.parse(q.constraint), clean, current=value):
            errors[q.name] = q.constraint_message or "this answer is not allowed"
            continue
        if empty:
            if final and q.required:
                errors[q.name] = q.required_message or "this question needs an answer"
            continue
        clean[q.name] = value
    return clean, errors
