"""Co-interventions as dated covariates: units in other programmes kept, their exposure adjusted for.

Excluding every unit touched by another programme (``[programme] co_interventions = "exclude"``, the
default) can leave a small, unrepresentative comparison pool when the other programme is national
(the Vanguards touched about a fifth of England). With ``co_interventions = "covariate"`` those units
stay, and each design adjusts as far as it can:

* TWFE DiD and the event study: a dated exposure ``exposed_<programme>`` (1 from the period that
  contains the unit's start in the other programme, as ``first_treated`` counts a period with any
  exposure) enters the regression beside the treatment dummy — the usual way a concurrent policy
  is controlled for in a two-way fixed-effects DiD (e.g. Morciano et al. 2021 model Pioneers and
  Vanguards together);
* Callaway & Sant'Anna: its conditional parallel trends take time-invariant covariates only (the
  covariates of the base period; Callaway & Sant'Anna 2021, sec. 2), so membership
  ``member_<programme>`` (0/1) is the covariate: trends are compared within members and within
  non-members of the other programme, which removes the other programme's effect when its start
  is common to its members;
* synthetic control and synthetic DiD take no covariates here: they keep leaving those units out.

Example:
    >>> panel = pd.DataFrame({"area_code": ["a", "a", "b", "b"], "t": [1, 2, 1, 2],
    ...                       "period_start": pd.to_datetime(["2015-01-01", "2015-04-01"] * 2)})
    >>> table = pd.DataFrame({"programme": ["vanguard"], "area_code": ["b"],
    ...                       "start_date": pd.to_datetime(["2015-05-01"])})
    >>> add_exposures(panel, table, ("vanguard",))["exposed_vanguard"].tolist()
    [0.0, 0.0, 0.0, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXPOSED, MEMBER = "exposed_", "member_"


def add_exposures(panel: pd.DataFrame, table: pd.DataFrame, others: tuple[str, ...]) -> pd.DataFrame:
    """``exposed_<p>`` (dated 0/1) and ``member_<p>`` (0/1) for each other programme ``p`` in ``table``."""
    out = panel.copy()
    starts = np.sort(pd.to_datetime(out["period_start"]).unique())
    for other in others:
        rows = table[table["programme"] == other]
        first = pd.to_datetime(rows["start_date"]).groupby(rows["area_code"]).min()
        start = out["area_code"].map(first)
        # index of the period containing the start (as joinedup.impact.panel does for first_treated)
        t_start = pd.Series(np.searchsorted(starts, start.to_numpy(dtype="datetime64[ns]"), side="right"),
                            index=out.index).clip(lower=1)
        out[f"{MEMBER}{other}"] = start.notna().astype(float)
        out[f"{EXPOSED}{other}"] = (start.notna() & (out["t"] >= t_start)).astype(float)
    out.attrs.update(panel.attrs)
    return out


def exposure_terms(panel: pd.DataFrame) -> list[str]:
    """The dated exposure columns present (none unless co-interventions are covariates) that vary."""
    return [c for c in panel.columns if c.startswith(EXPOSED) and panel[c].nunique() > 1]


def membership_formula(panel: pd.DataFrame) -> str | None:
    """Callaway & Sant'Anna's ``xformla`` for the membership columns present, else None."""
    terms = [c for c in panel.columns if c.startswith(MEMBER) and panel[c].nunique() > 1]
    return "~ " + " + ".join(terms) if terms else None


def without_co_intervention_units(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel without units of other programmes (the synthetic designs' pool); unchanged without them."""
    members = [c for c in panel.columns if c.startswith(MEMBER)]
    if not members:
        return panel
    out = panel[~(panel[members] > 0).any(axis=1)].copy()
    out.attrs.update(panel.attrs)
    return out


def co_intervention_panel(panel: pd.DataFrame, programme) -> pd.DataFrame:
    """The panel with exposure columns when the programme treats co-interventions as covariates."""
    if getattr(programme, "co_interventions", "exclude") != "covariate" or not programme.others:
        return panel
    return add_exposures(panel, programme.table, programme.others)


def own_effect_truth(truth: dict | None, programme) -> dict | None:
    """``truth.json`` for the programme's own effect when other programmes are adjusted for.

    With co-interventions as covariates the estimand is the programme's effect net of the other
    programme's, so the simulated Vanguard effect (the simulator's second programme) is left out of
    the programmed effect set beside the estimates; with "exclude" the truth is unchanged.

    >>> own_effect_truth({"effects": [{"name": "vanguard"}, {"name": "pioneer_wave_1"}]},
    ...                  type("P", (), {"co_interventions": "covariate", "others": ("v",)})())
    {'effects': [{'name': 'pioneer_wave_1'}]}
    """
    if truth is None or getattr(programme, "co_interventions", "exclude") != "covariate" or not programme.others:
        return truth
    return {**truth, "effects": [e for e in truth.get("effects", []) if e.get("name") != "vanguard"]}


def co_intervention_note(programme) -> list[str]:
    """The impact section's note when other programmes are adjusted for rather than excluded."""
    if getattr(programme, "co_interventions", "exclude") != "covariate" or not programme.others:
        return []
    names = " and ".join(programme.exclude_names.get(o, o) for o in programme.others)
    unit = programme.unit_word
    return [(f"{unit.capitalize()}s also in {names} are kept: exposure from their start date is a dated covariate "
             "in the TWFE DiD and event study, membership a covariate of Callaway & Sant'Anna; synthetic control "
             "and synthetic DiD leave them out.")]


def co_intervention_sentences(protocol) -> list[str]:
    """The report's words on what was done with units in other programmes."""
    spec = getattr(protocol, "programme", None)
    if protocol.impact is None:
        return []
    if spec is None:
        return ["Co-interventions: Vanguard areas were " + ("excluded from the comparisons."
                if protocol.impact.exclude_vanguards else "kept in the comparisons without adjustment.")]
    if not spec.exclude:
        return ["Co-interventions: no other programme was named (`[programme] exclude` is empty)."]
    files = ", ".join(spec.exclude)
    if spec.co_interventions == "exclude":
        return [(f"Co-interventions: units in the other programme(s) ({files}) were excluded from the comparisons "
                 "(`[programme] co_interventions = \"exclude\"`).")]
    return [(f"Co-interventions: units in the other programme(s) ({files}) were kept, with exposure to each from "
             "its start date as a dated covariate in the TWFE DiD and event study, and membership as a covariate "
             "of Callaway & Sant'Anna; synthetic control and synthetic DiD leave those units out "
             "(`[programme] co_interventions = \"covariate\"`).")]


__all__ = ["add_exposures", "co_intervention_note", "co_intervention_panel", "co_intervention_sentences", "exposure_terms",
           "membership_formula", "own_effect_truth", "without_co_intervention_units"]
