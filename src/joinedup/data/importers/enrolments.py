"""A scheme's enrolment list with NHS numbers -> ``enrolled.csv`` with the pseudonymous ``person_id``.

A scheme holds its enrolled people by NHS number; the canonical tables hold them by the keyed hash the
importers give (``import persons``, ``hes-apc``, ``hes-ae``). This applies the same hash with the same
key, so the list links to the imported tables without the analyst handling the hash themselves. Only the
identifier is transformed: the enrolment date, scheme and site are copied as text, and
``joinedup cohort check`` then checks them against the data (unknown person, date outside the data,
duplicates), naming file, line and value.

Identifier field: ``NHS_NUMBER`` (or ``NHSNUMBER``, ``PSEUDO_NHS_NUMBER``, ``TOKEN_PERSON_ID``,
``PERSON_ID``; case-insensitive). A row without one is written to ``rejects/enrolled.csv`` with its file,
row and reason; no identifier is ever written there.

Example:
    >>> pseudonymise_enrolments(["scheme_list.csv"], "data/mine", key)          # doctest: +SKIP
    (412, 1)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.data.importers.common import ImportError_
from joinedup.data.importers.pseudonym import pseudonym

ID_FIELDS = ("NHS_NUMBER", "NHSNUMBER", "PSEUDO_NHS_NUMBER", "TOKEN_PERSON_ID", "PERSON_ID")
COPIED = ("enrolment_date", "scheme", "site")


def _read(path: Path) -> tuple[pd.DataFrame, str]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    by_upper = {c.strip().upper(): c for c in frame.columns}
    id_col = next((by_upper[f] for f in ID_FIELDS if f in by_upper), None)
    if id_col is None:
        raise ImportError_(f"{path}: no person identifier column (expected one of {', '.join(ID_FIELDS)}); "
                           f"it has {', '.join(frame.columns)}")
    missing = [c for c in COPIED if c.upper() not in by_upper]
    if missing:
        raise ImportError_(f"{path}: missing column(s) {', '.join(missing)}")
    return frame.rename(columns={by_upper[c.upper()]: c for c in COPIED}), id_col


def pseudonymise_enrolments(files, out, key: bytes) -> tuple[int, int]:
    """Write ``out/enrolled.csv`` (and ``out/rejects/enrolled.csv``); return (rows written, rows rejected)."""
    kept, rejects = [], []
    for path in map(Path, files):
        frame, id_col = _read(path)
        raw = frame[id_col].str.strip()
        blank = raw == ""
        for row in frame.index[blank]:
            rejects.append({"source_file": path.name, "row": int(row) + 2, "field": id_col, "value": "",
                            "reason": "no person identifier"})
        good = frame[~blank]
        kept.append(pd.DataFrame({"person_id": [pseudonym(key, v) for v in raw[~blank]],
                                  **{c: good[c].to_numpy() for c in COPIED}}))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = pd.concat(kept, ignore_index=True)
    written.to_csv(out / "enrolled.csv", index=False)
    if rejects:
        (out / "rejects").mkdir(exist_ok=True)
        pd.DataFrame(rejects).to_csv(out / "rejects" / "enrolled.csv", index=False)
    return len(written), len(rejects)
