"""The four-group design by subgroup, with a test of difference per contrast that uses the
stacked cluster-robust covariance of the subgroup estimates.

Each group of a breakdown gets its own area x financial-year panel (its numerators over its own
persons, as :mod:`joinedup.impact.subgroups` builds it, but with every area kept, as the four-group
design needs) and its own four-group TWFE regression
(:func:`joinedup.impact.four_groups.four_group_did`: programme only, other programme only and
both, each against areas in neither; cluster-robust by area). The groups share the areas, so
area-level shocks correlate their estimates. Every group's coefficients are linear in its
per-area scores ``s_ig = sum_t x~_igt w_igt e_igt`` (the fixed effects partialled out), so the
covariance of two groups' coefficients is the sandwich of the stacked regression (the groups fitted
as one regression with group-interacted fixed effects, clustered by area; e.g. Cameron & Miller
2015, section VI.B, seemingly unrelated regressions with clustering):

    cov(b_j, b_k) = c_jk A_j^-1 (sum over areas i of s_ij s_ik') A_k^-1,

``A_g`` the group's (weighted, residualised) ``X'WX``; an area missing from a group scores 0
there. ``c_jj`` is the group's own CR1 factor, so each diagonal block is that group's own
cluster-robust variance; off the diagonal ``c_jk = sqrt(c_jj c_kk)`` (which keeps ``V`` positive
semi-definite; a joint regression would use one factor for all, differing by well under 1% here).

For each contrast, the test of equal effects across the ``G`` groups is the Wald test of
``C b = 0`` (``C`` the successive differences) with that covariance, referred to Hotelling's T²
with ``m`` the fewest areas of the contrast's programme group in any subgroup, as
:mod:`joinedup.impact.subgroups_cs` does (few clusters make the chi-square over-reject). Measured
by ``benchmarks/impact_coverage.py --design subgroups-sdid-four`` on simulated England's
deprivation quintiles: 0-3% rejections of equal effects that were equal (chi-square: 7-12%).

Example:
    >>> import numpy as np, pandas as pd
    >>> part = (np.eye(1), pd.DataFrame({"b": [1.0, -1.0]}, index=["E1", "E2"]), 1.0)
    >>> stacked_cluster_covariance([part, part])
    array([[2., 2.],
           [2., 2.]])
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

DESIGN = "four groups TWFE DiD, log rate, financial years (stacked cluster-robust covariance by area)"
METHOD = "Four groups: {contrast} vs neither"


def design_parts(design) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, float]:
    """Coefficients, inverse bread, per-area scores (indexed by area) and CR1 factor of a fit."""
    coef, _, inv, scores, ssc = design.sandwich_parts()
    return coef, inv, pd.DataFrame(scores, index=design.cluster_labels), ssc


def stacked_cluster_covariance(parts: list[tuple[np.ndarray, pd.DataFrame, float]]) -> np.ndarray:
    """Covariance of the stacked coefficients of several fits: ``parts`` holds, per fit, its inverse
    bread (p x p), its scores by cluster (a frame indexed by cluster label, p columns) and its
    small-sample factor. Blocks in the order given (see the module docstring)."""
    clusters = pd.Index(sorted(set().union(*(s.index for _, s, _ in parts))))
    aligned = [s.reindex(clusters, fill_value=0.0).to_numpy() for _, s, _ in parts]
    sizes = [inv.shape[0] for inv, _, _ in parts]
    offsets = np.r_[0, np.cumsum(sizes)]
    cov = np.zeros((offsets[-1], offsets[-1]))
    for j, (inv_j, _, c_j) in enumerate(parts):
        for k, (inv_k, _, c_k) in enumerate(parts):
            block = np.sqrt(c_j * c_k) * inv_j @ (aligned[j].T @ aligned[k]) @ inv_k.T
            cov[offsets[j]:offsets[j + 1], offsets[k]:offsets[k + 1]] = block
    return cov


def group_panels(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str,
                 groups: list[str]) -> dict[str, pd.DataFrame]:
    """Each group's area panel with every area kept (the four-group design's panel)."""
    from joinedup.impact.panel import area_panel
    from joinedup.impact.subgroups import PERIOD, _group_indicators

    panels = {}
    for group in groups:
        indicators = _group_indicators(breakdowns, outcome, breakdown, group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            panels[group] = area_panel(indicators, programme.table, outcome, PERIOD, programme=programme.key,
                                       exclude=(), scale="log", zeros="drop_area")
    return panels


def four_groups_fits(panels: dict[str, pd.DataFrame], programmes: pd.DataFrame, programme: str,
                     other: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Four-group TWFE on each group's panel: one row per group and contrast (``group, contrast,
    estimate, std_error, n_areas, n_neither, n_clusters``) and the stacked covariance of the rows."""
    from joinedup.impact.four_groups import four_group_design

    rows, parts = [], []
    for group, panel in panels.items():
        design, present, areas = four_group_design(panel, programmes, programme=programme, other=other)
        coef, inv, scores, ssc = design_parts(design)
        parts.append((inv, scores, ssc))
        rows += [{"group": group, "contrast": c, "estimate": b, "n_areas": int((areas == c).sum()),
                  "n_neither": int((areas == "neither").sum()), "n_clusters": len(scores)}
                 for c, b in zip(present, coef)]
    cov = stacked_cluster_covariance(parts)
    out = pd.DataFrame(rows)
    out["std_error"] = np.sqrt(np.diag(cov))
    return out, cov


