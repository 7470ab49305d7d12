"""Per-site MDT estimates (WP2 results by site, for the WP3 join): the matched difference in
differences of emergency admissions and of total cost, restricted to the matched sets whose enrolled
patient lives in the site's areas, beside the pooled estimate over every site.

A matched set (``subclass``) is kept whole, so each site's estimate compares its enrolled patients
with their own matched controls (controls may live elsewhere: matching is exact on programme group,
not on area). The interval is the pooled estimator's (cluster-robust by matched set, CR1, as
``sandwich::vcovCL`` on MatchIt's matched data); a site with fewer than ``min_treated`` enrolled
patients gets no estimate (one or two matched sets cannot carry a cluster-robust variance).

Example:
    >>> md = pd.DataFrame({"treated": [1, 0, 1, 0, 1, 0], "weights": 1.0, "subclass": [1, 1, 2, 2, 3, 3],
    ...     "area_code": ["A", "B", "A", "B", "C", "B"], "emergency_admissions_before": [3, 3, 2, 2, 4, 1],
    ...     "emergency_admissions_after": [1, 2, 2, 1, 2, 1], "total_cost_change": [0., 1, 5, 3, 4, 5]})
    >>> t = site_estimates(md, {"A": "Site A", "C": "Site C"}, min_treated=2)
    >>> t[["site", "measure", "n_treated", "estimate"]].head(2).to_dict("records")[0]
    {'site': 'All sites', 'measure': 'emergency_admissions', 'n_treated': 3, 'estimate': -0.6666666666666666}
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.economics.matching.estimate import att_frame

SITE_MEASURES = {"emergency_admissions": "emergency_admissions_change", "total_cost": "total_cost_change"}
POOLED = "All sites"


def _changes(md: pd.DataFrame) -> pd.DataFrame:
    out = md.copy()
    if "emergency_admissions_change" not in out:
        out["emergency_admissions_change"] = out["emergency_admissions_after"] - out["emergency_admissions_before"]
    return out


def _rows(part: pd.DataFrame, site: str, min_treated: int) -> list[dict]:
    n = int((part["treated"] == 1).sum())
    rows = []
    for measure, column in SITE_MEASURES.items():
        row = {"site": site, "measure": measure, "n_treated": n, "estimate": np.nan, "ci_low": np.nan,
               "ci_high": np.nan, "se": np.nan}
        if n >= min_treated and (part["treated"] == 0).any():
            try:
                a = att_frame(part, column)
            except ZeroDivisionError:  # Python floats: a zero SE raises
                a = None
            # a zero SE (every matched set changed alike; rounding leaves ~1e-15) gives no interval: blank row
            if a is not None and np.isfinite(a.se) and a.se > 1e-9 * max(1.0, abs(a.estimate)):
                row.update(estimate=a.estimate, ci_low=a.ci_low, ci_high=a.ci_high, se=a.se)
        rows.append(row)
    return rows


def site_estimates(md: pd.DataFrame, area_site: dict[str, str], min_treated: int = 5) -> pd.DataFrame:
    """One row per site and measure (emergency admissions per person per follow-up year; total cost in
    £ per person), the pooled rows first (``site`` = "All sites"); see the module docstring."""
    md = _changes(md)
    site_of_set = (md[md["treated"] == 1].assign(site=lambda f: f["area_code"].map(area_site))
                   .dropna(subset=["site"]))
    rows = _rows(md, POOLED, min_treated)
    # matched with replacement there are no matched sets to keep whole: the pooled rows only
    if "subclass" in md.columns and md["subclass"].notna().all():
        sets = site_of_set.groupby("site")["subclass"].agg(set)
        for site, subclasses in sets.sort_index().items():
            rows += _rows(md[md["subclass"].isin(subclasses)], site, min_treated)
    return pd.DataFrame(rows)


def area_sites(ds) -> dict[str, str]:
    """Area code -> Pioneer site, from the canonical programmes table."""
    prog = ds.execute(ds.table("programmes").select("programme", "site", "area_code"))
    prog = prog[(prog["programme"] == "pioneer") & prog["site"].notna()]
    return dict(zip(prog["area_code"], prog["site"]))
