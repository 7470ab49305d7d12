"""A qualitative coding project: a hierarchical codebook, sources (free-text answers, documents and
interview transcripts as plain text, DOCX or PDF), and codings by several coders.

* Sources are plain text once read: DOCX paragraphs joined by newlines (python-docx), PDF pages by
  form feeds (pypdf's text extraction; scanned PDFs without a text layer give an error, not empty text).
* A coding is a selection of a source (``start``..``end`` character offsets, end exclusive; the whole
  text for a survey answer), a code and a coder, optionally a memo. Codes must be in the codebook.
* Frequencies by any attribute of the sources (org type, Pioneer, wave, document type): how many
  sources carry a code (or one of its descendants), by whichever coders are asked for.

Example:
    >>> p = CodingProject(Codebook.from_frame(book))                               # doctest: +SKIP
    >>> p.add_document("interviews/leeds_lead.docx", attributes={"pioneer": "Leeds"})  # doctest: +SKIP
    >>> p.code("leeds_lead", 120, 260, "IT_REC", coder="ab")                        # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from joinedup.survey.analysis.codes import ancestors

CODING_COLUMNS = ["source_id", "start", "end", "code", "coder", "memo"]


@dataclass(frozen=True)
class Codebook:
    """Codes with labels, descriptions and parents (a forest); ``lineage[code]`` is the code and its
    ancestors, nearest first."""

    codes: pd.DataFrame  # code, label, parent, description
    lineage: dict[str, list[str]]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, what: str = "codebook") -> Codebook:
        """Check a codebook (columns code, label, parent, description): unique codes, known parents,
        no cycles; errors name the line."""
        frame = frame.copy()
        for col in ("label", "parent", "description"):
            if col not in frame.columns:
                frame[col] = None
        if "code" not in frame.columns:
            raise ValueError(f"{what} has no column 'code'")
        frame["parent"] = pd.Series([v if isinstance(v, str) and v else None for v in frame["parent"]],
                                    index=frame.index, dtype=object)
        problems = [f"{what} line {i + 2}: code {c!r} appears twice" for i, c in
                    frame.loc[frame["code"].duplicated(), "code"].items()]
        known = set(frame["code"])
        problems += [f"{what} line {i + 2}: parent {p!r} is not a code" for i, p in frame["parent"].items()
                     if p is not None and p not in known]
        if problems:
            raise ValueError("; ".join(problems))
        return cls(frame[["code", "label", "parent", "description"]].reset_index(drop=True), ancestors(frame))

    @classmethod
    def read_csv(cls, path) -> Codebook:
        return cls.from_frame(pd.read_csv(path, dtype=str, keep_default_na=False), Path(path).name)

    def children(self, code: str) -> list[str]:
        return self.codes.loc[self.codes["parent"] == code, "code"].tolist()


def read_text(path: str | Path) -> str:
    """The text of a .txt/.md (UTF-8), .docx or .pdf file.

    Example:
        >>> read_text("transcript.docx")[:40]                                     # doctest: +SKIP
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".txt", ".md"):
        return path.read_text(encoding="utf-8")
    if suffix == ".docx":
        import docx

        return "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    if suffix == ".pdf":
        from pypdf import PdfReader

        text = "\f".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
        if not text.replace("\f", "").strip():
            raise ValueError(f"{path.name}: the PDF has no text layer (scanned?); run OCR first")
        return text
    raise ValueError(f"{path.name}: cannot read {suffix or 'files without an extension'} "
                     "(text, DOCX and PDF are supported)")


