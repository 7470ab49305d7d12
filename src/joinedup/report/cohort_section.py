"""The report's cohort section: the plan's MDE, the risk sets, the trajectory chart, balance and effects.

Built from the tables as written (after disclosure control), so the report shows what the tables say.

Example:
    >>> section = cohort_section(written, rule=["age >= 65"])                   # doctest: +SKIP
"""

from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd

from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, table_html
from joinedup.report.section_findings import cohort_finding_html

TITLES = {"emergency_admissions": "Emergency admissions", "bed_days": "Emergency bed days",
          "ae_attendances": "A&E attendances", "died": "Died in follow-up", "cost": "Cost of emergency spells (£)"}


def trajectory_figure(traj: pd.DataFrame) -> Figure:
    """Monthly emergency admissions per 1,000 before and after the index month, enrolled and matched controls."""
    data = traj[["relative_month", "group", "rate_per_1000"]].dropna()
    chart = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("relative_month:Q", title="Months from enrolment (0 = enrolment month)"),
        y=alt.Y("rate_per_1000:Q", title="Emergency admissions per 1,000 a month"),
        color=alt.Color("group:N", title=None))
    rule = alt.Chart(pd.DataFrame({"x": [0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    pre = data[data["relative_month"] < 0].groupby("group")["rate_per_1000"].max()
    alt_text = ("Line chart of monthly emergency admissions per 1,000 people by month from enrolment. Before "
                "enrolment the enrolled and their matched controls follow the same path, peaking at "
                + ", ".join(f"{v:,.0f} ({g})" for g, v in pre.items())
                + "; afterwards both fall back: the fall shared by both is regression to the mean, the gap "
                  "between them is the scheme's effect.")
    return Figure.from_chart("cohort-trajectory", "Admissions before and after enrolment", alt_text,
                             chart + rule, data)


def _num(v, digits=3) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:,.{digits}f}"


def _plan_text(plan: pd.Series) -> str:
    n = plan["enrolled"]
    shown = "suppressed" if pd.isna(n) else f"{int(n):,}"
    return (f"<p><strong>Power first.</strong> With {shown} matched enrolled people, "
            f"{plan['controls_per_enrolled']:.2f} controls each, a baseline of {plan['baseline']:.3f} emergency "
            f"admissions a person in the {int(plan['followup_months'])} months before enrolment, an SD of "
            f"{plan['sd']:.3f} and a correlation of {plan['rho']:.2f} between consecutive periods, the smallest "
            f"effect this design detects with {100 * plan['power']:.0f}% power at the two-sided "
            f"{100 * plan['alpha']:.0f}% level is {plan['mde_absolute']:.3f} admissions a person "
            f"({100 * plan['mde_relative']:.1f}% of the baseline). It was computed from history before the "
            "enrolment dates only, before any outcome was read.</p>")


def cohort_section(tables: dict[str, pd.DataFrame], rule: list[str], truth: dict | None = None,
                   notes=(), figures=()) -> ReportSection:
    """Build the section from the written cohort tables (see :func:`joinedup.cohort.evaluate.write_cohort_tables`);
    ``notes`` and ``figures`` of the costs, QALYs and CEA (:mod:`joinedup.cohort.economics`)."""
    plan = tables["cohort_plan"].iloc[0]
    est = tables["cohort_estimates"]
    pooled = est[est["group"] == "pooled"]
    parts = [
        "<p>People enrolled in the scheme against controls chosen by risk-set (sequential) matching: in each "
        "enrolment month, people who met the same eligibility rule that month and had not been enrolled by then, "
        "matched on their monthly admissions before it, risk score, age, sex, deprivation and long-term "
        "conditions. Eligibility rule: " + html.escape("; ".join(rule)) + ".</p>",
        cohort_finding_html(est),  # one sentence from the pooled estimates, as the other sections have
        _plan_text(plan),
    ]
    naive = tables["cohort_naive"]
    did = pooled[(pooled["outcome"] == "emergency_admissions") & (pooled["design"] == "matched DiD")]
    nv = naive[naive["outcome"] == "emergency_admissions"]
    if len(did) and len(nv):
        d, n = did.iloc[0], nv.iloc[0]
        parts.append(f"<p>The enrolled's emergency admissions went from {n['before']:.2f} to {n['after']:.2f} a person "
                     f"({100 * n['relative_change']:.0f}%) — the naive before/after. Matched controls, picked the same "
                     f"way, fell too; the matched difference in differences is {d['estimate']:.3f} "
                     f"({d['ci_low']:.3f} to {d['ci_high']:.3f}; bootstrap {d['boot_low']:.3f} to "
                     f"{d['boot_high']:.3f}).</p>")
    if truth:
        parts.append(f"<p>Simulated data: the programmed effect was a {100 * truth['relative_change']:.0f}% change in "
                     f"the enrolled's emergency admissions ({html.escape(truth['trigger'])}-triggered enrolment).</p>")
    shown = est.assign(outcome=est["outcome"].map(TITLES).fillna(est["outcome"]),
                       interval=[f"{_num(a)} to {_num(b)}" for a, b in zip(est["ci_low"], est["ci_high"])],
                       bootstrap=[f"{_num(a)} to {_num(b)}" if np.isfinite(a) else "" for a, b in
                                  zip(est["boot_low"], est["boot_high"])])
    parts.append(table_html(shown[["group", "outcome", "design", "estimate", "se", "interval", "bootstrap", "enrolled",
                                   "controls"]],
                            "Effects per person over follow-up (SEs clustered by person), pooled and per site"))
    parts.append(table_html(tables["cohort_balance"], "Balance after matching, month by month of prior admissions "
                                                      "(standardised by the SD of the enrolled)"))
    parts.append(table_html(tables["cohort_risk_sets"], "Risk sets: enrolled, eligible candidates and matched, by month"))
    parts += _economics_parts(tables, notes)
    return ReportSection("cohort", "Person-level evaluation of the scheme (risk-set matching)", "\n".join(parts),
                         (trajectory_figure(tables["cohort_trajectory"]), *figures))


def _economics_parts(tables: dict[str, pd.DataFrame], notes) -> list[str]:
    """Costs, QALYs and the cost-effectiveness of the scheme, from the written tables."""
    parts = ["<h3>Costs, QALYs and cost-effectiveness</h3>"]
    parts += [f"<p>{html.escape(n)}</p>" for n in notes]
    if "cohort_costs" in tables:
        costs = tables["cohort_costs"]
        year = int(costs["price_year"].iloc[0])
        parts.append(table_html(costs[["outcome", "design", "estimate", "se", "ci_low", "ci_high", "enrolled"]],
                                f"Incremental cost per person over follow-up (£, {year}/{str(year + 1)[2:]} prices): "
                                "matched DiD by component, the scheme's own cost, and a two-part model of the total"))
    if "cohort_cea" in tables:
        at = tables["cohort_cea"]
        first = at.iloc[0]
        inc = tables["cohort_increments"]
        parts.append(f"<p>Incremental cost £{first['inc_cost']:,.0f} and incremental QALYs {first['inc_effect']:.4f} "
                     f"per person: {html.escape(str(first['statement']))}. "
                     + " ".join(f"At £{r.wtp:,.0f} per QALY the probability that the scheme is cost-effective is "
                                f"{r.ceac:.2f} (EVPI £{r.evpi:,.2f} per person)." for r in at.itertuples()) + "</p>")
        parts.append(table_html(inc, "Increments with bootstrap intervals (costs: matched sets; QALYs: people)"))
        parts.append(table_html(at[["comparison", "wtp", "inc_cost", "inc_effect", "icer", "position", "ceac", "evpi"]],
                                "Cost-effectiveness at each willingness-to-pay threshold"))
        parts.append(table_html(tables["cohort_qalys"], "QALYs of the matched people with complete EQ-5D, by arm"))
    return parts
