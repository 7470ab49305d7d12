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
    if "outcome" in est and est["outcome"].nunique() > 1:  # each row says which outcome, on what scale
        shown.insert(0, "Outcome", est["outcome"].map(lambda o: CATALOGUE[o].title if o in CATALOGUE else o))
        shown.insert(1, "Scale", est["scale"])
    if "analysis" in est:  # the protocol's primary family, adjusted; the rest exploratory
        shown["Analysis"] = est["analysis"]
        shown["p, Holm-adjusted (primary family)"] = est["p_adjusted_holm"].map(lambda p: _num(p, 4))
        shown["p, Romano-Wolf-adjusted (primary family)"] = est["p_adjusted_romano_wolf"].map(lambda p: _num(p, 4))
        if "ci_low_bonferroni" in est:
            shown["Family-wise 95% interval (Bonferroni, primary family)"] = [
                "" if pd.isna(lo) else f"{_num(lo)} to {_num(hi)}"
                for lo, hi in zip(est["ci_low_bonferroni"], est["ci_high_bonferroni"])]
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


def _outcomes_paragraph(est: pd.DataFrame) -> list[str]:
    """Which outcomes, on which scale, and which estimates form the protocol's primary family."""
    if "analysis" not in est:
        return []
    out = []
    if est["outcome"].nunique() > 1:
        scales = est.drop_duplicates("outcome")
        out.append("<p>Outcomes: " + "; ".join(
            f"{html.escape(CATALOGUE[o].title if o in CATALOGUE else o)} ({html.escape(sc)})"
            for o, sc in zip(scales["outcome"], scales["scale"])) + ". The figures below show the first.</p>")
    primary = est[est["analysis"] == "primary"]
    if len(primary):
        r = primary.iloc[0]
        rw = (" and by Romano and Wolf's step-down method on a wild cluster bootstrap resampling the outcomes "
              "together" if primary["p_adjusted_romano_wolf"].notna().any() else "")
        out.append(f"<p>Primary analysis, declared in the protocol: {html.escape(str(r['design']))}, "
                   f"{html.escape(str(r['estimator']))}, for {len(primary)} outcome(s). Its p-values are adjusted "
                   f"for multiplicity by Holm's method{rw}, and primary results are worded from the adjusted "
                   "figures. Every other estimate is exploratory: unadjusted, to be read as support for or "
                   "challenge to the primary result, not as a finding of its own.</p>")
    return out


def impact_section(result, spec) -> ReportSection:
    """Build the section from :func:`joinedup.impact.evaluate.run_impact`'s result."""
    spec = getattr(result, "spec", None) or spec  # the first outcome's, when several are listed
    title = CATALOGUE[spec.outcome].title
    est = result.tables["impact_estimates"]
    prog = getattr(result, "programme", None)
    name = "Pioneer" if prog is None or prog.key == "pioneer" else prog.name
    unit = "area" if prog is None else prog.unit_word
    excluded = ("Vanguard" if prog is None or prog.key == "pioneer" else
                " and ".join(prog.exclude_names.get(e, e) for e in prog.exclude))
    excluded = excluded if (prog.exclude if prog is not None else spec.exclude_vanguards) else ""
    adjusted = getattr(prog, "co_interventions", "exclude") == "covariate"  # docs/analysis-plan.md
    pool = "not in the programme (other programmes adjusted for)" if adjusted else "in neither programme"
    parts = [
        f"<p>Outcome: <strong>{html.escape(title)}</strong> by {spec.period.replace('_', ' ')}, on the "
        f"{'log-rate' if spec.scale == 'log' else 'rate'} scale (effects also shown as percentage change). "
        f"Treated: {html.escape(name)} {unit}s from the period containing their start date. Comparison: "
        f"{unit}s {pool}"
        f"{f' ({html.escape(excluded)} {unit}s excluded)' if excluded else ''}"
        f"{f', {spec.matched_controls} matched to each {html.escape(name)} {unit}' if spec.matched_controls else ''}. "
        f"Bootstrap and placebo draws are seeded ({spec.seed}).</p>",
    ]
    parts += _outcomes_paragraph(est)
    parts += [f"<p>{html.escape(note)}</p>" for note in result.notes]
    from joinedup.report.section_findings import impact_findings_html

    parts.append(impact_findings_html(est, spec.outcome))
    parts.append(_estimates_table(est, spec.scale))
    from joinedup.report.honest_section import honest_html  # HonestDiD robustness of the event study

    parts.append(honest_html(result.tables.get("impact_honest"), spec.outcome, spec.scale))
    if "impact_synth_sites" in result.tables:
        parts.append(_sites_table(result.tables["impact_synth_sites"], name))
    from joinedup.report.augmented_synth_tables import augmented_synth_tables
    parts += augmented_synth_tables(result.tables, spec.outcome, name)
    balance = result.tables["impact_balance"]
    parts.append(table_html(balance, f"Balance of {name} and comparison {unit}s at baseline"))
    figures = list(result.figures)
    if "impact_synth_gaps" in result.tables:
        figures.append(_gap_figure(result.tables["impact_synth_gaps"], title, name))
    return ReportSection("impact", f"Impact: {name} {unit}s against comparison {unit}s", "\n".join(parts),
                         tuple(figures))
