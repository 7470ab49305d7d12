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


def _human_segments(wb, project_id: int) -> tuple[list[str], list[set]]:
    """The project's human-coded segments (blind and agreed codings): texts and their code sets."""
    with wb.engine.connect() as c:
        rows = c.execute(sa.select(CODINGS.c.source_id, CODINGS.c.start, CODINGS.c.end, CODES.c.name,
                                   sa.func.substr(SOURCES.c.text, CODINGS.c.start + 1, CODINGS.c.end - CODINGS.c.start))
                         .join(CODES, CODES.c.id == CODINGS.c.code_id).join(SOURCES, SOURCES.c.id == CODINGS.c.source_id)
                         .where((CODINGS.c.project_id == project_id) & CODINGS.c.status.in_(("blind", "agreed")))
                         .order_by(CODINGS.c.source_id, CODINGS.c.start, CODINGS.c.end)).all()
    sets: dict[tuple, set] = {}
    texts: dict[tuple, str] = {}
    for sid, start, end, code, text in rows:
        sets.setdefault((sid, start, end), set()).add(code)
        texts[(sid, start, end)] = text
    return [texts[k] for k in sets], list(sets.values())


def heldout_agreement(wb, project_id: int, actor: str, model=None, seed: int = 2013) -> dict:
    """Held-out agreement of the suggestions with the people's codings: the engine's
    :func:`~joinedup.survey.coding.suggest.evaluate_heldout` on the project's human-coded segments
    (30% held out, seed ``seed``): Cohen's kappa and F1 pooled over every segment-by-code decision
    (the ``(micro)`` row). Recorded in the audit log, which the source page reads (no model run on
    every page view). QualError with fewer than four coded segments."""
    import json
    import math

    from joinedup.qual.projects import QualError
    from joinedup.survey.coding.suggest import evaluate_heldout

    texts, code_sets = _human_segments(wb, project_id)
    if len(texts) < 4:
        raise QualError("held-out agreement needs at least four coded segments in the project")
    micro = evaluate_heldout(texts, code_sets, seed=seed, model=model).set_index("code").loc["(micro)"]
    result = {"kappa": None if math.isnan(micro["kappa"]) else round(float(micro["kappa"]), 4),
              "f1": round(float(micro["f1"]), 4), "segments": len(texts),
              "held_out": min(len(texts) - 1, max(1, round(0.3 * len(texts))))}
    with wb.engine.begin() as c:
        wb.audit(c, project_id, actor, "suggestions evaluated", json.dumps(result))
    return result


def last_heldout(wb, project_id: int) -> dict | None:
    """The latest held-out agreement recorded for the project (see :func:`heldout_agreement`)."""
    import json

    with wb.engine.connect() as c:
        detail = c.execute(sa.select(AUDIT.c.detail).where((AUDIT.c.project_id == project_id)
                                                            & (AUDIT.c.action == "suggestions evaluated"))
                           .order_by(AUDIT.c.id.desc()).limit(1)).scalar()
    return json.loads(detail) if detail else None
