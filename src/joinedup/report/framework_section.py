"""The framework matrix (sites or cases x themes, the researcher's summaries) in the synthesis report.

Read from the qualitative workbench's Excel export (:func:`joinedup.qual.retrieve.matrix_to_excel`)
named by ``[report] framework_matrix``; only the "Framework matrix" sheet (summaries) is read, never
the "Segments" sheet: raw transcript text reaches the report only if a researcher copies it into a
summary. The export's placeholder for cells without a summary ("(n segments, no summary yet)") is
shown as "no summary" without the count. ``framework_themes`` and ``framework_rows`` choose the
cells. Every cell is HTML-escaped (``table_html`` escapes), so a summary cannot inject markup.

Example:
    >>> section = framework_section("matrix.xlsx", ["Workforce"], None)           # doctest: +SKIP
"""

from __future__ import annotations

from html import escape

from joinedup.qual.themes import ThemeMatrixError, read_framework_summaries
from joinedup.report.html import ReportSection, table_html


def chosen_cells(frame, themes: list[str] | None, rows: list[str] | None):
    """The chosen columns and rows; unknown names are an error naming them and what exists."""
    for wanted, have, what in ((themes, list(frame.columns), "theme"), (rows, list(frame.index), "row")):
        missing = [w for w in (wanted or []) if w not in have]
        if missing:
            raise ThemeMatrixError(f"[report] framework_{what}s: {', '.join(map(repr, missing))} not in the matrix "
                                   f"(it has: {', '.join(map(str, have))})")
    return frame.loc[rows if rows else frame.index, themes if themes else frame.columns]


def framework_section(path: str, themes: list[str] | None = None, rows: list[str] | None = None) -> ReportSection:
    """The report section: the chosen cells' summaries, one row per site or case."""
    frame = chosen_cells(read_framework_summaries(path), themes, rows)
    shown = frame.replace("", "no summary").reset_index()
    shown.columns = ["Site or case", *frame.columns]
    written = int((frame != "").sum().sum())
    body = (f"<p>{escape(f'The framework matrix of the qualitative analysis: {len(frame)} rows by {frame.shape[1]} themes, {written} cells with a summary written by the research team (Framework method, Gale et al. 2013).')}</p>"
            + table_html(shown, "Framework matrix: summaries by theme"))
    return ReportSection("framework-matrix", "Themes by site (framework matrix)", body)
