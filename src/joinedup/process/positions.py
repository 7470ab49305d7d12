"""Sites' positions on fixed dimensions, year by year, and their moves.

A site-year is placed by two fixed cut-offs, set before the data are seen (so a label means the same
in every year): on the medical-model share (``medical_cut``, default 0.6: most of the portfolio
clinical) and on breadth (``breadth_cut``, default 5 distinct initiative types, about the median of
the first year in the Pioneer documents). The four positions:

===========================  =========================================
``broad_mixed``              breadth >= cut, medical share < cut
``broad_medical``            breadth >= cut, medical share >= cut
``narrow_community``         breadth < cut, medical share < cut
``narrow_medical``           breadth < cut, medical share >= cut (the narrowed agenda)
===========================  =========================================

A move is a change of position between a site's consecutive years.

Example:
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"site": ["A", "A"], "year": [2014, 2015], "breadth": [6, 3],
    ...                       "medical_share": [0.4, 0.8]})
    >>> moves(positions(panel))[["site", "from_position", "to_position"]].values.tolist()
    [['A', 'broad_mixed', 'narrow_medical']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

POSITIONS = ("broad_mixed", "broad_medical", "narrow_community", "narrow_medical")


def positions(panel: pd.DataFrame, medical_cut: float = 0.6, breadth_cut: int = 5) -> pd.DataFrame:
    """``site, year, breadth, medical_share, position`` (see the module docstring)."""
    broad = panel["breadth"] >= breadth_cut
    medical = panel["medical_share"] >= medical_cut
    pos = np.select([broad & ~medical, broad & medical, ~broad & ~medical], POSITIONS[:3], POSITIONS[3])
    return panel[["site", "year", "breadth", "medical_share"]].assign(position=pos)


def moves(pos: pd.DataFrame) -> pd.DataFrame:
    """``site, from_year, to_year, from_position, to_position`` for every change between consecutive years."""
    p = pos.sort_values(["site", "year"])
    prev = p.groupby("site")[["year", "position"]].shift()
    changed = prev["position"].notna() & (prev["position"] != p["position"]) & (p["year"] - prev["year"] == 1)
    return pd.DataFrame({"site": p.loc[changed, "site"], "from_year": prev.loc[changed, "year"].astype(int),
                         "to_year": p.loc[changed, "year"], "from_position": prev.loc[changed, "position"],
                         "to_position": p.loc[changed, "position"]}).reset_index(drop=True)


def transition_counts(pos: pd.DataFrame) -> pd.DataFrame:
    """Counts of (from, to) positions over consecutive site-years, stays included (for a Sankey or table)."""
    p = pos.sort_values(["site", "year"])
    prev = p.groupby("site")["position"].shift()
    pairs = pd.DataFrame({"from_position": prev, "to_position": p["position"]}).dropna()
    return pairs.value_counts().rename("site_years").reset_index()
