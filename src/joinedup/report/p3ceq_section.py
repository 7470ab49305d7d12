"""The main report's section on the programme's own service-user survey (P3CEQ), when the protocol
names one (``[report] p3ceq_responses`` and ``p3ceq_licensed``).

It is descriptive within the programme (change between waves of the programme's own service users),
never a comparative impact estimate: :data:`joinedup.survey.p3ceq_report.STATEMENT` heads it, and
the sentence is written from the disclosure-controlled table it shows (so a suppressed mean stays
suppressed in the words too; tests/test_p3ceq_section.py re-derives it from the written table).

Example:
    >>> section = p3ceq_step(protocol, out_dir)                                      # doctest: +SKIP
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from joinedup.report.html import ReportSection

TITLE = "Service users' experience of person-centred coordinated care (P3CEQ, the programme's own survey)"


def _mean(row) -> str:
    if pd.isna(row["mean"]):
        return f"suppressed in wave {row['wave']} (fewer than 8 respondents)"
    return f"{row['mean']:.1f} in wave {row['wave']} ({int(row['respondents'])} respondents)"


def p3ceq_sentences(table: pd.DataFrame) -> list[str]:
    """One sentence on the total score: first and last wave's means and the change between them
    (from the controlled table; suppressed values are said to be suppressed)."""
    total = table[table["scale"] == "total"].sort_values("wave")
    if total.empty:
        return []
    first, last = total.iloc[0], total.iloc[-1]
    if len(total) == 1:
        return [f"Mean P3CEQ total score of the programme's service users: {_mean(first)}; one wave, so no "
                "change over time to describe."]
    if pd.isna(last["change_from_first_wave"]):
        change = "the change between them is suppressed or could not be computed"
    else:
        change = (f"a change of {last['change_from_first_wave']:+.1f} points (95% CI "
                  f"{last['change_ci_low']:+.1f} to {last['change_ci_high']:+.1f})")
    return [f"Mean P3CEQ total score of the programme's service users: {_mean(first)} and {_mean(last)}; "
            f"{change}. This describes the programme's own service users over time and is not an estimate "
            "of the programme's impact."]


def read_p3ceq_responses(path: Path) -> pd.DataFrame:
    """Responses exported from the survey service (one row a response; ``wave`` and the P3CEQ item
    columns; ``respondent`` self/proxy where asked). Errors name the file and what is missing."""
    from joinedup.survey.p3ceq import ITEMS

    if not path.exists():
        raise FileNotFoundError(f"[report] p3ceq_responses: {path} does not exist")
    data = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", pd.NA)
    missing = [c for c in ("wave",) if c not in data.columns]
    if missing or not any(c in data.columns for c in ITEMS):
        raise ValueError(f"[report] p3ceq_responses: {path} needs a 'wave' column and the P3CEQ item columns "
                         f"({', '.join(ITEMS[:3])}, ...); it has {', '.join(data.columns[:12])}")
    waves = pd.to_numeric(data["wave"], errors="coerce")
    if waves.notna().all() and (waves % 1 == 0).all():  # numbered waves sort as numbers (2 before 10)
        data["wave"] = waves.astype(int)
    bad = data["wave"].isna()
    if bad.any():
        raise ValueError(f"[report] p3ceq_responses: {path} has {int(bad.sum())} row(s) without a wave "
                         f"(first at data row {int(bad.idxmax()) + 2})")
    return data


def p3ceq_step(protocol, out_dir: Path) -> ReportSection:
    """Score the responses with the licensed file, write ``p3ceq_change`` (controlled) and return
    the section built from the written table."""
    from joinedup.survey.p3ceq import read_licensed_file, score_responses
    from joinedup.survey.p3ceq_report import STATEMENT, p3ceq_change, p3ceq_table_html, write_p3ceq_tables

    spec = protocol.report
    licensed = read_licensed_file(protocol.resolve(spec.p3ceq_licensed))
    responses = read_p3ceq_responses(Path(protocol.resolve(spec.p3ceq_responses)))
    table = p3ceq_change(score_responses(responses, licensed))
    written = write_p3ceq_tables(table, out_dir, disclosure_control=protocol.output.disclosure_control)
    body = (f"<p class='caveat'>{escape(STATEMENT)}</p>"
            + "".join(f"<p>{escape(s)}</p>" for s in p3ceq_sentences(written))
            + p3ceq_table_html(written))
    return ReportSection("person-centred-own-survey", TITLE, body)
