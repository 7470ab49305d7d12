"""The initiative register: each site's initiatives over time, with the source of every entry.

One row per initiative and period (the long layout a team keeps in a spreadsheet):

=================  ==========================================================================
site               the site (Pioneer) running the initiative
initiative_id      stable id of the initiative (unique across sites)
initiative         its name as the site uses it
initiative_type    one of the scheme types (``joinedup.data.codes.SCHEME_TYPES``)
target_groups      ``;``-separated groups (:data:`~joinedup.process.vocab.TARGET_GROUPS_REGISTER`)
model              ``medical`` (clinical, case management) or ``social`` (social / community)
prevention         yes/no: a preventive initiative
personalisation    yes/no: personalised care (care and support planning, personal budgets)
start_date         when design began (YYYY-MM-DD)
end_date           when it ended (empty: still running)
period             first day of the period the row describes (a quarter or a year), YYYY-MM-DD
stage              planned, piloting, implemented, at_scale, stopped
scale              people or practices covered in the period (empty: not known)
scale_unit         people or practices (needed when scale is given)
source             document, interview, survey or site_submission: where the entry came from
source_ref         the document, interview or submission it came from (free text)
=================  ==========================================================================

Rows that break a rule are not dropped: :func:`validate_register` returns them in ``rejects`` with
the file's line (header = line 1) and every reason. An initiative's own attributes (site, type,
targets, model, dates) must agree across its rows; a row that disagrees with the initiative's first
accepted row is rejected, naming the columns. Site submissions are kept but marked ``verified =
False`` (the evaluation warned that self-report is not fact) until the team confirms them.

Example:
    >>> import pandas as pd
    >>> raw = pd.DataFrame([{"site": "A", "initiative_id": "a1", "initiative": "Frailty MDT",
    ...     "initiative_type": "community_mdt", "target_groups": "older_people", "model": "medical",
    ...     "prevention": "no", "personalisation": "yes", "start_date": "2014-01-01", "end_date": "",
    ...     "period": "2015-01-01", "stage": "implemented", "scale": "300", "scale_unit": "people",
    ...     "source": "interview", "source_ref": "R1-07"}])
    >>> reg = validate_register(raw)
    >>> len(reg.rows), len(reg.rejects)
    (1, 0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from joinedup.process.vocab import (
    INITIATIVE_TYPES,
    MODELS,
    SCALE_UNITS,
    SOURCES,
    STAGES,
    TARGET_GROUPS_REGISTER,
)

REGISTER_COLUMNS: tuple[str, ...] = (
    "site", "initiative_id", "initiative", "initiative_type", "target_groups", "model", "prevention",
    "personalisation", "start_date", "end_date", "period", "stage", "scale", "scale_unit", "source", "source_ref")
REQUIRED = ("site", "initiative_id", "initiative_type", "target_groups", "model", "start_date", "period",
            "stage", "source")
# an initiative's own attributes, the same on each of its rows
INITIATIVE_ATTRIBUTES = ("site", "initiative", "initiative_type", "target_groups", "model", "prevention",
                         "personalisation", "start_date", "end_date")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0", ""}


class RegisterError(ValueError):
    """A register that cannot be read at all (the message names the file and what is wrong)."""


@dataclass(frozen=True)
class Register:
    """Accepted rows (typed) and rejected rows (as written, with ``line`` and ``reason``)."""

    rows: pd.DataFrame
    rejects: pd.DataFrame

    def initiatives(self) -> pd.DataFrame:
        """One row per initiative with its attributes and ``go_live`` (first live period, NaT if none).

        >>> Register(empty_register(), pd.DataFrame()).initiatives().shape[0]
        0
        """
        from joinedup.process.vocab import LIVE_STAGES

        r = self.rows.sort_values(["initiative_id", "period"], kind="stable")
        first = r.drop_duplicates("initiative_id")[["initiative_id", *INITIATIVE_ATTRIBUTES]]
        live = r[r["stage"].isin(LIVE_STAGES)].groupby("initiative_id")["period"].min().rename("go_live")
        out = first.merge(live, on="initiative_id", how="left")
        out["delay_months"] = ((out["go_live"].dt.year - out["start_date"].dt.year) * 12
                               + out["go_live"].dt.month - out["start_date"].dt.month)
        return out.reset_index(drop=True)


def empty_register() -> pd.DataFrame:
    """An empty typed register frame (the columns of :data:`REGISTER_COLUMNS` plus ``verified``)."""
    out = pd.DataFrame({c: pd.Series(dtype=object) for c in REGISTER_COLUMNS})
    for c in ("start_date", "end_date", "period"):
        out[c] = pd.Series(dtype="datetime64[ns]")
    out["scale"] = pd.Series(dtype="float64")
    out["verified"] = pd.Series(dtype=bool)
    return out


def _row_problems(row: dict, parsed: dict) -> tuple[list[str], dict]:
    """Reasons a row is rejected (empty: accepted) and its typed values (``parsed``: its dates and
    scale, parsed for the whole frame at once, which is much faster than cell by cell)."""
    why, typed = [], dict(row)
    for col in REQUIRED:
        if not row[col]:
            why.append(f"{col} is empty")
    for col, allowed in (("initiative_type", INITIATIVE_TYPES), ("model", MODELS), ("stage", STAGES),
                         ("source", SOURCES)):
        if row[col] and row[col] not in allowed:
            why.append(f"{col} {row[col]!r} is not one of {', '.join(allowed)}")
    groups = [g.strip() for g in row["target_groups"].split(";") if g.strip()]
    bad = [g for g in groups if g not in TARGET_GROUPS_REGISTER]
    if bad:
        why.append(f"target_groups {', '.join(map(repr, bad))} not in {', '.join(TARGET_GROUPS_REGISTER)}")
    typed["target_groups"] = ";".join(sorted(set(groups)))
    for col in ("prevention", "personalisation"):
        v = row[col].lower()
        if v not in YES | NO:
            why.append(f"{col} {row[col]!r} is not yes or no")
        typed[col] = v in YES
    for col in ("start_date", "end_date", "period"):
        typed[col] = parsed[col]
        if row[col] and pd.isna(typed[col]):
            why.append(f"{col} {row[col]!r} is not a date YYYY-MM-DD")
    if pd.notna(typed["end_date"]) and pd.notna(typed["start_date"]) and typed["end_date"] < typed["start_date"]:
        why.append(f"end_date {row['end_date']} is before start_date {row['start_date']}")
    if pd.notna(typed["period"]) and pd.notna(typed["start_date"]) and typed["period"] < typed["start_date"].replace(day=1) \
            and row["stage"] != "planned":
        why.append(f"stage {row['stage']!r} in period {row['period']} before the start_date {row['start_date']}")
    scale = parsed["scale"]
    # an infinite scale ("1e400") is checked before round(), which would raise on it
    if row["scale"] and (pd.isna(scale) or not math.isfinite(scale) or scale < 0 or scale != round(scale)):
        why.append(f"scale {row['scale']!r} is not a whole number >= 0")
    if row["scale"] and row["scale_unit"] not in SCALE_UNITS:
        why.append(f"scale_unit {row['scale_unit']!r} is not one of {', '.join(SCALE_UNITS)}")
    typed["scale"] = float(scale)
    return why, typed


def validate_register(frame: pd.DataFrame, what: str = "register") -> Register:
    """Check a register frame (strings as written); see the module docstring for the rules.

    A frame missing columns cannot be checked row by row: a :class:`RegisterError` names them.
    """
    frame = frame.rename(columns=lambda c: str(c).strip())
    missing = [c for c in REGISTER_COLUMNS if c not in frame.columns]
    if missing:
        raise RegisterError(f"{what}: missing column(s) {', '.join(missing)} (it has: {', '.join(map(str, frame.columns))})")
    text = frame[list(REGISTER_COLUMNS)].fillna("").astype(str).apply(lambda s: s.str.strip())
    parsed = pd.DataFrame({c: pd.to_datetime(text[c], format="%Y-%m-%d", errors="coerce")
                           for c in ("start_date", "end_date", "period")})
    parsed["scale"] = pd.to_numeric(text["scale"], errors="coerce")
    accepted, rejects, seen, first = [], [], set(), {}
    for i, (row, values) in enumerate(zip(text.to_dict("records"), parsed.to_dict("records"))):
        why, typed = _row_problems(row, values)
        key = (row["initiative_id"], typed["period"])
        if not why and key in seen:
            why.append(f"initiative_id {row['initiative_id']!r} already has a row for period {row['period']}")
        if not why and row["initiative_id"] in first:
            ref = first[row["initiative_id"]]
            differ = [c for c in INITIATIVE_ATTRIBUTES
                      if not (pd.isna(ref[c]) and pd.isna(typed[c])) and ref[c] != typed[c]]
            if differ:
                why.append(f"{', '.join(differ)} differ(s) from the initiative's row at line {ref['_line']}")
        if why:
            rejects.append({**frame.iloc[i].to_dict(), "line": i + 2, "reason": "; ".join(why)})
            continue
        typed["_line"] = i + 2
        typed["verified"] = row["source"] != "site_submission"
        seen.add(key)
        first.setdefault(row["initiative_id"], typed)
        accepted.append(typed)
    rows = (pd.DataFrame(accepted).drop(columns="_line") if accepted else empty_register())
    return Register(rows.reset_index(drop=True), pd.DataFrame(rejects, columns=[*frame.columns, "line", "reason"]))
