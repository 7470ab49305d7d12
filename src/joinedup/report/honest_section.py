"""The impact section's robustness paragraph: HonestDiD sensitivity of the wave-1 event study
(``tables/impact_honest``, :mod:`joinedup.impact.honest.main_design`). Every number in the words is
read from the table shown beside them (and re-derived from it in tests/test_report_honest.py).

A robust set "excludes no effect" only when its whole interval lies on one side of zero; the
breakdown value is the table's own (bisection, to 1% of its value).

Example:
    >>> import pandas as pd
    >>> t = pd.DataFrame({"restriction": ["RM", "RM"], "m": [0.0, 1.0], "lb": [0.01, -0.02],
    ...                   "ub": [0.1, 0.2], "breakdown": [0.5, 0.5], "estimate": [0.05, 0.05],
    ...                   "original_low": [0.01, 0.01], "original_high": [0.09, 0.09]})
    >>> honest_sentences(t)[1]
    'Relative magnitudes: if the change in the violation after the start may be up to Mbar times the largest change between consecutive periods before it, the robust interval excludes no effect up to Mbar = 0.50 (the breakdown value); at Mbar = 1 it is -0.0200 to 0.2000.'
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd

from joinedup.report.html import table_html

_WHAT = {"RM": ("Relative magnitudes: if the change in the violation after the start may be up to Mbar "
                "times the largest change between consecutive periods before it", "Mbar", 1.0),
         "SD": ("Smoothness: if the slope of the violation may change by up to M per period (M = 0: a "
                "linear trend before the start may continue after it)", "M", 0.0)}


def _f(x: float) -> str:
    return f"{x:.4f}"


def _breakdown_words(b, name: str, grid_max: float) -> str:
    if b is None or (isinstance(b, float) and np.isnan(b)):
        return f"the robust interval includes no effect already at {name} = 0"
    if np.isinf(b):
        return f"the robust interval excludes no effect at every {name} tried (up to {grid_max:g} and beyond)"
    return f"the robust interval excludes no effect up to {name} = {b:.{2 if name == 'Mbar' else 4}f} " \
           "(the breakdown value)"


def honest_sentences(table: pd.DataFrame) -> list[str]:
    """The original interval, then one sentence per restriction (RM first, then SD)."""
    first = table.iloc[0]
    out = [f"Robustness to violations of parallel trends (HonestDiD; Rambachan & Roth 2023), for the "
           f"effect in the first period after the start: estimate {_f(first['estimate'])}, 95% interval "
           f"assuming parallel trends {_f(first['original_low'])} to {_f(first['original_high'])}."]
    for restriction in ("RM", "SD"):
        rows = table[table["restriction"] == restriction].sort_values("m")
        if rows.empty:
            continue
        what, name, at = _WHAT[restriction]
        b = rows["breakdown"].iloc[0]
        shown = rows.iloc[int(np.argmin(np.abs(rows["m"].to_numpy() - at)))]
        m_text = f"{shown['m']:g}" if name == "Mbar" else f"{shown['m']:.4f}"
        out.append(f"{what}, {_breakdown_words(b, name, float(rows['m'].max()))}; at {name} = {m_text} it is "
                   f"{_f(shown['lb'])} to {_f(shown['ub'])}.")
    return out


def honest_html(table: pd.DataFrame | None, outcome: str | None = None, scale: str = "log") -> str:
    """The paragraph and the table of robust sets (one outcome's rows), or "" without a table."""
    if table is None or table.empty:
        return ""
    if outcome is not None and "outcome" in table:
        table = table[table["outcome"] == outcome]
        if table.empty:
            return ""
    parts = [f"<p>{escape(s)}</p>" for s in honest_sentences(table)]
    shown = pd.DataFrame({"Restriction": table["restriction"].map({"RM": "relative magnitudes (Mbar)",
                                                                   "SD": "smoothness (M)"}),
                          "M or Mbar": table["m"], "Method": table["method"],
                          "Robust 95% set": [f"{_f(lo)} to {_f(hi)}" for lo, hi in zip(table["lb"], table["ub"])],
                          "Excludes no effect": table["excludes_zero"].map({True: "yes", False: "no"}),
                          "Breakdown value": table["breakdown"]})
    parts.append(table_html(shown, f"Robust confidence sets for the first post-period effect of the wave-1 "
                                   f"event study ({scale} scale), by how far parallel trends may fail"))
    return "\n".join(parts)
