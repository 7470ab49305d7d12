"""Power first: the minimum detectable effect of a matched DiD, computed before any outcome is read.

For n enrolled each with k matched controls, the DiD of a count over the follow-up compares changes
(after minus before). With outcome SD sigma in a window and correlation rho between a person's
consecutive windows, a change has variance 2 sigma^2 (1 - rho) (Frison & Pocock 1992), so

    MDE = (z_{1 - alpha/2} + z_{power}) * sqrt(2 sigma^2 (1 - rho) (1/n + 1/(k n)))

and the relative MDE divides it by the enrolled's baseline rate. sigma, rho and the baseline come
only from history before the index dates: sigma and the baseline from the enrolled's pre-period
window, rho from the matched controls' two windows before the index (an earlier one and the last
one), so the plan can be fixed before the follow-up is looked at.

Example:
    >>> round(mde(n=1000, k=1, sd=1.2, rho=0.3, baseline=0.9)["mde_relative"], 3)
    0.198
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def mde(n: int, k: float, sd: float, rho: float, baseline: float, alpha: float = 0.05, power: float = 0.8) -> dict:
    """The minimum detectable effect (absolute and relative to ``baseline``) of the matched DiD."""
    if n <= 0 or k <= 0:
        raise ValueError(f"n and k must be positive; got n={n}, k={k}")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    se = np.sqrt(2 * sd**2 * max(1 - rho, 0.0) * (1 / n + 1 / (k * n)))
    absolute = float(z * se)
    return {"enrolled": int(n), "controls_per_enrolled": float(k), "sd": float(sd), "rho": float(rho),
            "baseline": float(baseline), "alpha": alpha, "power": power, "mde_absolute": absolute,
            "mde_relative": absolute / baseline if baseline > 0 else float("nan")}


def planned_mde(feat, pairs: pd.DataFrame, followup_months: int, outcome: str = "emergency_admissions",
                alpha: float = 0.05, power: float = 0.8) -> dict:
    """:func:`mde` from the matched sample's pre-index history only (never the ``*_after`` columns).

    ``feat`` is the :class:`~joinedup.cohort.features.MonthFeatures` of the panel; ``pairs`` the matched sets.
    """
    rows, m = pairs["row"].to_numpy(), pairs["month_index"].to_numpy()
    t = pairs["treated"].to_numpy() == 1
    last = feat.window(outcome, m - followup_months, m, rows)
    earlier = feat.window(outcome, m - 2 * followup_months, m - followup_months, rows)
    ctrl = ~t
    rho = float(np.corrcoef(earlier[ctrl], last[ctrl])[0, 1]) if ctrl.sum() > 2 and last[ctrl].std() > 0 \
        and earlier[ctrl].std() > 0 else 0.0
    sd = float(np.std(np.r_[last[t], earlier[ctrl], last[ctrl]], ddof=1))
    n = int(t.sum())
    k = float(ctrl.sum() / max(n, 1))
    out = mde(n, k, sd, rho, float(last[t].mean()), alpha, power)
    out.update(outcome=outcome, followup_months=followup_months)
    return out
