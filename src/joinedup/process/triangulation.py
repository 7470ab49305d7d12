"""Triangulation: a site's self-reported progress against its own routine indicators and impact estimate.

The evaluation could only say that sites' reported progress on unplanned admissions, readmissions
and costs "cannot be objectively verified". Here it is tested. Per site and measure:

* ``reported_share``: share of the site's key informants reporting substantial or some progress
  (KI items ``prog_unplanned``, ``prog_readmissions``, ``prog_costs``; "don't know", "too early"
  and blanks left out);
* ``routine_change``: the site's own change in the routine indicator (e.g. percentage change from
  baseline; negative = fewer admissions / lower cost, i.e. improvement);
* ``impact_estimate`` with its interval (optional): the site's impact estimate on that outcome.

``agree_routine`` is whether "reported progress" (share >= 0.5) matches "routine improvement"
(change < 0); ``agree_impact`` whether it matches an impact interval wholly below 0. Per measure,
:func:`triangulation_summary` gives the agreement rate and Spearman's rank correlation between the
reported share and the routine change with its p-value (a negative correlation = self-reports
track the data).

Example:
    >>> import pandas as pd
    >>> ki = pd.DataFrame({"pioneer": ["A", "A", "B"], "prog_unplanned": ["some", "none", "substantial"]})
    >>> reported_progress(ki, ["prog_unplanned"])["reported_share"].tolist()
    [0.5, 1.0]
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from joinedup.report.charts import Figure

MEASURES = {"prog_unplanned": "emergency_admissions", "prog_readmissions": "readmissions", "prog_costs": "costs"}
POSITIVE = ("substantial", "some")
UNKNOWN = ("dont_know", "too_early")


def reported_progress(answers: pd.DataFrame, items=tuple(MEASURES)) -> pd.DataFrame:
    """``site, measure, reported_share, informants`` from respondent rows (column ``pioneer`` = site)."""
    rows = []
    for item in items:
        a = answers[["pioneer", item]].dropna()
        a = a[~a[item].isin(UNKNOWN) & (a[item] != "")]
        g = a.groupby("pioneer")[item]
        part = pd.DataFrame({"reported_share": g.apply(lambda s: float(s.isin(POSITIVE).mean())),
                             "informants": g.size()}).reset_index().rename(columns={"pioneer": "site"})
        rows.append(part.assign(measure=MEASURES.get(item, item)))
    return pd.concat(rows, ignore_index=True)[["site", "measure", "reported_share", "informants"]]


def triangulate(reported: pd.DataFrame, routine: pd.DataFrame, impact: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per site and measure: reported share, routine change, impact estimate, agreement flags.

    ``routine``: ``site, measure, routine_change``; ``impact``: ``site, measure, impact_estimate,
    ci_low, ci_high``. Sites missing from one side are kept with blanks (nothing dropped silently).
    """
    for frame, cols, what in ((routine, ("site", "measure", "routine_change"), "routine"),
                              (impact, ("site", "measure", "impact_estimate", "ci_low", "ci_high"), "impact")):
        if frame is not None and (missing := [c for c in cols if c not in frame.columns]):
            raise ValueError(f"{what} table is missing column(s) {', '.join(missing)}")
    out = reported.merge(routine, on=["site", "measure"], how="outer")
    if impact is not None:
        out = out.merge(impact, on=["site", "measure"], how="left")
    says = out["reported_share"] >= 0.5
    out["agree_routine"] = np.where(out[["reported_share", "routine_change"]].notna().all(axis=1),
                                    says == (out["routine_change"] < 0), np.nan)
    if impact is not None:
        out["agree_impact"] = np.where(out[["reported_share", "ci_high"]].notna().all(axis=1),
                                       says == (out["ci_high"] < 0), np.nan)
    return out.sort_values(["measure", "site"]).reset_index(drop=True)


def triangulation_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per measure: sites, agreement rate, Spearman rho of reported share vs routine change and its p."""
    rows = []
    for measure, d in table.groupby("measure"):
        d = d.dropna(subset=["reported_share", "routine_change"])
        rho, p = stats.spearmanr(d["reported_share"], d["routine_change"]) if len(d) >= 3 else (np.nan, np.nan)
        rows.append({"measure": measure, "sites": len(d), "agreement": float(d["agree_routine"].mean()),
                     "spearman_rho": float(rho), "p_value": float(p),
                     "test": "Spearman rank correlation across sites (two-sided)"})
    return pd.DataFrame(rows)


def triangulation_figure(table: pd.DataFrame) -> Figure:
    """Scatter of each site's reported share against its routine change, one panel per measure."""
    d = table.dropna(subset=["reported_share", "routine_change"])
    chart = alt.Chart(d).mark_circle(size=60).encode(
        x=alt.X("routine_change:Q", title="Change in routine indicator (negative = improvement)"),
        y=alt.Y("reported_share:Q", title="Informants reporting progress", axis=alt.Axis(format="%")),
        tooltip=["site", "measure", alt.Tooltip("reported_share:Q", format=".0%"), "routine_change"]
    ).properties(width=200, height=200).facet(column=alt.Column("measure:N", title=None))
    s = triangulation_summary(table)
    alt_text = "Self-reported progress against routine data by site: " + "; ".join(
        f"{r.measure}: {r.sites} sites, agreement {r.agreement:.0%}, Spearman rho {r.spearman_rho:.2f}"
        for r in s.itertuples()) + "."
    return Figure.from_chart("process-triangulation", "Reported progress against routine data", alt_text, chart, d,
                             width=None)
