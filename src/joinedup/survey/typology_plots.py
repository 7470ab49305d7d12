"""Figures of a typology: the dendrogram and the site x feature heat map (ordered as the dendrogram).

Example:
    >>> fig = heatmap_figure(typ)                                                # doctest: +SKIP
"""

from __future__ import annotations

import altair as alt
import pandas as pd
from scipy.cluster.hierarchy import dendrogram

from joinedup.report.charts import Figure
from joinedup.survey.typology import Typology, leaf_order


def dendrogram_figure(typ: Typology) -> Figure:
    """Dendrogram of the hierarchical clustering (Jaccard distance), drawn from scipy's coordinates."""
    d = dendrogram(typ.linkage, no_plot=True, labels=list(typ.features.index))
    segs = []
    for xs, ys in zip(d["icoord"], d["dcoord"]):
        for (x0, x1), (y0, y1) in zip(zip(xs[:-1], xs[1:]), zip(ys[:-1], ys[1:])):
            segs.append({"x": x0, "x2": x1, "y": y0, "y2": y1})
    lines = alt.Chart(pd.DataFrame(segs)).mark_rule().encode(
        x=alt.X("x:Q", axis=None), x2="x2", y=alt.Y("y:Q", title="Jaccard distance"), y2="y2")
    leaves = pd.DataFrame({"site": d["ivl"], "x": [5 + 10 * i for i in range(len(d["ivl"]))]})
    leaves["cluster"] = leaves["site"].map(typ.clusters.set_index("site")["cluster"]).astype(str)
    text = alt.Chart(leaves).mark_text(angle=270, align="right", dy=0, dx=-4).encode(
        x="x:Q", y=alt.value(310), text="site", color=alt.Color("cluster:N", title="Cluster"))
    sizes = typ.clusters["cluster"].value_counts().sort_index()
    alt_text = (f"Dendrogram of {len(typ.features)} sites by the Jaccard distance of their schemes and target "
                f"groups, cut into {typ.k} clusters of " + ", ".join(f"{n} (cluster {c})" for c, n in sizes.items())
                + " sites.")
    return Figure.from_chart("typology-dendrogram", "Typology of sites: dendrogram", alt_text,
                             (lines + text).properties(height=300, width=520), leaves)


def heatmap_figure(typ: Typology) -> Figure:
    """Which site runs which scheme type and serves which group, sites in dendrogram order."""
    long = typ.features.reset_index(names="site").melt(id_vars="site", var_name="feature", value_name="present")
    long["cluster"] = long["site"].map(typ.clusters.set_index("site")["cluster"]).astype(str)
    chart = alt.Chart(long).mark_rect(stroke="#fff").encode(
        x=alt.X("feature:N", title=None, sort=list(typ.features.columns)),
        y=alt.Y("site:N", title=None, sort=leaf_order(typ)),
        color=alt.Color("present:O", title="Runs / serves", scale=alt.Scale(range=["#f0f0f0", "#08519c"])),
        tooltip=["site", "feature", "present", "cluster"])
    common = typ.features.mean().sort_values(ascending=False)
    alt_text = (f"Heat map of {typ.features.shape[1]} scheme types and target groups (columns) for "
                f"{len(typ.features)} sites (rows, in dendrogram order); the commonest are "
                + ", ".join(f"{c} ({100 * v:.0f}% of sites)" for c, v in common.head(3).items()) + ".")
    return Figure.from_chart("typology-heatmap", "Typology of sites: schemes by site", alt_text, chart, long)
