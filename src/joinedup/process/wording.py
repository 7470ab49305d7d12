"""The report's "Process evaluation" section, its wording written from the process tables as
written (after disclosure control), so that every number in the text is a number in a table
(tests/test_process_pipeline.py re-derives each sentence from the CSV files).

Example:
    >>> import pandas as pd
    >>> trends = pd.DataFrame([{"measure": "breadth", "slope": -0.4, "p_value": 0.01, "ci_low": -0.6,
    ...                         "ci_high": -0.2}])
    >>> trend_sentence(trends.iloc[0])
    'Breadth (distinct initiative types) changed by -0.40 a year within sites (95% CI -0.60 to -0.20; p = 0.01): a significant fall.'
"""

from __future__ import annotations

from html import escape

import pandas as pd

from joinedup.process.charts import POSITION_LABELS
from joinedup.process.sources import finite
from joinedup.report.html import ReportSection, table_html

MEASURE_LABELS = {"medical_share": "The share of initiatives on the medical model",
                  "focus_share": "The share that are community MDTs for older people or people with long-term conditions",
                  "breadth": "Breadth (distinct initiative types)"}
TRIANGULATION_LABELS = {"emergency_admissions": "unplanned (emergency) admissions", "readmissions": "readmissions",
                        "costs": "costs"}


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def trend_sentence(row) -> str:
    """One trend test as a sentence (direction named only when p < 0.05)."""
    verdict = (f"a significant {'rise' if row['slope'] > 0 else 'fall'}" if row["p_value"] < 0.05
               else "no significant trend")
    return (f"{MEASURE_LABELS.get(row['measure'], row['measure'])} changed by {row['slope']:+.2f} a year within sites "
            f"(95% CI {row['ci_low']:.2f} to {row['ci_high']:.2f}; {_p(row['p_value'])}): {verdict}.").replace("+-", "-")


def portfolio_sentence(site_years: pd.DataFrame) -> str:
    """First and last year's mean medical-model share and breadth over the sites."""
    by = site_years.groupby("year").agg(sites=("site", "nunique"), share=("medical_share", "mean"),
                                        breadth=("breadth", "mean"))
    a, b = by.iloc[0], by.iloc[-1]
    return (f"Across {int(b['sites'])} sites, the mean share of initiatives on the medical model was {a['share']:.0%} "
            f"in {by.index[0]} and {b['share']:.0%} in {by.index[-1]}; the mean number of distinct initiative types "
            f"was {a['breadth']:.1f} and {b['breadth']:.1f}.")


def positions_sentence(pos: pd.DataFrame, moves: pd.DataFrame) -> str:
    """Sites in the narrow medical position in the first and last year, and the number of moves."""
    first, last = pos["year"].min(), pos["year"].max()
    n = lambda y: int(((pos["year"] == y) & (pos["position"] == "narrow_medical")).sum())
    label = POSITION_LABELS["narrow_medical"].lower()
    return (f"On the fixed dimensions, {n(first)} of {int((pos['year'] == first).sum())} sites were in the "
            f"\"{label}\" position in {first} and {n(last)} of {int((pos['year'] == last).sum())} in {last}; "
            f"sites changed position {len(moves)} times between consecutive years.")


def delay_sentence(row) -> str:
    """The mean design-to-delivery delay and the one-sided test of "slow"."""
    slow = row["slow_months"]
    verdict = (f"significantly more than {slow:g} months" if row["p_slow"] < 0.05
               else f"not significantly more than {slow:g} months")
    return (f"Initiatives went live a mean of {row['mean_delay_months']:.1f} months after their design began "
            f"(95% CI {row['ci_low']:.1f} to {row['ci_high']:.1f}; {int(row['initiatives'])} initiatives in "
            f"{int(row['sites'])} sites): {verdict} ({_p(row['p_slow'])}, one-sided).")


def triangulation_sentence(row) -> str:
    """Agreement and Spearman's rho of reported progress against routine change, for one measure."""
    what = TRIANGULATION_LABELS.get(row["measure"], row["measure"])
    if not finite(row["spearman_rho"]):
        return f"Reported progress on {what} could not be set against routine data ({int(row['sites'])} sites)."
    tracks = row["p_value"] < 0.05 and row["spearman_rho"] < 0
    verdict = ("self-reports tracked the routine data" if tracks
               else "self-reports were not confirmed by the routine data")
    return (f"On {what}, reported progress agreed with the site's own routine change in {row['agreement']:.0%} of "
            f"{int(row['sites'])} sites (Spearman rho {row['spearman_rho']:.2f}, {_p(row['p_value'])}): {verdict}.")


