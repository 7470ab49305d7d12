"""The report's synthesis section: each site's effect, the pooled effect with heterogeneity, the
forest plot, and the meta-regression on scheme types.

Example:
    >>> section = synthesis_section(result, tables, impact_spec)                 # doctest: +SKIP
"""

from __future__ import annotations

import html

import numpy as np

from joinedup.report.html import ReportSection, table_html
from joinedup.report.wording import finding, outcome_words


def synthesis_section(result, tables: dict, impact_spec, programme=None) -> ReportSection:
    """The section; ``programme`` (a :class:`joinedup.programme.Programme`) names the sites."""
    name = "Pioneer" if programme is None or programme.key == "pioneer" else html.escape(programme.name)
    unit = "area" if programme is None else programme.unit_word
    m = result.meta
    pct = [100 * np.expm1(v) for v in (m.estimate, m.ci_lower, m.ci_upper)]
    words = finding(m.estimate, m.ci_lower, m.ci_upper, impact_spec.outcome)
    body = [f"<p>Each {name} site's effect on {html.escape(outcome_words(impact_spec.outcome))} "
            f"(log rate; TWFE DiD against {unit}s in no programme, variance from placebo groups of comparison "
            f"{unit}s), pooled by random-effects meta-analysis ({m.method}"
            f"{', Knapp-Hartung' if m.knha else ''}). Across {m.k} sites {words}: "
            f"{pct[0]:+.1f}% (95% CI {pct[1]:+.1f}% to {pct[2]:+.1f}%); between-site variance tau² {m.tau2:.4f}, "
            f"I² {m.i2:.1f}%, Q({m.k - 1}) = {m.q:.2f} (p = {m.q_p:.3f}); prediction interval for a new site "
            f"{100 * np.expm1(m.pi_lower):+.1f}% to {100 * np.expm1(m.pi_upper):+.1f}%.</p>"]
    shown = tables["synthesis_sites"].copy()
    for col in ("estimate", "se", "ci_low", "ci_high", "cluster_se", "programmed"):
        if col in shown:  # log rate ratios of a few per cent: two decimals would show zeros
            shown[col] = shown[col].map(lambda v: "" if v != v else f"{v:.4f}")
    shown["pct_change"] = shown["pct_change"].map(lambda v: f"{v:+.1f}%")
    body.append(table_html(shown, "Site effects (log rate ratio; cluster_se: the one-cluster sandwich, not used)"))
    if result.regression is not None:
        r = result.regression
        body.append(f"<p>Meta-regression on whether a site runs each of {', '.join(result.moderators)}: "
                    f"QM = {r.qm:.2f} (p = {r.qm_p:.3f}), residual tau² {r.tau2:.4f}, R² {r.r2:.1f}%.</p>")
        reg = tables["synthesis_regression"][["term", "estimate", "se", "p_value", "ci_lower", "ci_upper"]].copy()
        for col in ("estimate", "se", "ci_lower", "ci_upper"):
            reg[col] = reg[col].map(lambda v: f"{v:.4f}")
        body.append(table_html(reg, "Meta-regression of site effects on scheme types"))
    return ReportSection("synthesis", "Synthesis across sites (WP3)", "\n".join(body), (m.plot(),))
