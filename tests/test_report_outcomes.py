"""The report words the protocol's primary family from its multiplicity-adjusted p-values and labels
every other impact estimate exploratory; the sentences follow the tables (hand-made in the shape
joinedup.impact.evaluate.run_impact writes: outcome, scale, analysis, p_adjusted_holm,
p_adjusted_romano_wolf)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.report.key_messages import glance_table, key_messages
from joinedup.report.numbers import underived
from joinedup.report.summary import limitations, summary_paragraphs

TWFE = ("wave 1, baseline vs after the start", "TWFE DiD (cluster-robust)", "ATT")
BOOT = ("wave 1, baseline vs after the start", "TWFE DiD (wild cluster bootstrap)", "ATT")
CS = ("waves 1 and 2, staggered", "Callaway & Sant'Anna (dr)", "overall ATT (simple)")


def _row(outcome, scale, kind, est, lo, hi, p, analysis, holm=np.nan, rw=np.nan):
    design, estimator, estimand = kind
    return {"outcome": outcome, "scale": scale, "design": design, "estimator": estimator, "estimand": estimand,
            "estimate": est, "ci_low": lo, "ci_high": hi, "p_value": p, "pct_change": 100 * est,
            "pct_low": 100 * lo, "pct_high": 100 * hi, "analysis": analysis, "p_adjusted_holm": holm,
            "p_adjusted_romano_wolf": rw, "suppressed": False}


def tables():
    """Admissions: clear after adjustment. Readmissions: interval excludes 0 but adjusted p 0.09."""
    est = pd.DataFrame([
        _row("emergency_admissions", "log rate", TWFE, -0.05, -0.08, -0.02, 0.004, "primary", 0.008, 0.006),
        _row("emergency_admissions", "log rate", BOOT, -0.05, -0.09, -0.01, 0.01, "exploratory"),
        _row("emergency_admissions", "log rate", CS, -0.04, -0.07, -0.01, 0.02, "exploratory"),
        _row("readmissions_30d", "percentage points", TWFE, -0.9, -1.7, -0.1, 0.045, "primary", 0.09, 0.07),
        _row("readmissions_30d", "percentage points", BOOT, -0.9, -1.8, 0.1, 0.06, "exploratory"),
        _row("readmissions_30d", "percentage points", CS, -0.3, -1.2, 0.6, 0.5, "exploratory"),
    ])
    dyn = pd.DataFrame({"outcome": ["emergency_admissions"] * 2 + ["readmissions_30d"] * 2, "egt": [-1, 0, -1, 0],
                        "lower": [-0.1, -0.2, 0.1, -1.0], "upper": [0.1, -0.01, 0.9, 1.0], "suppressed": False})
    return {"impact_estimates": est, "impact_cs_dynamic": dyn}


def test_primary_results_are_worded_from_the_adjusted_p_values():
    t = tables()
    messages = key_messages(t)
    adm = next(m for m in messages if "Primary outcome" in m and "emergency admissions" in m)
    assert "the programme reduced emergency admissions" in adm
    assert "Holm-adjusted p = 0.008" in adm and "Romano-Wolf-adjusted p = 0.006" in adm
    assert adm.endswith("Confidence: high.")
    readm = next(m for m in messages if "Primary outcome" in m and "readmission" in m.lower())
    # its unadjusted interval excludes no effect, but the family-wise adjusted p is 0.09: not a finding
    assert "no clear change" in readm and "once adjusted for multiplicity" in readm
    assert "Holm-adjusted p = 0.090" in readm and readm.endswith("Confidence: low.")


def test_every_other_estimate_is_labelled_exploratory():
    t = tables()
    messages = key_messages(t)
    others = [m for m in messages if "other estimates" in m]
    assert len(others) == 2 and all(m.startswith("Exploratory (not adjusted for multiplicity)") for m in others)
    assert "2 of 2 other estimates of the effect on emergency admissions" in others[0]
    summary = summary_paragraphs(t)
    assert sum(s.startswith("Primary (adjusted for multiplicity) impact") for s in summary) == 2
    exploratory = [s for s in summary if s.startswith("Exploratory impact")]
    assert exploratory and not any("adjusted p" in s for s in exploratory)
    glance = glance_table(t)
    assert glance["Analysis"].tolist().count("primary") == 2
    assert glance["Analysis"].tolist().count("exploratory") == 4
    readm = glance[(glance["Analysis"] == "primary") & glance["Outcome"].str.contains("readmission", case=False)]
    assert readm["Confidence"].tolist() == ["low"]


def test_the_wording_follows_the_tables():
    t = tables()
    for sentence in summary_paragraphs(t) + key_messages(t) + limitations(t):
        assert underived(sentence, t, allowed=(95, 5, 0.1, 1, 7)) == [], sentence
    # swap the adjusted figures: the words follow
    swapped = tables()
    est = swapped["impact_estimates"]
    est.loc[est["outcome"] == "readmissions_30d", "p_adjusted_holm"] = est.loc[
        est["outcome"] == "readmissions_30d", "p_adjusted_holm"].where(est["analysis"] != "primary", 0.03)
    readm = next(m for m in key_messages(swapped) if "Primary outcome" in m and "readmission" in m.lower())
    assert "the programme reduced" in readm and "Holm-adjusted p = 0.030" in readm


def test_limitations_name_the_outcome_whose_check_failed():
    found = limitations(tables())
    pre = [x for x in found if "Pre-trend check failed" in x]
    assert len(pre) == 1 and "readmission" in pre[0].lower() and "1 of 1" in pre[0]
