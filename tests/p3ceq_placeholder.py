"""A stand-in for the user's licensed P3CEQ file, for tests only: the structure is P3CEQ's, every
text is a placeholder saying so (the real wording is licensed by its developers and not in this
repository), and the scores are the test's own (0-3, with an unscored 'not relevant' option)."""

from __future__ import annotations

import csv
from pathlib import Path

from joinedup.survey.p3ceq import ITEMS, TRIGGER


def write_placeholder(path: Path, label_extra: str = "") -> Path:
    rows = [["row_type", "name", "label", "list_name", "score", "relevant"],
            ["meta", "test", "P3CEQ (placeholder wording for tests)", "", "", ""],
            ["item", TRIGGER, "[Placeholder: licensed trigger question]", "trigger", "", ""]]
    rows += [["item", n, f"[Placeholder: licensed wording of {n}]{label_extra}", "scale", "", ""] for n in ITEMS]
    rows += [["choice", "yes", "[Placeholder: yes]", "trigger", "", ""],
             ["choice", "no", "[Placeholder: no]", "trigger", "", ""]]
    rows += [["choice", str(s), f"[Placeholder option scored {s}]", "scale", str(s), ""] for s in range(4)]
    rows += [["choice", "not_relevant", "[Placeholder: not relevant]", "scale", "", ""]]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path
