"""Dose-response DiD: treatment intensity from the initiative register's coverage (``[impact] dose``).

The register says, per site and period, how many people (or practices) its live initiatives covered
(:func:`joinedup.process.treatment.dose`). The convention here:

* **Intensity** ``dose`` of a unit in a panel period is its site's *share covered*: people covered by
  the site's live initiatives (implemented or at scale) divided by the site's residents in that
  period (the sum of the panel's ``population`` over the site's units), capped at 1 (people in two
  initiatives are counted twice by the register, so the raw ratio can exceed 1). With
  ``scale_unit="practices"`` it is practices covered over the site's units in the panel.
* The register's period is matched *as of*: a panel period takes the latest register period that
  starts on or before it (a yearly register fills its quarters); before the site's first register
  row the dose is 0, and after its last row the last value is carried forward (initiatives do not
  stop because the register's reporting did). Every unit of a site gets the site's share (the
  register does not say which of the site's units the people live in). Comparison units have 0.
* **Model**: ``y_it = a_i + l_t + b * dose_it + e_it`` (two-way fixed effects, population weights),
  standard errors clustered by *site* (the dose is assigned per site; each comparison unit is its
  own cluster), CR1 with a t(G-1) reference (:func:`joinedup.impact.twfe.twfe_did`). ``b`` is the
  effect of covering a site's whole population (share 0 to 1); on the log scale ``100*(exp(b)-1)``
  is the percentage change at full coverage, and ``b / 10`` the effect per 10 percentage points.

The coefficient is a causal dose-response only under "strong" parallel trends and an effect linear
and equal across sites (Callaway, Goodman-Bacon & Sant'Anna 2024, *Difference-in-differences with a
continuous treatment*): otherwise TWFE weights the sites' responses in ways that can mislead, as
the binary staggered TWFE does. It is therefore an additional design, never the primary one.

Example:
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"area_code": ["a", "a", "b", "b"], "site": ["S", "S", None, None],
    ...     "period_start": pd.to_datetime(["2014-01-01", "2014-04-01"] * 2), "population": [1000.0] * 4})
    >>> cov = pd.DataFrame({"site": ["S"], "period": pd.to_datetime(["2014-04-01"]), "people_covered": [250.0]})
    >>> dose_panel(panel, cov)["dose"].tolist()
    [0.0, 0.25, 0.0, 0.0]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

DOSE_DESIGN = "dose-response (register coverage)"
DOSE_ESTIMATOR = "TWFE on the share covered (site-clustered)"
DOSE_ESTIMAND = "effect of covering the whole population (share 0 to 1)"


def dose_panel(panel: pd.DataFrame, coverage: pd.DataFrame,
               scale_unit: Literal["people", "practices"] = "people") -> pd.DataFrame:
    """The panel with ``covered`` and ``dose`` (share covered, 0-1) per unit and period (module docstring).

    ``coverage``: ``site, period`` and ``people_covered`` (or ``practices_covered`` with
    ``scale_unit="practices"``), as :func:`joinedup.process.treatment.dose` gives.
    """
    column = f"{scale_unit}_covered"
    missing = [c for c in ("site", "period", column) if c not in coverage.columns]
    if missing:
        raise ValueError(f"the coverage table is missing column(s) {', '.join(missing)}")
    out = panel.copy()
    out["period_start"] = pd.to_datetime(out["period_start"]).astype("datetime64[ns]")
    cov = coverage[["site", "period", column]].copy()
    cov["period"] = pd.to_datetime(cov["period"]).astype("datetime64[ns]")  # merge_asof needs one resolution
    cov[column] = cov[column].fillna(0.0).astype(float)
    cov = cov.sort_values("period")
    keys = out[["site", "period_start"]].drop_duplicates().dropna(subset=["site"]).sort_values("period_start")
    # as-of: the latest register period on or before the panel period, per site
    matched = pd.merge_asof(keys, cov, left_on="period_start", right_on="period", by="site", direction="backward")
    matched[column] = matched[column].fillna(0.0)
    if scale_unit == "people":
        size = out.groupby(["site", "period_start"])["population"].sum().rename("site_size")
    else:
        size = out.groupby(["site", "period_start"])["area_code"].nunique().astype(float).rename("site_size")
    matched = matched.join(size, on=["site", "period_start"])
    matched["dose"] = np.clip(matched[column] / matched["site_size"], 0.0, 1.0)
    out = out.merge(matched[["site", "period_start", column, "dose"]].rename(columns={column: "covered"}),
                    on=["site", "period_start"], how="left")
    out["covered"] = out["covered"].fillna(0.0)
    out["dose"] = out["dose"].fillna(0.0)
    out["dose_cluster"] = out["site"].where(out["site"].notna(), out["area_code"]).astype(str)
    return out


def dose_response(panel: pd.DataFrame, coverage: pd.DataFrame, scale: str | None = None,
                  scale_unit: Literal["people", "practices"] = "people", unbalanced: str = "available",
                  alpha: float = 0.05) -> dict:
    """Fit the dose-response TWFE; one row (a dict) with the estimate, its CI, p and the dose's spread.

    Raises ValueError naming the problem when no unit has any coverage.
    """
    from joinedup.impact.twfe import twfe_did

    d = dose_panel(panel, coverage, scale_unit)
    if not (d["dose"] > 0).any():
        raise ValueError("dose-response: no site has any coverage in the panel's periods (register scale "
                         f"with scale_unit {scale_unit!r} on live initiatives is needed)")
    res = twfe_did(d, treat="dose", weights="weight" if "weight" in d else None, cluster="dose_cluster",
                   scale=scale or panel.attrs.get("scale", "rate"), unbalanced=unbalanced, alpha=alpha)
    pct = (lambda v: 100 * np.expm1(v)) if res.scale in ("log", "logit") else (lambda v: 100 * v / res.baseline)
    on = d[d["dose"] > 0]
    return {"design": DOSE_DESIGN, "estimator": DOSE_ESTIMATOR, "estimand": DOSE_ESTIMAND,
            "estimate": res.estimate, "std_error": res.se, "ci_low": res.ci[0], "ci_high": res.ci[1],
            "p_value": res.p, "pct_change": float(pct(res.estimate)), "pct_low": float(pct(res.ci[0])),
            "pct_high": float(pct(res.ci[1])), "per_10pp": res.estimate / 10,
            "pct_per_10pp": float(pct(res.estimate / 10)),
            "n_dosed_sites": int(on["site"].nunique()), "n_dosed_units": int(on["area_code"].nunique()),
            "n_comparison_units": int(d.loc[d["site"].isna(), "area_code"].nunique()),
            "clusters": res.n_clusters, "mean_dose_when_covered": float(on["dose"].mean()),
            "max_dose": float(d["dose"].max()), "scale_unit": scale_unit,
            "inference": "CR1 clustered by site (comparison units singly), t with G-1 df"}
