"""Charts as inline SVG (rendered offline by vl-convert), each with a text alternative and the data
table behind it, in a colour-blind-safe palette (Okabe–Ito).

Example:
    >>> import pandas as pd, altair as alt
    >>> frame = pd.DataFrame({"year": [2013, 2014], "n": [5, 7]})
    >>> chart = alt.Chart(frame).mark_line().encode(x="year:O", y="n:Q")
    >>> fig = Figure.from_chart("demo", "A title", "Two points rising.", chart, frame)
    >>> fig.svg.startswith("<svg")
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import pandas as pd
import vl_convert as vlc

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


def themed(chart: alt.Chart, width: int | None = 620, height: int | None = 260) -> alt.Chart:
    """Apply the house style: palette, readable fonts, fixed size (so output is reproducible).

    ``width=None`` keeps the chart's own sizes (faceted small multiples size each panel).
    """
    if width is not None:
        chart = chart.properties(width=width, height=height)
    return (
        chart.configure_range(category=PALETTE)
        .configure_axis(labelFontSize=11, titleFontSize=12)
        .configure_legend(labelFontSize=11, titleFontSize=12, orient="bottom")
        .configure_view(stroke=None)
    )


@dataclass(frozen=True)
class Figure:
    """A rendered chart with what a screen reader and a reader who prefers numbers need."""

    id: str
    title: str
    alt_text: str
    svg: str
    data: pd.DataFrame

    @classmethod
    def from_chart(cls, id: str, title: str, alt_text: str, chart: alt.Chart, data: pd.DataFrame,
                   **size) -> Figure:
        svg = vlc.vegalite_to_svg(themed(chart, **size).to_dict())
        return cls(id, title, alt_text, _local_ids(svg, id), data)

    def accessible_svg(self) -> str:
        """The SVG marked as one image with its title and description."""
        label = f'role="img" aria-labelledby="{self.id}-title {self.id}-desc"'
        head = f'<title id="{self.id}-title">{_esc(self.title)}</title><desc id="{self.id}-desc">{_esc(self.alt_text)}</desc>'
        svg = self.svg.replace("<svg ", f"<svg {label} ", 1)
        end = svg.index(">") + 1
        return svg[:end] + head + svg[end:]

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.id}.svg"
        path.write_text(self.accessible_svg(), encoding="utf-8")
        return path


def _local_ids(svg: str, prefix: str) -> str:
    """Renumber the renderer's clip-path ids from 1 within each figure, prefixed by its id.

    vl-convert numbers them with a counter shared by the whole process, so the same chart rendered
    twice would differ, and two figures inlined in one page could clash.
    """
    numbers = list(dict.fromkeys(re.findall(r'id="clip(\d+)"', svg)))
    mapping = {n: f"{prefix}-clip{i + 1}" for i, n in enumerate(numbers)}
    svg = re.sub(r'id="clip(\d+)"', lambda m: f'id="{mapping[m.group(1)]}"', svg)
    return re.sub(r"url\(#clip(\d+)\)", lambda m: f"url(#{mapping.get(m.group(1), 'clip' + m.group(1))})", svg)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
