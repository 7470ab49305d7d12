"""Change between waves in each closed item, allowing for clustering within Pioneers.

For each item and each pair of waves (consecutive pairs, then first vs last) the binary outcome the
tables use (progress: substantial or some; barriers: significant; helpfulness: very or fairly;
involvement: very; "don't know" counts as not the outcome, as in the tables) is compared two ways:

* **GEE** (the one approach used): a logistic GEE of the outcome on an indicator of the later wave,
  over all respondents (completes) of the two waves who answered the item, with an exchangeable
  working correlation within Pioneer (``groups`` = pioneer). Panelists are nested in Pioneers, so
  the robust (sandwich) standard errors also allow for the same person answering both waves. The
  ``estimate`` is the odds ratio (later vs earlier wave), with a Wald 95% CI and p-value from the
  robust standard error. Where the outcome does not vary, or fewer than two Pioneers answered, the
  model is not estimable and the estimate is empty (``method`` says why).
* **Paired tests** on panelists who answered the item in both waves: McNemar on the binary outcome
  (exact binomial when discordant pairs < 25, else chi-square with continuity correction), and
  Stuart–Maxwell marginal homogeneity on the full answer categories (those used in either wave).

Columns of ``change.csv``: ``item, domain, wave_from, wave_to, outcome``; ``n_from, n_to``
(respondents answering in each wave), ``pct_from, pct_to`` (per cent with the outcome, 1 dp);
``estimate, ci_low, ci_high, p_value`` (GEE odds ratio, 95% CI, robust p); ``method``;
``n_paired`` (panelists answering in both); ``paired_method`` (mcnemar_exact / mcnemar_chi2),
``paired_statistic`` (discordant count b for exact, chi-square otherwise), ``paired_p_value``;
``sm_statistic, sm_df, sm_p_value`` (Stuart–Maxwell; empty with fewer than two categories or a
singular covariance).

Example:
    >>> # change_table(data).query("item == 'bar_it_ig'")[["wave_from", "wave_to", "estimate"]]
"""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.contingency_tables import SquareTable, mcnemar

from joinedup.survey.analysis.inputs import DOMAINS, SurveyData
from joinedup.survey.analysis.tables import pct

COLUMNS = ["item", "domain", "wave_from", "wave_to", "outcome", "n_from", "n_to", "pct_from", "pct_to",
           "estimate", "ci_low", "ci_high", "p_value", "method", "n_paired", "paired_method",
           "paired_statistic", "paired_p_value", "sm_statistic", "sm_df", "sm_p_value"]
GEE_METHOD = "gee_logit_exchangeable_pioneer_robust"
EXACT_BELOW = 25  # discordant pairs below which McNemar uses the exact binomial test


def wave_pairs(waves: list[int]) -> list[tuple[int, int]]:
    """Consecutive pairs then first vs last (once).

    Example:
        >>> wave_pairs([1, 2, 3])
        [(1, 2), (2, 3), (1, 3)]
    """
    pairs = list(pairwise(waves))
    if len(waves) > 2:
        pairs.append((waves[0], waves[-1]))
    return pairs


