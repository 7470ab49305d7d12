"""The rates, percentages and means of each output table and what each is of, declared once.

:func:`joinedup.outputs.write_table` reads this by table name, so no writer can forget it (the rule
itself is in :mod:`joinedup.disclosure`). It follows NHS Digital's disclosure control methodology for
HES and ECDS (September 2018; docs/disclosure.md): a sub-national rate or percentage whose numerator
is 1-7, and a mean (or percentile) over 1-7 people, is suppressed with its count; a percentage shown
beside its rounded counts is computed from the rounded figures. Standardised rates (DSRs: the
indicator methods already give none under 10 events), confidence intervals of standardised rates and
model estimates are complex calculations the guide exempts; the confidence limits of a crude rate or
a percentage are suppressed with it (they would give a small numerator back).

Example:
    >>> import pandas as pd
    >>> t = pd.DataFrame({"admissions": [3, 40], "persons": [1000, 1000], "rate_per_1000": [3.0, 40.0]})
    >>> sorted(rates_for("emergency_by_month", t))
    ['rate_per_1000']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.disclosure import from_rounded

_LIMITS = ("lower", "upper", "lower_998", "upper_998")

# table name -> {rate, percentage or mean column: the count it is of (or the number of people it is over)}
RATES: dict[str, dict[str, str]] = {
    "emergency_by_month": {"rate_per_1000": "admissions"},
    "indicator_funnel": {c: "observed" for c in ("ratio", "y_transformed", "z", "z_trimmed", "z_od")},
    "economics_use": {"mean": "people"},
    "economics_estimates": {"mean_before": "n", "mean_after": "n"},
    # expected / mean_predicted would give n back; observed_rate is observed / n
    "economics_risk_calibration": {"observed_rate": "observed", "mean_predicted": "n", "expected": "n"},
    "cohort_trajectory": {"rate_per_1000": "people"},
    "cohort_estimates": {"baseline_mean": "enrolled"},
    "cohort_naive": {"before": "enrolled", "after": "enrolled", "change": "enrolled"},
    # indicators by deprivation quintile, age band, sex, ethnicity (indicators/breakdowns.py)
    "indicator_breakdowns": {c: "numerator" for c in ("value", *_LIMITS)},
}

# table name -> (percentage column, numerator, denominator, multiplier): recomputed from the rounded
# counts shown beside it (rows whose counts are controlled, i.e. not national)
FROM_ROUNDED: dict[str, tuple[str, str, str, float]] = {
    "emergency_by_month": ("rate_per_1000", "admissions", "persons", 1000.0),
    "economics_risk_calibration": ("observed_rate", "observed", "n", 1.0),
}


def rates_for(name: str, frame: pd.DataFrame) -> dict:
    """The rate columns of table ``name`` mapped to their numerators (a column, or an array per row).

    The indicator table mixes methods: a percentile is over the stays it is computed from (its
    ``denominator``); every other value and its limits are of the ``numerator``.
    """
    if name == "indicators":
        is_percentile = frame["method"].astype(str).str.contains("percentile").to_numpy()
        basis = np.where(is_percentile, frame["denominator"].to_numpy(float), frame["numerator"].to_numpy(float))
        return {c: basis for c in ("value", *_LIMITS) if c in frame.columns}
    # a table may leave out some derived columns (the funnel's overdispersion columns need enough
    # areas); its numerators must be there (control_rates says which is missing)
    return {rate: numerator for rate, numerator in RATES.get(name, {}).items() if rate in frame.columns}


def recompute_from_rounded(name: str, controlled: pd.DataFrame, national) -> pd.DataFrame:
    """Percentages of table ``name`` shown beside their rounded counts, recomputed from those counts."""
    sub_national = ~np.broadcast_to(np.asarray(national, dtype=bool), (len(controlled),))
    if name == "indicators":
        # Wilson percentages: value = numerator / denominator x 100 (the limits, a complex
        # calculation the guide exempts, stay as computed from the unrounded counts)
        rows = sub_national & controlled["method"].astype(str).str.startswith("Wilson").to_numpy()
        return from_rounded(controlled, "value", "numerator", "denominator", 100.0, rows)
    if name in FROM_ROUNDED:
        column, numerator, denominator, multiplier = FROM_ROUNDED[name]
        return from_rounded(controlled, column, numerator, denominator, multiplier, sub_national)
    return controlled
