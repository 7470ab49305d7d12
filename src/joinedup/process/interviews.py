"""The interview panel: who was interviewed, in which round, with which topic guide and consent.

Two tables:

* **rounds**: ``round, topic_guide, start_date, end_date`` (the evaluation had two rounds);
* **interviews**: one row per interviewee and round: ``interviewee_id, site, role, panelist_id``
  (the survey roster's id where the same person also answers the survey; empty otherwise),
  ``round, topic_guide, consent`` (yes, no, withdrawn), ``status`` (invited, scheduled, completed,
  declined, cancelled), ``interview_date`` and ``transcript_source`` (the qualitative workbench's
  source id of the transcript).

Rules (each broken rule sends the row to the rejects, with its line and every reason): the round
exists and the topic guide is that round's; an interviewee has one row per round; a completed
interview has consent ``yes`` and a date inside the round; a transcript is attached only to a
completed, consented interview; ``panelist_id``, when given, is in the roster and the same site.

:func:`interview_counts` counts completed interviews by round, site and role. Round totals are
national figures and are shown as counted; site and role counts are sub-national and go through
:func:`joinedup.disclosure.control_counts` (1-7 suppressed, others rounded to 5) unless
``disclosure=False`` (for the team only).

Example:
    >>> rounds = pd.DataFrame({"round": ["1"], "topic_guide": ["TG1"], "start_date": ["2015-01-01"],
    ...                        "end_date": ["2015-12-31"]})
    >>> iv = pd.DataFrame([{"interviewee_id": "p1", "site": "A", "role": "manager", "panelist_id": "",
    ...     "round": "1", "topic_guide": "TG1", "consent": "yes", "status": "completed",
    ...     "interview_date": "2015-03-02", "transcript_source": "src-9"}])
    >>> ok, rejects = validate_interviews(iv, rounds)
    >>> len(ok), len(rejects)
    (1, 0)
"""

from __future__ import annotations

import pandas as pd

from joinedup.disclosure import control_counts

INTERVIEW_COLUMNS = ("interviewee_id", "site", "role", "panelist_id", "round", "topic_guide", "consent", "status",
                     "interview_date", "transcript_source")
CONSENT = ("yes", "no", "withdrawn")
STATUS = ("invited", "scheduled", "completed", "declined", "cancelled")


def validate_interviews(interviews: pd.DataFrame, rounds: pd.DataFrame,
                        roster: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Accepted rows (``interview_date`` parsed) and rejects (``line``, ``reason``); see the module docstring."""
    missing = [c for c in INTERVIEW_COLUMNS if c not in interviews.columns]
    if missing:
        raise ValueError(f"interviews: missing column(s) {', '.join(missing)}")
    r = rounds.astype(str).set_index("round")
    r_start, r_end = pd.to_datetime(r["start_date"]), pd.to_datetime(r["end_date"])
    people = {} if roster is None else dict(zip(roster["panelist_id"].astype(str), roster["pioneer"].astype(str)))
    text = interviews[list(INTERVIEW_COLUMNS)].fillna("").astype(str).apply(lambda s: s.str.strip())
    dates = pd.to_datetime(text["interview_date"], format="%Y-%m-%d", errors="coerce")
    ok, rejects, seen = [], [], set()
    for i, row in enumerate(text.to_dict("records")):
        why = [f"{c} is empty" for c in ("interviewee_id", "site", "role", "round", "consent", "status") if not row[c]]
        if row["round"] and row["round"] not in r.index:
            why.append(f"round {row['round']!r} is not one of {', '.join(r.index)}")
        elif row["round"] and row["topic_guide"] != r.loc[row["round"], "topic_guide"]:
            why.append(f"topic_guide {row['topic_guide']!r} is not round {row['round']}'s ({r.loc[row['round'], 'topic_guide']})")
        if row["consent"] and row["consent"] not in CONSENT:
            why.append(f"consent {row['consent']!r} is not one of {', '.join(CONSENT)}")
        if row["status"] and row["status"] not in STATUS:
            why.append(f"status {row['status']!r} is not one of {', '.join(STATUS)}")
        if row["interview_date"] and pd.isna(dates.iloc[i]):
            why.append(f"interview_date {row['interview_date']!r} is not a date YYYY-MM-DD")
        if row["status"] == "completed":
            if row["consent"] != "yes":
                why.append("a completed interview needs consent 'yes'")
            if pd.isna(dates.iloc[i]):
                why.append("a completed interview needs its interview_date")
            elif row["round"] in r.index and not (r_start[row["round"]] <= dates.iloc[i] <= r_end[row["round"]]):
                why.append(f"interview_date {row['interview_date']} is outside round {row['round']}")
        if row["transcript_source"] and (row["status"] != "completed" or row["consent"] != "yes"):
            why.append("a transcript is attached only to a completed interview with consent 'yes'")
        if row["panelist_id"] and roster is not None:
            if row["panelist_id"] not in people:
                why.append(f"panelist_id {row['panelist_id']!r} is not in the survey roster")
            elif people[row["panelist_id"]] != row["site"]:
                why.append(f"panelist_id {row['panelist_id']!r} is in the roster for {people[row['panelist_id']]!r}, "
                           f"not {row['site']!r}")
        key = (row["interviewee_id"], row["round"])
        if not why and key in seen:
            why.append(f"interviewee {row['interviewee_id']!r} already has a row for round {row['round']}")
        if why:
            rejects.append({**interviews.iloc[i].to_dict(), "line": i + 2, "reason": "; ".join(why)})
            continue
        seen.add(key)
        ok.append({**row, "interview_date": dates.iloc[i]})
    return (pd.DataFrame(ok, columns=list(INTERVIEW_COLUMNS)),
            pd.DataFrame(rejects, columns=[*interviews.columns, "line", "reason"]))


def interview_counts(interviews: pd.DataFrame, by: str = "round", disclosure: bool = True) -> pd.DataFrame:
    """Completed interviews by ``round``, ``site``, ``role`` or ``site_round`` (site x round).

    Round totals are national and exact; other counts are controlled (module docstring).
    """
    groups = {"round": ["round"], "site": ["site"], "role": ["role"], "site_round": ["site", "round"]}
    if by not in groups:
        raise ValueError(f"by must be one of {', '.join(groups)}; got {by!r}")
    done = interviews[interviews["status"] == "completed"]
    out = done.groupby(groups[by]).size().rename("interviews").reset_index()
    if disclosure:
        out = control_counts(out, ["interviews"], national=(by == "round"))
    return out
