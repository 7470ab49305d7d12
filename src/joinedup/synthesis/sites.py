"""Synthesis across sites: each Pioneer site's effect, pooled by random-effects meta-analysis and
related to the site's approach (its schemes) by meta-regression.

Site effects: for each site, a two-way fixed-effects DiD of the outcome panel with that site's areas as
the treated units and the areas in no programme as comparisons (other Pioneer sites left out, so sites
are estimated independently), population-weighted. Most sites are one or a few areas, and a
cluster-robust SE with one treated cluster is far too small, so the sampling variance comes from
placebos instead (Conley & Taber 2011 in spirit): the same DiD with ``B`` random groups of as many
comparison areas pseudo-treated from the site's start; the variance of those placebo estimates is the
site's ``vi``. (On a balanced panel with common timing the weighted TWFE estimate is the weighted mean
pre/post change of the treated minus that of the comparisons, which makes each placebo one line.) The pooled effect is REML with the Knapp-Hartung adjustment (few sites, heterogeneous: the
z-test would be too confident); moderators are the typology's 0/1 scheme-type features.

Where the data are simulated, the programmed site effect (the log of the mean multiplier over the site's
treated area-periods, :func:`joinedup.impact.truth.programmed_effect`) sits beside each estimate.

Example:
    >>> result = synthesise_sites(panel, schemes, truth)                         # doctest: +SKIP
    >>> result.meta.summary()                                                    # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.impact.twfe import twfe_did
from joinedup.synthesis.meta import MetaRegression, MetaResult, meta_analysis, meta_regression


@dataclass(frozen=True)
class SiteSynthesis:
    sites: pd.DataFrame          # site, wave, n_areas, estimate, se, ci_low, ci_high, pct_change, programmed
    meta: MetaResult
    regression: MetaRegression | None
    moderators: tuple[str, ...]


def _changes(never: pd.DataFrame, t0: int) -> tuple[np.ndarray, np.ndarray]:
    """Per comparison area: mean outcome from ``t0`` minus mean before, and its population weight."""
    post = never["t"] >= t0
    g = never.assign(post=post).groupby(["area_code", "post"])["y"].mean().unstack()
    w = never.groupby("area_code")["weight"].mean().reindex(g.index)
    return (g[True] - g[False]).to_numpy(), w.to_numpy()


def placebo_se(never: pd.DataFrame, t0: int, m: int, B: int = 500, seed: int = 2013) -> float:
    """SD of DiD estimates with ``m`` random comparison areas pseudo-treated from period ``t0``."""
    delta, w = _changes(never, t0)
    rng = np.random.default_rng(seed)
    n = len(delta)
    est = np.empty(B)
    for b in range(B):
        pick = np.zeros(n, dtype=bool)
        pick[rng.choice(n, size=m, replace=False)] = True
        est[b] = np.average(delta[pick], weights=w[pick]) - np.average(delta[~pick], weights=w[~pick])
    return float(est.std(ddof=1))


def site_effects(panel: pd.DataFrame, truth: dict | None = None, B: int = 500, seed: int = 2013) -> pd.DataFrame:
    """One TWFE DiD per site against the never-treated areas, placebo SEs (see the module docstring)."""
    from scipy import stats

    from joinedup.impact.truth import programmed_effect

    never = panel[panel["first_treated"] == 0]
    rows = []
    for site, part in panel[panel["site"].notna()].groupby("site", sort=True):
        sub = pd.concat([part, never], ignore_index=True)
        sub.attrs = panel.attrs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = twfe_did(sub, weights="weight").tidy().iloc[0]
        m = int(part["area_code"].nunique())
        se = placebo_se(never, int(part["first_treated"].max()), m, B, seed)
        est = float(fit["estimate"])
        z = stats.norm.ppf(0.975)
        row = {"site": site, "wave": int(part["wave"].max()), "n_areas": m, "estimate": est, "se": se,
               "ci_low": est - z * se, "ci_high": est + z * se, "cluster_se": float(fit["std_error"]),
               "pct_change": float(100 * np.expm1(est))}
        if truth is not None:
            treated = part[part["treated_post"] == 1]
            row["programmed"] = programmed_effect(truth, treated,
                                                  panel.attrs.get("scale", "log"),
                                                  period=panel.attrs.get("period", "quarter"))
        rows.append(row)
    return pd.DataFrame(rows)


def synthesise_sites(panel: pd.DataFrame, schemes: pd.DataFrame | None = None, truth: dict | None = None,
                     method: str = "REML", knha: bool = True, min_sites_per_feature: int = 3, B: int = 500,
                     seed: int = 2013) -> SiteSynthesis:
    """Site effects, their random-effects pool and a meta-regression on scheme types.

    Scheme types run by fewer than ``min_sites_per_feature`` sites (or by all but that many) are left out
    of the meta-regression: a moderator seen at two sites cannot be told apart from those sites' noise.
    """
    sites = site_effects(panel, truth, B, seed)
    if len(sites) < 2:
        raise ValueError(f"{len(sites)} site(s) with effects: a synthesis needs at least 2")
    meta = meta_analysis(sites["estimate"], sites["se"] ** 2, method, knha, labels=sites["site"])
    regression, mods = None, ()
    if schemes is not None and len(schemes):
        feats = pd.crosstab(schemes["site"], schemes["scheme_type"]).clip(upper=1)
        feats = feats.reindex(sites["site"]).fillna(0)
        keep = [c for c in feats.columns
                if min_sites_per_feature <= feats[c].sum() <= len(feats) - min_sites_per_feature]
        # at most a third as many moderators as sites
        keep = sorted(keep, key=lambda c: -min(feats[c].sum(), len(feats) - feats[c].sum()))[:max(1, len(sites) // 3)]
        if keep and len(sites) > len(keep) + 1:
            regression = meta_regression(sites["estimate"], sites["se"] ** 2, feats[keep].reset_index(drop=True),
                                         method, knha)
            mods = tuple(keep)
    return SiteSynthesis(sites, meta, regression, mods)
