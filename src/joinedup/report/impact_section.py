"""The report's impact section: estimates of every design side by side (with the programmed effect
where the data are simulated), the synthetic control of each site with its placebo rank, balance of
the comparison areas, event-study, gap and placebo plots.

Example:
    >>> section = impact_section(result, spec)                                  # doctest: +SKIP
"""

from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, table_html


def _num(value, digits: int = 3) -> str:
    return "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.{digits}f}"


def _estimates_table(est: pd.DataFrame, scale: str) -> str:
    shown = pd.DataFrame({
        "Design": est["design"], "Estimator": est["estimator"], "Estimand": est["estimand"],
        "Estimate": est["estimate"].map(_num),
        "95% interval": [f"{_num(lo)} to {_num(hi)}" for lo, hi in zip(est["ci_low"], est["ci_high"])],
        "p": est["p_value"].map(lambda p: _num(p, 4)),
        "% change": [f"{_num(p, 1)} ({_num(lo, 1)} to {_num(hi, 1)})"
                     for p, lo, hi in zip(est["pct_change"], est["pct_low"], est["pct_high"])],
        "Areas (treated / comparison)": [f"{t} / {c}" for t, c in zip(est["n_treated_areas"],
                                                                    est["n_comparison_areas"])],
    })
    if est["programmed"].notna().any():
        shown["Programmed effect"] = est["programmed"].map(_num)
        shown["Inside the interval"] = est["covers_programmed"].map(
            lambda v: "" if v is None or pd.isna(v) else ("yes" if v else "no"))
    return table_html(shown, f"Estimated effect of the programme on the outcome ({scale} scale)")


def _sites_table(sites: pd.DataFrame, name: str = "Pioneer") -> str:
    shown = pd.DataFrame({
        "Site": sites["site"], "Wave": sites["wave"], "Effect": sites["att"].map(_num),
        "% change": sites["pct_change"].map(lambda v: _num(v, 1)),
        "Pre-period RMSPE": sites["pre_rmspe"].map(_num),
        "Post/pre MSPE ratio": sites["post_pre_mspe_ratio"].map(lambda v: _num(v, 2)),
        "Rank among placebos": [f"{r} of {n + 1}" for r, n in zip(sites["rank"], sites["n_placebos"])],
        "Permutation p": sites["p_value"].map(lambda v: _num(v, 3)),
    })
    if sites["programmed"].notna().any():
        shown["Programmed effect"] = sites["programmed"].map(_num)
    return table_html(shown, f"Synthetic control for each {name} site, with placebo-in-space inference")


def _gap_figure(gaps: pd.DataFrame, outcome_title: str, name: str = "Pioneer") -> Figure:
    data = gaps[["site", "time", "gap", "post"]].copy()
    chart = alt.Chart(data).mark_line().encode(
        x=alt.X("time:Q", title="Period"), y=alt.Y("gap:Q", title="Site minus synthetic"),
        color=alt.Color("post:N", title="After the start"),
    ).properties(width=150, height=90).facet(facet=alt.Facet("site:N", title=None), columns=4)
    post = data[data["post"]]
    means = post.groupby("site")["gap"].mean()
    alt_text = (f"Gap between each {name} site's {outcome_title.lower()} and its synthetic control, by "
                f"period, {len(means)} sites. Mean gap after the start ranges from {means.min():.3f} "
                f"({means.idxmin()}) to {means.max():.3f} ({means.idxmax()}).")
    return Figure.from_chart("impact-synth-gaps", f"Synthetic control gaps by {name} site", alt_text,
                             chart, data, width=None, height=None)


def impact_section(result, spec) -> ReportSection:
    """Build the section from :func:`joinedup.impact.evaluate.run_impact`'s result."""
    title = CATALOGUE[spec.outcome].title
    est = result.tables["impact_estimates"]
    prog = getattr(result, "programme", None)
    name = "Pioneer" if prog is None or prog.key == "pioneer" else prog.name
    unit = "area" if prog is None else prog.unit_word
    excluded = ("Vanguard" if prog is None or prog.key == "pioneer" else
                " and ".join(prog.exclude_names.get(e, e) for e in prog.exclude))
    excluded = excluded if (prog.exclude if prog is not None else spec.exclude_vanguards) else ""
    parts = [
        f"<p>Outcome: <strong>{html.escape(title)}</strong> by {spec.period.replace('_', ' ')}, on the "
        f"{'log-rate' if spec.scale == 'log' else 'rate'} scale (effects also shown as percentage change). "
        f"Treated: {html.escape(name)} {unit}s from the period containing their start date. Comparison: "
        f"{unit}s in neither programme{f' ({html.escape(excluded)} {unit}s excluded)' if excluded else ''}"
        f"{f', {spec.matched_controls} matched to each {html.escape(name)} {unit}' if spec.matched_controls else ''}. "
        f"Bootstrap and placebo draws are seeded ({spec.seed}).</p>",
    ]
    parts += [f"<p>{html.escape(note)}</p>" for note in result.notes]
    from joinedup.report.section_findings import impact_findings_html

    parts.append(impact_findings_html(est, spec.outcome))
    parts.append(_estimates_table(est, spec.scale))
    if "impact_synth_sites" in result.tables:
        parts.append(_sites_table(result.tables["impact_synth_sites"], name))
    balance = result.tables["impact_balance"]
    parts.append(table_html(balance, f"Balance of {name} and comparison {unit}s at baseline"))
    figures = list(result.figures)
    if "impact_synth_gaps" in result.tables:
        figures.append(_gap_figure(result.tables["impact_synth_gaps"], title, name))
    return ReportSection("impact", f"Impact: {name} {unit}s against comparison {unit}s", "\n".join(parts),
                         tuple(figures))
