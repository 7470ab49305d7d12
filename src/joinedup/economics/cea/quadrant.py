"""Where an intervention sits on the cost-effectiveness plane, and what its ICER then means.

A negative ICER is ambiguous (it can mean "dominant" or "dominated"), so joinedup never reports one
bare: the ratio is kept only where it is meaningful (NE: cost per QALY gained; SW: savings per QALY
lost) and replaced by the dominance statement elsewhere.

Example:
    >>> q = icer_quadrant(inc_cost=2000.0, inc_effect=0.1)
    >>> q.quadrant, q.icer, q.statement
    ('NE', 20000.0, '£20,000 per QALY gained (more costly, more effective)')
    >>> icer_quadrant(-500.0, 0.05).label
    'dominant'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

LABELS = {
    "NE": "more costly, more effective",
    "SE": "dominant",
    "NW": "dominated",
    "SW": "less costly, less effective",
    "origin": "no difference",
}


@dataclass(frozen=True)
class Quadrant:
    """One comparison on the CE plane: quadrant code, label, the ICER where meaningful, a sentence."""

    inc_cost: float
    inc_effect: float
    quadrant: str
    label: str
    icer: float  # NaN in SE / NW / origin, where a ratio would mislead
    statement: str


def icer_quadrant(inc_cost: float, inc_effect: float, unit: str = "QALY") -> Quadrant:
    """Classify a mean (incremental cost, incremental effect) pair and phrase its ICER safely.

    Boundaries: no extra cost for more effect counts as dominant (SE); no extra effect for more cost
    as dominated (NW); a zero effect difference gives no ratio at all.

    Example:
        >>> icer_quadrant(-1000.0, -0.2).statement
        '£5,000 saved per QALY lost (less costly, less effective)'
    """
    dc, de = float(inc_cost), float(inc_effect)
    if de > 0 and dc > 0:
        code = "NE"
    elif de >= 0 and dc <= 0 and not (de == 0 and dc == 0):
        code = "SE"
    elif de <= 0 and dc >= 0 and not (de == 0 and dc == 0):
        code = "NW"
    elif de < 0 and dc < 0:
        code = "SW"
    else:
        code = "origin"
    ratio = dc / de if code in ("NE", "SW") else math.nan
    if code == "NE":
        text = f"£{ratio:,.0f} per {unit} gained (more costly, more effective)"
    elif code == "SW":
        text = f"£{ratio:,.0f} saved per {unit} lost (less costly, less effective)"
    elif code == "SE":
        text = f"dominant: saves £{-dc:,.0f} and gains {de:.4g} {unit}s"
    elif code == "NW":
        text = f"dominated: costs £{dc:,.0f} more and loses {-de:.4g} {unit}s"
    else:
        text = "no difference in mean costs or effects"
    return Quadrant(dc, de, code, LABELS[code], ratio, text)
