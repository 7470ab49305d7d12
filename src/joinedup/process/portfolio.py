"""Each site's portfolio per year, on fixed dimensions, from the initiative register.

An initiative is in a site's portfolio in year ``y`` when it has a row in ``y`` at a stage other than
``stopped`` (planned initiatives count: the narrowing is of the agenda, not only of delivery). The
dimensions are fixed in advance (the code lists of :mod:`joinedup.process.vocab`), so a site's
position in one year can be compared with the next; re-clustering each year would not allow it
(cluster labels do not match across years).

* ``initiatives``: initiatives in the portfolio; ``breadth``: distinct initiative types;
  ``target_breadth``: distinct target groups;
* ``medical_share``: share of the portfolio's initiatives on the medical model;
* ``focus_share``: share that are community MDTs for older people / people with long-term conditions;
* one 0/1 column per type (``type:...``), target group (``target:...``) and model (``model:...``).

Years are kept from the first year a site was in the programme on 1 January (``from_year``; by
default the year after its earliest initiative starts, or that year if it starts on 1 January).

Example:
    >>> from joinedup.simulate.initiatives import simulate_register
    >>> from joinedup.process.register import validate_register
    >>> rows = validate_register(simulate_register(seed=1)[0]).rows
    >>> list(site_years(rows).columns[:6])
    ['site', 'year', 'initiatives', 'breadth', 'target_breadth', 'medical_share']
"""

from __future__ import annotations

import pandas as pd

from joinedup.process.vocab import (
    FOCUS_TARGETS,
    FOCUS_TYPE,
    INITIATIVE_TYPES,
    MODELS,
    TARGET_GROUPS_REGISTER,
)


def _first_years(rows: pd.DataFrame) -> pd.Series:
    first = rows.groupby("site")["start_date"].min()
    return first.dt.year + ((first.dt.month != 1) | (first.dt.day != 1)).astype(int)


def portfolio_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """``site, year, initiative_id`` and the initiative's attributes, for each initiative in a portfolio."""
    r = rows[rows["stage"] != "stopped"].assign(year=rows["period"].dt.year)
    return r.drop_duplicates(["initiative_id", "year"])[
        ["site", "year", "initiative_id", "initiative_type", "target_groups", "model"]]


def site_years(rows: pd.DataFrame, from_year: pd.Series | dict | None = None) -> pd.DataFrame:
    """The site x year panel of portfolio measures and fixed 0/1 features (module docstring)."""
    p = portfolio_rows(rows)
    first = _first_years(rows) if from_year is None else pd.Series(from_year)
    p = p[p["year"] >= p["site"].map(first)]
    p = p.assign(focus=(p["initiative_type"] == FOCUS_TYPE)
                 & p["target_groups"].str.split(";").map(lambda g: bool(set(g) & set(FOCUS_TARGETS))),
                 medical=p["model"] == "medical")
    g = p.groupby(["site", "year"])
    out = g.agg(initiatives=("initiative_id", "nunique"), breadth=("initiative_type", "nunique"),
                medical_share=("medical", "mean"), focus_share=("focus", "mean")).reset_index()
    targets = p.assign(target=p["target_groups"].str.split(";")).explode("target")
    out.insert(4, "target_breadth", targets.groupby(["site", "year"])["target"].nunique().to_numpy())
    feats = [pd.crosstab([p["site"], p["year"]], "type:" + p["initiative_type"]).reindex(
                 columns=[f"type:{t}" for t in INITIATIVE_TYPES], fill_value=0),
             pd.crosstab([targets["site"], targets["year"]], "target:" + targets["target"]).reindex(
                 columns=[f"target:{t}" for t in TARGET_GROUPS_REGISTER], fill_value=0),
             pd.crosstab([p["site"], p["year"]], "model:" + p["model"]).reindex(
                 columns=[f"model:{m}" for m in MODELS], fill_value=0)]
    f = pd.concat(feats, axis=1).clip(upper=1).astype(int).reset_index()
    f.columns.name = None
    return out.merge(f, on=["site", "year"], how="left").sort_values(["site", "year"]).reset_index(drop=True)


def pooled_by_year(panel: pd.DataFrame) -> pd.DataFrame:
    """Per year: sites, mean breadth, mean medical share and mean focus share over the sites."""
    return panel.groupby("year").agg(sites=("site", "nunique"), mean_initiatives=("initiatives", "mean"),
                                     mean_breadth=("breadth", "mean"), mean_medical_share=("medical_share", "mean"),
                                     mean_focus_share=("focus_share", "mean")).reset_index()
