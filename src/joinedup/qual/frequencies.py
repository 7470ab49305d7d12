"""Code frequencies by case attribute and code co-occurrence, over the codings a member may see
(blind coding as in :mod:`joinedup.qual.codings`; suggestions never count).

Definitions (written on the page and in docs/qualitative.md):

* **Frequencies** are per code *including its sub-codes* (as retrieval and the matrix count a theme)
  and per value of a case attribute (or per case): ``codings`` is the number of coding rows (each
  coder's coding counts), ``segments`` the number of distinct coded spans (source, start, end: two
  coders coding the same span, or a span coded with a code and its sub-code, is one segment),
  ``sources`` the number of distinct sources with at least one. A source without a case, or whose
  case lacks the attribute, counts under ``(not set)``.
* **Co-occurrence** is between codes *as applied* (no roll-up to parents, else every sub-code would
  co-occur with its parent). A segment of a code is a distinct span coded with it (coders pooled).
  Two segments co-occur when they are in the same source and **overlap**, i.e. share at least one
  character (``a.start < b.end and b.start < a.end``); the same span coded with both codes is the
  commonest case. Cell (A, B), A != B, is the number of co-occurring pairs (segment of A, segment of
  B); the diagonal is the number of segments of the code. The table is symmetric. This is the
  "overlapping codes" relation of ATLAS.ti's code co-occurrence table and MAXQDA's Code Relations
  Browser (overlap, not proximity).

Disclosure control: none is applied, because these counts never leave the evaluation team (the
workbench is open only to coder and lead logins and admins; site and programme logins get 404).
Counts published to sites from them must go through the report's disclosure control.

Example:
    >>> code_frequencies(wb, pid, "lead", "lead", by="site")["values"]             # doctest: +SKIP
    ['Leeds', 'York']
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from joinedup.qual.schema import CASE_ATTRIBUTES, CODINGS, SOURCES

NOT_SET = "(not set)"


def _codings(wb, project_id: int, username: str, role: str) -> list:
    """Visible, final codings: ``(source_id, start, end, code_id, case_id)``."""
    q = (sa.select(CODINGS.c.source_id, CODINGS.c.start, CODINGS.c.end, CODINGS.c.code_id, SOURCES.c.case_id)
         .join(SOURCES, SOURCES.c.id == CODINGS.c.source_id)
         .where((CODINGS.c.project_id == project_id) & (CODINGS.c.status != "suggested")))
    if role != "lead" and wb.project(project_id)["blind"]:
        q = q.where((CODINGS.c.coder == username) | (CODINGS.c.status == "agreed"))
    with wb.engine.connect() as c:
        return c.execute(q).all()


def _row_of(wb, project_id: int, by: str) -> dict:
    """case id -> the row label: the case's name (``by="case"``) or its value of attribute ``by``."""
    if by == "case":
        return {c["id"]: c["name"] for c in wb.cases(project_id)}
    with wb.engine.connect() as c:
        return dict(c.execute(sa.select(CASE_ATTRIBUTES.c.case_id, CASE_ATTRIBUTES.c.value)
                              .where(CASE_ATTRIBUTES.c.name == by)).all())


def _ancestors(tree: list[dict]) -> dict[int, list[int]]:
    parent = {c["id"]: c["parent_id"] for c in tree}
    out = {}
    for cid in parent:
        chain, up = [], cid
        while up is not None:
            chain.append(up)
            up = parent[up]
        out[cid] = chain
    return out


def code_frequencies(wb, project_id: int, username: str, role: str, by: str = "case") -> dict:
    """``{"by", "values": [...], "rows": [{"code_id", "code", "depth", "cells": {value: {"codings",
    "segments", "sources"}}, "total": {...}}]}`` in codebook order (see the module docstring)."""
    tree = wb.codes(project_id)
    up = _ancestors(tree)
    row_of = _row_of(wb, project_id, by)
    codings: dict = defaultdict(int)
    segments: dict = defaultdict(set)
    sources: dict = defaultdict(set)
    values = set()
    for sid, start, end, code_id, case_id in _codings(wb, project_id, username, role):
        value = row_of.get(case_id, NOT_SET) if case_id is not None else NOT_SET
        values.add(value)
        for cid in up[code_id]:
            for v in (value, None):  # None: the code's total over every value
                codings[cid, v] += 1
                segments[cid, v].add((sid, start, end))
                sources[cid, v].add(sid)

    def cell(cid, v):
        return {"codings": codings.get((cid, v), 0), "segments": len(segments.get((cid, v), ())),
                "sources": len(sources.get((cid, v), ()))}

    ordered = sorted(values - {NOT_SET}) + ([NOT_SET] if NOT_SET in values else [])
    rows = [{"code_id": c["id"], "code": c["name"], "depth": c["depth"],
             "cells": {v: cell(c["id"], v) for v in ordered}, "total": cell(c["id"], None)} for c in tree]
    return {"by": by, "values": ordered, "rows": rows}


def cooccurrence(wb, project_id: int, username: str, role: str, by: str | None = None,
                 value: str | None = None) -> dict:
    """``{"codes": [{"id", "name", "depth"}], "counts": {(a_id, b_id): n}}`` over the sources whose case
    has ``by`` = ``value`` (every source when ``by`` is None); see the module docstring."""
    tree = wb.codes(project_id)
    keep = None
    if by:
        row_of = _row_of(wb, project_id, by)
        keep = {cid for cid, v in row_of.items() if v == value}
    per_source: dict = defaultdict(set)
    for sid, start, end, code_id, case_id in _codings(wb, project_id, username, role):
        if keep is None or case_id in keep:
            per_source[sid].add((start, end, code_id))
    counts: dict = defaultdict(int)
    for segs in per_source.values():
        ordered = sorted(segs)
        for i, (s1, e1, a) in enumerate(ordered):
            counts[a, a] += 1
            for s2, e2, b in ordered[i + 1:]:
                if s2 >= e1:  # sorted by start: nothing later overlaps this one
                    break
                if a != b:
                    counts[a, b] += 1
                    counts[b, a] += 1
    return {"codes": [{"id": c["id"], "name": c["name"], "depth": c["depth"]} for c in tree], "counts": dict(counts)}


def theme_counts_by(wb, project_id: int, by: str = "site", measure: str = "sources"):
    """A table of ``by`` values (rows) x themes (top-level codes, columns) with the number of
    ``sources`` (or ``segments``, ``codings``) coded with each theme or its sub-codes, over every final
    coding (the lead's view). For the synthesis report or the typology; counts are not
    disclosure-controlled (see the module docstring).

    Example:
        >>> theme_counts_by(wb, pid, "site").loc["Leeds", "Barriers"]            # doctest: +SKIP
        3
    """
    import pandas as pd

    if measure not in ("sources", "segments", "codings"):
        raise ValueError(f"measure must be sources, segments or codings; got {measure!r}")
    freq = code_frequencies(wb, project_id, "", "lead", by)
    tops = [r for r in freq["rows"] if r["depth"] == 0]
    frame = pd.DataFrame({r["code"]: [r["cells"][v][measure] for v in freq["values"]] for r in tops},
                         index=pd.Index(freq["values"], name=by), dtype="int64")
    return frame
