"""The report's WP3 section: what sites did against what they achieved (:mod:`joinedup.synthesis.joined`).

Three tables (written like every output, so they are in the downloads and the workbook) and the words
written from them: ``wp3_sites`` (one row per site: typology group, schemes, key-informant measures,
impact estimate, MDT estimates), ``wp3_moderators`` (meta-regression of site effects on each moderator,
with the warning for few sites) and ``wp3_self_report`` (reported progress against routine data).
Every number in :func:`wp3_sentences` is re-derived from those tables in the tests
(:func:`joinedup.report.numbers.underived`).

Example:
    >>> section = wp3_step(out_dir, programme, protocol)                          # doctest: +SKIP
"""

from __future__ import annotations

import html

import altair as alt
import pandas as pd

from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, table_html
from joinedup.report.wording import outcome_words
from joinedup.synthesis.joined import (
    MIN_SITES,
    MODERATORS,
    moderator_fits,
    rank_correlation,
    routine_changes,
    self_report_check,
    site_table,
)

# constants of the wording (not results): the harness allows them
WORDING_CONSTANTS = (95, 10, 11, 5, 10.11, 5.1)


def _ci(mid, low, high, digits=1, unit="%") -> str:
    return f"{mid:+.{digits}f}{unit} (95% CI {low:+.{digits}f}{unit} to {high:+.{digits}f}{unit})"


def _relation(low: float, high: float, more: str, less: str) -> str:
    """A whole clause on a slope's interval (as :func:`joinedup.report.wording.finding` for effects)."""
    if high < 0:
        return less
    if low > 0:
        return more
    return "no clear relation"


def wp3_sentences(tables: dict, outcome: str) -> dict[str, list[str]]:
    """The section's sentences by part (``intro``, ``warning``, ``moderators``, ``self_report``), written
    only from ``wp3_sites``, ``wp3_moderators`` and ``wp3_self_report``."""
    sites, mods, check = tables["wp3_sites"], tables["wp3_moderators"], tables["wp3_self_report"]
    words = outcome_words(outcome)
    parts: dict[str, list[str]] = {"intro": [], "warning": [], "moderators": [], "self_report": []}
    out = parts["intro"]
    out += [f"The table joins, for each of the {len(sites)} sites with an impact estimate on {words}, its "
           "typology group and schemes (WP1), what its key informants reported (WP1 survey), its own impact "
           "estimate (WP1/WP3) and, where it ran community MDTs, the matched estimates for its enrolled "
           "patients (WP2)."]
    mdt = sites.dropna(subset=["mdt_admissions"]) if "mdt_admissions" in sites else sites.iloc[:0]
    if len(mdt):
        out.append(f"{len(mdt)} sites had enough enrolled MDT patients (at least 5) for an estimate of their own; "
                   "the pooled MDT estimate is in the economics section.")
    else:
        out.append("No site in this table had enough enrolled MDT patients (at least 5) for an MDT estimate of its own; "
                   "the pooled MDT estimate is in the economics section.")
    k = int(mods["k"].max()) if len(mods) else len(sites)
    out = parts["warning"]
    if k < MIN_SITES:
        out.append(f"Warning: with at most {k} sites, fewer than 10, a meta-regression can find a relation by "
                   "chance and miss a real one (Cochrane Handbook, section 10.11.5.1); read it as a description "
                   "of these sites, not as evidence of what works.")
    else:
        out.append(f"Meta-regressions use {k} sites or fewer; with so few, each relation is a description of "
                   "these sites rather than evidence of what works, and each moderator is tried alone.")
    out = parts["moderators"]
    for moderator, name in MODERATORS.items():  # a moderator without a fit says why
        if moderator in set(mods["moderator"]) or moderator not in sites:
            continue
        known = sites[moderator].dropna()
        if known.nunique() == 1:
            out.append(f"{name.split(' (')[0]}: every one of the {len(known)} sites with a value has the same "
                       "value, so there is nothing to compare.")
        else:
            out.append(f"{name.split(' (')[0]}: {len(known)} sites with a value that can be shown, too few for a "
                       "meta-regression (at least 3).")
    for moderator, fit in mods.groupby("moderator", sort=False):
        name = MODERATORS[moderator].split(" (")[0]
        r = fit.iloc[0]
        if moderator == "typology_group":
            out.append(f"Typology group ({int(r['k'])} sites): test of any difference between groups "
                       f"QM = {r['qm']:.2f}, p = {r['qm_p']:.3f}; residual between-site variance {r['tau2']:.4f}.")
            continue
        rel = _relation(r["ci_lower"], r["ci_upper"], f"sites with more {name.lower()} had higher estimates",
                        f"sites with more {name.lower()} had lower estimates")
        out.append(f"{name} ({int(r['k'])} sites): {rel}; each 10 percentage points more went with a site effect "
                   f"{_ci(r['per_10_pct'], r['per_10_low'], r['per_10_high'])} different.")
    out = parts["self_report"]
    if len(check):
        says = check[check["reports_progress"]]
        fell = int(says["indicator_fell"].sum())
        rho = {"n": len(check), "rho": float(check["spearman_rho"].iloc[0]), "p_value": float(check["spearman_p"].iloc[0])}
        out.append(f"Of the {len(check)} sites whose key informants' answers can be shown (at least 11 answers), "
                   f"{len(says)} reported progress on reducing unplanned admissions (at least half of answers "
                   f"said substantial or some progress); {fell} of those {len(says)} show a fall in {words} "
                   f"against the rest of England since the year before they started. The two agree at "
                   f"{int(check['agree'].sum())} of {len(check)} sites.")
        if rho["n"] >= 3 and rho["rho"] == rho["rho"]:
            tie = ("no clear relation" if rho["p_value"] >= 0.05 else
                   "sites reporting more progress showed larger falls" if rho["rho"] < 0 else
                   "sites reporting more progress showed smaller falls, or rises")
            out.append(f"Across those {rho['n']} sites, Spearman's rank correlation between reported progress and "
                       f"the routine change is {rho['rho']:+.2f} (p = {rho['p_value']:.3f}): {tie}.")
    else:
        out.append("No site's key-informant answers reach the minimum base of 11 for a comparison with routine data.")
    return parts


