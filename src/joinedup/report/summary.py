"""The report's summary and limitations, written from the step output tables (as written to disk, so
the numbers in the text are those in ``tables/``).

Wording follows the intervals: a decrease is called "reduced" only when the whole interval is below
zero, an increase only when it is above; otherwise the text says the change is unclear and gives the
interval. Limitations are found, not typed: pre-period event-study estimates whose interval excludes
zero (a failed pre-trend check), synthetic controls that do not track a site before its start (pre-period
RMSPE above 5% of the site's level) or whose post/pre fit ratio is lower than most placebos', imbalance
left after matching (|SMD| > 0.1), intervals wider than the effect is large, and suppressed small numbers.

Example:
    >>> direction(-0.03, -0.05, -0.01, "emergency admissions")
    'reduced emergency admissions'
    >>> direction(-0.03, -0.08, 0.02, "emergency admissions")
    'no clear change in emergency admissions'
"""

from __future__ import annotations

import html

import pandas as pd

from joinedup.report.html import ReportSection
from joinedup.report.labels import label
from joinedup.report.wording import (
    ALPHA,
    adjusted_p,
    adjusted_text,
    analysis_word,
    finding,
    impact_rows,
    outcome_words,
    pct,
)

DEFAULT_OUTCOME = "emergency_admissions"  # the protocol's default [impact] outcome
SMD_LIMIT = 0.1
PREFIT_LIMIT = 0.05  # pre-period RMSPE above 5% of the outcome's level: the synthetic unit does not track


def direction(estimate: float, low: float, high: float, outcome: str, down: str = "reduced",
              up: str = "increased") -> str:
    """Words for an effect that respect its interval (see the module docstring). Kept for callers
    that need a phrase; sentences use :func:`joinedup.report.wording.finding`, a whole clause."""
    if high < 0:
        return f"{down} {outcome}"
    if low > 0:
        return f"{up} {outcome}"
    return f"no clear change in {outcome}"


def _impact_text(t: dict, outcome: str) -> list[str]:
    est = t.get("impact_estimates")
    if est is None or est.empty:
        return []
    out = []
    rows = impact_rows(est, outcome)
    for (design, oc), frame in list(rows.groupby(["design", "outcome"], sort=False))[:6]:
        r = frame.iloc[0]
        words = finding(r["estimate"], r["ci_low"], r["ci_high"], oc)
        if adjusted_p(r) is not None and adjusted_p(r) >= ALPHA and words.startswith("the programme"):
            words = f"there was no clear change in {outcome_words(oc)} once adjusted for multiplicity"
        extra = f", {adjusted_text(r)}" if adjusted_text(r) else ""
        kind = analysis_word(r)
        kind = f"{kind} (adjusted for multiplicity)" if kind == "Primary" else kind
        out.append(f"{kind + ' impact' if kind else 'Impact'} ({design}, {r['estimator']}): {words}: "
                   f"{r['pct_change']:+.1f}% (95% CI {r['pct_low']:+.1f}% to {r['pct_high']:+.1f}%{extra}).")
    return out


def _synthesis_text(t: dict, outcome: str) -> list[str]:
    pooled = t.get("synthesis_pooled")
    if pooled is None or pooled.empty:
        return []
    r = pooled.iloc[0]
    oc = r["outcome"] if "outcome" in pooled.columns else outcome
    words = finding(r["estimate"], r["ci_lower"], r["ci_upper"], oc)
    sentence = (f"Across {int(r['k'])} sites (random-effects meta-analysis) {words}: "
                f"{pct(r['estimate']):+.1f}% (95% CI {pct(r['ci_lower']):+.1f}% to "
                f"{pct(r['ci_upper']):+.1f}%), I-squared {r['i2']:.0f}%.")
    return [sentence]


