"""The protocol's choice for an unbalanced area or practice panel, applied to each impact design.

``[impact] unbalanced`` names one treatment of units that miss periods (practices that close or
merge, areas with missing quarters, boundary changes) for every design of the impact step:

- ``"available"`` (default): estimate on the rows that exist. TWFE and the event study do this
  exactly (the within transformation); Callaway & Sant'Anna runs as R ``did`` with
  ``allow_unbalanced_panel = TRUE`` (repeated cross-section estimators, inference clustered on the
  unit); synthetic control and synthetic DiD cannot (their weights need every period), so for them
  the incomplete comparison units are dropped and the report says so;
- ``"drop"``: every design on the balanced sub-panel (R ``did``'s behaviour when
  ``allow_unbalanced_panel = FALSE``);
- ``"impute"``: missing unit-periods filled by linear interpolation within unit;
- ``"error"``: refuse, naming a unit and its missing periods.

On a balanced panel every choice gives the same numbers (the identity is tested). Whatever is
chosen, a note for the report says how many units were incomplete and what each design did.

Example:
    >>> import pandas as pd
    >>> p = pd.DataFrame({"area_code": ["a", "a", "b"], "t": [1, 2, 1], "y": [1.0, 2.0, 3.0]})
    >>> data, allow, note = prepare(p, "callaway_santanna", "available")
    >>> allow, len(data), note.startswith("Callaway")
    (True, 3, True)
"""

from __future__ import annotations

import pandas as pd

from joinedup.impact.unbalanced import balance_panel

CHOICES = ("available", "drop", "impute", "error")
DESIGN_NAMES = {"callaway_santanna": "Callaway & Sant'Anna", "synthetic": "Synthetic control and synthetic DiD"}
#: numeric columns of the impact panel filled together when a unit-period is imputed
INTERPOLATED = ("y", "numerator", "population", "weight")


def prepare(panel: pd.DataFrame, design: str, how: str, unit: str = "area_code",
            time: str = "t") -> tuple[pd.DataFrame, bool, str | None]:
    """The panel ``design`` should see under the choice ``how``; whether Callaway & Sant'Anna must
    allow an unbalanced panel; and a note for the report (None when the panel is balanced)."""
    if how not in CHOICES:
        raise ValueError(f"[impact] unbalanced must be one of {', '.join(map(repr, CHOICES))}; got {how!r}")
    applied = "drop" if (design == "synthetic" and how == "available") else how
    cols = [c for c in INTERPOLATED if c in panel.columns]
    data, report = balance_panel(panel, unit, time, applied, interpolate=cols, design=design)
    if not report.incomplete_units:
        return data, False, None
    name = DESIGN_NAMES.get(design, design)
    if design == "synthetic" and how == "available":
        note = (f"{name}: their weights need every period, so the {report.incomplete_units} incomplete "
                f"unit(s) were dropped ({report.missing_cells} unit-periods missing).")
    elif how == "available" and design == "callaway_santanna":
        note = (f"{name}: {report.note}, as R did's allow_unbalanced_panel (repeated cross-section "
                "estimators, standard errors clustered on the unit).")
    else:
        note = f"{name}: {report.note}."
    return data, how == "available" and design == "callaway_santanna", note


def fixed_effects_note(panel: pd.DataFrame, how: str, unit: str = "area_code", time: str = "t") -> str | None:
    """The report's note for TWFE and the event study, which apply ``how`` themselves."""
    cols = [c for c in INTERPOLATED if c in panel.columns]
    _, report = balance_panel(panel, unit, time, how, interpolate=cols, design="TWFE")  # "error" raises here
    return None if not report.incomplete_units else f"TWFE DiD and event study: {report.note}."
