"""Charts of the process evaluation over time: the narrowing, sites' positions, delays, triangulation.

Alt text is written from the chart's own data (readers see labels, not codes).

Example:
    >>> fig = narrowing_figure(site_years(rows))                                  # doctest: +SKIP
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from joinedup.process.portfolio import pooled_by_year
from joinedup.process.positions import POSITIONS
from joinedup.report.charts import Figure

POSITION_LABELS = {"broad_mixed": "Broad, mixed", "broad_medical": "Broad, medical",
                   "narrow_community": "Narrow, community", "narrow_medical": "Narrow, medical"}


def narrowing_figure(panel: pd.DataFrame) -> Figure:
    """Medical-model share and breadth per site and year (thin lines) with the mean over sites (thick)."""
    long = panel.melt(id_vars=["site", "year"], value_vars=["medical_share", "breadth"], var_name="measure")
    long["measure"] = long["measure"].map({"medical_share": "Share of initiatives on the medical model",
                                           "breadth": "Breadth (distinct initiative types)"})
    sites = alt.Chart().mark_line(opacity=0.25, strokeWidth=1).encode(
        x=alt.X("year:O", title="Year"), y=alt.Y("value:Q", title=None), detail="site:N",
        tooltip=["site", "year", alt.Tooltip("value:Q", format=".2f")])
    mean = alt.Chart().mark_line(strokeWidth=3, color="#08519c", point=True).encode(
        x="year:O", y="mean(value):Q")
    chart = alt.layer(sites, mean, data=long).properties(width=260, height=200).facet(
        column=alt.Column("measure:N", title=None)).resolve_scale(y="independent")
    pooled = pooled_by_year(panel)
    a, b = pooled.iloc[0], pooled.iloc[-1]
    alt_text = (f"Across {int(b['sites'])} sites, the mean share of initiatives on the medical model went from "
                f"{a['mean_medical_share']:.0%} in {int(a['year'])} to {b['mean_medical_share']:.0%} in "
                f"{int(b['year'])}, and the mean number of distinct initiative types from {a['mean_breadth']:.1f} "
                f"to {b['mean_breadth']:.1f}.")
    return Figure.from_chart("process-narrowing", "Sites' portfolios over time", alt_text, chart, pooled,
                             width=None)


def positions_figure(pos: pd.DataFrame) -> Figure:
    """Each site's position (fixed dimensions) per year, as a site x year grid."""
    data = pos.assign(position_label=pos["position"].map(POSITION_LABELS))
    chart = alt.Chart(data).mark_rect(stroke="#fff").encode(
        x=alt.X("year:O", title="Year"), y=alt.Y("site:N", title=None),
        color=alt.Color("position_label:N", title="Position", sort=[POSITION_LABELS[p] for p in POSITIONS],
                        scale=alt.Scale(range=["#a6cee3", "#1f78b4", "#b2df8a", "#e31a1c"])),
        tooltip=["site", "year", "position_label", "breadth", alt.Tooltip("medical_share:Q", format=".2f")])
    last = data[data["year"] == data["year"].max()]["position_label"].value_counts()
    first = data[data["year"] == data["year"].min()]["position_label"].value_counts()
    alt_text = (f"Positions of {data['site'].nunique()} sites by year. In {data['year'].min()}: "
                + ", ".join(f"{k} {v}" for k, v in first.items()) + f". In {data['year'].max()}: "
                + ", ".join(f"{k} {v}" for k, v in last.items()) + ".")
    return Figure.from_chart("process-positions", "Sites' positions by year", alt_text, chart, data)


def delays_figure(initiatives: pd.DataFrame) -> Figure:
    """Histogram of months from design to go-live."""
    d = initiatives.dropna(subset=["delay_months"])[["site", "initiative_id", "delay_months"]]
    chart = alt.Chart(d).mark_bar().encode(
        x=alt.X("delay_months:Q", bin=alt.Bin(step=3), title="Months from start of design to go-live"),
        y=alt.Y("count():Q", title="Initiatives"))
    alt_text = (f"{len(d)} initiatives went live a median of {d['delay_months'].median():.0f} months after their "
                f"design began (range {d['delay_months'].min():.0f} to {d['delay_months'].max():.0f}).")
    return Figure.from_chart("process-delays", "Design-to-delivery delays", alt_text, chart, d)
