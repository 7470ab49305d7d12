"""The report's economics section: cohort and risk model, balance after matching, the naive
before/after beside the matched estimates, the cost-effectiveness summary with the CE plane and
CEAC, and the sensitivity analyses.

Example:
    >>> section = economics_section(result, spec)                               # doctest: +SKIP
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from joinedup.report.html import ReportSection, table_html

MEASURE_TITLES = {"emergency_admissions": "Emergency admissions", "bed_days": "Emergency bed days",
                  "ae_attendances": "A&E attendances", "social_care_days": "Days of social care",
                  "total_cost": "Cost of care (£)", "died": "Died in follow-up"}


def _num(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    return f"{value:,.{digits}f}"


def _estimates_table(est: pd.DataFrame) -> str:
    ratio = est["ratio"] if "ratio" in est.columns else pd.Series(np.nan, index=est.index)
    shown = pd.DataFrame({
        "Measure": est["measure"].map(MEASURE_TITLES).fillna(est["measure"]),
        "Design": est["design"], "Model": est["model"],
        "Estimate": est["estimate"].map(_num),
        "95% interval": [f"{_num(lo)} to {_num(hi)}" for lo, hi in zip(est["ci_low"], est["ci_high"])],
        "Rate ratio": [f"{_num(r)} ({_num(lo)} to {_num(hi)})" if np.isfinite(r) else ""
                       for r, lo, hi in zip(ratio, est.get("ratio_low", ratio), est.get("ratio_high", ratio))],
    })
    if est["programmed"].notna().any():
        shown["Programmed (log ratio)"] = est["programmed"].map(_num)
        shown["Inside the interval"] = est["covers_programmed"].map(
            lambda v: "" if v is None or pd.isna(v) else ("yes" if v else "no"))
    return table_html(shown, "Naive before/after of the enrolled, and matched estimates of the MDT's effect "
                             "(12 months after against 12 months before the index date)")


def _naive_vs_matched(est: pd.DataFrame) -> str:
    """One sentence on how far the naive estimate is from the matched one (regression to the mean)."""
    def first(design, model_prefix):
        rows = est[(est["measure"] == "emergency_admissions") & (est["design"] == design)
                   & est["model"].str.startswith(model_prefix)]
        return rows.iloc[0] if len(rows) else None
    naive, did = first("naive before/after (matched enrolled)", "paired"), first("matched DiD", "matched DiD (linear)")
    if naive is None or did is None:
        return ""
    return (f"<p>Emergency admissions of the enrolled fell by {-naive['estimate']:.2f} per person in the year "
            f"after enrolment (from {naive['mean_before']:.2f} to {naive['mean_after']:.2f}); matched controls "
            f"chosen the same way fell too, and the difference in differences is {did['estimate']:.2f} "
            f"({did['ci_low']:.2f} to {did['ci_high']:.2f}). The naive before/after mostly measures "
            "regression to the mean: people picked for a high recent count fall back whatever is done.</p>")


def _cea_text(result, spec) -> str:
    if "economics_cea" not in result.tables:
        return ""
    cea = result.tables["economics_cea"]
    inc = result.tables["economics_increments"]
    row = cea[cea["wtp"] == spec.wtp].iloc[0]
    return (f"<p>Incremental cost {_num(inc.iloc[0]['estimate'], 0)} £ ({_num(inc.iloc[0]['lower'], 0)} to "
            f"{_num(inc.iloc[0]['upper'], 0)}); incremental QALYs {_num(inc.iloc[1]['estimate'], 4)} "
            f"({_num(inc.iloc[1]['lower'], 4)} to {_num(inc.iloc[1]['upper'], 4)}), {inc.iloc[0]['method']} "
            f"bootstrap intervals. {html.escape(str(row['statement']))}; probability cost-effective at "
            f"£{spec.wtp:,.0f} per QALY {100 * row['ceac']:.1f}%, EVPI £{row['evpi']:,.0f} per person. "
            "Costs come from the matched cohort and QALYs from the EQ-5D samples, so their bootstrap "
            "replicates are independent: the plane assumes no correlation between them.</p>")


def economics_section(result, spec) -> ReportSection:
    """Build the section from :func:`joinedup.economics.evaluate.run_economics`'s result."""
    t = result.tables
    risk = t["economics_risk"].iloc[0]
    sizes = t["economics_sample_sizes"]
    parts = [
        f"<p>Patients aged {spec.min_age}+ enrolled in community MDT case management (index date: "
        f"enrolment) against controls in practices without an MDT (pseudo-index dates drawn from the "
        f"enrolment dates, seed {spec.seed}), {spec.ratio}:1 nearest-neighbour matching "
        f"{'with' if spec.replace else 'without'} replacement on the propensity score "
        f"(caliper {spec.caliper} SD of its logit), exactly within {', '.join(spec.exact) or 'nothing'}"
        f"{', nearest by Mahalanobis distance on ' + ', '.join(spec.mahvars) if spec.mahvars else ''}.</p>",
        f"<p>Risk model of any emergency admission in 12 months (from {risk['reference_date']}): C statistic "
        f"{risk['auc']:.3f}, calibration slope {risk['calibration_slope']:.2f}.</p>",
    ]
    parts += [f"<p>{html.escape(note)}</p>" for note in result.notes]
    parts.append(table_html(sizes, "Patients matched, unmatched and discarded"))
    from joinedup.report.section_findings import mdt_finding_html

    parts.append(mdt_finding_html(t["economics_estimates"]))
    parts.append(_naive_vs_matched(t["economics_estimates"]))
    parts.append(_estimates_table(t["economics_estimates"]))
    bal = t["economics_balance"]
    parts.append(table_html(bal[["variable", "sample", "mean_treated", "mean_control", "smd", "var_ratio"]],
                            "Balance before and after matching (SMD denominator: SD of the enrolled)"))
    parts.append(_cea_text(result, spec))
    for name, caption in (("economics_cea", "Cost-effectiveness of MDT case management against usual care"),
                          ("economics_scenarios", "Scenario analyses"),
                          ("economics_one_way", "One-way sensitivity analyses (incremental net monetary benefit)")):
        if name in t:
            frame = t[name]
            if name == "economics_one_way":
                frame = frame[["parameter", "base", "low", "high", "inmb_low", "inmb_high", "swing"]]
            if name == "economics_cea":
                frame = frame[["comparison", "wtp", "inc_cost", "inc_effect", "statement", "ceac", "inmb_20000",
                               "inmb_30000", "evpi"]]
            parts.append(table_html(frame, caption))
    return ReportSection("economics", "Cost-effectiveness of community multi-disciplinary teams",
                         "\n".join(p for p in parts if p), tuple(result.figures))
