"""Assisted coding in the workbench: the engine's suggester (all-MiniLM-L6-v2 embeddings and a model
per code, :mod:`joinedup.survey.coding.suggest`) is fitted on the project's human codings (each coded
segment a training text with its codes) and scores the uncoded units of a source (its speaker turns,
or its paragraphs when it has none). Each suggestion is stored as a coding with status ``suggested``
and coder ``assistant``: shown marked in the margin, never counted in retrieval, agreement or the
matrix, until a person accepts it (it then becomes their own coding) or rejects it (it is removed).

The acceptance rate is the share of decided suggestions that were accepted (from the audit log).

Example:
    >>> suggest_for_source(wb, pid, sid, actor="ann")                            # doctest: +SKIP
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from joinedup.qual.schema import AUDIT, CODES, CODINGS, SOURCES

ASSISTANT = "assistant"


def _units(source: dict) -> list[tuple[int, int]]:
    if source["turns"]:
        return [(t["start"], t["end"]) for t in source["turns"]]
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", source["text"])]


def suggest_for_source(wb, project_id: int, source_id: int, actor: str, threshold: float = 0.5,
                       model=None) -> int:
    """Store suggestions for the source's uncoded units; returns how many were made."""
    from joinedup.qual.projects import QualError
    from joinedup.survey.coding.suggest import CodeSuggester

    with wb.engine.connect() as c:
        rows = c.execute(sa.select(CODINGS.c.source_id, CODINGS.c.start, CODINGS.c.end, CODES.c.name,
                                   sa.func.substr(SOURCES.c.text, CODINGS.c.start + 1, CODINGS.c.end - CODINGS.c.start))
                         .join(CODES, CODES.c.id == CODINGS.c.code_id).join(SOURCES, SOURCES.c.id == CODINGS.c.source_id)
                         .where((CODINGS.c.project_id == project_id) & CODINGS.c.status.in_(("blind", "agreed")))).all()
    segments: dict[tuple, set] = {}
    texts: dict[tuple, str] = {}
    for sid, start, end, code, text in rows:
        segments.setdefault((sid, start, end), set()).add(code)
        texts[(sid, start, end)] = text
    if len({code for codes in segments.values() for code in codes}) < 1 or len(segments) < 2:
        raise QualError("suggestions need at least two coded segments in the project to learn from")
    suggester = CodeSuggester(model=model).fit([texts[k] for k in segments], list(segments.values()))
    source = wb.source(project_id, source_id)
    covered = [(s, e) for (sid, s, e) in segments if sid == source_id]
    units = [(s, e) for s, e in _units(source) if source["text"][s:e].strip()
             and not any(a < e and s < b for a, b in covered)]
    if not units:
        return 0
    ids = {c["name"]: c["id"] for c in wb.codes(project_id)}
    made = 0
    for (s, e), found in zip(units, suggester.suggest([source["text"][s:e] for s, e in units], threshold=threshold)):
        for suggestion in found:
            made += wb.add_coding(project_id, source_id, s, e, ids[suggestion.code], ASSISTANT, actor, status="suggested")[1]
    return made


def acceptance(wb, project_id: int) -> dict:
    """Suggestions accepted and rejected so far (from the audit log) and the acceptance rate."""
    with wb.engine.connect() as c:
        accepted = c.execute(sa.select(sa.func.count()).where((AUDIT.c.project_id == project_id)
                                                               & (AUDIT.c.action == "suggestion accepted"))).scalar()
        rejected = c.execute(sa.select(sa.func.count()).where((AUDIT.c.project_id == project_id)
                                                               & (AUDIT.c.action == "suggestion rejected"))).scalar()
    decided = accepted + rejected
    return {"accepted": accepted, "rejected": rejected, "rate": accepted / decided if decided else None}
