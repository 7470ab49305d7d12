"""Callaway & Sant'Anna (2021) by subgroup, with a test of difference that uses the joint
covariance of the subgroup estimates.

Each group of a breakdown (deprivation quintile, age band, sex, ethnic group) gets its own area x
financial-year panel (the group's numerators over its own persons, as
:mod:`joinedup.impact.subgroups` builds them) and its own ``att_gt`` / ``aggte(type = "simple")``.
The groups share the areas, so area-level shocks make their estimates correlated. The
influence function of each group's aggregated ATT is known per area (R did's ``inf.function``),
so the covariance of two groups' estimates is, as for any pair of asymptotically linear
estimators (stacked influence functions; e.g. Callaway & Sant'Anna 2021, section 4.1, and
Tsiatis 2006, ch. 3):

    cov(b_j, b_k) = sum over areas i in both panels of psi_ij * psi_ik / (n_j * n_k),

with ``n_j`` the areas in group j's panel; the diagonal is R did's analytic (``bstrap = FALSE``)
variance. The test of equal effects across the ``G`` groups is the Wald test of ``C b = 0`` with
``C`` the ``G - 1`` successive differences:

    W = (C b)' (C V C')^-1 (C b) ~ chi-square(G - 1),

which for two groups is the square of ``z = (b_1 - b_2) / sqrt(v_11 + v_22 - 2 v_12)``. Unlike
:func:`joinedup.impact.subgroups.wald_equal_effects` (TWFE, groups taken as independent) it needs
no independence assumption. Its size and power on simulated England are measured by
``benchmarks/impact_coverage.py --design subgroups``.

Example:
    >>> import numpy as np
    >>> stat, df, p = joint_wald_equal_effects([0.1, 0.3], np.array([[0.01, 0.005], [0.005, 0.01]]))
    >>> (round(stat, 6), df)
    (4.0, 1)
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm
from scipy.stats import f as f_dist

DESIGN = "Callaway & Sant'Anna, simple aggregation, log rate, financial years (influence-function SEs)"


def joint_wald_equal_effects(estimates, covariance, n_clusters: int | None = None) -> tuple[float, int, float]:
    """Wald statistic, degrees of freedom and p-value for H0: every effect equal, given their
    joint covariance matrix (``G x G``).

    With ``n_clusters`` (m, the fewest treated areas of any group) the p-value is Hotelling's T²
    reference instead of chi-square: ``W (m - q) / (q (m - 1)) ~ F(q, m - q)``, ``q = G - 1``, for a
    covariance estimated from m clusters (the chi-square test over-rejects when m is small)."""
    b = np.asarray(estimates, dtype=float)
    v = np.asarray(covariance, dtype=float)
    if len(b) < 2 or v.shape != (len(b), len(b)):
        raise ValueError(f"need at least two estimates and a {len(b)} x {len(b)} covariance; got {v.shape}")
    if not (np.isfinite(b).all() and np.isfinite(v).all()):
        raise ValueError(f"estimates and covariance must be finite: {b}, {v}")
    c = np.eye(len(b))[:-1] - np.eye(len(b))[1:]  # successive differences b_g - b_(g+1)
    cv = c @ v @ c.T
    d = c @ b
    try:
        stat = float(d @ np.linalg.solve(cv, d))
    except np.linalg.LinAlgError as err:
        raise ValueError(f"the covariance of the differences is singular: {cv}") from err
    df = len(b) - 1
    if n_clusters is None:
        return stat, df, float(chi2.sf(stat, df))
    if n_clusters <= df:
        raise ValueError(f"Hotelling's reference needs more clusters ({n_clusters}) than differences ({df})")
    f_stat = stat * (n_clusters - df) / (df * (n_clusters - 1))
    return stat, df, float(f_dist.sf(f_stat, df, n_clusters - df))


def if_covariance(fits: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Covariance of estimates from their per-unit influence functions: ``fits`` holds, per
    estimate, (unit ids, influence function values) as ``att_gt`` / ``aggregate`` return them."""
    cov = np.zeros((len(fits), len(fits)))
    series = [pd.Series(psi, index=ids) for ids, psi in fits]
    for j, a in enumerate(series):
        for k in range(j, len(series)):
            b = series[k]
            common = a.index.intersection(b.index)
            cov[j, k] = cov[k, j] = float((a[common] * b[common]).sum()) / (len(a) * len(b))
    return cov


