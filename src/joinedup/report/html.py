"""Assemble the report from sections; everything inline so it opens with no network.

Example:
    >>> html = render_report("An evaluation", [ReportSection("intro", "Introduction", "<p>Hi</p>")], {})
    >>> "<h2 id=\\"intro\\">Introduction</h2>" in html
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape

import jinja2
import pandas as pd

from joinedup.report.charts import Figure
from joinedup.report.labels import relabel

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("joinedup.report", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class ReportSection:
    """One section: trusted HTML body built by a step, plus figures rendered with their tables."""

    id: str
    title: str
    body_html: str = ""
    figures: tuple[Figure, ...] = field(default_factory=tuple)


def table_html(frame: pd.DataFrame, caption: str, max_rows: int = 400, source: str = "",
               not_applicable: pd.DataFrame | None = None) -> str:
    """A data table with a caption and scoped headers; NaN (suppressed) shown as 'suppressed'; codes
    shown as their labels (:mod:`joinedup.report.labels`). ``not_applicable`` (booleans, the
    frame's index and some of its columns) marks empty cells that were never a value (a test row's
    estimate), shown blank rather than as suppressed.

    A table cut at ``max_rows`` says so in its caption and in a visible note under it. Wide tables
    scroll inside their own box on screen (the page never does) and wrap in print.

    Example:
        >>> out = table_html(pd.DataFrame({"item": ["bar_financial"]}), "Barriers")
        >>> "<caption>Barriers</caption>" in out, "Financial pressures" in out
        (True, True)
    """
    shown = relabel(frame.head(max_rows))
    for name, col in zip(frame.columns, shown.columns):  # relabel renames the headers
        if pd.api.types.is_float_dtype(shown[col]):
            missing = shown[col].isna().to_numpy()
            shown[col] = shown[col].map(lambda v: "suppressed" if pd.isna(v) else f"{v:,.2f}".rstrip("0").rstrip("."))
            if not_applicable is not None and name in not_applicable:
                blank = not_applicable[name].reindex(frame.index, fill_value=False).head(max_rows).to_numpy(bool)
                shown.loc[blank & missing, col] = ""
    html = shown.to_html(index=False, border=0, classes="data", na_rep="", escape=True)
    html = html.replace("<th>", '<th scope="col">').replace(' style="text-align: right;"', "")
    cut = len(frame) > max_rows
    note = f" (first {max_rows:,} of {len(frame):,} rows)" if cut else ""
    # pandas writes the opening tag differently across versions: replace whatever it wrote
    html = re.sub(r"<table[^>]*>", f'<table class="data"><caption>{escape(caption)}{note}</caption>', html, count=1)
    after = ""
    if cut:
        after += (f'<p class="note cut">Table cut: only the first {max_rows:,} of {len(frame):,} rows are '
                  "shown; the full table is in the downloads.</p>")
    if source:
        after += f'<p class="muted source">Source: {escape(source)}</p>'
    return f'<div class="table-wrap" tabindex="0" role="region" aria-label="{escape(caption)}">{html}</div>{after}'


def render_report(title: str, sections: list[ReportSection], provenance: dict, generated: str = "") -> str:
    """The whole report as one HTML string."""
    template = _ENV.get_template("report.html.j2")
    return template.render(title=title, sections=sections, provenance=provenance, generated=generated,
                           table_html=table_html)