def mdt_rows(t: dict):
    """The paired before/after and the NB2 matched DiD on emergency admissions (or None, None)."""
    est = t.get("economics_estimates")
    if est is None or est.empty:
        return None, None
    naive = est[(est["measure"] == "emergency_admissions") & (est["model"] == "paired mean change")]
    nb2 = est[(est["measure"] == "emergency_admissions") & (est["model"] == "negative binomial (NB2) DiD")]
    return (naive.iloc[0] if len(naive) else None), (nb2.iloc[0] if len(nb2) else None)


def _economics_text(t: dict) -> list[str]:
    out = []
    n, m = mdt_rows(t)
    if n is not None and m is not None:
        words = finding(m["estimate"], m["ci_low"], m["ci_high"], "emergency_admissions",
                        subject="case management")
        out.append(f"Community MDTs: against matched controls, {words} (rate ratio "
                   f"{m['ratio']:.2f}, 95% CI {m['ratio_low']:.2f} to {m['ratio_high']:.2f}); the naive before/after "
                   f"fall of {-n['estimate']:.2f} admissions per person is mostly regression to the mean.")
    cea = t.get("economics_cea")
    if cea is not None and len(cea):
        r = cea.sort_values("wtp").iloc[0]
        out.append(f"Cost-effectiveness: {r['statement']}; probability cost-effective at £{r['wtp']:,.0f} per QALY "
                   f"{100 * r['ceac']:.0f}%.")
    return out


def _survey_name(t: dict) -> str:
    """How the survey is named: a simulated stand-in says so (joinedup.report.simulated)."""
    from joinedup.report.simulated import is_simulated

    simulated = is_simulated(t.get("survey_response_rates")) or is_simulated(t.get("survey_barriers"))
    return "Simulated key-informant survey (not real responses)" if simulated else "Key-informant survey"


def _in_simulated(t: dict) -> str:
    return "Simulated survey panel (not real responses): " if _survey_name(t).startswith("Simulated") else ""


def _survey_text(t: dict) -> list[str]:
    bars = t.get("survey_barriers")
    rates = t.get("survey_response_rates")
    out = []
    if rates is not None and len(rates):
        r = rates.sort_values("wave").iloc[-1]
        # rr1 is already a percentage in survey_response_rates (survey.analysis.tables)
        out.append(f"{_survey_name(t)}: wave {int(r['wave'])} had {int(r['complete'])} complete responses "
                   f"(RR1 {r['rr1']:.1f}% of eligible panelists).")
    if bars is not None and len(bars):
        last = bars[bars["wave"] == bars["wave"].max()].sort_values("rank")
        top = last.iloc[0]
        out.append(f"{_in_simulated(t)}The barrier most often called significant was {label(top['item']).lower()} "
                   f"({top['pct_significant']:.1f}% of respondents).")
    return out


_PER_OUTCOME = ("impact_cs_dynamic", "impact_synth_sites", "impact_synth_gaps")


def _impact_outcomes(t: dict) -> list:
    """The impact outcomes in the tables' order ([None] when the tables have no outcome column)."""
    est = t.get("impact_estimates")
    if est is None or "outcome" not in est.columns or not len(est):
        return [None]
    return list(dict.fromkeys(est["outcome"]))


