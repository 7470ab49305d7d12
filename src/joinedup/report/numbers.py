"""A check that every number in generated wording can be re-derived from the output tables, so the
text and the tables cannot drift apart (issue 16: "RR1 3580.0%" was a percentage multiplied by 100
twice).

A number in the text is *derived* when some cell of some table, under one of the transformations
the wording uses, rounds to it at the number of decimals printed: the value itself, its negation,
100 times a proportion (a column whose values all lie in [0, 1]), a log ratio as a percentage change
(100·(e^x − 1)) and a ratio as a percentage change (100·(x − 1)); also each table's row count, each flag column's count of true values and the
rows suppressed across all tables (the limitations' count). Small integers (such as "5 of 11") are
easily found somewhere, so the check is strongest on decimals and large counts. Constants of the wording (the 95%
of an interval, thresholds named in limitations) are allowed by the caller.

Example:
    >>> import pandas as pd
    >>> t = {"rates": pd.DataFrame({"rr1": [35.8]})}
    >>> underived("RR1 35.8% of panelists", t), underived("RR1 3580.0% of panelists", t)
    ([], ['3580.0'])
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

NUMBER = re.compile(r"(?<![\w.])[-+−]?\d[\d,]*(?:\.\d+)?")


def numbers_in(text: str) -> list[str]:
    """Every number written in ``text`` (signs kept, thousands separators allowed)."""
    return [m.group(0) for m in NUMBER.finditer(text)]


def _candidates(tables: dict[str, pd.DataFrame]) -> np.ndarray:
    values = [np.array([float(len(f)) for f in tables.values()]),  # row counts ("11 estimates")
              np.array([float(sum(int(f["suppressed"].sum()) for f in tables.values() if "suppressed" in f))])]
    for frame in tables.values():
        for col in frame.columns:
            series = frame[col]
            if pd.api.types.is_bool_dtype(series):
                values.append(np.array([float(series.sum())]))  # counts of rows flagged
                continue
            x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size == 0:
                continue
            values += [x, -x]
            if ((x >= 0) & (x <= 1)).all():
                values.append(100 * x)
            if (np.abs(x) < 5).all():
                values += [100 * np.expm1(x), 100 * (x - 1)]
    return np.unique(np.concatenate(values)) if values else np.array([])


def underived(text: str, tables: dict[str, pd.DataFrame], allowed=(95,)) -> list[str]:
    """The numbers in ``text`` that no table cell gives (see the module docstring)."""
    pool = _candidates(tables)
    missing = []
    for raw in numbers_in(text):
        number = float(raw.replace(",", "").replace("−", "-"))
        decimals = len(raw.split(".")[1]) if "." in raw else 0
        if any(abs(number - a) < 1e-9 for a in allowed):
            continue
        half = 0.5 * 10 ** -decimals + 1e-9
        if not np.any(np.abs(pool - number) <= half):
            missing.append(raw)
    return missing


def paragraphs(body_html: str) -> list[str]:
    """The text of every ``<p>`` of a rendered section (tables, charts and their data left out), so the
    harness can check a section as the reader sees it, not only the sentences a function returned.

    Example:
        >>> paragraphs('<p class="x">A &amp; B: <strong>1.5%</strong></p><table><tr><td>9</td></tr></table>')
        ['A & B: 1.5%']
    """
    import html as _html

    found = re.findall(r"<p(?:\s[^>]*)?>(.*?)</p>", body_html, flags=re.S)
    return [re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", "", f))).strip() for f in found]
