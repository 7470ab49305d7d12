"""The four-group design: Pioneer only, Vanguard only, both, neither.

Published analyses of the Pioneers at CCG level (Morciano et al. 2021) compared four groups of areas,
because many Pioneer areas were also new care model Vanguards from 2015. Each programme group gets its
own post-start indicator in one two-way fixed-effects regression, against the areas in neither
programme:

    y_it = a_i + g_t + b_P * pioneer_only_post + b_V * vanguard_only_post + b_B * both_post + e_it

``post`` is from the period containing the group's own start (for areas in both, the earlier of
the two starts). Standard errors are cluster-robust by area (CR1, t with G-1 df), as in
:func:`joinedup.impact.twfe.twfe_did`.

Example:
    >>> res = four_group_did(panel, programmes)                            # doctest: +SKIP
    >>> res[["group", "estimate", "ci_low", "ci_high", "n_areas"]]          # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.impact.within import Design

GROUPS = ("pioneer_only", "vanguard_only", "both")


def _first_start(programmes: pd.DataFrame, programme: str) -> pd.Series:
    rows = programmes[programmes["programme"] == programme]
    return pd.to_datetime(rows["start_date"]).groupby(rows["area_code"]).min()


def _groups(programme: str, other: str) -> tuple[str, str, str]:
    """The three programme groups' names: ``GROUPS`` for the Pioneers and Vanguards."""
    return (f"{programme}_only", f"{other}_only", "both")


def group_and_post(panel: pd.DataFrame, programmes: pd.DataFrame, programme: str = "pioneer",
                   other: str = "vanguard") -> tuple[np.ndarray, pd.Series]:
    """Each row's programme group (``GROUPS`` or "neither") and whether it is after the group's start.
    ``programme`` and ``other`` name the two programmes in the ``programme`` column."""
    pioneer, vanguard = _first_start(programmes, programme), _first_start(programmes, other)
    code = panel["area_code"]
    p_start, v_start = code.map(pioneer), code.map(vanguard)
    in_p, in_v = p_start.notna(), v_start.notna()
    group = np.select([in_p & ~in_v, ~in_p & in_v, in_p & in_v], list(_groups(programme, other)), "neither")
    start = pd.concat([p_start, v_start], axis=1).min(axis=1)
    # the period containing the start is the first treated one: its end is after the start
    period_len = panel.groupby("t")["period_start"].first().sort_index().diff().median()
    post = (pd.to_datetime(panel["period_start"]) + period_len > start).fillna(False)
    return group, post


def four_group_did(panel: pd.DataFrame, programmes: pd.DataFrame, y: str = "y", weights: str | None = "weight",
                   alpha: float = 0.05, programme: str = "pioneer", other: str = "vanguard") -> pd.DataFrame:
    """One effect per programme group against areas in neither (see the module docstring).

    ``panel``: an area panel with every area kept (``area_panel(..., exclude=())``): columns
    ``area_code, period_start, t`` and ``y``. ``programmes``: the programmes table (``programme,
    area_code, start_date``). Returns one row per group: ``group, estimate, std_error, ci_low,
    ci_high, p_value, n_areas``, plus ``n_neither``.
    """
    design, present, areas = four_group_design(panel, programmes, y, weights, programme, other)
    fit = design.fit()
    se = np.sqrt(np.diag(fit.vcov))
    df = fit.n_clusters - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    return pd.DataFrame({
        "group": present, "estimate": fit.coef, "std_error": se, "ci_low": fit.coef - crit * se,
        "ci_high": fit.coef + crit * se, "p_value": 2 * stats.t.sf(np.abs(fit.coef / se), df),
        "n_areas": [int((areas == g).sum()) for g in present],
        "n_neither": int((areas == "neither").sum()),
    })


def four_group_design(panel: pd.DataFrame, programmes: pd.DataFrame, y: str = "y", weights: str | None = "weight",
                      programme: str = "pioneer", other: str = "vanguard") -> tuple[Design, list[str], pd.Series]:
    """The regression of :func:`four_group_did`, unfitted: the design, the programme groups with an
    area observed after its start (its coefficients, in order) and each area's group."""
    need = [c for c in ("area_code", "period_start", "t", y) + ((weights,) if weights else ()) if c not in panel]
    if need:
        raise ValueError(f"the panel lacks column(s) {need} (it has: {list(panel.columns)})")
    data = panel.copy()
    group, post = group_and_post(data, programmes, programme, other)
    groups = _groups(programme, other)
    for g in groups:
        data[f"{g}_post"] = ((group == g) & post).astype(float)
    if not (group == "neither").any():
        raise ValueError("no areas in neither programme to compare with")
    present = [g for g in groups if data[f"{g}_post"].any()]
    if not present:
        raise ValueError("no area of any programme group is observed after its start")
    design = Design.build(data, y, [f"{g}_post" for g in present], "area_code", "t", weights)
    areas = pd.Series(group, index=data.index).groupby(data["area_code"]).first()
    return design, present, areas
