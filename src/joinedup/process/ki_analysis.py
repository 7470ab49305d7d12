"""Analysis of the process items: tables from microdata, lead vs non-lead, change across waves.

* **Tables** (:func:`item_table`): answers per item, counted from the respondent rows, disclosure
  controlled (counts 1-7 suppressed, others rounded to 5: :func:`joinedup.disclosure.control_counts`).
* **Lead vs non-lead** (:func:`lead_vs_nonlead`): per item, the share of positive answers
  (:data:`~joinedup.process.ki_items.POSITIVE`, "don't know" and missing left out) among leads and
  non-leads, Fisher's exact test (two-sided; few leads, one per site per wave).
* **Change across waves** (:func:`wave_change`): share positive in the first and the last wave,
  Fisher's exact test.

Both report, for each family of items, Holm's family-wise adjustment (``p_holm``, reusing
:func:`joinedup.impact.multiplicity.holm`) and Benjamini–Hochberg's false-discovery-rate adjustment
(``p_bh``, as ``statsmodels ... multipletests(method="fdr_bh")``), labelled with the family. Answers
are treated as independent; respondents within a site are not: the site-clustered test is
:func:`joinedup.process.ki_clustered.lead_vs_nonlead_clustered` (a logistic GEE), which the lead vs
non-lead table uses first (:func:`joinedup.process.ki_clustered.lead_comparison`), this one second.

Example:
    >>> bh([0.01, 0.04, 0.03])
    [0.03, 0.04, 0.04]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.disclosure import control_counts
from joinedup.impact.multiplicity import holm
from joinedup.process.ki_items import FAMILIES, POSITIVE


def bh(pvalues) -> list[float]:
    """Benjamini–Hochberg adjusted p-values in input order (step-up; NaN stays NaN)."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = len(ok)
    if m:
        order = ok[np.argsort(p[ok], kind="stable")]
        raw = p[order] * m / np.arange(1, m + 1)
        out[order] = np.minimum(1.0, np.minimum.accumulate(raw[::-1])[::-1])
    return [round(float(v), 12) for v in out]


def item_table(answers: pd.DataFrame, disclosure: bool = True) -> pd.DataFrame:
    """``family, item, answer, n`` (n controlled unless ``disclosure=False``) for every process item."""
    rows = [{"family": f, "item": i, "answer": a, "n": int(n)} for f, items in FAMILIES.items() for i in items
            for a, n in answers[i].value_counts().sort_index().items()]
    out = pd.DataFrame(rows)
    return control_counts(out, ["n"]) if disclosure else out


def _shares(d: pd.DataFrame, item: str, family: str) -> tuple[int, int]:
    a = d[item].dropna()
    a = a[a != "dont_know"]
    return int(a.isin(POSITIVE[family]).sum()), len(a)


def _compare(answers: pd.DataFrame, mask_a: pd.Series, mask_b: pd.Series, labels: tuple[str, str], what: str) -> pd.DataFrame:
    rows = []
    for family, items in FAMILIES.items():
        part = []
        for item in items:
            ka, na = _shares(answers[mask_a], item, family)
            kb, nb = _shares(answers[mask_b], item, family)
            p = stats.fisher_exact([[ka, na - ka], [kb, nb - kb]])[1] if na and nb else np.nan
            part.append({"comparison": what, "family": family, "item": item, f"share_{labels[0]}": ka / na if na else np.nan,
                         f"n_{labels[0]}": na, f"share_{labels[1]}": kb / nb if nb else np.nan, f"n_{labels[1]}": nb,
                         "difference": (ka / na - kb / nb) if na and nb else np.nan, "p_value": p})
        ps = [r["p_value"] for r in part]
        for r, h, b in zip(part, holm(ps), bh(ps)):
            r.update(p_holm=h, p_bh=b, adjustment=f"Holm and Benjamini-Hochberg across the {len(items)} items of "
                     f"the {family} family; Fisher's exact test")
        rows += part
    return pd.DataFrame(rows)


def lead_vs_nonlead(answers: pd.DataFrame) -> pd.DataFrame:
    """Per item: positive share among leads and non-leads, Fisher p and family-adjusted p-values."""
    lead = answers["is_lead"] == "yes"
    return _compare(answers, lead, ~lead, ("lead", "other"), "lead vs non-lead")


def wave_change(answers: pd.DataFrame) -> pd.DataFrame:
    """Per item: positive share in the last and the first wave, Fisher p and family-adjusted p-values."""
    first, last = answers["wave"].min(), answers["wave"].max()
    return _compare(answers, answers["wave"] == last, answers["wave"] == first, ("last", "first"),
                    f"wave {last} vs wave {first}")
