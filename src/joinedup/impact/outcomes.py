"""Several outcomes at once: each on its right scale, the same designs, one tidy table.

``[impact] outcome`` names one indicator or a list. Rates (crude, directly standardised, per day)
use ``[impact] scale`` ("log": effects read as percentage change; or "rate"); proportions
(readmissions within 30 days, discharges to usual residence, reablement at 91 days) use
``proportion_scale``: "pp" (percentage points: the catalogue's multiplier is 100) or "logit" (log
odds; effects also read as percentage change of the odds). Each outcome runs every design on its own
panel; ``impact_estimates`` stacks them with an ``outcome`` and a ``scale`` column, and the primary
family (:mod:`joinedup.impact.multiplicity`) is adjusted for multiplicity.

Simulated England programmes its effects on emergency admissions; a proportion has no programmed
value, so its ``programmed`` column stays empty rather than borrowing the admissions' effect.

Example:
    >>> from joinedup.protocol import Impact
    >>> [outcome_spec(Impact(outcome=["emergency_admissions", "readmissions_30d"]), o).scale
    ...  for o in ("emergency_admissions", "readmissions_30d")]
    ['log', 'rate']
"""

from __future__ import annotations

from joinedup.indicators.catalogue import CATALOGUE


def outcome_ids(spec) -> list[str]:
    """The protocol's outcomes as a list."""
    return [spec.outcome] if isinstance(spec.outcome, str) else list(spec.outcome)


def is_proportion(outcome: str) -> bool:
    return CATALOGUE[outcome].method == "proportion"


def panel_scale(spec, outcome: str) -> str:
    """The panel scale of one outcome: the rate scale, or "rate" (pp) / "logit" for proportions."""
    if is_proportion(outcome):
        return "logit" if spec.proportion_scale == "logit" else "rate"
    return spec.scale


def outcome_spec(spec, outcome: str):
    """The protocol's ``[impact]`` narrowed to one outcome on its scale (what each design reads)."""
    return spec.model_copy(update={"outcome": outcome, "scale": panel_scale(spec, outcome)})


def scale_label(spec, outcome: str) -> str:
    """How an outcome's estimates read, e.g. "percentage points"."""
    scale = panel_scale(spec, outcome)
    if is_proportion(outcome):
        return "log odds" if scale == "logit" else "percentage points"
    return "log rate" if scale == "log" else f"rate ({CATALOGUE[outcome].unit})"
