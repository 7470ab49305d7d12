"""Love plot: absolute standardised mean differences before and after matching."""

from __future__ import annotations

import pandas as pd


def love_plot(balance: pd.DataFrame, threshold: float = 0.1):
    """A :class:`joinedup.report.charts.Figure` from a ``MatchResult.balance()`` table.

    Example:
        >>> fig = m.love_plot()                                                # doctest: +SKIP
        >>> fig.svg.startswith("<svg")                                         # doctest: +SKIP
        True
    """
    import altair as alt

    from joinedup.report.charts import Figure

    data = balance[["variable", "sample", "smd"]].copy()
    data["abs_smd"] = data["smd"].abs()
    data["sample"] = data["sample"].map({"all": "All data", "matched": "Matched"})
    order = list(dict.fromkeys(balance["variable"]))
    base = alt.Chart(data)
    points = base.mark_point(filled=True, size=60).encode(
        x=alt.X("abs_smd:Q", title="Absolute standardised mean difference"),
        y=alt.Y("variable:N", sort=order, title=None),
        color=alt.Color("sample:N", title="Sample"),
        shape=alt.Shape("sample:N", title="Sample"),
        tooltip=["variable", "sample", alt.Tooltip("smd:Q", format=".3f")],
    )
    rule = alt.Chart(pd.DataFrame({"x": [threshold]})).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    matched = data[data["sample"] == "Matched"]
    worst = matched.loc[matched["abs_smd"].idxmax()] if len(matched) else None
    alt_text = (f"Dot plot of absolute standardised mean differences for {len(order)} variables before "
                f"and after matching, with a dashed line at {threshold}."
                + (f" After matching the largest is {worst['variable']} at {worst['abs_smd']:.2f}."
                   if worst is not None else ""))
    return Figure.from_chart("love-plot", "Covariate balance before and after matching", alt_text,
                             points + rule, data, width=520, height=max(160, 18 * len(order)))
