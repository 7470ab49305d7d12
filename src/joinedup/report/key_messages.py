"""Key messages (five to eight plain-English bullets) and an "at a glance" table of every design's
estimate, written from the output tables, as the Improvement Analytics Unit and PIRU reports open.

Every bullet gives its interval and a confidence word (:func:`joinedup.report.wording.confidence`):
the interval decides between "low" and the rest; a problem the automatic checks found in that design
(:func:`joinedup.report.summary.limitations`) lowers "high" to "moderate". When the impact table has
an ``outcome`` column each outcome is named by its catalogue label and primary outcomes (``analysis``
"primary", the protocol's primary family) come first, worded and graded from their multiplicity-adjusted
p-values; every other estimate is labelled exploratory.

Example:
    >>> section = key_messages_section(read_tables("out/demo/tables"))         # doctest: +SKIP
"""

from __future__ import annotations

import html

import pandas as pd

from joinedup.report.html import ReportSection, table_html
from joinedup.report.labels import label
from joinedup.report.summary import DEFAULT_OUTCOME, SMD_LIMIT, _in_simulated, limitations, mdt_rows
from joinedup.report.wording import (
    ALPHA,
    adjusted_p,
    adjusted_text,
    analysis_word,
    confidence,
    finding,
    heterogeneity,
    impact_rows,
    outcome_words,
    pct,
)

MAX_MESSAGES = 8
FEW_SITES = 10  # fewer sites than this: the between-site variance is poorly estimated


def _flags(t: dict) -> dict[str, bool]:
    """Which designs a check flagged (see :func:`limitations`)."""
    found = " ".join(limitations(t))
    bal = t.get("economics_balance")
    imbalance = bal is not None and len(bal) and bool(
        ((bal["sample"] == "matched") & (bal["smd"].abs() > SMD_LIMIT) & (bal["variable"] != "distance")).any())
    return {"staggered": "Pre-trend check failed" in found, "synthetic": "Synthetic control:" in found,
            "matched": bool(imbalance)}


def _impact_flag(design: str, flags: dict) -> bool:
    text = design.lower()
    if "staggered" in text or "four groups" in text:
        return flags["staggered"]
    if "sites as units" in text or "synthetic" in text:
        return flags["synthetic"]
    return False


def _interval(mid: float, low: float, high: float, unit: str = "%", digits: int = 1) -> str:
    return f"{mid:+.{digits}f}{unit} (95% CI {low:+.{digits}f}{unit} to {high:+.{digits}f}{unit})"


def glance_table(t: dict, outcome: str = DEFAULT_OUTCOME) -> pd.DataFrame:
    """One row per design and outcome: what it estimated, its interval, the finding and confidence."""
    flags, rows = _flags(t), []
    est = t.get("impact_estimates")
    if est is not None and len(est):
        for _, r in impact_rows(est, outcome).iterrows():
            conf = confidence(r["estimate"], r["ci_low"], r["ci_high"], _impact_flag(r["design"], flags),
                              adjusted_p(r))
            rows.append({"Work package": "WP1 impact", "Design": r["design"], "Estimator": r["estimator"],
                         "Estimand": r.get("estimand", ""), "Outcome": label(r["outcome"]),
                         **({"Analysis": analysis_word(r).lower()} if "primary" in r.index else {}),
                         "Estimate (95% CI)": _interval(r["pct_change"], r["pct_low"], r["pct_high"]),
                         "Finding": finding(r["estimate"], r["ci_low"], r["ci_high"], r["outcome"]),
                         "Confidence": conf})
    pooled = t.get("synthesis_pooled")
    if pooled is not None and len(pooled):
        r = pooled.iloc[0]
        oc = r["outcome"] if "outcome" in pooled.columns else outcome
        rows.append({"Work package": "WP3 synthesis", "Design": f"random-effects meta-analysis of {int(r['k'])} sites",
                     "Estimator": str(r["method"]), "Estimand": "pooled site effect", "Outcome": label(oc),
                     "Estimate (95% CI)": _interval(pct(r["estimate"]), pct(r["ci_lower"]), pct(r["ci_upper"])),
                     "Finding": finding(r["estimate"], r["ci_lower"], r["ci_upper"], oc),
                     "Confidence": confidence(r["estimate"], r["ci_lower"], r["ci_upper"], int(r["k"]) < FEW_SITES)})
    _, m = mdt_rows(t)
    if m is not None:
        rows.append({"Work package": "WP2 economics", "Design": str(m["design"]), "Estimator": str(m["model"]),
                     "Estimand": "ATT (enrolled patients)", "Outcome": label("emergency_admissions"),
                     "Estimate (95% CI)": _interval(100 * (m["ratio"] - 1), 100 * (m["ratio_low"] - 1),
                                                    100 * (m["ratio_high"] - 1)),
                     "Finding": finding(m["estimate"], m["ci_low"], m["ci_high"], "emergency_admissions",
                                        subject="case management"),
                     "Confidence": confidence(m["estimate"], m["ci_low"], m["ci_high"], flags["matched"])})
    frame = pd.DataFrame(rows)
    if "Analysis" in frame.columns:  # only impact rows belong to the protocol's primary family
        frame["Analysis"] = frame["Analysis"].fillna("")
    return frame


