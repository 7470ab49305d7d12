"""The rejects shared by the published-survey importers: one row per broken field, with the file,
the row (1 = first data row), the field, the value and the reason (as ``impact/panel_file.py``)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REJECT_COLUMNS = ["source_file", "row", "field", "value", "reason"]


class PublishedLayoutError(ValueError):
    """A published-survey file that cannot be read as a whole (names the file and what is wrong)."""


@dataclass
class SurveyRead:
    """Usable rows (long: unit, year, measure, counts, value), the rejects, and counts of what was read."""

    table: pd.DataFrame
    rejects: pd.DataFrame
    read: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        rejected = self.rejects["row"].nunique() if len(self.rejects) else 0
        lines = [f"read {self.read:,} rows, used {len(self.table):,} values, rejected {rejected:,} rows"]
        for reason, n in (self.rejects.groupby("reason").size().items() if len(self.rejects) else []):
            lines.append(f"  rejected {n:,}: {reason}")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def number(text: pd.Series) -> pd.Series:
    """Numbers from text cells; blanks and markers (``*``, ``[c]``, ``-``) become NaN."""
    return pd.to_numeric(text.astype(str).str.strip().str.replace(",", "", regex=False).replace("", np.nan),
                         errors="coerce")


def collect(rows: pd.DataFrame, checks, name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Rejects for ``checks`` (column, mask, reason) and the mask of rows that broke any rule."""
    out, bad = [], pd.Series(False, index=rows.index)
    for column, mask, reason in checks:
        mask = mask.reindex(rows.index).fillna(False).astype(bool)
        bad |= mask
        for idx in rows.index[mask]:
            value = rows.at[idx, column] if column in rows.columns else ""
            out.append({"source_file": name, "row": int(rows.at[idx, "__row"]), "field": column,
                        "value": value, "reason": reason})
    return pd.DataFrame(out, columns=REJECT_COLUMNS), bad


def read_csv_text(path) -> tuple[pd.DataFrame, str]:
    """The file as text cells with a ``__row`` column, and its name for messages."""
    name = str(getattr(path, "name", path))
    if isinstance(path, str | Path) and not Path(path).is_file():
        raise PublishedLayoutError(f"file {name!r} does not exist")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="strict")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise PublishedLayoutError(f"cannot read {name} as CSV: {exc}") from None
    raw["__row"] = np.arange(1, len(raw) + 1)
    return raw, name


def write_rejects(read: SurveyRead, out_dir: Path, stem: str) -> Path | None:
    """``OUT/rejects/{stem}.csv``, or None when nothing was rejected."""
    if read.rejects.empty:
        return None
    path = Path(out_dir) / "rejects" / f"{stem}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    read.rejects.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path