def _impact_limitations(t: dict) -> list[str]:
    out = []
    dyn = t.get("impact_cs_dynamic")
    if dyn is not None and len(dyn):
        pre = dyn[(dyn["egt"] < 0) & ((dyn["lower"] > 0) | (dyn["upper"] < 0))]
        if len(pre):
            out.append(f"Pre-trend check failed at {len(pre)} of {int((dyn['egt'] < 0).sum())} pre-period event "
                       f"times (Callaway & Sant'Anna, intervals excluding zero at e = "
                       f"{', '.join(map(str, pre['egt'].astype(int).tolist()[:6]))}): parallel trends are in doubt.")
    sites, gaps = t.get("impact_synth_sites"), t.get("impact_synth_gaps")
    if sites is not None and gaps is not None and len(sites) and len(gaps):
        level = gaps[~gaps["post"].astype(bool)].groupby("site")["treated"].mean().abs()
        rel = sites.set_index("site")["pre_rmspe"] / level.reindex(sites["site"]).to_numpy()
        poor_fit = rel[rel > PREFIT_LIMIT]
        if len(poor_fit):
            out.append(f"Synthetic control: poor pre-period fit for {len(poor_fit)} of {len(sites)} sites (RMSPE over "
                       f"{100 * PREFIT_LIMIT:.0f}% of the site's own level: {', '.join(poor_fit.index[:5])}); their "
                       "synthetic comparison does not track them before the start.")
    if sites is not None and len(sites):
        poor = sites[sites["rank"] > 0.5 * (sites["n_placebos"] + 1)]
        if len(poor):
            out.append(f"Synthetic control: {len(poor)} of {len(sites)} sites have a post/pre fit ratio below most "
                       f"of their placebos ({', '.join(poor['site'].tolist()[:5])}{'...' if len(poor) > 5 else ''}); "
                       "their estimates cannot be told from noise.")
    return out


def limitations(t: dict) -> list[str]:
    """Limitations found in the step output tables (see the module docstring); with several impact
    outcomes, each outcome's checks are run on its own rows and say which outcome they concern."""
    out = []
    outcomes = _impact_outcomes(t)
    for oc in outcomes:
        one = {k: (v[v["outcome"] == oc] if k in _PER_OUTCOME and "outcome" in v.columns else v) for k, v in t.items()}
        found = _impact_limitations(one)
        out += [f"{label(oc)}: {x}" for x in found] if len(outcomes) > 1 else found
    for name, col in (("economics_balance", "smd"),):
        bal = t.get(name)
        if bal is not None and len(bal):
            left = bal[(bal["sample"] == "matched") & (bal[col].abs() > SMD_LIMIT) & (bal["variable"] != "distance")]
            if len(left):
                out.append(f"Imbalance left after matching: {', '.join(left['variable'].tolist())} "
                           f"(|SMD| > {SMD_LIMIT}).")
    est = t.get("impact_estimates")
    if est is not None and len(est):
        wide = est[(est["ci_high"] - est["ci_low"]) > 2 * est["estimate"].abs()]
        if len(wide):
            out.append(f"{len(wide)} of {len(est)} impact estimates have intervals wider than twice the estimate: "
                       "they cannot rule out no effect or an effect twice as large.")
    suppressed = sum(int(f["suppressed"].sum()) for f in t.values() if "suppressed" in f.columns)
    if suppressed:
        out.append(f"{suppressed} rows of the output tables have small numbers suppressed (1-7) by disclosure control.")
    return out


def summary_paragraphs(tables: dict[str, pd.DataFrame], outcome: str = DEFAULT_OUTCOME) -> list[str]:
    """The summary's sentences (plain text), each written from the tables."""
    return (_impact_text(tables, outcome) + _synthesis_text(tables, outcome) + _economics_text(tables)
            + _survey_text(tables))


def summary_section(tables: dict[str, pd.DataFrame], outcome: str = DEFAULT_OUTCOME) -> ReportSection:
    """The summary at the top of the report and the limitations found. ``outcome`` is the protocol's
    impact outcome (an indicator id), used when the impact table has no ``outcome`` column."""
    paragraphs = summary_paragraphs(tables, outcome)
    lims = limitations(tables)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs) or "<p>No estimates were run.</p>"
    body += "<h3>Limitations found in the results</h3>"
    body += ("<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lims) + "</ul>") if lims else \
        "<p>None of the automatic checks flagged a problem.</p>"
    return ReportSection("summary", "Summary", body, ())


def read_tables(folder) -> dict[str, pd.DataFrame]:
    """Every table a run wrote (``tables/*.parquet``), by name."""
    from pathlib import Path

    return {p.stem: pd.read_parquet(p) for p in sorted(Path(folder).glob("*.parquet"))}


