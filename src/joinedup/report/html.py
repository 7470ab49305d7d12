"""Assemble the report from sections; everything inline so it opens with no network.

Example:
    >>> html = render_report("An evaluation", [ReportSection("intro", "Introduction", "<p>Hi</p>")], {})
    >>> "<h2 id=\\"intro\\">Introduction</h2>" in html
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2
import pandas as pd

from joinedup.report.charts import Figure

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


def table_html(frame: pd.DataFrame, caption: str, max_rows: int = 400) -> str:
    """A data table with a caption and scoped headers; NaN (suppressed) shown as 'suppressed'."""
    shown = frame.head(max_rows).copy()
    for col in shown.columns:
        if pd.api.types.is_float_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: "suppressed" if pd.isna(v) else f"{v:,.2f}".rstrip("0").rstrip("."))
    html = shown.to_html(index=False, border=0, classes="data", na_rep="", escape=True)
    html = html.replace("<th>", '<th scope="col">')
    note = f" (first {max_rows} of {len(frame):,} rows)" if len(frame) > max_rows else ""
    return html.replace('<table border="0" class="dataframe data">',
                        f'<table class="data"><caption>{caption}{note}</caption>', 1)


def render_report(title: str, sections: list[ReportSection], provenance: dict, generated: str = "") -> str:
    """The whole report as one HTML string."""
    template = _ENV.get_template("report.html.j2")
    return template.render(title=title, sections=sections, provenance=provenance, generated=generated,
                           table_html=table_html)
