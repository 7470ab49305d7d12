"""Checks on a REFI-QDA project file (``.qdpx``) before the importer reads it, so that a file from a
browser upload or the command line cannot exhaust memory or smuggle in XML entities, and a file that
is not a REFI-QDA project is refused with the reason.

* It must be a zip archive (``.qdpx`` is one) holding ``project.qde`` (REFI-QDA Standard 1.5, 3.1);
  no encrypted entries; at most 20,000 entries and 200 MB unpacked, by the sizes the archive
  declares (Python's zip reader never returns more than an entry's declared size, so a "zip bomb"
  that lies about its sizes is cut short and then fails its CRC check).
* ``project.qde`` must not declare a DTD or entities (a REFI project never has one; refusing them
  rules out entity-expansion attacks whatever the XML parser does).
* Nothing is ever extracted to disk: the importer reads entries by name, so names such as
  ``../../x`` cannot write anywhere.

Example:
    >>> check_qdpx("interviews.qdpx")                                             # doctest: +SKIP
"""

from __future__ import annotations

import zipfile
from pathlib import Path

MAX_QDPX_ENTRIES = 20_000
MAX_QDPX_UNPACKED = 200 << 20  # 300 transcripts of 10,000 words are about 20 MB of text


class QdpxError(ValueError):
    """A ``.qdpx`` file refused before reading, with the reason."""


def check_qdpx(path: str | Path) -> None:
    """QdpxError naming the problem if the file is not a REFI-QDA project archive safe to read."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise QdpxError("not a .qdpx file (a REFI-QDA project file is a zip archive)") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_QDPX_ENTRIES:
            raise QdpxError(f"the archive has {len(infos):,} entries; at most {MAX_QDPX_ENTRIES:,} are read")
        unpacked = sum(i.file_size for i in infos)
        if unpacked > MAX_QDPX_UNPACKED:
            raise QdpxError(f"the archive unpacks to {unpacked / 2**20:,.0f} MB; at most {MAX_QDPX_UNPACKED >> 20} MB are read")
        if any(i.flag_bits & 0x1 for i in infos):
            raise QdpxError("the archive has encrypted entries; export it again without a password")
        if "project.qde" not in archive.namelist():
            raise QdpxError("the archive has no project.qde, so it is not a REFI-QDA project")
        try:
            head = archive.read("project.qde")
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
            raise QdpxError(f"project.qde cannot be unpacked ({exc})") from None
    for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
        if "<!DOCTYPE".encode(encoding) in head or "<!ENTITY".encode(encoding) in head:
            raise QdpxError("project.qde declares a DTD or entities, which a REFI-QDA project never has")
