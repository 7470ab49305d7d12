"""Altair charts of the key-informant tables and an HTML fragment for a report section.

Example:
    >>> # html = report_section(analyse("invitations.csv", "responses.csv"))
"""

from __future__ import annotations

import altair as alt
import pandas as pd


def response_rates_chart(rates: pd.DataFrame) -> alt.Chart:
    """RR1 and RR2 (per cent) by wave, as grouped bars.

    Example:
        >>> # response_rates_chart(tables["response_rates"]).save("rates.html")
    """
    long = rates.melt(id_vars="wave", value_vars=["rr1", "rr2"], var_name="rate", value_name="percent")
    return alt.Chart(long).mark_bar().encode(
        x=alt.X("wave:O", title="Wave"), xOffset="rate:N",
        y=alt.Y("percent:Q", title="Response rate (%)", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("rate:N", title="AAPOR rate"), tooltip=["wave", "rate", "percent"],
    ).properties(title="Response rates by wave", width=260, height=200)


def progress_chart(progress: pd.DataFrame, wave: int | None = None) -> alt.Chart:
    """Per cent reporting substantial or some progress, by item and group, for one wave (the latest
    by default).

    Example:
        >>> # progress_chart(tables["progress"], wave=2)
    """
    wave = int(progress["wave"].max()) if wave is None else wave
    frame = progress[progress["wave"] == wave]
    return alt.Chart(frame).mark_bar().encode(
        y=alt.Y("item:N", title=None, sort=list(dict.fromkeys(frame["item"]))),
        x=alt.X("pct_substantial_or_some:Q", title="Substantial or some progress (%)",
                scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("group:N"), yOffset="group:N",
        tooltip=["group", "item", "n", "pct_substantial_or_some"],
    ).properties(title=f"Progress reported, wave {wave}", width=320)


def barrier_rank_chart(barriers: pd.DataFrame) -> alt.Chart:
    """Rank of each barrier (1 = most often significant) across waves, as a bump chart.

    Example:
        >>> # barrier_rank_chart(tables["barriers"])
    """
    return alt.Chart(barriers.dropna(subset=["rank"]).astype({"rank": int})).mark_line(point=True).encode(
        x=alt.X("wave:O", title="Wave"), y=alt.Y("rank:Q", scale=alt.Scale(reverse=True), title="Rank"),
        color=alt.Color("item:N", title="Barrier"), tooltip=["wave", "item", "pct_significant", "rank"],
    ).properties(title="Barrier ranks across waves", width=260, height=240)


def survey_section(tables: dict[str, pd.DataFrame], title: str = "Key-informant survey", simulated: bool = False):
    """A report section (offline SVG charts with text alternatives and their data, and the main tables).
    ``simulated``: a simulated stand-in panel; every chart title and table caption then says so.

    Example:
        >>> # section = survey_section(analyse("invitations.csv", "responses.csv"))
    """
    from joinedup.report.charts import Figure
    from joinedup.report.html import ReportSection, table_html

    from joinedup.report.labels import label

    sim = "Simulated (not real responses): " if simulated else ""
    rates, progress, barriers = tables["response_rates"], tables["progress"], tables["barriers"]
    # readers see the instrument's labels, not question names (axes and legends included)
    progress = progress.assign(item=progress["item"].map(label))
    barriers = barriers.assign(item=barriers["item"].map(label))
    latest = int(progress["wave"].max())
    top = barriers[(barriers["wave"] == barriers["wave"].max()) & (barriers["rank"] == 1)]["item"].tolist()
    figures = (
        Figure.from_chart("ki-response-rates", sim + "Response rates by wave",
                          "Bars of AAPOR RR1 and RR2 by wave: " + "; ".join(
                              f"wave {r.wave} RR1 {r.rr1}% RR2 {r.rr2}%" for r in rates.itertuples()) + ".",
                          response_rates_chart(rates), rates),
        Figure.from_chart("ki-progress", sim + f"Progress reported, wave {latest}",
                          f"Bars of the share of respondents reporting substantial or some progress on each "
                          f"outcome in wave {latest}, by group; the table below has the numbers.",
                          progress_chart(progress), progress[progress["wave"] == latest]),
        Figure.from_chart("ki-barriers", sim + "Barrier ranks across waves",
                          "Lines of each barrier's rank by wave (1 = most often significant); in the latest "
                          f"wave the top barrier was {', '.join(top) or 'none'}.", barrier_rank_chart(barriers),
                          barriers),
    )
    parts = [table_html(tables[name], sim + name.replace("_", " ").capitalize())
             for name in ("response_rates", "respondents_by_org", "panel_participation", "barriers",
                          "helpfulness") if name in tables]
    return ReportSection("survey", title, "\n".join(parts), figures)


def report_section(tables: dict[str, pd.DataFrame], title: str = "Key-informant survey") -> str:
    """A whole self-contained HTML page (no network needed) of :func:`survey_section`.

    Example:
        >>> # Path("ki.html").write_text(report_section(analyse(inv, resp)))
    """
    from joinedup.report import render_report

    return render_report(title, [survey_section(tables, title)], {"Source": "joinedup survey analyse"})