def four_groups_subgroup_effects(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str,
                                 alpha: float = 0.05) -> pd.DataFrame:
    """Per contrast (programme only, other only, both): one row per group, a row with the joint Wald
    test and, for an ordered breakdown, a row with the 1-df linear trend test, in the columns of :func:`joinedup.impact.subgroups.subgroup_effects`.
    Each group's estimate and interval are :func:`joinedup.impact.four_groups.four_group_did`'s
    (t with clusters - 1 df)."""
    from joinedup.impact.subgroup_gradient import gradient_row
    from joinedup.impact.subgroups import breakdown_groups
    from joinedup.impact.subgroups_cs import joint_wald_equal_effects

    if programme.other is None:
        raise ValueError("the four-group design needs a second programme (an exclude file)")
    groups, labels = breakdown_groups(breakdowns, outcome, breakdown)
    panels = group_panels(breakdowns, programme, outcome, breakdown, groups)
    fits, cov = four_groups_fits(panels, programme.table, programme.key, programme.other)
    parts = []
    for contrast in dict.fromkeys(fits["contrast"]):
        method = METHOD.format(contrast=contrast.replace("_", " "))
        idx = np.flatnonzero(fits["contrast"] == contrast)
        rows = fits.iloc[idx]
        if len(rows) < len(groups):  # some group has no area of this programme group after its start
            missing = sorted(set(groups) - set(rows["group"]))
            parts.append(pd.DataFrame([{"outcome": outcome, "breakdown": breakdown, "group": "not run",
                                        "group_label": f"Not run: no estimate for group(s) {missing}",
                                        "design": DESIGN, "method": method}]))
            continue
        crit = stats.t.ppf(1 - alpha / 2, rows["n_clusters"] - 1)
        t_df = rows["n_clusters"] - 1
        out = pd.DataFrame({
            "outcome": outcome, "breakdown": breakdown, "group": rows["group"],
            "group_label": rows["group"].map(labels), "estimate": rows["estimate"],
            "std_error": rows["std_error"], "ci_low": rows["estimate"] - crit * rows["std_error"],
            "ci_high": rows["estimate"] + crit * rows["std_error"],
            "p_value": 2 * stats.t.sf(np.abs(rows["estimate"] / rows["std_error"]), t_df),
            "n_treated_areas": rows["n_areas"], "n_comparison_areas": rows["n_neither"], "test": "",
            "statistic": np.nan, "df": np.nan})
        m = int(rows["n_areas"].min())
        trend = gradient_row(breakdown, list(rows["group"]), rows["estimate"], cov[np.ix_(idx, idx)], m,
                             f"t({m - 1}) reference, m = {m} areas", "stacked cluster-robust covariance")
        extra = [{"outcome": outcome, "breakdown": breakdown, **trend}] if trend else []
        try:
            stat, df, p = joint_wald_equal_effects(rows["estimate"], cov[np.ix_(idx, idx)], n_clusters=m)
        except ValueError as err:  # e.g. fewer areas in the programme group than differences to test
            not_run = {"outcome": outcome, "breakdown": breakdown, "group": "not run",
                       "group_label": f"Test of equal effects not run: {err}"}
            parts.append(pd.concat([out, pd.DataFrame([not_run] + extra)], ignore_index=True)
                         .assign(design=DESIGN, method=method))
            continue
        test = {"outcome": outcome, "breakdown": breakdown, "group": "difference",
                "group_label": "Test of equal effects across groups", "p_value": p,
                "test": f"Wald, {df} df, Hotelling F reference (equal effects; stacked cluster-robust covariance)",
                "statistic": stat, "df": df}
        parts.append(pd.concat([out, pd.DataFrame([test] + extra)], ignore_index=True)
                     .assign(design=DESIGN, method=method))
    return pd.concat(parts, ignore_index=True)
