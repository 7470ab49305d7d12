"""Figures for group-time ATTs and their aggregations (house style, with a text alternative).

Estimates before treatment are drawn in one colour and after in another, each with its confidence
band as a rule, around a zero line; the alt text states the range of effects before and after.

Example:
    >>> import pandas as pd
    >>> tab = pd.DataFrame({"egt": [-1, 0, 1], "att": [0.0, 1.0, 2.0], "se": [0.1] * 3,
    ...                     "lower": [-0.2, 0.8, 1.8], "upper": [0.2, 1.2, 2.2]})
    >>> fig = aggte_figure("demo", "dynamic", tab, {"yname": "y"}, False, 0.05)
    >>> fig.svg.startswith("<svg"), "event time" in fig.alt_text
    (True, True)
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from joinedup.report.charts import PALETTE, Figure

PHASES = ["Before treatment", "After treatment"]


def _layers(frame: pd.DataFrame, x: str, x_title: str, y_title: str) -> alt.LayerChart:
    colour = alt.Color("phase:N", title=None, scale=alt.Scale(domain=PHASES, range=[PALETTE[1], PALETTE[0]]))
    # ordinal axes sort as text (-1, -10, -11, ...): keep the frame's numeric order instead
    xenc = alt.X(f"{x}:O", title=x_title, sort=list(dict.fromkeys(frame[x])))
    base = alt.Chart()   # data on the layer, so the same layers can also be faceted
    band = base.mark_rule(strokeWidth=2).encode(x=xenc, y=alt.Y("lower:Q", title=y_title), y2="upper:Q",
                                                color=colour)
    point = base.mark_point(filled=True, size=60).encode(
        x=xenc, y="att:Q", color=colour, shape=alt.Shape("phase:N", legend=None),
        tooltip=[x, alt.Tooltip("att:Q", format=".4f"), alt.Tooltip("lower:Q", format=".4f"),
                 alt.Tooltip("upper:Q", format=".4f")])
    # the zero line is decoration: hidden from assistive technology (Vega draws a datum rule as an
    # unnamed graphics-symbol, which axe-core reports as an image without alternative text)
    zero = base.mark_rule(color="#555555", strokeDash=[4, 4], aria=False).encode(y=alt.datum(0))
    return alt.layer(zero, band, point, data=frame)


def _range_text(frame: pd.DataFrame, phase: str) -> str:
    part = frame[frame["phase"] == phase]
    if part.empty or part["att"].isna().all():
        return f"{phase.lower()}: none"
    excl = int(((part["lower"] > 0) | (part["upper"] < 0)).sum())
    return (f"{phase.lower()}, {len(part)} estimate(s) from {part['att'].min():.3g} to {part['att'].max():.3g}, "
            f"{excl} with a band excluding zero")


def _fmt(v) -> str:
    return f"{v:g}" if isinstance(v, (int, float, np.integer, np.floating)) else str(v)


def attgt_figure(id: str, tidy: pd.DataFrame, params: dict, uniform: bool) -> Figure:
    """Small multiples: ATT(g,t) by period, one panel per group."""
    frame = tidy.sort_values(["group", "t"]).reset_index(drop=True)
    frame["phase"] = np.where(frame["post"], PHASES[1], PHASES[0])
    frame["group"] = frame["group"].map(_fmt)
    frame["t"] = frame["t"].map(_fmt)
    band = "simultaneous" if uniform else "pointwise"
    chart = _layers(frame, "t", "Period", f"ATT(g,t) on {params.get('yname', 'outcome')}").properties(
        width=520, height=110).facet(row=alt.Row("group:N", title="Group (first treated)"))
    title = f"Group-time effects on {params.get('yname', 'the outcome')}"
    alt_text = (f"Estimated ATT(g,t) for {frame['group'].nunique()} groups across periods "
                f"{frame['t'].iloc[0]} to {frame['t'].iloc[-1]}, with {band} confidence bands; "
                f"{_range_text(frame, PHASES[0])}; {_range_text(frame, PHASES[1])}.")
    return Figure.from_chart(id, title, alt_text, chart, frame, width=None)


def aggte_figure(id: str, kind: str, tidy: pd.DataFrame, params: dict, uniform: bool, alp: float) -> Figure:
    """Event study (``dynamic``) or effects by group / period, with confidence bands."""
    frame = tidy.sort_values("egt").reset_index(drop=True)
    name = {"dynamic": "event time", "group": "group", "calendar": "period"}[kind]
    frame["phase"] = np.where(frame["egt"] >= 0, PHASES[1], PHASES[0]) if kind == "dynamic" else PHASES[1]
    frame["egt"] = frame["egt"].map(_fmt)
    frame = frame.rename(columns={"egt": name})
    y = params.get("yname", "the outcome")
    chart = _layers(frame, name, name.capitalize(), f"Effect on {y}")
    band = "simultaneous" if uniform else "pointwise"
    conf = int(round(100 * (1 - alp)))
    title = {"dynamic": f"Event study: effect on {y} by time since treatment",
             "group": f"Effect on {y} by group (first treated)",
             "calendar": f"Effect on {y} by calendar period"}[kind]
    if kind == "dynamic":
        detail = f"{_range_text(frame, PHASES[0])}; {_range_text(frame, PHASES[1])}"
    else:
        detail = _range_text(frame, PHASES[1])
    alt_text = (f"Estimated effects by {name} from {frame[name].iloc[0]} to {frame[name].iloc[-1]} with "
                f"{conf}% {band} confidence bands around a dashed zero line; {detail}.")
    return Figure.from_chart(id, title, alt_text, chart, frame)
