"""The interview panel in the pipeline's process step (``[process] interviews`` and
``interview_rounds``): the panel checked by :func:`joinedup.process.interviews.validate_interviews`
(linked to the key-informant survey's roster when ``[survey]`` names its invitations file), its
rejects written to ``interview_rejects.csv`` (line and every reason; nothing dropped silently), and
completed interviews counted by round (national, exact: the evaluation's 140 and 57), by site and
by role (sub-national: disclosure controlled, 1-7 suppressed and others rounded to 5).

Tables: ``process_interviews_by_round`` (``round, topic_guide, interviews, interviewees_in_roster``),
``process_interviews_by_site``, ``process_interviews_by_role``. The report's sentence on the panel
is written from the round table (:func:`interviews_sentence`).

Example:
    >>> tables, notes = interview_tables(protocol, Path("out/evaluation"), control=True)   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.outputs import write_table
from joinedup.process.interviews import interview_counts, validate_interviews


def read_text_table(path: str | Path, what: str) -> pd.DataFrame:
    """A CSV or Excel file with every cell as text; ValueError naming the file when it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} file {path} does not exist")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            return pd.read_excel(path, dtype=str, keep_default_na=False)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"{what} file {path} cannot be read: {exc}") from None


def _roster(protocol) -> pd.DataFrame | None:
    """``panelist_id, pioneer`` of the survey's invitations file (None without one)."""
    spec = getattr(protocol, "survey", None)
    if spec is None or not spec.invitations:
        return None
    inv = read_text_table(protocol.resolve(spec.invitations), "[survey] invitations")
    missing = [c for c in ("panelist_id", "pioneer") if c not in inv.columns]
    if missing:
        raise ValueError(f"[survey] invitations: missing column(s) {', '.join(missing)} (the interview panel's roster)")
    return inv[["panelist_id", "pioneer"]].drop_duplicates("panelist_id")


def interview_tables(protocol, out_dir: Path, control: bool) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Check the panel, write the rejects and the three count tables; ``(tables as written, notes)``."""
    spec = protocol.process
    interviews = read_text_table(protocol.resolve(spec.interviews), "[process] interviews")
    rounds = read_text_table(protocol.resolve(spec.interview_rounds), "[process] interview_rounds")
    missing = [c for c in ("round", "topic_guide", "start_date", "end_date") if c not in rounds.columns]
    if missing:
        raise ValueError(f"[process] interview_rounds: missing column(s) {', '.join(missing)}")
    roster = _roster(protocol)
    ok, rejects = validate_interviews(interviews, rounds, roster)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    rejects.to_csv(Path(out_dir) / "interview_rejects.csv", index=False)
    by_round = interview_counts(ok, "round", disclosure=False)  # national: shown as counted
    done = ok[ok["status"] == "completed"]
    linked = done[done["panelist_id"] != ""].groupby("round")["interviewee_id"].nunique()
    by_round = rounds[["round", "topic_guide"]].astype(str).merge(by_round, on="round", how="left").fillna(
        {"interviews": 0})
    by_round["interviews"] = by_round["interviews"].astype(int)
    by_round["interviewees_in_roster"] = by_round["round"].map(linked).fillna(0).astype(int)
    tables = {
        "process_interviews_by_round": write_table(by_round, out_dir, "process_interviews_by_round", [], national=True,
                                                   disclosure_control=control),
        "process_interviews_by_site": write_table(interview_counts(ok, "site", disclosure=False), out_dir,
                                                  "process_interviews_by_site", ["interviews"],
                                                  disclosure_control=control),
        "process_interviews_by_role": write_table(interview_counts(ok, "role", disclosure=False), out_dir,
                                                  "process_interviews_by_role", ["interviews"],
                                                  disclosure_control=control)}
    notes = [f"Interview panel: {len(ok)} rows accepted, {len(rejects)} rejected (interview_rejects.csv)"
             + ("; linked to the survey roster." if roster is not None else "; no survey roster to link to.")]
    return tables, notes


def interviews_sentence(by_round: pd.DataFrame) -> str:
    """Completed interviews per round (national counts) from ``process_interviews_by_round``."""
    parts = [f"{int(r.interviews)} in round {r.round} (topic guide {r.topic_guide})" for r in by_round.itertuples()]
    total = int(by_round["interviews"].sum())
    linked = int(by_round["interviewees_in_roster"].sum())
    return (f"The interview panel completed {total} interviews: {'; '.join(parts)}; {linked} of them with people "
            "on the key-informant survey's roster.")
