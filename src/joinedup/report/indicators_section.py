"""The report's indicator section: Pioneers against the rest of England, SPC per site with its icons,
and a funnel plot per financial year. Built from the disclosure-controlled tables only.

Example:
    >>> section = indicators_section(indicator_table, funnel_table, "emergency_admissions")  # doctest: +SKIP
"""

from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.indicators.spc import xmr_by
from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, table_html

ICON_WORDS = {
    "common_cause": "common cause variation",
    "special_cause_improvement_high": "improvement (high)",
    "special_cause_improvement_low": "improvement (low)",
    "special_cause_concern_high": "concern (high)",
    "special_cause_concern_low": "concern (low)",
    "special_cause_neutral_high": "special cause (high)",
    "special_cause_neutral_low": "special cause (low)",
}


def _spc_period(table: pd.DataFrame) -> str:
    periods = set(table["period"].unique())
    return "month" if "month" in periods else ("quarter" if "quarter" in periods else "financial_year")


def _trend_period(table: pd.DataFrame) -> str:
    periods = set(table["period"].unique())
    return "quarter" if "quarter" in periods else min(periods)


def site_icons(table: pd.DataFrame) -> pd.DataFrame:
    """SPC variation icon of every indicator at every Pioneer site (improvement direction from the
    catalogue), from the finest period computed."""
    period = _spc_period(table)
    sites = table[(table["level"] == "pioneer_site") & (table["period"] == period) & table["value"].notna()]
    sites = sites[sites.groupby(["indicator", "unit_name"])["value"].transform("size") >= 2]
    rows = []
    for iid, frame in sites.groupby("indicator", sort=True):
        direction = "decrease" if CATALOGUE[iid].lower_is_better else "increase"
        result = xmr_by(frame.sort_values("period_start"), "value", "period_start", "unit_name",
                        improvement_direction=direction)
        icons = result.icons.rename(columns={"unit_name": "site"})
        icons["indicator"] = iid
        rows.append(icons[["site", "indicator", "variation_icon"]])
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["site", "indicator", "variation_icon"])


def start_dates(programmes: pd.DataFrame | None) -> pd.DataFrame:
    """Each site's start date (``site``, ``start``) for marking the start on time series: from the
    programme's own sites (``Programme.sites``), or the Pioneers' rows of a canonical programmes table
    (one with a ``programme`` column); an empty frame when there is no table."""
    if programmes is None or programmes.empty:
        return pd.DataFrame({"site": pd.Series(dtype=object), "start": pd.Series(dtype="datetime64[ns]")})
    prog = programmes[programmes["programme"] == "pioneer"] if "programme" in programmes else programmes
    out = prog.groupby("site", as_index=False)["start_date"].min().rename(columns={"start_date": "start"})
    out["start"] = pd.to_datetime(out["start"])
    return out


def _with_starts(frame: pd.DataFrame, x: str, colour: str, colour_title: str, starts: bool) -> alt.LayerChart:
    """Lines of ``value`` by ``x``, with a dashed rule at each row's ``start`` (programme start)."""
    base = alt.Chart()
    lines = base.transform_filter(f"isValid(datum.{x})").mark_line().encode(
        x=alt.X(f"{x}:T", title=None), y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
        color=alt.Color(f"{colour}:N", title=colour_title))
    layers = [lines]
    if starts:
        layers.append(base.transform_filter("isValid(datum.start)").mark_rule(
            color="#D55E00", strokeDash=[3, 3]).encode(x="start:T"))
    return alt.layer(*layers, data=frame)


def indicators_section(table: pd.DataFrame, funnel: pd.DataFrame, headline: str,
                       programmes: pd.DataFrame | None = None) -> ReportSection:
    """Build the section from the controlled indicator and funnel tables; ``programmes`` (the
    programmes table) marks each start date on the time series."""
    starts = start_dates(programmes)
    built = {"trends": _trends(table, starts), "SPC charts": _spc_small_multiples(table, headline, starts),
             "funnel plots": _funnels(funnel, headline)}
    figures = [f for f in built.values() if f is not None]
    missing = [name for name, f in built.items() if f is None]
    from joinedup.report.spc_matrix import legend_html, spc_cells, spc_matrix_html

    cells = spc_cells(table, _spc_period(table))
    catalogue = pd.DataFrame([{"indicator": i.title, "unit": i.unit, "definition": i.source}
                              for i in CATALOGUE.values() if i.id in set(table["indicator"])])
    body = (
        "<p>Indicators of integration performance for every area, each Pioneer site, each wave, all "
        "Pioneers and the rest of England. Rates are for their period (not annualised); standardised "
        "rates use the 2013 European Standard Population; limits are 95% (99.8% in the tables). "
        "The full table is <code>tables/indicators.parquet</code> (also as CSV where the protocol says "
        "<code>[output] table_format = \"both\"</code>).</p>"
        + table_html(catalogue, "The indicator catalogue")
        + "<h3>Statistical process control at each Pioneer site</h3>"
        + f"<p>Making Data Count icons from the {_spc_period(table)}ly series of each site: variation (is the "
          "latest point special cause, improving or concerning?) and assurance (will the site consistently do "
          "better than the rest of England's latest rate, a stand-in target where the programme set none?), "
          "with a sparkline of the series. Improvement is a fall for activity measures and a rise for the "
          "share still at home, offered reablement, discharged home or at weekends.</p>"
        + legend_html() + spc_matrix_html(cells, "SPC variation and assurance by site and indicator")
        + (f"<p>Not enough data to draw: {', '.join(missing)}.</p>" if missing else "")
    )
    return ReportSection("indicators", "Indicators of integration performance", body, tuple(figures))


