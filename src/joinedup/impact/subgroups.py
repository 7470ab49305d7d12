"""An impact design run by subgroup (deprivation quintile, age band, sex, ethnic group), with a
test of whether the effect differs between subgroups.

For each group of a breakdown, the area x financial-year panel of the outcome is built from that
group's rows of ``indicator_breakdowns`` (its numerators over its own persons) and the two-way
fixed-effects DiD of the programme (all waves, log rate, population weights, cluster-robust by
area; :func:`joinedup.impact.twfe.twfe_did`) is fitted. The test of difference is the Wald test of
equal effects across the ``G`` groups (Cochran's Q form, as for subgroup differences in the
Cochrane Handbook, section 10.11.3.1):

    W = sum_g (b_g - b_w)^2 / se_g^2,   b_w = sum_g (b_g / se_g^2) / sum_g (1 / se_g^2),

referred to chi-square with ``G - 1`` degrees of freedom. It treats the subgroup estimates as
independent: they come from disjoint people, but the same areas and years, so area-level shocks
shared by the groups make it approximate (correlated estimates make it conservative when the
correlation is positive).

Example:
    >>> stat, df, p = wald_equal_effects([0.1, 0.1, 0.1], [0.05, 0.04, 0.06])
    >>> (round(stat, 6), df, round(p, 6))
    (0.0, 2, 1.0)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import chi2

PERIOD = "financial_year"


def wald_equal_effects(estimates, std_errors) -> tuple[float, int, float]:
    """Wald statistic, degrees of freedom and p-value for H0: every subgroup effect is equal."""
    b = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    if len(b) != len(se) or len(b) < 2:
        raise ValueError(f"need at least two subgroup estimates with standard errors; got {len(b)}")
    if not (np.isfinite(b).all() and np.isfinite(se).all() and (se > 0).all()):
        raise ValueError(f"estimates and standard errors must be finite, errors > 0: {b}, {se}")
    w = 1 / se ** 2
    pooled = float((w * b).sum() / w.sum())
    stat = float((w * (b - pooled) ** 2).sum())
    df = len(b) - 1
    return stat, df, float(chi2.sf(stat, df))


def breakdown_groups(breakdowns: pd.DataFrame, outcome: str, breakdown: str) -> tuple[list[str], dict[str, str]]:
    """The groups of ``breakdown`` a test of difference compares (``unknown`` left out, two or
    more) and their labels, for the joint designs (:mod:`~joinedup.impact.subgroups_cs`,
    :mod:`~joinedup.impact.subgroups_sdid`, :mod:`~joinedup.impact.subgroups_four`).

    Example:
        >>> b = pd.DataFrame({"breakdown": "sex", "group": ["F", "M", "unknown"],
        ...                   "group_label": ["Female", "Male", "Unknown"]})
        >>> breakdown_groups(b, "emergency_admissions", "sex")
        (['F', 'M'], {'F': 'Female', 'M': 'Male'})
    """
    rows = breakdowns[(breakdowns["breakdown"] == breakdown) & (breakdowns["group"] != "unknown")]
    groups = sorted(rows["group"].unique())
    if len(groups) < 2:
        raise ValueError(f"need two or more groups of breakdown {breakdown!r} for {outcome!r}; got {groups}")
    return groups, rows.drop_duplicates("group").set_index("group")["group_label"].to_dict()


def _group_indicators(breakdowns: pd.DataFrame, outcome: str, breakdown: str, group: str) -> pd.DataFrame:
    rows = breakdowns[(breakdowns["indicator"] == outcome) & (breakdowns["breakdown"] == breakdown)
                      & (breakdowns["group"] == group) & (breakdowns["level"] == "area")].copy()
    rows["period"] = PERIOD
    rows["area_code"] = rows["unit"]
    return rows


def subgroup_effects(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str) -> pd.DataFrame:
    """One row per group (TWFE DiD on the group's panel) and a last row with the Wald test.

    ``breakdowns``: the unrounded table of :func:`joinedup.indicators.breakdowns.compute_breakdowns`
    (financial years); ``programme``: a :class:`joinedup.programme.Programme`.
    """
    from joinedup.impact.panel import area_panel
    from joinedup.impact.twfe import twfe_did

    groups = sorted(g for g in breakdowns.loc[breakdowns["breakdown"] == breakdown, "group"].unique()
                    if g != "unknown")
    if not groups:
        raise ValueError(f"no groups of breakdown {breakdown!r} for {outcome!r} in the table")
    rows = []
    for group in groups:
        indicators = _group_indicators(breakdowns, outcome, breakdown, group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            panel = area_panel(indicators, programme.table, outcome, PERIOD, programme=programme.key,
                               exclude=programme.exclude, scale="log", zeros="drop_area")
        panel = panel[~panel["programme_area"] | panel["treated"]]
        res = twfe_did(panel, weights="weight", scale="log")
        label = indicators["group_label"].iloc[0] if len(indicators) else group
        rows.append({"outcome": outcome, "breakdown": breakdown, "group": group, "group_label": label,
                     "estimate": res.estimate, "std_error": res.se, "ci_low": res.ci[0],
                     "ci_high": res.ci[1], "p_value": res.p,
                     "n_treated_areas": int(panel.loc[panel["treated"], "area_code"].nunique()),
                     "n_comparison_areas": int(panel.loc[~panel["treated"], "area_code"].nunique()),
                     "test": "", "statistic": np.nan, "df": np.nan})
    out = pd.DataFrame(rows)
    stat, df, p = wald_equal_effects(out["estimate"], out["std_error"])
    test = {"outcome": outcome, "breakdown": breakdown, "group": "difference",
            "group_label": "Test of equal effects across groups", "estimate": np.nan,
            "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": p,
            "n_treated_areas": np.nan, "n_comparison_areas": np.nan,
            "test": f"Wald chi-square, {df} df (equal effects)", "statistic": stat, "df": df}
    out = pd.concat([out, pd.DataFrame([test])], ignore_index=True)
    out["design"] = "TWFE DiD, all waves, log rate, financial years (cluster-robust by area)"
    return out