def unreviewed_sentence(table: pd.DataFrame) -> str:
    """What was left out of the analyses as unreviewed self-report (``process_unreviewed``)."""
    if table is None or not len(table):
        return "No unreviewed site submissions or pending proposals were left out of the analyses."
    n = {c: int(table[c].sum()) for c in table.columns if c != "site"}
    return (f"Left out of every analysis as unreviewed self-report (the evaluation's caution): "
            f"{_count(n['unverified_rows'], 'register row')} ({_count(n['unverified_initiatives'], 'initiative')}) "
            f"from site submissions nobody reviewed, and {_count(n['pending_new'], 'proposed new initiative')} and "
            f"{_count(n['pending_corrections'], 'proposed correction')} awaiting review, at "
            f"{_count(table['site'].nunique(), 'site')}.")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fy(year) -> str:
    return f"{int(year)}/{str(int(year) + 1)[2:]}"


def costs_by_year(costs: pd.DataFrame) -> pd.DataFrame:
    """Per financial year of ``process_routine_costs`` (as written): sites with a cost shown and their mean."""
    shown = costs.dropna(subset=["cost_per_head"])
    out = shown.groupby("financial_year").agg(sites=("site", "nunique"), mean_cost_per_head=("cost_per_head", "mean"))
    out = out.reset_index()
    out["financial_year"] = out["financial_year"].map(_fy)
    return out


def costs_sentence(costs: pd.DataFrame) -> str:
    """The routine cost indicator's first and last financial year, mean over the sites shown."""
    by = costs_by_year(costs)
    if by.empty:
        return "The routine cost indicator had no value to show (every site-year suppressed or missing)."
    a, b = by.iloc[0], by.iloc[-1]
    price = _fy(costs["price_year"].dropna().iloc[0])
    return (f"Emergency admission cost per head (routine data, {price} unit costs) averaged "
            f"£{a['mean_cost_per_head']:,.2f} over {int(a['sites'])} sites in {a['financial_year']} and "
            f"£{b['mean_cost_per_head']:,.2f} over {int(b['sites'])} sites in {b['financial_year']}.")


def process_sentences(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Every sentence of the section's findings, from the tables as written."""
    out = [portfolio_sentence(tables["process_site_years"])]
    out += [trend_sentence(r) for _, r in tables["process_trends"].iterrows()]
    out.append(positions_sentence(tables["process_positions"], tables["process_moves"]))
    if len(tables.get("process_delays", [])):
        out.append(delay_sentence(tables["process_delays"].iloc[0]))
    if "process_unreviewed" in tables:
        out.append(unreviewed_sentence(tables["process_unreviewed"]))
    if "process_routine_costs" in tables:
        out.append(costs_sentence(tables["process_routine_costs"]))
    if "process_interviews_by_round" in tables:
        from joinedup.process.interview_step import interviews_sentence

        out.append(interviews_sentence(tables["process_interviews_by_round"]))
    summary = tables.get("process_triangulation_summary")
    if summary is not None:
        out += [triangulation_sentence(r) for _, r in summary.iterrows()]
    return out


def process_section(tables: dict[str, pd.DataFrame], notes: list[str], simulated: bool,
                    figures: tuple = ()) -> ReportSection:
    """The "Process evaluation" section: findings, notes, the tables that carry them."""
    body = ""
    if simulated:
        body += ('<p class="simulated"><strong>Simulated initiative register: not a real site\'s initiatives.'
                 "</strong></p>")
    body += "<ul>" + "".join(f"<li>{escape(s)}</li>" for s in process_sentences(tables)) + "</ul>"
    body += "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
    body += table_html(tables["process_trends"], "Trends within sites (site fixed effects, site-clustered SE)")
    if len(tables.get("process_delays", [])):
        body += table_html(tables["process_delays"], "Design-to-delivery delay")
    counts = tables["process_positions"].pivot_table(index="position", columns="year", values="site",
                                                     aggfunc="count", fill_value=0).reset_index()
    counts.columns = [str(c) for c in counts.columns]
    body += table_html(counts, "Sites per position and year (fixed dimensions)")
    if len(tables["process_moves"]):
        body += table_html(tables["process_moves"], "Moves between positions")
    if len(tables.get("process_unreviewed", [])):
        body += table_html(tables["process_unreviewed"], "Unreviewed site submissions and pending proposals "
                           "(left out of the analyses)")
    if "process_routine_costs" in tables:
        body += table_html(costs_by_year(tables["process_routine_costs"]),
                           "Emergency admission cost per head by financial year (routine data, mean over sites)")
    for name, caption in (("process_interviews_by_round", "Completed interviews by round"),
                          ("process_interviews_by_role", "Completed interviews by role (rounded to 5, 1-7 suppressed)")):
        if name in tables:
            body += table_html(tables[name], caption)
    if "process_triangulation_summary" in tables:
        body += table_html(tables["process_triangulation_summary"],
                           "Reported progress against routine data (per measure)")
        body += table_html(tables["process_triangulation"], "Reported progress against routine data (per site)")
    return ReportSection("process", "Process evaluation (WP1): initiatives over time", body, tuple(figures))
