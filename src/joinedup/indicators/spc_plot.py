"""Altair chart of an XmR result: values, mean, process limits, target; points coloured by type."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

if TYPE_CHECKING:
    from joinedup.indicators.spc import XmrResult

# NHSRplotthedots ptd_spc_colours() (standardised with the MDC Power BI team, issue #196)
COLOURS = {
    "common_cause": "#a6a6a6",
    "special_cause_improvement": "#00b0f0",
    "special_cause_concern": "#e46c0a",
    "special_cause_neutral_high": "#490092",
    "special_cause_neutral_low": "#490092",
}


def xmr_chart(result: XmrResult, title: str | None = None) -> alt.Chart:
    data = result.tidy()
    group = result.group
    detail = [group, "rebase_group"] if group else ["rebase_group"]
    base = alt.Chart(data).encode(x=alt.X("x", title=None))
    line = base.mark_line(color="#a6a6a6").encode(y=alt.Y("y", title=None))
    dots = base.mark_circle(size=45, opacity=1).encode(
        y="y", color=alt.Color("point_type", title="Point type",
                               scale=alt.Scale(domain=list(COLOURS), range=list(COLOURS.values()))),
        tooltip=["x", "y", "special_cause_type", "point_type"])
    mean = base.mark_line(color="black").encode(y="mean", detail=detail)
    limits = [base.mark_line(color="#a6a6a6", strokeDash=[4, 3]).encode(y=c, detail=detail)
              for c in ("lpl", "upl")]
    layers = [line, mean, *limits, dots]
    if data["target"].notna().any():
        layers.insert(1, base.mark_line(color="#de1b1b", strokeDash=[2, 2]).encode(y="target"))
    chart = alt.layer(*layers, data=data)
    if group:
        chart = chart.facet(facet=alt.Facet(f"{group}:N", title=None), columns=3).resolve_scale(
            y="independent")
    return chart.properties(title=title) if title else chart
