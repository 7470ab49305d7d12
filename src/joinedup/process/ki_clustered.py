"""Lead vs non-lead, clustered by site: a logistic GEE with an exchangeable working correlation.

Fisher's exact test (:func:`joinedup.process.ki_analysis.lead_vs_nonlead`) treats every answer as
independent, but respondents of one site share its history (and a respondent answers in several
waves), so answers within a site are correlated and Fisher's p-values are too small when they are.
The site-clustered alternative fits, per item, ``positive ~ lead`` by generalised estimating
equations (Liang & Zeger 1986) with a logit link, an exchangeable working correlation within each
site, and the robust ("sandwich") standard error, which stays valid when the working correlation is
wrong; the Wald test of the lead coefficient gives ``p_value``, adjusted within each family by Holm
and Benjamini-Hochberg as the Fisher table is. This is what R's ``geepack::geeglm(..., id = site,
family = binomial, corstr = "exchangeable")`` reports (its ``san.se``); the test suite checks it
against geepack's output stored in ``tests/data/reference/ki_gee_geepack.csv``.

With about 25 sites the sandwich is somewhat liberal (Mancl & DeRouen 2001); the table says how many
clusters each fit had. An item where one group has no variation (all positive or none) cannot be
fitted: its row carries NaN and the reason in ``note``.

The process tables use this clustered test as the primary lead vs non-lead comparison and keep
Fisher's as a sensitivity check (``comparison`` names which).

Example:
    >>> from joinedup.process.ki_sim import simulate_process_answers
    >>> answers, truth = simulate_process_answers(seed=1)
    >>> t = lead_vs_nonlead_clustered(answers)
    >>> bool((t.set_index("item").loc[truth["lead_effect_items"], "p_holm"] < 0.05).all())
    True
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from joinedup.impact.multiplicity import holm
from joinedup.process.ki_analysis import bh
from joinedup.process.ki_items import FAMILIES, POSITIVE

METHOD = ("logistic GEE, exchangeable working correlation within site, robust (sandwich) SE, Wald test "
          "(as geepack::geeglm)")


def binary_long(answers: pd.DataFrame, cluster: str = "pioneer") -> pd.DataFrame:
    """``family, item, cluster, lead, positive`` (0/1) per answer; "don't know" and missing left out,
    as in the Fisher table. Sorted by item and cluster (GEE needs each cluster's rows together)."""
    parts = []
    for family, items in FAMILIES.items():
        for item in items:
            a = answers[[cluster, "is_lead", item]].dropna()
            a = a[a[item] != "dont_know"]
            parts.append(pd.DataFrame({"family": family, "item": item, "cluster": a[cluster].astype(str).to_numpy(),
                                       "lead": (a["is_lead"] == "yes").astype(int).to_numpy(),
                                       "positive": a[item].isin(POSITIVE[family]).astype(int).to_numpy()}))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["item", "cluster"], kind="stable").reset_index(drop=True)


def gee_lead(d: pd.DataFrame) -> dict:
    """One item's fit: log odds ratio of a positive answer (lead vs other), robust SE, Wald p, the
    estimated within-site correlation and the number of clusters."""
    n_clusters = d["cluster"].nunique()
    base = {"n": len(d), "n_sites": n_clusters, "log_or": np.nan, "se_robust": np.nan, "odds_ratio": np.nan,
            "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "within_site_correlation": np.nan, "note": ""}
    by_group = d.groupby("lead")["positive"].agg(["min", "max"])
    if len(by_group) < 2 or ((by_group["min"] == by_group["max"]).any()) or n_clusters < 2:
        return {**base, "note": "not fitted: a group without variation (all or no answers positive) or one site"}
    model = sm.GEE(d["positive"].to_numpy(), sm.add_constant(d["lead"].to_numpy(dtype=float)),
                   groups=pd.factorize(d["cluster"])[0], family=sm.families.Binomial(),
                   cov_struct=sm.cov_struct.Exchangeable())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes are reported through the fit's values
        # ddof_scale=0: the moment estimators of the scale and the exchangeable correlation divide by
        # N, not N - p, as geepack's do (statsmodels' default divides by N - p)
        fit = model.fit(maxiter=100, ddof_scale=0)
    b, se = float(fit.params[1]), float(fit.bse[1])
    return {**base, "log_or": b, "se_robust": se, "odds_ratio": float(np.exp(b)),
            "ci_low": float(np.exp(b - 1.959963984540054 * se)), "ci_high": float(np.exp(b + 1.959963984540054 * se)),
            "p_value": float(fit.pvalues[1]), "within_site_correlation": float(model.cov_struct.dep_params)}


def lead_vs_nonlead_clustered(answers: pd.DataFrame, cluster: str = "pioneer") -> pd.DataFrame:
    """Per item: the lead vs non-lead odds ratio from a site-clustered logistic GEE, its robust p and
    the family-adjusted p-values (Holm, Benjamini-Hochberg); see the module docstring."""
    long = binary_long(answers, cluster)
    rows = []
    for family, items in FAMILIES.items():
        part = [{"comparison": "lead vs non-lead, clustered by site", "family": family, "item": item,
                 **gee_lead(long[long["item"] == item])} for item in items]
        ps = [r["p_value"] for r in part]
        for r, h, b in zip(part, holm(ps), bh(ps)):
            r.update(p_holm=h, p_bh=b, method=METHOD,
                     adjustment=f"Holm and Benjamini-Hochberg across the {len(items)} items of the {family} family")
        rows += part
    return pd.DataFrame(rows)


def lead_comparison(answers: pd.DataFrame, cluster: str = "pioneer") -> pd.DataFrame:
    """The lead vs non-lead table: the site-clustered GEE per item (``analysis = "primary"``) above
    Fisher's exact test (``"sensitivity"``: independent answers), each with its own family-wise
    adjustments, so a reader sees which test a p-value came from.

    >>> from joinedup.process.ki_sim import simulate_process_answers
    >>> lead_comparison(simulate_process_answers(seed=1)[0]).groupby("analysis").size().to_dict()
    {'primary': 16, 'sensitivity': 16}
    """
    from joinedup.process.ki_analysis import lead_vs_nonlead

    clustered = lead_vs_nonlead_clustered(answers, cluster).assign(analysis="primary")
    fisher = lead_vs_nonlead(answers).assign(analysis="sensitivity", method="Fisher's exact test (answers independent)")
    return pd.concat([clustered, fisher], ignore_index=True)
