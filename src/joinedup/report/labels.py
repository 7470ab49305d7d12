"""Labels for the codes a reader would otherwise see: survey items and answer choices (from the
key-informant instrument's own label column), indicator ids (from the indicator catalogue), SPC icon
codes (Making Data Count wording) and the technical column names of the output tables.

DESIGN.md: "Readers see labels, not codes." Labels are never re-typed here: they are read from the
instrument spec that builds ``instruments/pioneer_ki_survey.xlsx`` and from the catalogue, so a label
changed there changes here.

Example:
    >>> label("bar_financial")
    'Financial pressures'
    >>> label("acsc_chronic")
    'Emergency admissions for chronic ambulatory care sensitive conditions'
    >>> label("not_a_code")
    'not_a_code'
"""

from __future__ import annotations

from functools import cache

import pandas as pd

# Output-table columns a reader sees as table headers; technical names stay in the CSV/Excel files.
COLUMN_LABELS = {
    "site": "Site", "indicator": "Indicator", "item": "Item", "wave": "Wave", "rank": "Rank",
    "pct_significant": "Significant barrier (%)", "pct_substantial_or_some": "Substantial or some progress (%)",
    "pct_very_or_fairly": "Very or fairly helpful (%)", "pct_very": "Very involved (%)",
    "n": "Respondents", "group": "Group", "org_type": "Organisation", "unit_name": "Area",
    "period_start": "Period start", "numerator": "Numerator", "denominator": "Denominator", "value": "Value",
    "lower": "Lower limit", "upper": "Upper limit", "estimate": "Estimate", "ci_low": "95% CI low",
    "ci_high": "95% CI high", "ci_lower": "95% CI low", "ci_upper": "95% CI high", "se": "Standard error",
    "p_value": "p", "pct_change": "Change (%)", "programmed": "Programmed effect", "variable": "Variable",
    "sample": "Sample", "smd": "Standardised mean difference", "var_ratio": "Variance ratio",
    "mean_treated": "Mean, enrolled", "mean_control": "Mean, controls", "outcome": "Outcome",
}

# Scheme types of the canonical schemes table (joinedup.data.codes.SCHEME_TYPES), as a reader names them.
SCHEME_LABELS = {
    "community_mdt": "Community MDT", "care_navigator": "Care navigator", "risk_stratification": "Risk stratification",
    "single_point_of_access": "Single point of access", "shared_care_record": "Shared care record",
    "reablement": "Reablement", "rapid_response": "Rapid response", "integrated_discharge": "Integrated discharge",
    "prevention_self_management": "Prevention and self-management", "vcs_navigation": "Voluntary sector navigation",
}


@cache
def _codes() -> dict[str, str]:
    from joinedup.indicators.catalogue import CATALOGUE
    from joinedup.report.indicators_section import ICON_WORDS  # lazy: that module imports this one
    from joinedup.survey import pioneer_instrument as pi

    labels: dict[str, str] = {}
    for items in (pi.PROGRESS, pi.BARRIERS, pi.HELP, pi.INVOLVED):
        labels.update(dict(items))
    from joinedup.process import ki_items as ki  # the instrument's process items (version 2017.1)

    for items in (ki.FACILITATORS, ki.PERSONALISATION, ki.SYSTEM, ki.NATIONAL_BARRIERS):
        labels.update(dict(items))
    labels.update(dict(pi.SCALES["org"]))
    labels.update({i.id: i.title for i in CATALOGUE.values()})
    labels.update(ICON_WORDS)
    labels.update(SCHEME_LABELS)
    return labels


def label(code) -> str:
    """The reader's label of a code (survey item, organisation type, indicator id, SPC icon); any
    other value is returned unchanged (as text)."""
    return _codes().get(code, code) if isinstance(code, str) else code


def is_code(value) -> bool:
    """True when ``value`` is a code with a label (a test helper: no code may reach the page)."""
    return isinstance(value, str) and value in _codes()


def relabel(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every cell and column header that is a known code replaced by its label, and
    technical column names replaced by their reader's names.

    Example:
        >>> relabel(pd.DataFrame({"item": ["bar_financial"], "n": [3]})).to_dict("records")
        [{'Item': 'Financial pressures', 'Respondents': 3}]
    """
    out = frame.copy()
    codes = _codes()
    for col in out.columns:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(lambda v: codes.get(v, v) if isinstance(v, str) else v)
    names = [codes.get(c, COLUMN_LABELS.get(c, c)) if isinstance(c, str) else c for c in out.columns]
    if len(set(names)) == len(names):  # never merge two columns under one header
        out.columns = names
    return out
