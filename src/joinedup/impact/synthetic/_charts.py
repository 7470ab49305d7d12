"""Figures for synthetic control and synthetic DiD results (house style, accessible text).

Each builder takes a long DataFrame it also attaches as the figure's data table, so a reader who
prefers numbers gets them.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"time": [1, 2, 1, 2], "series": ["a", "a", "b", "b"], "value": [1.0, 2, 1, 3]})
    >>> fig = lines_figure("demo", "Demo", "Two lines.", frame, "value", 2)
    >>> fig.svg.startswith("<svg")
    True
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from joinedup.report.charts import PALETTE, Figure

GREY = "#BBBBBB"


def _x(frame: pd.DataFrame, title: str = "Period") -> alt.X:
    kind = "T" if np.issubdtype(frame["time"].dtype, np.datetime64) else "Q"
    fmt = {"format": "d"} if kind == "Q" and _integral(frame["time"]) else {}
    return alt.X(f"time:{kind}", title=title, axis=alt.Axis(**fmt), scale=alt.Scale(zero=False))


def _integral(s: pd.Series) -> bool:
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    return bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))


def _rule(at, frame: pd.DataFrame) -> alt.Chart:
    kind = "T" if np.issubdtype(frame["time"].dtype, np.datetime64) else "Q"
    return alt.Chart(pd.DataFrame({"time": [at]})).mark_rule(strokeDash=[4, 4], color="#555555").encode(
        x=f"time:{kind}")


def lines_figure(id: str, title: str, alt_text: str, frame: pd.DataFrame, value: str, at,
                 y_title: str | None = None, zero_line: bool = False) -> Figure:
    """Coloured lines by ``series`` over ``time`` with a dashed rule at ``at`` (treatment start)."""
    line = alt.Chart(frame).mark_line().encode(
        x=_x(frame), y=alt.Y(f"{value}:Q", title=y_title or value, scale=alt.Scale(zero=False)),
        color=alt.Color("series:N", title=None, scale=alt.Scale(range=PALETTE)),
        strokeDash=alt.StrokeDash("series:N", legend=None))
    layers = [line, _rule(at, frame)]
    if zero_line:
        layers.append(alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#000000").encode(y="y:Q"))
    return Figure.from_chart(id, title, alt_text, alt.layer(*layers), frame)


def highlight_figure(id: str, title: str, alt_text: str, frame: pd.DataFrame, value: str, at,
                     highlight: str, y_title: str | None = None) -> Figure:
    """Every ``unit`` in grey, the ``highlight`` unit on top in the first palette colour."""
    others = frame[frame["unit"] != highlight]
    main = frame[frame["unit"] == highlight]
    y = alt.Y(f"{value}:Q", title=y_title or value)
    grey = alt.Chart(others).mark_line(color=GREY, strokeWidth=1, opacity=0.7).encode(
        x=_x(frame), y=y, detail="unit:N")
    top = alt.Chart(main).mark_line(color=PALETTE[0], strokeWidth=2.5).encode(x=_x(frame), y=y)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#000000").encode(y="y:Q")
    return Figure.from_chart(id, title, alt_text, alt.layer(grey, zero, _rule(at, frame), top), frame)


def fmt(x: float) -> str:
    """Numbers in alt text: four significant figures."""
    return f"{x:.4g}"
