"""Agreement between coders of a workbench project, per code, at two levels:

* **character span**: every character of every source that all compared coders looked at is a unit,
  valued 1 where the coder applied the code (or one of its sub-codes) over it, else 0;
* **source**: the engine's definition (:func:`joinedup.survey.coding.agreement.agreement`): a unit is
  a source, valued 1 if the coder applied the code (or a sub-code) anywhere in it.

Both give Cohen's kappa (exactly two coders; scikit-learn's ``cohen_kappa_score``) and Krippendorff's
alpha (nominal; the ``krippendorff`` package), undefined (NaN) when only one value occurs, as in the
engine. A coder "looked at" a source where they made any coding (the engine's default). Only coders'
own (``blind``) codings are compared; agreed and suggested codings are not a coder's judgement.

Example:
    >>> span_agreement({1: 10}, [(1, 0, 5, "A", "x"), (1, 2, 6, "A", "y")], ["x", "y"], {"A": ["A"]})[0]["kappa"]
    0.4
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _masks(lengths: dict, codings, coder: str, code: str, lineage: dict) -> dict:
    """source -> 0/1 per character for one coder and code (sub-codes count for their ancestors)."""
    out = {}
    for sid, start, end, c, who in codings:
        if who == coder and code in lineage[c]:
            out.setdefault(sid, np.zeros(lengths[sid], dtype=np.int8))[start:end] = 1
    return out


def _kappa_alpha(data: np.ndarray) -> tuple[float, float]:
    """(kappa, alpha) of coders x units 0/1 data; NaN where undefined (one value only)."""
    import krippendorff
    from sklearn.metrics import cohen_kappa_score

    if data.size == 0 or len(np.unique(data)) < 2:
        return float("nan"), float("nan")
    kappa = float(cohen_kappa_score(data[0], data[1])) if len(data) == 2 else float("nan")
    return kappa, float(krippendorff.alpha(reliability_data=data.astype(float), level_of_measurement="nominal"))


def span_agreement(lengths: dict, codings: list, coders: list[str], lineage: dict) -> list[dict]:
    """Per code: character units compared, observed agreement, kappa and alpha (see the module
    docstring). ``lengths``: source -> characters; ``codings``: (source, start, end, code, coder);
    ``lineage``: code -> [code, parent, ...].

    Example:
        >>> r = span_agreement({1: 10}, [(1, 0, 5, "A", "x"), (1, 2, 6, "A", "y")], ["x", "y"], {"A": ["A"]})[0]
        >>> r["units"], r["observed_agreement"], round(r["alpha"], 6)
        (10, 0.7, 0.424242)
    """
    if len(coders) < 2:
        raise ValueError("agreement needs at least two coders")
    seen = [{s for s, *_rest, who in codings if who == c} for c in coders]
    common = sorted(set.intersection(*seen))
    rows = []
    for code in lineage:
        masks = [_masks(lengths, codings, c, code, lineage) for c in coders]
        data = np.array([np.concatenate([m.get(s, np.zeros(lengths[s], dtype=np.int8)) for s in common])
                         if common else np.zeros(0, dtype=np.int8) for m in masks])
        kappa, alpha = _kappa_alpha(data)
        observed = float((data == data[0]).all(axis=0).mean()) if data.size else float("nan")
        rows.append({"code": code, "units": int(data.shape[1]), "observed_agreement": observed,
                     "kappa": kappa, "alpha": alpha})
    return rows


def disagreements(lengths: dict, codings: list, coders: list[str], lineage: dict, code: str) -> list[dict]:
    """Runs of characters where the coders differ on ``code``: source, start, end and who applied it."""
    masks = [_masks(lengths, codings, c, code, lineage) for c in coders]
    seen = [{s for s, *_rest, who in codings if who == c} for c in coders]
    out = []
    for sid in sorted(set.intersection(*seen)):
        data = np.array([m.get(sid, np.zeros(lengths[sid], dtype=np.int8)) for m in masks])
        differ = ~(data == data[0]).all(axis=0)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], differ.astype(np.int8), [0]])))
        for start, end in zip(edges[::2], edges[1::2]):
            out.append({"source_id": sid, "start": int(start), "end": int(end),
                        "coded_by": [c for c, row in zip(coders, data) if row[start]]})
    return out


def source_agreement(texts: dict, codings: list, coders: list[str], codebook: pd.DataFrame) -> pd.DataFrame:
    """The engine's per-source agreement (kappa, alpha per code) on this project's codings."""
    from joinedup.survey.coding.agreement import agreement
    from joinedup.survey.coding.project import Codebook, CodingProject

    project = CodingProject(Codebook.from_frame(codebook))
    for sid, text in texts.items():
        project.add_source(str(sid), text)
    for sid, start, end, code, coder in codings:
        project.code(str(sid), start, end, code, coder)
    return agreement(project, coders)


def project_agreement(wb, project_id: int, coders: list[str] | None = None) -> dict:
    """Everything the lead's agreement page shows for a workbench project: the coders compared
    (default: every coder with blind codings), span-level and per-source kappa/alpha per code, and
    the codings as ``(source, start, end, code, coder)`` for :func:`disagreements`."""
    import sqlalchemy as sa

    from joinedup.qual.schema import CODES, CODINGS, SOURCES

    with wb.engine.connect() as c:
        rows = c.execute(sa.select(CODINGS.c.source_id, CODINGS.c.start, CODINGS.c.end, CODES.c.name, CODINGS.c.coder)
                         .join(CODES, CODES.c.id == CODINGS.c.code_id)
                         .where((CODINGS.c.project_id == project_id) & (CODINGS.c.status == "blind"))).all()
        lengths = dict(c.execute(sa.select(SOURCES.c.id, sa.func.length(SOURCES.c.text))
                                 .where(SOURCES.c.project_id == project_id)).all())
    codings = [tuple(r) for r in rows]
    everyone = sorted({r[4] for r in codings})
    coders = [c for c in (coders or everyone) if c in everyone]
    tree = wb.codes(project_id)
    lineage = {t["name"]: list(reversed(t["path"])) for t in tree}
    out = {"coders": coders, "all_coders": everyone, "codings": codings, "lengths": lengths, "lineage": lineage,
           "span": [], "source": None}
    if len(coders) < 2:
        return out
    mine = [r for r in codings if r[4] in coders]
    out["span"] = span_agreement(lengths, mine, coders, lineage)
    book = pd.DataFrame({"code": [t["name"] for t in tree], "label": [t["name"] for t in tree],
                         "parent": [lineage[t["name"]][1] if len(lineage[t["name"]]) > 1 else None for t in tree],
                         "description": [t["description"] for t in tree]})
    used = sorted({r[0] for r in mine})
    out["source"] = source_agreement({s: " " * lengths[s] for s in used}, mine, coders, book)
    return out