def _effect_charts(sites: pd.DataFrame) -> Figure | None:
    charts, shown = [], []
    for moderator, title in MODERATORS.items():
        data = sites.dropna(subset=[moderator]) if moderator in sites else sites.iloc[:0]
        if len(data) < 3 or data[moderator].nunique() < 2:
            continue
        kind = "O" if moderator == "typology_group" else "Q"
        frame = data[["site", moderator, "pct_change", "pct_low", "pct_high"]].rename(columns={moderator: "x"})
        base = alt.Chart(frame).encode(x=alt.X(f"x:{kind}", title=title, scale=alt.Scale(zero=False)) if kind == "Q"
                                       else alt.X("x:O", title=title))
        chart = (base.mark_rule(color="#8c8c8c").encode(y=alt.Y("pct_low:Q", title="Site effect (% change)"),
                                                         y2="pct_high:Q")
                 + base.mark_point(filled=True, size=50, color="#0072B2").encode(
                     y="pct_change:Q", tooltip=["site", "x", alt.Tooltip("pct_change:Q", format="+.1f")])
                 + alt.Chart(pd.DataFrame({"z": [0]})).mark_rule(strokeDash=[4, 3], color="#555").encode(y="z:Q"))
        charts.append(chart.properties(width=230, height=200))
        shown.append(frame.assign(moderator=title))
    if not charts:
        return None
    data = pd.concat(shown, ignore_index=True)
    alt_text = ("Scatter plots of each site's effect (percentage change with its 95% interval) against "
                + ", ".join(sorted(set(data["moderator"]))) + "; the dashed line is no effect. "
                "The table below the chart has every point.")
    return Figure.from_chart("wp3-effect-by-moderator", "Site effects against what sites did and reported",
                             alt_text, alt.hconcat(*charts), data, width=None, height=None)


