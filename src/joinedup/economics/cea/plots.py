"""Charts of a CEA (CE plane, CEAC, CEAF, EVPI) and of one-way sensitivity (tornado), as Figures.

Each returns a :class:`joinedup.report.charts.Figure` with an accessible title, alt text that states
the main finding in words, and the data behind the chart.

Example:
    >>> fig = res.ceac_plot()                                                  # doctest: +SKIP
    >>> fig.svg.startswith("<svg")                                             # doctest: +SKIP
    True
"""

from __future__ import annotations

import pandas as pd


def ce_plane(res, wtp: float, max_points: int = 2000):
    """Incremental effects (x) and costs (y) per simulation, the mean, and the line cost = wtp x effect."""
    import altair as alt

    from joinedup.report.charts import Figure

    frames = []
    for n, name in enumerate(res.comparisons):
        # thin evenly (not randomly) so the figure is reproducible and the SVG stays small
        step = max(1, res.n_sim // max_points)
        frames.append(pd.DataFrame({"comparison": name, "inc_effect": res.delta_e[::step, n],
                                    "inc_cost": res.delta_c[::step, n]}))
    data = pd.concat(frames, ignore_index=True)
    summary = res.at(wtp)
    lo, hi = float(min(data["inc_effect"].min(), 0)), float(max(data["inc_effect"].max(), 0))
    line = pd.DataFrame({"inc_effect": [lo, hi], "inc_cost": [wtp * lo, wtp * hi]})
    points = alt.Chart(data).mark_circle(size=10, opacity=0.35).encode(
        x=alt.X("inc_effect:Q", title="Incremental effect (QALYs)"),
        y=alt.Y("inc_cost:Q", title="Incremental cost (£)"),
        color=alt.Color("comparison:N", title="Comparison"))
    means = alt.Chart(summary).mark_point(shape="diamond", size=120, filled=True, color="#000").encode(
        x="inc_effect:Q", y="inc_cost:Q", tooltip=["comparison", "statement"])
    threshold = alt.Chart(line).mark_line(strokeDash=[5, 4], color="#555").encode(x="inc_effect:Q", y="inc_cost:Q")
    axes = alt.Chart(pd.DataFrame({"z": [0]}))
    chart = points + threshold + means + axes.mark_rule(color="#999").encode(x="z:Q") \
        + axes.mark_rule(color="#999").encode(y="z:Q")
    said = "; ".join(f"{r.comparison}: {r.statement}, {100 * r.ceac:.1f}% of simulations below the line"
                     for r in summary.itertuples())
    alt_text = (f"Cost-effectiveness plane of {res.n_sim} simulations with a dashed threshold line at "
                f"£{wtp:,.0f} per QALY; diamonds mark the means. {said}.")
    return Figure.from_chart("ce-plane", "Cost-effectiveness plane", alt_text, chart, data)


def ceac_plot(res):
    """Pairwise cost-effectiveness acceptability curves over the k grid."""
    import altair as alt

    from joinedup.report.charts import Figure

    data = res.tidy("ceac")
    chart = alt.Chart(data).mark_line().encode(
        x=alt.X("k:Q", title="Willingness to pay (£ per QALY)"),
        y=alt.Y("ceac:Q", title="Probability cost-effective", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("comparison:N", title="Comparison"))
    at = res.at()
    said = "; ".join(f"{r.comparison} {r.ceac:.2f}" for r in at.itertuples())
    alt_text = (f"Cost-effectiveness acceptability curves from £0 to £{res.k[-1]:,.0f} per QALY. "
                f"At £{res.wtp:,.0f} the probability of being cost-effective is: {said}.")
    return Figure.from_chart("ceac", "Cost-effectiveness acceptability curve", alt_text, chart, data)


def ceaf_plot(res):
    """Multi-arm acceptability curves (thin) and the acceptability frontier (thick)."""
    import altair as alt

    from joinedup.report.charts import Figure

    curves = res.tidy("mceac")
    frontier = res.tidy("ceaf")
    lines = alt.Chart(curves).mark_line(strokeWidth=1.5).encode(
        x=alt.X("k:Q", title="Willingness to pay (£ per QALY)"),
        y=alt.Y("p_best:Q", title="Probability most cost-effective", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("intervention:N", title="Intervention"))
    front = alt.Chart(frontier).mark_line(strokeWidth=4, opacity=0.35, color="#000").encode(x="k:Q", y="ceaf:Q")
    sw = res.switches()
    moves = ", ".join(f"to {r.to} at £{r.k:,.0f}" for r in sw.itertuples()) or "never"
    alt_text = (f"Probability that each of {len(res.interventions)} interventions has the highest net benefit, "
                f"with the frontier (grey) following the option of highest expected net benefit, starting "
                f"with {res.interventions[res.best[0]]} and switching {moves}.")
    return Figure.from_chart("ceaf", "Cost-effectiveness acceptability frontier", alt_text, lines + front, curves)


def evpi_plot(res):
    """Expected value of perfect information per person over the k grid."""
    import altair as alt

    from joinedup.report.charts import Figure

    data = res.tidy("evpi")
    chart = alt.Chart(data).mark_line().encode(x=alt.X("k:Q", title="Willingness to pay (£ per QALY)"),
                                               y=alt.Y("evpi:Q", title="EVPI (£ per person)"))
    peak = data.loc[data["evpi"].idxmax()]
    alt_text = (f"Expected value of perfect information per person from £0 to £{res.k[-1]:,.0f} per QALY; "
                f"it peaks at £{peak['evpi']:,.2f} at £{peak['k']:,.0f} and is £{res.evpi_at():,.2f} "
                f"at £{res.wtp:,.0f}.")
    return Figure.from_chart("evpi", "Expected value of perfect information", alt_text, chart, data)


def tornado_plot(table: pd.DataFrame, outcome: str = "inmb"):
    """Tornado diagram of a :func:`~joinedup.economics.cea.sensitivity.one_way` table.

    Bars run from the outcome at each parameter's low value to its high value, widest at the top,
    around a rule at the base case.
    """
    import altair as alt

    from joinedup.report.charts import Figure

    lo, hi, base = f"{outcome}_low", f"{outcome}_high", f"{outcome}_base"
    data = table[["parameter", lo, hi, base]].copy()
    data["swing"] = (data[hi] - data[lo]).abs()
    data = data.sort_values("swing", ascending=False)
    long = pd.concat([
        pd.DataFrame({"parameter": data["parameter"], "end": "low value", "start": data[base], "stop": data[lo]}),
        pd.DataFrame({"parameter": data["parameter"], "end": "high value", "start": data[base], "stop": data[hi]}),
    ], ignore_index=True)
    order = list(data["parameter"])
    bars = alt.Chart(long).mark_bar().encode(
        y=alt.Y("parameter:N", sort=order, title=None), x=alt.X("start:Q", title=_OUTCOMES.get(outcome, outcome)),
        x2="stop:Q", color=alt.Color("end:N", title="Parameter at"))
    rule = alt.Chart(pd.DataFrame({"x": [float(data[base].iloc[0])]})).mark_rule(color="#000").encode(x="x:Q")
    top = data.iloc[0]
    alt_text = (f"Tornado diagram of {len(data)} parameters for {_OUTCOMES.get(outcome, outcome).lower()}; "
                f"the base case is {float(top[base]):,.2f}. The most influential is {top['parameter']}, "
                f"moving it from {float(top[lo]):,.2f} to {float(top[hi]):,.2f}.")
    return Figure.from_chart("tornado", "One-way sensitivity analysis", alt_text, bars + rule, data,
                             width=520, height=max(120, 28 * len(order)))


_OUTCOMES = {"inmb": "Incremental net monetary benefit (£)", "icer": "ICER (£ per QALY)",
             "inc_cost": "Incremental cost (£)", "inc_effect": "Incremental effect (QALYs)"}

__all__ = ["ce_plane", "ceac_plot", "ceaf_plot", "evpi_plot", "tornado_plot"]