def gee_odds_ratio(y, later, pioneer) -> dict:
    """Odds ratio of the outcome, later vs earlier wave, from a logistic GEE clustered by Pioneer.

    Example:
        >>> y = [0, 1, 0, 1, 1, 1, 0, 1]; later = [0, 0, 0, 0, 1, 1, 1, 1]
        >>> round(gee_odds_ratio(y, later, list("abababab"))["estimate"], 2)
        3.0
    """
    y, later, pioneer = np.asarray(y, float), np.asarray(later, float), np.asarray(pioneer)
    empty = {"estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    if len(np.unique(pioneer)) < 2:
        return {**empty, "method": "not estimable: fewer than 2 Pioneers"}
    # with no variation in the outcome in one wave the odds ratio is 0 or infinite
    for w in (0, 1):
        if len(np.unique(y[later == w])) < 2:
            return {**empty, "method": "not estimable: outcome constant within a wave"}
    order = np.argsort(pioneer, kind="stable")  # GEE wants each cluster's rows together
    exog = np.column_stack([np.ones(len(y)), later])[order]
    model = sm.GEE(y[order], exog, groups=pioneer[order], family=sm.families.Binomial(),
                   cov_struct=sm.cov_struct.Exchangeable())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(maxiter=100)
        except (np.linalg.LinAlgError, ValueError) as e:
            return {**empty, "method": f"not estimable: {type(e).__name__}"}
    beta, se = float(fit.params[1]), float(fit.bse[1])
    if not np.isfinite(beta) or not np.isfinite(se):
        return {**empty, "method": "not estimable: non-finite estimate"}
    note = "; did not converge" if any("converge" in str(w.message).lower() for w in caught) else ""
    return {"estimate": float(np.exp(beta)), "ci_low": float(np.exp(beta - 1.959963984540054 * se)),
            "ci_high": float(np.exp(beta + 1.959963984540054 * se)), "p_value": float(fit.pvalues[1]),
            "method": GEE_METHOD + note}


def mcnemar_test(before, after) -> dict:
    """McNemar on paired booleans: exact if discordant pairs < 25, else corrected chi-square.

    Example:
        >>> r = mcnemar_test([1, 1, 1, 0], [0, 0, 1, 0])
        >>> r["paired_method"], r["paired_statistic"], r["paired_p_value"]
        ('mcnemar_exact', 0.0, 0.5)
    """
    before, after = np.asarray(before, bool), np.asarray(after, bool)
    table = np.array([[np.sum(before & after), np.sum(before & ~after)],
                      [np.sum(~before & after), np.sum(~before & ~after)]])
    exact = table[0, 1] + table[1, 0] < EXACT_BELOW
    result = mcnemar(table, exact=exact, correction=True)
    return {"paired_method": "mcnemar_exact" if exact else "mcnemar_chi2",
            "paired_statistic": float(result.statistic), "paired_p_value": float(result.pvalue)}


def stuart_maxwell(before, after, categories) -> dict:
    """Stuart–Maxwell test of marginal homogeneity over the categories used in either wave.

    Example:
        >>> r = stuart_maxwell(list("aabbc"), list("abbcc"), "abc")
        >>> r["sm_df"]
        2
    """
    used = [c for c in categories if c in set(before) | set(after)]
    empty = {"sm_statistic": np.nan, "sm_df": np.nan, "sm_p_value": np.nan}
    if len(used) < 2:
        return empty
    index = {c: i for i, c in enumerate(used)}
    table = np.zeros((len(used), len(used)))
    for b, a in zip(before, after):
        table[index[b], index[a]] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a singular covariance warns and gives NaN
        result = SquareTable(table, shift_zeros=False).homogeneity("stuart_maxwell")
    if not np.isfinite(result.statistic):
        return empty
    return {"sm_statistic": float(result.statistic), "sm_df": int(result.df), "sm_p_value": float(result.pvalue)}


def change_table(data: SurveyData) -> pd.DataFrame:
    """One row per item and wave pair; see the module docstring for the columns.

    Example:
        >>> # change_table(data).query("p_value < 0.05")
    """
    rows = []
    resp = data.respondents
    for domain in DOMAINS.values():
        for item in domain.items:
            for w0, w1 in wave_pairs(data.waves):
                a = resp.loc[(resp["wave"] == w0) & resp[item].notna(), ["panelist_id", "pioneer", item]]
                b = resp.loc[(resp["wave"] == w1) & resp[item].notna(), ["panelist_id", "pioneer", item]]
                ya, yb = a[item].isin(domain.positive), b[item].isin(domain.positive)
                row = {"item": item, "domain": domain.name, "wave_from": w0, "wave_to": w1,
                       "outcome": domain.outcome, "n_from": len(a), "n_to": len(b),
                       "pct_from": pct(ya.sum(), len(a)), "pct_to": pct(yb.sum(), len(b))}
                row.update(gee_odds_ratio(np.r_[ya, yb], np.r_[np.zeros(len(a)), np.ones(len(b))],
                                          np.r_[a["pioneer"].to_numpy(), b["pioneer"].to_numpy()]))
                paired = a.merge(b, on="panelist_id", suffixes=("_from", "_to"))
                row["n_paired"] = len(paired)
                if len(paired):
                    before, after = paired[f"{item}_from"], paired[f"{item}_to"]
                    row.update(mcnemar_test(before.isin(domain.positive), after.isin(domain.positive)))
                    row.update(stuart_maxwell(before.tolist(), after.tolist(), domain.choices))
                rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)
