"""Uploaded files to source text: plain text (UTF-8, or UTF-16/UTF-8 with a byte-order mark), DOCX
(python-docx: paragraphs joined by newlines) and PDF (pypdf: pages joined by form feeds). Interview
transcripts keep their speaker turns: a line starting ``Name:`` (up to 40 characters, no digits
first) opens a turn that runs to the next one.

Every refusal is a :class:`SourceError` naming the file and what is wrong (never a traceback):
undecodable bytes (with the byte offset), a NUL character, an empty file, a PDF without a text layer,
a file that is not the DOCX or PDF it claims to be.

Example:
    >>> read_upload("a.txt", "Interviewer: How?\\nLead: Slowly.".encode())[0]
    'Interviewer: How?\\nLead: Slowly.'
    >>> [(t.speaker, t.start, t.end) for t in speaker_turns("Interviewer: How?\\nLead: Slowly.")]
    [('Interviewer', 0, 18), ('Lead', 18, 31)]
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

MAX_SOURCE_CHARS = 2_000_000  # about 300,000 words: longer than any interview or plan we code
KINDS = {".txt": "text", ".md": "text", ".docx": "docx", ".pdf": "pdf"}
_TURN = re.compile(r"^([A-Za-z][A-Za-z0-9 .'()&/-]{0,39}):[ \t]", re.MULTILINE)


class SourceError(ValueError):
    """A file that cannot become a source, with the reason."""


@dataclass(frozen=True)
class Turn:
    speaker: str
    start: int
    end: int


def decode_text(name: str, data: bytes) -> str:
    """Text from bytes: a BOM picks UTF-8 or UTF-16; otherwise UTF-8, refused (with where) if invalid.

    Example:
        >>> decode_text("x.txt", "caf\\u00e9".encode("utf-16"))
        'café'
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SourceError(f"{name}: not valid UTF-16 at byte {exc.start}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{name}: not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}); "
                          "save it as UTF-8 (e.g. 'Save as' > 'Plain text' > 'Unicode (UTF-8)') and upload it again") from None


def _docx(name: str, data: bytes) -> str:
    import docx

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SourceError(f"{name}: not a DOCX file (a DOCX is a zip archive; is it an old .doc?)")
    try:
        return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    except Exception as exc:  # noqa: BLE001 -- python-docx raises KeyError, ValueError, lxml errors on broken files
        raise SourceError(f"{name}: the DOCX cannot be read ({type(exc).__name__})") from None


def _pdf(name: str, data: bytes) -> str:
    from pypdf import PdfReader

    if not data.startswith(b"%PDF"):
        raise SourceError(f"{name}: not a PDF file (it does not start with %PDF)")
    try:
        text = "\f".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    except Exception as exc:  # noqa: BLE001 -- pypdf's errors on damaged files
        raise SourceError(f"{name}: the PDF cannot be read ({type(exc).__name__})") from None
    if not text.replace("\f", "").strip():
        raise SourceError(f"{name}: the PDF has no text layer (scanned?); run OCR first")
    return text


def read_upload(name: str, data: bytes) -> tuple[str, str]:
    """``(text, kind)`` of an uploaded file; kind is text, docx, pdf, or transcript when the text has
    at least two speaker turns. Line ends become ``\\n`` so offsets are the same everywhere."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in KINDS:
        raise SourceError(f"{name}: cannot read {suffix or 'files without an extension'} "
                          "(plain text .txt/.md, .docx and .pdf are supported)")
    if not data:
        raise SourceError(f"{name}: the file is empty")
    kind = KINDS[suffix]
    text = {"text": decode_text, "docx": _docx, "pdf": _pdf}[kind](name, data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        raise SourceError(f"{name}: the text contains a NUL character at position {text.index(chr(0))}; "
                          "is it a binary file?")
    if not text.strip():
        raise SourceError(f"{name}: the file has no text")
    if len(text) > MAX_SOURCE_CHARS:
        raise SourceError(f"{name}: {len(text):,} characters; at most {MAX_SOURCE_CHARS:,} per source (split it)")
    if kind in ("text", "docx") and len(speaker_turns(text)) >= 2:
        kind = "transcript"
    return text, kind


def speaker_turns(text: str) -> list[Turn]:
    """The speaker turns of a transcript: each ``Speaker:`` line start to the next (see the module
    docstring); text before the first turn belongs to no turn."""
    starts = [(m.start(), m.group(1).strip()) for m in _TURN.finditer(text)]
    return [Turn(speaker, s, starts[i + 1][0] if i + 1 < len(starts) else len(text))
            for i, (s, speaker) in enumerate(starts)]
