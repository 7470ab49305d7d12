"""One findings paragraph per results section, written from its own table with the shared wording
(:func:`joinedup.report.wording.finding`), so every section, not only the summary, says plainly
whether an effect was found (issue 16: "the report on the null scenario says there is no clear
effect, in every section").

Example:
    >>> import pandas as pd
    >>> est = pd.DataFrame({"design": ["wave 1"], "estimator": ["TWFE"], "estimate": [0.01], "ci_low": [-0.02],
    ...                     "ci_high": [0.04], "pct_change": [1.0], "pct_low": [-2.0], "pct_high": [4.1]})
    >>> impact_findings_html(est, "emergency_admissions")
    '<p class="finding">Finding: there was no clear change in emergency admissions (wave 1, TWFE: +1.0%, 95% CI -2.0% to +4.1%); 0 of 1 estimates have intervals that exclude no effect.</p>'
"""

from __future__ import annotations

from html import escape

import pandas as pd

from joinedup.report.wording import finding, impact_rows


def impact_findings_html(est: pd.DataFrame, outcome: str) -> str:
    """The first (primary) estimate's finding and how many estimates exclude no effect."""
    if est is None or est.empty:
        return ""
    rows = impact_rows(est, outcome)
    r = rows.iloc[0]
    clear = int(((rows["ci_high"] < 0) | (rows["ci_low"] > 0)).sum())
    return (f'<p class="finding">Finding: {escape(finding(r["estimate"], r["ci_low"], r["ci_high"], r["outcome"]))} '
            f'({escape(str(r["design"]))}, {escape(str(r["estimator"]))}: {r["pct_change"]:+.1f}%, 95% CI '
            f'{r["pct_low"]:+.1f}% to {r["pct_high"]:+.1f}%); {clear} of {len(rows)} estimates have intervals '
            "that exclude no effect.</p>")


def mdt_finding_html(est: pd.DataFrame) -> str:
    """The matched MDT estimate's finding (NB2 DiD of emergency admissions, as the summary uses)."""
    from joinedup.report.summary import mdt_rows

    _, m = mdt_rows({"economics_estimates": est})
    if m is None:
        return ""
    words = finding(m["estimate"], m["ci_low"], m["ci_high"], "emergency_admissions", subject="case management")
    return (f'<p class="finding">Finding: against matched controls, {escape(words)} (rate ratio {m["ratio"]:.2f}, '
            f'95% CI {m["ratio_low"]:.2f} to {m["ratio_high"]:.2f}).</p>')


def cohort_finding_html(est: pd.DataFrame, outcome: str = "emergency_admissions") -> str:
    """The person-level (risk-set matched) finding: the pooled matched difference in differences of
    ``outcome`` worded from its interval, and how many pooled estimates exclude no effect.

    Example:
        >>> est = pd.DataFrame({"group": ["pooled", "pooled"], "outcome": ["emergency_admissions", "bed_days"],
        ...                     "design": ["matched DiD"] * 2, "estimate": [-0.01, 0.2], "ci_low": [-0.05, -0.3],
        ...                     "ci_high": [0.03, 0.7]})
        >>> cohort_finding_html(est)
        '<p class="finding">Finding: there was no clear change in emergency admissions of the people enrolled (matched DiD: -0.010 a person, 95% CI -0.050 to +0.030); 0 of 2 pooled estimates have intervals that exclude no effect.</p>'
    """
    if est is None or est.empty:
        return ""
    pooled = est[est["group"] == "pooled"] if "group" in est.columns else est
    pooled = pooled[pooled["ci_low"].notna() & pooled["ci_high"].notna()]
    head = pooled[(pooled["outcome"] == outcome) & (pooled["design"] == "matched DiD")]
    if head.empty:
        return ""
    r = head.iloc[0]
    clear = int(((pooled["ci_high"] < 0) | (pooled["ci_low"] > 0)).sum())
    words = finding(r["estimate"], r["ci_low"], r["ci_high"], outcome, subject="the scheme")
    return (f'<p class="finding">Finding: {escape(words)} of the people enrolled ({escape(str(r["design"]))}: '
            f'{r["estimate"]:+.3f} a person, 95% CI {r["ci_low"]:+.3f} to {r["ci_high"]:+.3f}); {clear} of '
            f"{len(pooled)} pooled estimates have intervals that exclude no effect.</p>")
