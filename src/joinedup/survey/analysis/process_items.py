"""The key-informant instrument's process items (version 2017.1: initiatives and their stages, the
site's objectives and progress, facilitators, personalisation, system level, national barriers and
their origin; :mod:`joinedup.process.ki_items`) in the survey analysis.

They are optional columns of ``responses.csv`` (a file from before 2017.1 has none of them); when
present their answers are checked against the instrument's choices like every closed question, and
two tables are made from the respondents (completes only, as the other tables):

* ``process_items``: per wave, group (all, lead, non_lead, each org type) and item, ``n`` answering
  and the per cent with the family's positive answer (``pct_positive``; the answers counted are in
  ``positive``), as :func:`joinedup.survey.analysis.tables.domain_table` does for the core domains;
* ``process_answers``: per wave and closed item, the count of each answer (stages, origins
  included), every choice listed (0 where none).

Example:
    >>> sorted(PROCESS_DOMAINS)[:2]
    ['facilitators', 'national_barriers']
"""

from __future__ import annotations

import pandas as pd

from joinedup.process.ki_items import (
    FAMILIES,
    NATIONAL_BARRIERS,
    POSITIVE,
    SCALES_EXTRA,
    SLOTS,
    process_rows,
)

_CHOICES = {  # the answer scales as in the instrument's choices sheet (scale order, "don't know" last)
    "progress": ("substantial", "some", "little", "none", "too_early", "dont_know"),
    "barrier": ("significant", "minor", "not_barrier", "dont_know"),
    "extent": ("very", "fairly", "not_very", "not_at_all", "dont_know"),
    **{name: tuple(c for c, _ in items) for name, items in SCALES_EXTRA.items()},
}
_FAMILY_SCALE = {"objectives": "progress", "facilitators": "facilitator", "personalisation": "extent",
                 "system": "extent", "national_barriers": "barrier"}
PROCESS_DOMAINS: dict[str, tuple[str, ...]] = {family: tuple(items) for family, items in FAMILIES.items()}
# every closed process question and its allowed answers
PROCESS_CLOSED: dict[str, tuple[str, ...]] = {
    **{item: _CHOICES[_FAMILY_SCALE[f]] for f, items in FAMILIES.items() for item in items},
    **{f"init_{k}_stage": _CHOICES["stage"] for k in range(1, SLOTS + 1)},
    **{f"{n}_origin": _CHOICES["origin"] for n, _ in NATIONAL_BARRIERS},
}
PROCESS_QUESTIONS: tuple[str, ...] = tuple(r[1] for r in process_rows() if r[0] not in ("begin_group", "end_group"))


def _groups(frame: pd.DataFrame):
    yield "all", frame
    yield "lead", frame[frame["is_lead"] == "yes"]
    yield "non_lead", frame[frame["is_lead"] == "no"]
    for org in sorted(frame["org_type"].dropna().unique()):
        yield org, frame[frame["org_type"] == org]


def process_items_table(data) -> pd.DataFrame:
    """``wave, group, family, item, n, pct_positive, positive`` for the process items present."""
    from joinedup.survey.analysis.tables import pct

    rows = []
    for wave in data.waves:
        frame = data.respondents[data.respondents["wave"] == wave]
        for group, part in _groups(frame):
            for family, items in PROCESS_DOMAINS.items():
                for item in (i for i in items if i in part.columns):
                    answered = part[item].dropna()
                    k = int(answered.isin(POSITIVE[family]).sum())
                    rows.append({"wave": wave, "group": group, "family": family, "item": item, "n": len(answered),
                                 "pct_positive": pct(k, len(answered)), "positive": " or ".join(POSITIVE[family])})
    return pd.DataFrame(rows, columns=["wave", "group", "family", "item", "n", "pct_positive", "positive"])


def process_answers_table(data) -> pd.DataFrame:
    """``wave, item, answer, n``: every answer of every closed process item present, each choice listed."""
    rows = []
    for wave in data.waves:
        frame = data.respondents[data.respondents["wave"] == wave]
        for item, choices in PROCESS_CLOSED.items():
            if item in frame.columns:
                counts = frame[item].value_counts()
                rows += [{"wave": wave, "item": item, "answer": c, "n": int(counts.get(c, 0))} for c in choices]
    return pd.DataFrame(rows, columns=["wave", "item", "answer", "n"])


def has_process_items(data) -> bool:
    """True when the responses hold any process question (an instrument of version 2017.1 or later)."""
    return any(q in data.responses.columns for q in PROCESS_QUESTIONS)