def _trends(table: pd.DataFrame, starts: pd.DataFrame | None = None) -> Figure | None:
    period = _trend_period(table)
    data = table[(table["level"] == "programme") & (table["period"] == period) & table["value"].notna()].copy()
    if data.empty:
        return None
    data["indicator_title"] = data["indicator"].map(lambda i: CATALOGUE[i].title)
    data["period_start"] = pd.to_datetime(data["period_start"])
    frame = data[["indicator_title", "unit_name", "period_start", "value"]].assign(start=pd.NaT)
    waves = sorted(set(starts["start"])) if starts is not None and len(starts) else []
    # facets need one data source: the start dates ride along as extra rows, one per panel and wave
    marks = pd.DataFrame([{"indicator_title": t, "start": w} for t in frame["indicator_title"].unique() for w in waves])
    chart = _with_starts(pd.concat([frame, marks], ignore_index=True) if waves else frame, "period_start",
                         "unit_name", "Areas", bool(waves))
    chart = chart.properties(width=190, height=110).facet(
        facet=alt.Facet("indicator_title:N", title=None, header=alt.Header(labelFontSize=10, labelLimit=190)),
        columns=3,
    ).resolve_scale(y="independent")
    latest = data[data["period_start"] == data["period_start"].max()]
    pairs = latest.pivot(index="indicator", columns="unit_name", values="value")
    parts = [f"{CATALOGUE[i].title}: Pioneers {r.get('All Pioneers', float('nan')):,.1f}, "
             f"rest of England {r.get('Rest of England', float('nan')):,.1f}" for i, r in pairs.iterrows()]
    alt_text = (f"Small multiples, one per indicator, {period}ly values"
                + (f"; dashed lines mark the programme starts ({', '.join(f'{w:%B %Y}' for w in waves)})" if waves else "")
                + ". Latest period: " + "; ".join(parts) + ".")
    shown = data[["indicator", "unit_name", "period_start", "numerator", "denominator", "value", "lower", "upper"]]
    shown = shown.assign(period_start=shown["period_start"].dt.strftime("%Y-%m-%d"))
    return Figure.from_chart("indicator-trends", "Pioneers and the rest of England, every indicator",
                             alt_text, chart, shown, width=None, height=None)


def _spc_small_multiples(table: pd.DataFrame, headline: str, starts: pd.DataFrame | None = None) -> Figure | None:
    period = _spc_period(table)
    data = table[(table["level"] == "pioneer_site") & (table["indicator"] == headline)
                 & (table["period"] == period) & table["value"].notna()].sort_values("period_start")
    if data.empty:
        return None
    direction = "decrease" if CATALOGUE[headline].lower_is_better else "increase"
    spc = xmr_by(data, "value", "period_start", "unit_name", improvement_direction=direction)
    points = spc.tidy().rename(columns={"unit_name": "site"})
    points["x"] = pd.to_datetime(points["x"])
    has_starts = starts is not None and len(starts) > 0
    points["start"] = points["site"].map(starts.set_index("site")["start"]) if has_starts else pd.NaT
    base = alt.Chart(points[["site", "x", "y", "mean", "lpl", "upl", "point_type", "start"]]).encode(
        x=alt.X("x:T", title=None))
    layers = (
        base.mark_line(color="#8c8c8c", strokeWidth=1).encode(y=alt.Y("y:Q", title=None, scale=alt.Scale(zero=False)))
        + base.mark_line(color="#000000", strokeDash=[4, 2]).encode(y="mean:Q")
        + base.mark_line(color="#0072B2").encode(y="lpl:Q")
        + base.mark_line(color="#0072B2").encode(y="upl:Q")
        + base.mark_point(size=12, filled=True).encode(
            y="y:Q", color=alt.Color("point_type:N", title="Point",
                                     scale=alt.Scale(domain=["common_cause", "special_cause_improvement",
                                                             "special_cause_concern", "special_cause_neutral"],
                                                     range=["#8c8c8c", "#0072B2", "#E69F00", "#CC79A7"])))
    )
    if has_starts:  # the site's programme start: one dashed rule per panel (min of one repeated date)
        layers += base.mark_rule(color="#D55E00", strokeDash=[3, 3]).encode(x=alt.X("min(start):T", title=None))
    chart = layers.properties(width=150, height=90).facet(
        facet=alt.Facet("site:N", title=None, header=alt.Header(labelFontSize=9, labelLimit=150)), columns=4,
    ).resolve_scale(y="independent")
    icons = site_icons(data.assign(period=period))
    words = "; ".join(f"{s}: {ICON_WORDS.get(i, i)}" for s, i in zip(icons["site"], icons["variation_icon"]))
    title = CATALOGUE[headline].title
    alt_text = (f"XmR charts of {title.lower()} ({CATALOGUE[headline].unit}), {period}ly, one per Pioneer site"
                f"{'; a dashed line marks the site start date' if has_starts else ''}. {words}.")
    shown = points[["site", "x", "y", "mean", "lpl", "upl", "point_type"]].assign(x=points["x"].dt.strftime("%Y-%m"))
    return Figure.from_chart("spc-sites", f"{title}: SPC chart for each Pioneer site", alt_text, chart, shown,
                             width=None, height=None)