def cs_groups(panels: dict[str, pd.DataFrame], *, control_group: str = "nevertreated", est_method: str = "dr",
              anticipation: int = 0, base_period: str = "varying") -> tuple[pd.DataFrame, np.ndarray]:
    """Fit CS-DiD on each group's area panel (columns ``area_code, t, y, first_treated,
    population``; balanced) and return one row per group and the joint covariance matrix.

    Areas are weighted by their mean population before the start (as the main design)."""
    from joinedup.impact.did import att_gt

    rows, fits = [], []
    for group, panel in panels.items():
        pre = panel[(panel["first_treated"] == 0) | (panel["t"] < panel["first_treated"])]
        pop = pre.groupby("area_code")["population"].mean()
        data = panel.assign(area_weight=panel["area_code"].map(pop))
        res = att_gt(data, yname="y", tname="t", idname="area_code", gname="first_treated",
                     control_group=control_group, est_method=est_method, anticipation=anticipation,
                     base_period=base_period, weightsname="area_weight", bstrap=False, cband=False)
        agg = res.aggregate("simple")
        fits.append((res.unit_ids, agg.inf_overall))
        rows.append({"group": group, "estimate": agg.overall_att,
                     "n_treated_areas": int(data.loc[data["first_treated"] > 0, "area_code"].nunique()),
                     "n_comparison_areas": int(data.loc[data["first_treated"] == 0, "area_code"].nunique())})
    cov = if_covariance(fits)
    out = pd.DataFrame(rows)
    out["std_error"] = np.sqrt(np.diag(cov))
    return out, cov


def _balanced(panel: pd.DataFrame) -> pd.DataFrame:
    """Areas observed in every period of the panel (CS-DiD here takes a balanced panel)."""
    n_periods = panel["t"].nunique()
    counts = panel.groupby("area_code")["t"].nunique()
    return panel[panel["area_code"].isin(counts[counts == n_periods].index)]


def cs_subgroup_effects(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str,
                        spec=None) -> pd.DataFrame:
    """One row per group (CS-DiD on the group's panel), a row with the joint Wald test and, for an
    ordered breakdown, a row with the 1-df linear trend test
    (:mod:`joinedup.impact.subgroup_gradient`), in the columns of :func:`joinedup.impact.subgroups.subgroup_effects`.

    ``spec`` (the protocol's ``[impact]``) supplies control group, estimator, anticipation and base
    period; R did's defaults otherwise."""
    from joinedup.impact.panel import area_panel
    from joinedup.impact.subgroup_gradient import gradient_row
    from joinedup.impact.subgroups import PERIOD, _group_indicators, breakdown_groups

    groups, _ = breakdown_groups(breakdowns, outcome, breakdown)
    panels, labels = {}, {}
    for group in groups:
        indicators = _group_indicators(breakdowns, outcome, breakdown, group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            panel = area_panel(indicators, programme.table, outcome, PERIOD, programme=programme.key,
                               exclude=programme.exclude, scale="log", zeros="drop_area")
        panels[group] = _balanced(panel[~panel["programme_area"] | panel["treated"]])
        labels[group] = indicators["group_label"].iloc[0] if len(indicators) else group
    options = {} if spec is None else {"control_group": spec.control_group, "est_method": spec.est_method,
                                       "anticipation": spec.anticipation, "base_period": spec.base_period}
    out, cov = cs_groups(panels, **options)
    z = norm.ppf(0.975)
    out = out.assign(outcome=outcome, breakdown=breakdown, group_label=out["group"].map(labels),
                     ci_low=out["estimate"] - z * out["std_error"], ci_high=out["estimate"] + z * out["std_error"],
                     p_value=2 * norm.sf(np.abs(out["estimate"] / out["std_error"])), test="",
                     statistic=np.nan, df=np.nan)
    # Hotelling's F reference: the chi-square one rejected 10-12.5% of true nulls on simulated England
    # (benchmarks/impact_coverage.py --design subgroups; docs/inequalities.md)
    m = int(out["n_treated_areas"].min())
    stat, df, p = joint_wald_equal_effects(out["estimate"], cov, n_clusters=m)
    test = {"outcome": outcome, "breakdown": breakdown, "group": "difference",
            "group_label": "Test of equal effects across groups", "p_value": p,
            "test": f"Wald, {df} df, Hotelling F reference (equal effects; joint influence-function covariance)",
            "statistic": stat, "df": df}
    trend = gradient_row(breakdown, list(out["group"]), out["estimate"], cov, m, f"t({m - 1}) reference, m = {m} treated areas",
                         "joint influence-function covariance")
    extra = [test] + ([{"outcome": outcome, "breakdown": breakdown, **trend}] if trend else [])
    out = pd.concat([out, pd.DataFrame(extra)], ignore_index=True)
    out["design"] = DESIGN
    return out
