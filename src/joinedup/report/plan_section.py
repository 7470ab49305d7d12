"""The report's "Analysis plan" subsection: the lock, the deviations since it, or a plain "no lock".

Example:
    >>> from joinedup.analysis_plan import PlanCheck
    >>> section = plan_section(PlanCheck("no lock", "2026-01-01T00:00:00+00:00"))
    >>> "not registered before the data were read" in section.body_html
    True
"""

from __future__ import annotations

import html
import json

import pandas as pd

from joinedup.report.html import ReportSection, table_html


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def plan_section(check, methods: list[str] | None = None) -> ReportSection:
    """The subsection from a :class:`joinedup.analysis_plan.PlanCheck`; ``methods``: sentences on
    choices of the design that the plan fixed (co-interventions, matching basis), shown after it."""
    parts = [f"<p>{html.escape(s)}</p>" for s in check.sentences()]
    if check.deviations:
        frame = pd.DataFrame({"Protocol key": [d["key"] for d in check.deviations],
                              "Locked value": [_shown(d["locked"]) for d in check.deviations],
                              "Value in this run": [_shown(d["now"]) for d in check.deviations]})
        parts.append(table_html(frame, f"Deviations from the analysis plan locked on {check.locked_at}"))
    parts += [f"<p>{html.escape(s)}</p>" for s in (methods or [])]
    return ReportSection("analysis-plan", "Analysis plan", "\n".join(parts))



def design_choices(protocol) -> list[str]:
    """Sentences on the plan's choices of comparison: co-interventions and the matching basis."""
    from joinedup.impact.co_interventions import co_intervention_sentences
    from joinedup.impact.comparison_choice import matching_sentences

    return co_intervention_sentences(protocol) + matching_sentences(protocol.impact)


__all__ = ["design_choices", "plan_section"]