def _self_report_chart(check: pd.DataFrame) -> Figure | None:
    if len(check) < 2:
        return None
    frame = check[["site", "pct_progress_unplanned", "relative_change_pts"]].assign(
        agreement=check["agree"].map({True: "agree", False: "disagree"}))
    base = alt.Chart(frame).encode(
        x=alt.X("pct_progress_unplanned:Q", title="Answers reporting progress on unplanned admissions (%)",
                scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("relative_change_pts:Q", title="Change against rest of England (% points)"))
    legend = {"title": "Report and routine data", "scale": alt.Scale(domain=["agree", "disagree"])}
    chart = (alt.Chart(pd.DataFrame({"x": [50]})).mark_rule(strokeDash=[4, 3], color="#555").encode(x="x:Q")
             + alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(strokeDash=[4, 3], color="#555").encode(y="y:Q")
             + base.mark_point(filled=True, size=60).encode(
                 color=alt.Color("agreement:N", title=legend["title"],
                                 scale=alt.Scale(domain=["agree", "disagree"], range=["#0072B2", "#D55E00"])),
                 shape=alt.Shape("agreement:N", title=legend["title"],
                                 scale=alt.Scale(domain=["agree", "disagree"], range=["square", "circle"]))))
    chart += base.mark_text(dx=6, align="left", fontSize=10, limit=150).encode(text="site:N")
    agree = int(check["agree"].sum())
    alt_text = (f"Scatter of {len(check)} sites: the share of key-informant answers reporting progress on reducing "
                "unplanned admissions against the change in the routine indicator relative to the rest of England. "
                f"Sites to the right of 50% and below zero, or left and above, agree: {agree} of {len(check)} do.")
    return Figure.from_chart("wp3-self-report", "Reported progress against routine data", alt_text,
                             chart.properties(width=520, height=300), frame, width=None, height=None)


def _shown_sites(sites: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"Site": sites["site"], "Typology group": sites["typology_group"], "Schemes": sites["schemes"],
                        "Respondents": sites["respondents"],
                        "Progress on unplanned admissions (%)": sites["pct_progress_unplanned"].round(0),
                        "Barriers significant (%)": sites["pct_barriers_significant"].round(0),
                        "Impact, % change (95% CI)": [_ci(m, lo, hi) for m, lo, hi in
                                                      zip(sites["pct_change"], sites["pct_low"], sites["pct_high"])]})
    if "mdt_admissions" in sites:
        out["MDT: admissions per patient-year (95% CI)"] = [
            "" if pd.isna(m) else _ci(m, lo, hi, 2, "") for m, lo, hi in
            zip(sites["mdt_admissions"], sites["mdt_admissions_low"], sites["mdt_admissions_high"])]
        out["MDT: cost per patient, £ (95% CI)"] = [
            "" if pd.isna(m) else _ci(m, lo, hi, 0, "") for m, lo, hi in
            zip(sites["mdt_cost"], sites["mdt_cost_low"], sites["mdt_cost_high"])]
    return out


def wp3_tables(tables: dict, starts: pd.DataFrame, headline: str = "emergency_admissions") -> dict[str, pd.DataFrame]:
    """The three WP3 tables from the run's controlled tables and each site's start date."""
    sites = site_table(tables)
    mods = moderator_fits(sites)
    indicators = tables.get("indicators", pd.DataFrame(columns=["indicator", "period", "unit_name", "period_start",
                                                                "period_end", "value"]))
    routine = routine_changes(indicators, starts, headline)
    check = self_report_check(sites, routine)
    rho = rank_correlation(check)  # one value for the table, repeated on each row so the CSV carries it
    check = check.assign(spearman_rho=rho["rho"], spearman_p=rho["p_value"])
    return {"wp3_sites": sites, "wp3_moderators": mods, "wp3_self_report": check}


