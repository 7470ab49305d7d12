"""Words for results, shared by the summary, the key messages and the sections.

Each effect is worded from its interval (a decrease is "reduced" only when the whole interval is
below zero, an increase only when it is above), always as a whole clause, so no sentence can break
whatever the interval. The outcome is named by its catalogue label, never typed.

Confidence follows the Improvement Analytics Unit's practice of grading a finding by its interval and
by the design's known weaknesses:

- **low**: the interval includes no effect (or, for a primary result, its Holm-adjusted p-value is
  0.05 or more: the protocol's primary family is judged on the adjusted figures; every other
  estimate is worded "exploratory");
- **moderate**: the interval excludes no effect but a check of the design flagged a problem (failed
  pre-trends, poor synthetic-control fit, imbalance after matching, fewer than 10 sites pooled);
- **high**: the interval excludes no effect and no check flagged a problem.

Example:
    >>> finding(-0.03, -0.05, -0.01, "acsc_chronic")
    'the programme reduced emergency admissions for chronic ambulatory care sensitive conditions'
    >>> finding(-0.03, -0.08, 0.02, "emergency_admissions")
    'there was no clear change in emergency admissions'
    >>> confidence(-0.03, -0.08, 0.02)
    'low'
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.report.labels import label

ALPHA = 0.05


def outcome_words(outcome: str) -> str:
    """The outcome's label as it reads inside a sentence ("Emergency admissions" -> "emergency
    admissions"; "A&E attendances" keeps its capitals)."""
    text = label(outcome)
    return text[0].lower() + text[1:] if len(text) > 1 and not text[1].isupper() else text


def finding(estimate: float, low: float, high: float, outcome: str, subject: str = "the programme",
            down: str = "reduced", up: str = "increased") -> str:
    """A whole clause for an effect that respects its interval (see the module docstring)."""
    words = outcome_words(outcome)
    if high < 0:
        return f"{subject} {down} {words}"
    if low > 0:
        return f"{subject} {up} {words}"
    return f"there was no clear change in {words}"


def heterogeneity(i2: float) -> str:
    """How far the sites' effects differed, in the Cochrane Handbook's words for I-squared (10.10.2:
    0-40% might not be important, 30-60% moderate, 50-90% substantial, 75-100% considerable), taking
    the lower band where they overlap.

    >>> heterogeneity(2.6), heterogeneity(45), heterogeneity(80)
    ('the sites differed little', 'the sites differed moderately', 'the sites differed substantially')
    """
    if i2 < 40:
        return "the sites differed little"
    return "the sites differed moderately" if i2 < 60 else "the sites differed substantially"


def excludes_zero(low: float, high: float) -> bool:
    return bool(high < 0 or low > 0)


def confidence(estimate: float, low: float, high: float, flagged: bool = False,
               p_adjusted: float | None = None) -> str:
    """'high', 'moderate' or 'low' (see the module docstring)."""
    if not excludes_zero(low, high) or (p_adjusted is not None and np.isfinite(p_adjusted)
                                        and p_adjusted >= ALPHA):
        return "low"
    return "moderate" if flagged else "high"


def pct(log_ratio: float) -> float:
    """A log rate ratio as a percentage change."""
    return float(100 * np.expm1(log_ratio))


def impact_rows(est: pd.DataFrame, default_outcome: str) -> pd.DataFrame:
    """The impact estimates with an ``outcome`` column (the protocol's single outcome when the table
    has none), primary outcomes first when the table marks them."""
    out = est.copy()
    if "outcome" not in out.columns:
        out["outcome"] = default_outcome
    if "analysis" in out.columns and "primary" not in out.columns:  # as run_impact writes it
        out["primary"] = out["analysis"].eq("primary")
    if "primary" in out.columns:
        out = out.sort_values("primary", ascending=False, kind="stable")
    return out


def adjusted_text(row) -> str:
    """The multiplicity-adjusted p-values a row has, as words ("" when it has none)."""
    parts = [f"{name}-adjusted p = {float(row[col]):.3f}"
             for name, col in (("Holm", "p_adjusted_holm"), ("Romano-Wolf", "p_adjusted_romano_wolf"))
             if col in row.index and pd.notna(row[col])]
    return ", ".join(parts)


def analysis_word(row) -> str:
    """"Primary" or "Exploratory" where the table says (the protocol's primary family), else ""."""
    if "primary" not in row.index or pd.isna(row["primary"]):
        return ""
    return "Primary" if bool(row["primary"]) else "Exploratory"


def adjusted_p(row) -> float | None:
    """The multiplicity-adjusted p-value where the table has one (Holm first), else None."""
    for col in ("p_adjusted_holm", "p_adjusted"):
        if col in row.index and pd.notna(row[col]):
            return float(row[col])
    return None
