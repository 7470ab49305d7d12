"""The report's data overview: population and admissions over time by Pioneer wave.

Example:
    >>> section = overview_section(tables)          # doctest: +SKIP  (tables after disclosure control)
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from joinedup.data.codes import AGE_BANDS
from joinedup.overview import GROUPS
from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, table_html


def overview_section(tables: dict[str, pd.DataFrame], location: str) -> ReportSection:
    """Build the section from the controlled overview tables."""
    figures = (
        _pyramid(tables["population_pyramid"]),
        _population(tables["population_by_year"]),
        _emergency(tables["emergency_by_month"]),
        _methods(tables["admissions_by_method"]),
    )
    rows = tables["table_rows"]
    groups = tables["area_groups"].groupby("group").size().reindex(list(GROUPS), fill_value=0)
    body = (
        f"<p>Data: <code>{location}</code>. Every table passed validation against the canonical schema. "
        "Counts below national level are shown after disclosure control (1–7 suppressed, others rounded "
        "to the nearest 5); rates are computed from unrounded counts.</p>"
        + "<p>Areas by programme group: "
        + "; ".join(f"{g}: {n}" for g, n in groups.items())
        + ".</p>"
        + table_html(rows, "Rows per canonical table")
    )
    return ReportSection("overview", "Data overview", body, figures)


def _pyramid(frame: pd.DataFrame) -> Figure:
    year = int(frame["year"].min()) + 3 if frame["year"].nunique() > 3 else int(frame["year"].min())
    data = frame[frame["year"] == year].copy()
    data["signed"] = data["persons"].where(data["sex"] == "M", -data["persons"])
    data["sex_label"] = data["sex"].map({"F": "Female", "M": "Male"}).fillna(data["sex"])  # words, not codes
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("age_band:N", sort=list(reversed(AGE_BANDS)), title="Age band"),
        x=alt.X("signed:Q", title="Persons (females left, males right)", axis=alt.Axis(labelExpr="format(abs(datum.value), '~s')")),
        color=alt.Color("sex_label:N", title="Sex", sort=["Female", "Male"]),
        tooltip=["sex_label", "age_band", "persons"],
    )
    oldest = data.loc[data["age_band"].isin(AGE_BANDS[13:]), "persons"].sum() / data["persons"].sum()
    alt_text = (f"Population pyramid for {year}: {int(data['persons'].sum()):,} residents, "
                f"{oldest:.1%} aged 65 and over.")
    return Figure.from_chart("population-pyramid", f"Population by age and sex, {year}", alt_text, chart,
                             data[["year", "sex", "age_band", "persons"]], height=320)


def _population(frame: pd.DataFrame) -> Figure:
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("year:O", title="Year (mid-year estimate)", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("persons:Q", title="Residents", axis=alt.Axis(format="~s")),
        color=alt.Color("group:N", title="Programme group", sort=list(GROUPS)),
    )
    first, last = frame["year"].min(), frame["year"].max()
    totals = frame.groupby("year")["persons"].sum()
    alt_text = (f"Residents by programme group, {first}–{last}; in all, {totals.loc[first]:,.0f} in {first} "
                f"and {totals.loc[last]:,.0f} in {last}.")
    return Figure.from_chart("population-by-group", "Residents by programme group", alt_text, chart, frame)


def _emergency(frame: pd.DataFrame) -> Figure:
    data = frame.copy()
    data["month"] = pd.to_datetime(data["month"])
    chart = alt.Chart(data).mark_line().encode(
        x=alt.X("month:T", title="Month of admission",
                axis=alt.Axis(format="%b %Y", labelAngle=0, tickCount={"interval": "month", "step": 6})),
        y=alt.Y("rate_per_1000:Q", title="Per 1,000 residents", scale=alt.Scale(zero=False)),
        color=alt.Color("group:N", title="Programme group", sort=list(GROUPS)),
    )
    year_rates = data.assign(year=data["month"].dt.year).groupby(["group", "year"])["rate_per_1000"].mean()
    parts = []
    for group in GROUPS:
        if group in year_rates.index.get_level_values(0):
            series = year_rates.loc[group]
            parts.append(f"{group} {series.iloc[0]:.2f} in {series.index[0]} to {series.iloc[-1]:.2f} in {series.index[-1]}")
    alt_text = "Monthly emergency admissions per 1,000 residents: " + "; ".join(parts) + "."
    table = frame.assign(month=pd.to_datetime(frame["month"]).dt.strftime("%Y-%m"))
    return Figure.from_chart("emergency-by-month", "Emergency admissions per 1,000 residents per month, by Pioneer wave",
                             alt_text, chart, table)


def _methods(frame: pd.DataFrame) -> Figure:
    chart = alt.Chart(frame.assign(method_label=frame["admission_method"].str.capitalize())).mark_bar().encode(
        x=alt.X("year:O", title="Year of admission", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("admissions:Q", title="Admissions", axis=alt.Axis(format="~s")),
        color=alt.Color("method_label:N", title="Admission method"),
    )
    by_year = frame.groupby("year")["admissions"].sum()
    alt_text = (f"Hospital admissions by method and year: {by_year.iloc[0]:,.0f} in {by_year.index[0]}, "
                f"{by_year.iloc[-1]:,.0f} in {by_year.index[-1]}.")
    return Figure.from_chart("admissions-by-method", "Hospital admissions by method and year", alt_text, chart,
                             frame)