def _funnels(funnel: pd.DataFrame, headline: str) -> Figure | None:
    data = funnel.copy()
    if data["ratio"].notna().sum() < 3:
        return None
    # The y axis spans the points, not the limits: limits for the smallest areas (a few expected
    # events) run off towards infinity and would flatten everything else.
    ratios = data["ratio"].replace([float("inf"), float("-inf")], float("nan")).dropna()
    domain = [max(0.0, min(0.5, ratios.quantile(0.01) * 0.9)), max(1.6, ratios.quantile(0.99) * 1.1)]
    y_scale = alt.Scale(domain=domain, clamp=True)
    # name the three areas furthest outside the 99.8% limits in each year (more would overlap); the
    # alt text and the data table name every one
    far = data["ratio"].where(data["outlier"]).map(lambda r: abs(np.log(r)) if r and r > 0 else np.nan)
    top = far.groupby(data["financial_year"]).rank(ascending=False, method="first") <= 3
    data["label"] = data["unit_name"].where(top & data["outlier"])
    data["outside"] = data["outlier"].map({True: "yes", False: "no"})
    base = alt.Chart(data[["financial_year", "unit_name", "expected", "ratio", "outlier", "outside", "label",
                           "od_ll95", "od_ul95", "od_ll998", "od_ul998"]]).encode(
        x=alt.X("expected:Q", title="Expected events", scale=alt.Scale(type="log"),
                axis=alt.Axis(tickCount=4, grid=False)))
    chart = (
        base.mark_line(color="#0072B2", strokeDash=[4, 2], clip=True).encode(y=alt.Y("od_ll998:Q", scale=y_scale))
        + base.mark_line(color="#0072B2", strokeDash=[4, 2], clip=True).encode(y="od_ul998:Q")
        + base.mark_line(color="#56B4E9", clip=True).encode(y="od_ll95:Q")
        + base.mark_line(color="#56B4E9", clip=True).encode(y="od_ul95:Q")
        + base.mark_point(size=14, filled=True, clip=True).encode(
            y=alt.Y("ratio:Q", title="Observed / expected", scale=y_scale),
            color=alt.Color("outside:N", title="Outside 99.8% limits",
                            scale=alt.Scale(domain=["no", "yes"], range=["#8c8c8c", "#D55E00"])),
            tooltip=["unit_name", "ratio"])
        # areas outside the 99.8% limits are named beside their point (as PHE's funnel plots label outliers)
        + base.transform_filter("isValid(datum.label)").mark_text(align="left", dx=4, fontSize=9, limit=110).encode(
            y="ratio:Q", text="label:N")
    ).properties(width=230, height=170).facet(facet=alt.Facet("financial_year:N", title=None), columns=3)
    latest = data[data["financial_year"] == data["financial_year"].max()]
    outliers = latest.loc[latest["outlier"], "unit_name"].tolist()
    title = CATALOGUE[headline].title
    alt_text = (f"Funnel plots of {title.lower()} by financial year: each area's observed over expected "
                f"events (England's age and sex rates), with overdispersed 95% and 99.8% limits. "
                f"In {latest['financial_year'].iloc[0]}, {len(outliers)} of {len(latest)} areas lie outside the 99.8% "
                f"limits{': ' + ', '.join(html.escape(o) for o in outliers) if outliers else ''}.")
    shown = data[["financial_year", "area_code", "unit_name", "observed", "expected", "ratio", "od_ll998",
                  "od_ul998", "outlier"]]
    return Figure.from_chart("funnels", f"{title}: funnel plot of areas by financial year", alt_text, chart,
                             shown, width=None, height=None)
