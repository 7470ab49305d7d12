"""How comparison units are chosen: on what they are matched, and with outcomes after the start withheld.

Two rules of the analysis plan (docs/analysis-plan.md):

* **Outcomes after the start are withheld from the choice.** :func:`withhold_post_start` keeps only
  the periods before the earliest start of any programme unit; the covariates (deprivation, age
  structure, the outcome's baseline level and trend) and the matching are computed from that
  alone, so no post-start outcome can reach the choice of comparison units. This is the design
  principle of Rubin (2007, "The design versus the analysis of observational studies") and of the
  Improvement Analytics Unit's evaluations, which match on characteristics and prior activity
  measured before the intervention only.
* **The matching basis is named in the protocol** (``[impact] matching_basis``): ``"covariates"``
  (deprivation and age structure), ``"baseline_outcomes"`` (the outcome's pre-period level and
  trend) or ``"covariates_and_baseline_outcomes"`` (both, the default and the behaviour before
  the key existed). Matching on pre-period outcomes can bias a DiD through regression to the mean
  when the programme chose its sites by their outcomes (Daw & Hatfield 2018, "Matching and
  regression to the mean in difference-in-differences analysis", Health Services Research 53(6)):
  the report states that caution whenever an outcome-based basis is used.

Example:
    >>> MATCHING_BASES["baseline_outcomes"]
    ('baseline_level', 'baseline_trend')
    >>> panel = pd.DataFrame({"area_code": ["a", "a", "a", "b", "b", "b"], "t": [1, 2, 3] * 2,
    ...                       "first_treated": [3, 3, 3, 0, 0, 0], "y": [1.0, 2, 99, 1, 1, 1]})
    >>> withhold_post_start(panel)["t"].tolist()
    [1, 2, 1, 2]
"""

from __future__ import annotations

import pandas as pd

from joinedup.impact.comparison import COVARIATES, area_balance, area_covariates, match_areas

MATCHING_BASES = {
    "covariates_and_baseline_outcomes": COVARIATES,
    "covariates": ("imd_score", "share_65plus", "share_85plus"),
    "baseline_outcomes": ("baseline_level", "baseline_trend"),
}

RTM_CAUTION = ("Caution: comparison units were matched on the outcome's level and trend before the start. If "
               "the programme chose its sites because of their outcomes, this invites regression to the mean: "
               "comparison units picked for a baseline like the sites' may have been passing through a high or "
               "low spell and drift back to their own average afterwards, which looks like an effect (Daw & "
               "Hatfield 2018). Matching on covariates only (`[impact] matching_basis = \"covariates\"`) avoids "
               "this; compare the two.")


def withhold_post_start(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel's periods before the earliest start of any treated unit (every unit kept)."""
    treated = panel.loc[panel["first_treated"] > 0, "first_treated"]
    if treated.empty:
        raise ValueError("the panel has no treated units (first_treated > 0 nowhere)")
    out = panel[panel["t"] < int(treated.min())].copy()
    out.attrs.update(panel.attrs)
    return out


def comparison_covariates(ds, panel: pd.DataFrame, unit: str = "area", complete_baseline: bool = True) -> pd.DataFrame:
    """One row per unit with the matching covariates, computed from the pre-start periods only
    (``complete_baseline=False``: from the pre-periods each unit has, ``[impact] unbalanced``)."""
    before = withhold_post_start(panel)
    if unit == "practice":
        from joinedup.impact.practice_panel import practice_covariates
        return practice_covariates(ds, before, complete_baseline=complete_baseline)
    return area_covariates(ds, before, complete_baseline=complete_baseline)


def choose_comparison(covs: pd.DataFrame, spec):
    """Match ``spec.matched_controls`` comparison units per treated unit on ``spec.matching_basis``
    (a :class:`joinedup.impact.comparison.Matching`), or None when the protocol asks for no matching.

    Example:
        >>> matching = choose_comparison(comparison_covariates(ds, panel), spec)   # doctest: +SKIP
    """
    if not spec.matched_controls:
        return None
    basis = getattr(spec, "matching_basis", "covariates_and_baseline_outcomes")
    return match_areas(covs, "treated", MATCHING_BASES[basis], n_controls=spec.matched_controls)


def balance_on_all(matching, covs: pd.DataFrame) -> pd.DataFrame:
    """Balance on every covariate (matched on or not), so the report shows what the basis left out."""
    if matching is None:
        return area_balance(covs, "treated", COVARIATES)
    return area_balance(matching.areas, "treated", COVARIATES, "match_weight")


def comparison_units(matching, covs: pd.DataFrame) -> pd.DataFrame:
    """The chosen comparison units and their weights (every eligible unit, weight 1, without matching)."""
    if matching is None:
        rows = covs.loc[~covs["treated"].astype(bool), ["area_code"]].assign(match_weight=1.0)
    else:
        areas = matching.areas
        rows = areas.loc[~areas["treated"] & (areas["match_weight"] > 0), ["area_code", "match_weight"]]
    return rows.rename(columns={"area_code": "unit_code"}).sort_values("unit_code").reset_index(drop=True)


def matching_sentences(spec) -> list[str]:
    """The report's words on how comparison units were chosen (with the caution where it applies)."""
    if spec is None:
        return []
    if not spec.matched_controls:
        return ["Comparison units: every eligible unit, not matched (`[impact] matched_controls` not set)."]
    basis = spec.matching_basis
    words = {"covariates": "deprivation and age structure only (no outcome)",
             "baseline_outcomes": "the outcome's level and trend before the start",
             "covariates_and_baseline_outcomes": "deprivation, age structure and the outcome's level and trend "
                                                 "before the start"}[basis]
    out = [(f"Comparison units: {spec.matched_controls} per programme unit, matched on {words} "
            f"(`[impact] matching_basis = \"{basis}\"`); only periods before the first start were used to "
            "choose them.")]
    if basis != "covariates":
        out.append(RTM_CAUTION)
    return out


__all__ = ["MATCHING_BASES", "RTM_CAUTION", "balance_on_all", "choose_comparison", "comparison_covariates",
           "comparison_units", "matching_sentences", "withhold_post_start"]
