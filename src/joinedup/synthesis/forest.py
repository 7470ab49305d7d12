"""Forest plot of a meta-analysis: each site's estimate with its 95% interval (square sized by weight)
and the pooled estimate with its interval and prediction interval.

Example:
    >>> fig = meta_analysis(yi, vi, labels=sites).plot()                         # doctest: +SKIP
"""

from __future__ import annotations

import altair as alt
import pandas as pd


def forest_plot(res, title: str = "Site estimates and pooled effect", unit: str = ""):
    from joinedup.report.charts import Figure

    t = res.tidy()
    order = list(t["study"])
    points = alt.Chart(t.iloc[:-1]).mark_square(color="#08519c").encode(
        y=alt.Y("study:N", sort=order, title=None), x=alt.X("estimate:Q", title=f"Effect{f' ({unit})' if unit else ''}"),
        size=alt.Size("weight_pct:Q", title="Weight (%)", scale=alt.Scale(range=[20, 300])),
        tooltip=["study", alt.Tooltip("estimate:Q", format=".3f"), alt.Tooltip("weight_pct:Q", format=".1f")])
    bars = alt.Chart(t).mark_rule().encode(y=alt.Y("study:N", sort=order), x="ci_lower:Q", x2="ci_upper:Q")
    pooled = alt.Chart(t.iloc[[-1]]).mark_point(shape="diamond", size=250, filled=True, color="#000").encode(
        y=alt.Y("study:N", sort=order), x="estimate:Q")
    pi = pd.DataFrame({"study": [t.iloc[-1]["study"]], "lo": [res.pi_lower], "hi": [res.pi_upper]})
    pred = alt.Chart(pi).mark_rule(strokeDash=[4, 3], color="#555").encode(y=alt.Y("study:N", sort=order),
                                                                           x="lo:Q", x2="hi:Q")
    zero = alt.Chart(pd.DataFrame({"z": [0]})).mark_rule(color="#999").encode(x="z:Q")
    alt_text = (f"Forest plot of {res.k} site estimates with 95% intervals. Pooled ({res.method}"
                f"{', Knapp-Hartung' if res.knha else ''}): {res.estimate:.3f} (95% CI {res.ci_lower:.3f} to "
                f"{res.ci_upper:.3f}); prediction interval {res.pi_lower:.3f} to {res.pi_upper:.3f}; "
                f"I-squared {res.i2:.1f}%.")
    return Figure.from_chart("forest-plot", title, alt_text, zero + bars + points + pooled + pred, t)