@dataclass
class CodingProject:
    """Codebook, sources and codings (see the module docstring)."""

    codebook: Codebook
    sources: dict[str, str] = field(default_factory=dict)           # id -> text
    attributes: dict[str, dict] = field(default_factory=dict)       # id -> {attribute: value}
    codings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CODING_COLUMNS))

    def add_source(self, source_id: str, text: str, attributes: dict | None = None) -> None:
        if source_id in self.sources:
            raise ValueError(f"source {source_id!r} is already in the project")
        self.sources[source_id] = text
        self.attributes[source_id] = dict(attributes or {})

    def add_document(self, path: str | Path, source_id: str | None = None, attributes: dict | None = None) -> str:
        """Read a document (text, DOCX, PDF) as a source; its id defaults to the file name's stem."""
        sid = source_id or Path(path).stem
        self.add_source(sid, read_text(path), {"document_type": Path(path).suffix.lower().lstrip("."),
                                               **(attributes or {})})
        return sid

    def add_survey_answers(self, responses: pd.DataFrame, questions, attributes: pd.DataFrame | None = None) -> int:
        """Each non-empty free-text answer becomes a source ``<panelist_id>/<wave>/<question>`` with the
        respondent's attributes (e.g. org_type, pioneer from invitations) and its wave and question."""
        attrs = {} if attributes is None else attributes.set_index(["panelist_id", "wave"]).to_dict("index")
        added = 0
        for r in responses.itertuples(index=False):
            for q in questions:
                text = getattr(r, q, None)
                if isinstance(text, str) and text.strip():
                    extra = attrs.get((r.panelist_id, r.wave), {})
                    self.add_source(f"{r.panelist_id}/{r.wave}/{q}", text,
                                    {**extra, "wave": r.wave, "question": q, "panelist_id": r.panelist_id})
                    added += 1
        return added

    def code(self, source_id: str, start: int | None, end: int | None, code: str, coder: str, memo: str = "") -> None:
        """Code ``source[start:end]`` (the whole source when both are None)."""
        if source_id not in self.sources:
            raise ValueError(f"no source {source_id!r} in the project")
        if code not in self.codebook.lineage:
            raise ValueError(f"code {code!r} is not in the codebook")
        n = len(self.sources[source_id])
        start, end = (0, n) if start is None and end is None else (start, end)
        if not (0 <= start < end <= n):
            raise ValueError(f"selection {start}..{end} is outside {source_id!r} (0..{n})")
        row = pd.DataFrame([{"source_id": source_id, "start": start, "end": end, "code": code,
                             "coder": coder, "memo": memo}])
        self.codings = row if self.codings.empty else pd.concat([self.codings, row], ignore_index=True)

    def code_answers(self, codes: pd.DataFrame) -> None:
        """Codes of free-text answers (codes.csv: panelist_id, wave, question, code, coder), whole-answer."""
        for r in codes.itertuples(index=False):
            self.code(f"{r.panelist_id}/{r.wave}/{r.question}", None, None, r.code, r.coder)

    def presence(self, coders=None) -> pd.DataFrame:
        """Source x code 0/1 (any of ``coders``; all coders by default), a code counting for its ancestors."""
        c = self.codings if coders is None else self.codings[self.codings["coder"].isin(coders)]
        rows = [(s, a) for s, code in zip(c["source_id"], c["code"]) for a in self.codebook.lineage[code]]
        hits = pd.DataFrame(rows, columns=["source_id", "code"]).drop_duplicates()
        table = pd.crosstab(hits["source_id"], hits["code"]).clip(upper=1) if len(hits) else pd.DataFrame()
        return table.reindex(index=list(self.sources), columns=list(self.codebook.codes["code"]), fill_value=0)

    def frequencies(self, by: list[str] | str, coders=None) -> pd.DataFrame:
        """Sources carrying each code by attribute(s): ``by..., code, sources, coded, pct``."""
        by = [by] if isinstance(by, str) else list(by)
        attrs = pd.DataFrame.from_dict(self.attributes, orient="index")
        missing = [b for b in by if b not in attrs.columns]
        if missing:
            raise ValueError(f"no source has attribute(s) {', '.join(missing)} (have: {', '.join(attrs.columns)})")
        pres = self.presence(coders).join(attrs[by])
        long = pres.melt(id_vars=by, var_name="code", value_name="coded")
        out = long.groupby(by + ["code"], sort=True).agg(sources=("coded", "size"), coded=("coded", "sum")).reset_index()
        out["pct"] = (100 * out["coded"] / out["sources"]).round(1)
        return out
