"""Tests of change over time in the portfolios, and of design-to-delivery delays.

* **Trend** (:func:`trend_test`): the within-site linear trend of a site-year measure — OLS of the
  measure on year with site fixed effects — with standard errors clustered by site (Liang–Zeger
  CR1, as statsmodels' ``cov_type="cluster"``) and a t reference with G - 1 degrees of freedom (G
  sites; Cameron & Miller 2015 recommend it with few clusters). A positive slope on the medical-model
  share and a negative one on breadth are the narrowing.
* **Delays** (:func:`delay_test`): the mean months from an initiative's start (design) to its go-live
  (the first period implemented or at scale), over initiatives with at least ``min_follow_up_months``
  of follow-up (so that long delays are not cut off), with a site-clustered standard error (the
  intercept of the same regression), and a one-sided test that the mean exceeds ``slow_months``
  (default 12: "slow" is more than a year from design to delivery).

Example:
    >>> import pandas as pd
    >>> panel = pd.DataFrame({"site": list("AABBCC"), "year": [1, 2] * 3, "y": [0, 1, 0, 1.2, 0.1, 0.9]})
    >>> round(trend_test(panel, "y")["slope"], 3)
    1.0
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats


def trend_test(panel: pd.DataFrame, column: str, alpha: float = 0.05) -> dict:
    """Within-site slope of ``column`` per year, site-clustered SE, t(G-1) p-value and CI."""
    d = panel[["site", "year", column]].dropna()
    if d["site"].nunique() < 2:
        raise ValueError(f"a trend test needs at least 2 sites; the panel has {d['site'].nunique()}")
    x = pd.get_dummies(d["site"], dtype=float)
    x.insert(0, "year", d["year"].astype(float) - d["year"].min())
    fit = sm.OLS(d[column].astype(float).to_numpy(), x.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["site"])[0]}, use_t=True)
    g = d["site"].nunique()
    slope, se = float(fit.params[0]), float(fit.bse[0])
    t = slope / se if se > 0 else (np.inf * np.sign(slope) if slope else 0.0)
    p = float(2 * stats.t.sf(abs(t), g - 1)) if np.isfinite(t) else 0.0
    q = stats.t.ppf(1 - alpha / 2, g - 1)
    return {"measure": column, "slope": slope, "se": se, "t": float(t), "df": g - 1, "p_value": p,
            "ci_low": slope - q * se, "ci_high": slope + q * se, "sites": g, "site_years": len(d),
            "test": "OLS on year with site fixed effects, site-clustered SE (CR1), t with G-1 df"}


def delay_test(initiatives: pd.DataFrame, last_period: pd.Timestamp, min_follow_up_months: int = 48,
               slow_months: float = 12.0, alpha: float = 0.05) -> dict:
    """Mean design-to-delivery delay with a site-clustered CI, and the one-sided test of mean > ``slow_months``.

    ``initiatives``: :meth:`joinedup.process.register.Register.initiatives` (``delay_months``, NaN when
    never live). Initiatives started later than ``last_period`` less the follow-up are left out.
    """
    cutoff = pd.Timestamp(last_period) - pd.DateOffset(months=min_follow_up_months)
    d = initiatives[initiatives["start_date"] <= cutoff]
    never = int(d["delay_months"].isna().sum())
    d = d.dropna(subset=["delay_months"])
    g = d["site"].nunique()
    if g < 2:
        raise ValueError(f"a delay test needs initiatives with follow-up in at least 2 sites; found {g}")
    fit = sm.OLS(d["delay_months"].astype(float).to_numpy(), np.ones((len(d), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(d["site"])[0]}, use_t=True)
    mean, se = float(fit.params[0]), float(fit.bse[0])
    q = stats.t.ppf(1 - alpha / 2, g - 1)
    t = (mean - slow_months) / se
    return {"mean_delay_months": mean, "se": se, "ci_low": mean - q * se, "ci_high": mean + q * se,
            "initiatives": len(d), "never_live": never, "sites": g, "slow_months": slow_months,
            "p_slow": float(stats.t.sf(t, g - 1)),
            "test": f"one-sided t (G-1 df, site-clustered SE) of mean delay > {slow_months:g} months"}
