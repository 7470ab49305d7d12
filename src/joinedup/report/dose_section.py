"""The dose-response design's paragraph and table, appended to the impact section (``[impact] dose``).

The sentence is written from the table as written (tests/test_process_pipeline.py re-derives it).

Example:
    >>> import pandas as pd
    >>> row = pd.Series({"pct_change": -12.0, "pct_low": -20.0, "pct_high": -3.0, "p_value": 0.01,
    ...                  "pct_per_10pp": -1.27, "n_dosed_sites": 5, "register": "the register r.csv"})
    >>> "by -12.0% (95% CI -20.0% to -3.0%; p = 0.01)" in dose_sentence(row)
    True
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

import pandas as pd

from joinedup.report.html import table_html


def dose_sentence(row) -> str:
    """The estimate at full coverage and per 10 percentage points, from one row of impact_dose_response."""
    p = "p < 0.001" if row["p_value"] < 0.001 else f"p = {row['p_value']:.2g}"
    return (f"Dose-response ({row['register']}): covering a site's whole population would change the outcome by "
            f"{row['pct_change']:+.1f}% (95% CI {row['pct_low']:+.1f}% to {row['pct_high']:+.1f}%; {p}), "
            f"{row['pct_per_10pp']:+.2f}% per 10 percentage points of coverage, estimated on "
            f"{int(row['n_dosed_sites'])} sites with coverage. It assumes an effect linear in coverage and equal "
            "across sites (Callaway, Goodman-Bacon & Sant'Anna 2024), so it is not the primary design.")


def with_dose(section, table: pd.DataFrame):
    """The impact section with the dose-response sentence(s) and table appended."""
    body = "".join(f"<p>{escape(dose_sentence(r))}</p>" for _, r in table.iterrows())
    body += table_html(table, "Dose-response DiD on the share covered (initiative register)")
    return replace(section, body_html=section.body_html + "<h3>Dose-response (register coverage)</h3>" + body)