def key_messages(t: dict, outcome: str = DEFAULT_OUTCOME) -> list[str]:
    """Five to eight plain-English bullets (plain text), each from the tables."""
    flags, out = _flags(t), []
    est = t.get("impact_estimates")
    if est is not None and len(est):
        rows = impact_rows(est, outcome)
        marked = "primary" in rows.columns
        primary = rows[rows["primary"].astype(bool)] if marked else rows
        for oc, frame in list((primary if len(primary) else rows).groupby("outcome", sort=False))[:3]:
            r = frame.iloc[0]
            adj = adjusted_p(r)
            conf = confidence(r["estimate"], r["ci_low"], r["ci_high"], _impact_flag(r["design"], flags), adj)
            words = finding(r["estimate"], r["ci_low"], r["ci_high"], oc)
            if adj is not None and adj >= ALPHA and words.startswith("the programme"):
                words = f"there was no clear change in {outcome_words(oc)} once adjusted for multiplicity"
            adj_text = f" ({adjusted_text(r)})" if adjusted_text(r) else ""
            lead = "Primary outcome, compared" if marked and bool(r["primary"]) else "Compared"
            out.append(f"{lead} with similar areas, {words}: "
                       f"{_interval(r['pct_change'], r['pct_low'], r['pct_high'])}{adj_text}, "
                       f"{r['design']} ({r['estimator']}). Confidence: {conf}.")
            if marked:  # the other designs' estimates of this outcome: exploratory, not adjusted
                frame = rows[(rows["outcome"] == oc) & ~rows["primary"].astype(bool)]
            clear = frame[(frame["ci_high"] < 0) | (frame["ci_low"] > 0)]
            out.append(f"{'Exploratory (not adjusted for multiplicity): ' if marked else ''}"
                       f"{len(clear)} of {len(frame)} {'other ' if marked else ''}estimates of the effect on "
                       f"{label(oc).lower()} have intervals that exclude no effect; the designs rest on different "
                       "assumptions, so agreement between them matters more than any one.")
    pooled = t.get("synthesis_pooled")
    if pooled is not None and len(pooled):
        r = pooled.iloc[0]
        oc = r["outcome"] if "outcome" in pooled.columns else outcome
        conf = confidence(r["estimate"], r["ci_lower"], r["ci_upper"], int(r["k"]) < FEW_SITES)
        out.append(f"Pooling the {int(r['k'])} Pioneer sites, {finding(r['estimate'], r['ci_lower'], r['ci_upper'], oc)}: "
                   f"{_interval(pct(r['estimate']), pct(r['ci_lower']), pct(r['ci_upper']))}; "
                   f"{heterogeneity(r['i2'])} (I-squared {r['i2']:.0f}%). Confidence: {conf}.")
    _, m = mdt_rows(t)
    if m is not None:
        conf = confidence(m["estimate"], m["ci_low"], m["ci_high"], flags["matched"])
        words = finding(m["estimate"], m["ci_low"], m["ci_high"], "emergency_admissions", subject="case management")
        out.append(f"For older people case-managed by community teams, {words} against matched patients: "
                   f"rate ratio {m['ratio']:.2f} (95% CI {m['ratio_low']:.2f} to {m['ratio_high']:.2f}). "
                   f"Confidence: {conf}.")
    cea = t.get("economics_cea")
    if cea is not None and len(cea):
        r = cea.sort_values("wtp").iloc[0]
        out.append(f"Value for money: {r['statement']}; the chance it is cost-effective at £{r['wtp']:,.0f} "
                   f"per QALY is {100 * r['ceac']:.0f}%.")
    bars, rates = t.get("survey_barriers"), t.get("survey_response_rates")
    if bars is not None and len(bars) and rates is not None and len(rates):
        wave = bars["wave"].max()
        top = bars[bars["wave"] == wave].sort_values("rank").iloc[0]
        rr = rates[rates["wave"] == wave]
        rr_text = f" (response rate {rr['rr1'].iloc[0]:.1f}%)" if len(rr) else ""
        out.append(f"{_in_simulated(t)}Local leaders{rr_text} named {label(top['item']).lower()} as the most significant barrier "
                   f"in wave {int(wave)}: {top['pct_significant']:.1f}% called it significant.")
    progress = t.get("survey_progress")
    if progress is not None and len(progress):
        last = progress[(progress["wave"] == progress["wave"].max()) & (progress["group"] == "all")]
        if len(last):
            top = last.sort_values("pct_substantial_or_some", ascending=False).iloc[0]
            out.append(f"{_in_simulated(t)}Progress most often reported in wave {int(top['wave'])}: "
                       f"{label(top['item']).lower()} ({top['pct_substantial_or_some']:.1f}% substantial or some "
                       "progress); these are self-reports, not measured outcomes.")
    return out[:MAX_MESSAGES]


def key_messages_section(t: dict, outcome: str = DEFAULT_OUTCOME) -> ReportSection:
    """The report's first section: the key messages, then the at-a-glance table."""
    messages = key_messages(t, outcome)
    body = ("<ul class=\"key-messages\">" + "".join(f"<li>{html.escape(m)}</li>" for m in messages) + "</ul>"
            if messages else "<p>No estimates were run.</p>")
    body += ("<p class=\"muted\">Confidence: <strong>high</strong> when the 95% interval excludes no effect and "
             "no check of the design flagged a problem; <strong>moderate</strong> when a check did; "
             "<strong>low</strong> when the interval includes no effect.</p>")
    glance = glance_table(t, outcome)
    if len(glance):
        body += "<h3 id=\"at-a-glance\">At a glance: every design's estimate</h3>" + table_html(
            glance, "At a glance: the estimate of every design, with its 95% interval and confidence",
            source="tables/impact_estimates, synthesis_pooled, economics_estimates")
    return ReportSection("key-messages", "Key messages", body, ())
