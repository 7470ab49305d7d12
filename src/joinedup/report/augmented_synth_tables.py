"""Report tables for ridge ASCM and the conformal intervals of synthetic control (per site).

Shown in the impact section after the synthetic control's site table, when the protocol asked for
``augmented_synthetic_control`` or ``conformal_intervals`` (see :mod:`joinedup.impact.augmented`).
Per-period conformal intervals are in the ``impact_synth_conformal`` table; the report shows each
site's constant-effect interval.

Example:
    >>> parts = augmented_synth_tables(result.tables, "emergency_admissions", "Pioneer")  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.report.html import table_html


def _num(value, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return ""
    if np.isinf(value):
        return "unbounded" if value > 0 else "-unbounded"
    return f"{value:.{digits}f}"


def _interval(lo, hi) -> str:
    return "" if pd.isna(lo) or pd.isna(hi) else f"{_num(lo)} to {_num(hi)}"


def _first_outcome(table: pd.DataFrame, outcome: str) -> pd.DataFrame:
    return table[table["outcome"] == outcome] if "outcome" in table else table


def augmented_synth_tables(tables: dict, outcome: str, name: str = "Pioneer") -> list[str]:
    """HTML tables for the ASCM sites and the conformal constant-effect intervals (empty if neither ran)."""
    parts = []
    if "impact_ascm_sites" in tables:
        s = _first_outcome(tables["impact_ascm_sites"], outcome)
        shown = pd.DataFrame({
            "Site": s["site"], "Wave": s["wave"], "Effect": s["estimate"].map(_num),
            "95% conformal interval (constant effect)": [_interval(lo, hi) for lo, hi in zip(s["ci_low"], s["ci_high"])],
            "Conformal p": s["p_value"].map(_num), "% change": s["pct_change"].map(lambda v: _num(v, 1)),
            "Ridge lambda": s["lambda"].map(lambda v: f"{v:.3g}"), "Pre-period RMSPE": s["pre_rmspe"].map(_num),
            "Negative weights": s["n_negative_weights"]})
        if s["programmed"].notna().any():
            shown["Programmed effect"] = s["programmed"].map(_num)
        parts.append(table_html(shown, f"Ridge-augmented synthetic control (ASCM) for each {name} site"))
    if "impact_synth_conformal" in tables:
        c = _first_outcome(tables["impact_synth_conformal"], outcome)
        c = c[c["t"].isna()]
        shown = pd.DataFrame({
            "Site": c["site"], "Method": c["method"].map({"synth": "synthetic control (outcomes)",
                                                          "ascm": "ridge ASCM"}),
            "Effect": c["estimate"].map(_num),
            "95% conformal interval (constant effect)": [_interval(lo, hi) for lo, hi in zip(c["ci_low"], c["ci_high"])],
            "Conformal p": c["p_value"].map(_num)})
        if c["programmed"].notna().any():
            shown["Programmed effect"] = c["programmed"].map(_num)
            shown["Inside the interval"] = c["covers_programmed"].map(
                lambda v: "" if v is None or pd.isna(v) else ("yes" if v else "no"))
        parts.append(table_html(shown, f"Conformal intervals for each {name} site's synthetic control "
                                       "(Chernozhukov, Wüthrich & Zhu 2021; by period in impact_synth_conformal)"))
    return parts
