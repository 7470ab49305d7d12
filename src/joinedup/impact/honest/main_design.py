"""HonestDiD for the protocol's main design: the wave-1 event study's first post-period effect.

The report's robustness table (``tables/impact_honest``, protocol ``[impact] honest``): for the
effect in the first period after the start, Rambachan & Roth's robust 95% confidence sets under

* smoothness ``Delta^SD(M)`` (optimal FLCI), M on :func:`honest_did`'s default grid (0 up to the
  standard error of the first pre-period coefficient, 5 values), and
* relative magnitudes ``Delta^RM(Mbar)`` (C-LF hybrid), Mbar = 0, 0.5, 1, 1.5, 2 (HonestDiD's
  default grid),

with each restriction's breakdown value found by bisection (:func:`breakdown_value`) rather than
read off the grid. The first post period is Rambachan & Roth's default target, as in their examples.

Why it is fast enough for every run: the event study passed in is cut to its pre-periods and the
first post period. The later post periods' coefficients carry no information on the first period's
effect under either restriction (their effects are unrestricted, so any trend violation there is
absorbed), so the identified set is the same; the test then has no nuisance parameter, and
:func:`joinedup.impact.honest._arp.conditional_tests_no_nuisance` tests the whole grid at once
(measured on a (-8, 16) quarterly window, 7 pre-periods: one Mbar 42 s by linear programmes, 0.05 s
this way, the same set). It is not the set R HonestDiD prints for the full 24-coefficient vector,
whose ARP test also uses the later periods' moments (valid too, different finite-sample set).

Example:
    >>> table = honest_table(es)                                    # doctest: +SKIP
    >>> table[["restriction", "m", "lb", "ub", "breakdown"]]          # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from joinedup.impact.honest.api import honest_did

MBAR_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
TARGET = "effect in the first period after the start"


def _excludes_zero(beta, sigma, n_pre, n_post, restriction, m, **kwargs) -> bool:
    tab = honest_did(beta, sigma, n_pre, n_post, restriction=restriction, m_values=[m], **kwargs).table
    lb, ub = float(tab.lb.iloc[0]), float(tab.ub.iloc[0])
    return bool(np.isfinite(lb) and (lb > 0 or ub < 0))


def breakdown_value(beta, sigma, n_pre: int, n_post: int, restriction: str, rel_tol: float = 0.01,
                    start: float | None = None, max_doublings: int = 12, **kwargs) -> float | None:
    """The largest M (or Mbar) at which the robust set still excludes zero, by bisection.

    None when the set includes zero already at 0; ``inf`` when it still excludes zero after
    ``max_doublings`` doublings of ``start`` (default: 1 for Mbar, the first pre-period's standard
    error for M). Returned to ``rel_tol`` of its value, rounded down (so the set at the returned
    value excludes zero).

    Example:
        >>> breakdown_value(np.array([0.0, 0.5]), np.eye(2) * 0.01, 1, 1, "RM") is not None
        True
    """
    if not _excludes_zero(beta, sigma, n_pre, n_post, restriction, 0.0, **kwargs):
        return None
    hi = start if start is not None else (1.0 if restriction == "RM" else float(np.sqrt(sigma[0, 0])))
    lo = 0.0
    for _ in range(max_doublings):
        if not _excludes_zero(beta, sigma, n_pre, n_post, restriction, hi, **kwargs):
            break
        lo, hi = hi, 2 * hi
    else:
        return math.inf
    while hi - lo > rel_tol * max(hi, 1e-12):
        mid = (lo + hi) / 2
        if _excludes_zero(beta, sigma, n_pre, n_post, restriction, mid, **kwargs):
            lo = mid
        else:
            hi = mid
    return lo


def first_post_inputs(es):
    """(beta, sigma, n_pre) of an event study cut to its pre-periods and first post period."""
    if getattr(es, "vcov", None) is None:
        raise ValueError("this event study result has no covariance matrix (es.vcov)")
    tab = es.table[~es.table.reference].reset_index(drop=True)
    if es.ref != -1:
        raise ValueError(f"reference period {es.ref} must be the last period before the start (-1)")
    n_pre = int((tab.rel_time < es.ref).sum())
    if n_pre < 1 or not (tab.rel_time == 0).any():
        raise ValueError(f"need at least one pre-period and period 0; the event study has {list(tab.rel_time)}")
    keep = n_pre + 1
    return tab.estimate.to_numpy()[:keep], np.asarray(es.vcov)[:keep, :keep], n_pre


def honest_table(es, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """One row per restriction and M / Mbar: the robust set for the first post-period effect, the
    original (parallel trends, normal) interval and the restriction's breakdown value."""
    beta, sigma, n_pre = first_post_inputs(es)
    frames = []
    for restriction, grid in (("SD", None), ("RM", MBAR_GRID)):
        res = honest_did(beta, sigma, n_pre, 1, restriction=restriction, m_values=grid, alpha=alpha, seed=seed)
        tab = res.tidy()
        tab["breakdown"] = breakdown_value(beta, sigma, n_pre, 1, restriction, alpha=alpha, seed=seed)
        tab["original_low"], tab["original_high"] = res.original
        frames.append(tab)
    out = pd.concat(frames, ignore_index=True)
    out.insert(0, "target", TARGET)
    out["estimate"] = float(beta[n_pre])
    out["excludes_zero"] = (out.lb > 0) | (out.ub < 0)
    out["n_pre_periods"] = n_pre
    return out