def wp3_section(tables: dict, outcome: str) -> ReportSection:
    """The section from the three WP3 tables (as written)."""
    sites, mods, check = tables["wp3_sites"], tables["wp3_moderators"], tables["wp3_self_report"]
    said = wp3_sentences(tables, outcome)

    def paras(part: str, cls: str = "") -> list[str]:
        return [f"<p{cls}>{html.escape(s)}</p>" for s in said[part]]

    reg = pd.DataFrame({
        "Moderator": mods["moderator"].map(MODERATORS),
        "Term": [t if m == "typology_group" else "per percentage point" for m, t in zip(mods["moderator"], mods["term"])],
        "Sites": mods["k"], "Coefficient": mods["estimate"].map(lambda v: f"{v:+.4f}"),
        "95% CI": [f"{lo:+.4f} to {hi:+.4f}" for lo, hi in zip(mods["ci_lower"], mods["ci_upper"])],
        "p": mods["p_value"].map(lambda v: f"{v:.3f}"), "QM p": mods["qm_p"].map(lambda v: f"{v:.3f}"),
        "Residual tau²": mods["tau2"].map(lambda v: f"{v:.4f}"),
        "Per 10 points, % change (95% CI)": [_ci(m, lo, hi) for m, lo, hi in
                                             zip(mods["per_10_pct"], mods["per_10_low"], mods["per_10_high"])]})
    shown_check = check[["site", "pct_progress_unplanned", "reports_progress", "site_change_pct",
                         "comparison_change_pct", "relative_change_pts", "indicator_fell", "agree"]].rename(columns={
        "pct_progress_unplanned": "Progress on unplanned admissions (%)", "reports_progress": "Most report progress",
        "site_change_pct": "Site change (%)", "comparison_change_pct": "Rest of England change (%)",
        "relative_change_pts": "Difference (% points)", "indicator_fell": "Fell against rest of England",
        "agree": "Agree"})
    body = [*paras("intro"),
            table_html(_shown_sites(sites), "Sites: what they did and what they achieved (WP1 and WP2 joined; "
                       "survey shares need at least 11 answers over all waves, MDT estimates at least 5 patients)",
                       source="tables/wp3_sites.csv").replace('class="table-wrap"', 'class="table-wrap wp3-sites"', 1),
            "<h3>Meta-regression: do site effects follow what sites did or reported?</h3>",
            *paras("warning", ' class="note warning"'), *paras("moderators"),
            table_html(reg, "Meta-regression of site effects (log rate ratio) on each moderator alone (REML, "
                       "Knapp-Hartung)", source="tables/wp3_moderators.csv") if len(mods) else "",
            "<h3>Do self-reports match routine data?</h3>", *paras("self_report"),
            table_html(shown_check, "Reported progress on unplanned admissions against the routine indicator",
                       source="tables/wp3_self_report.csv") if len(check) else ""]
    figures = tuple(f for f in (_effect_charts(sites), _self_report_chart(check)) if f is not None)
    return ReportSection("wp3", "WP3: what sites did and what they achieved", "\n".join(body), figures)


def wp3_step(out_dir, programme, protocol) -> ReportSection:
    """Read the run's tables, write the three WP3 tables through the output boundary, build the section."""
    from joinedup.outputs import write_table
    from joinedup.report.summary import read_tables

    tables = read_tables(out_dir / "tables")
    starts = programme.sites.groupby("site", as_index=False)["start_date"].min().rename(columns={"start_date": "start"})
    headline = protocol.indicators.headline if protocol.indicators is not None else "emergency_admissions"
    written = {}
    for name, frame in wp3_tables(tables, starts, headline).items():
        counts = [c for c in ("respondents", "mdt_n") if c in frame]  # controlled already; declared again here
        written[name] = write_table(frame, out_dir, name, counts, disclosure_control=protocol.output.disclosure_control)
    return wp3_section(written, protocol.impact.outcome)
