"""``honest_did``: sensitivity of an event study's effect to violations of parallel trends.

Takes the event-study coefficients (pre then post, the reference period left out) and their
covariance, as R HonestDiD ``createSensitivityResults`` / ``createSensitivityResults_relativeMagnitudes``
do, and returns one robust confidence set per value of ``M`` (smoothness) or ``Mbar`` (relative
magnitudes) beside the original (parallel-trends) interval.

Example:
    >>> import numpy as np
    >>> res = honest_did(np.array([0.0, 0.5]), np.eye(2) * 0.01, 1, 1, restriction="SD", m_values=[0.0])
    >>> res.tidy()[["m", "lb", "ub"]].round(3).values.tolist()
    [[0.0, 0.223, 0.777]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.impact.honest._flci import optimal_flci
from joinedup.impact.honest._rm import rm_confidence_set

Restriction = Literal["SD", "RM"]


@dataclass(frozen=True)
class HonestResult:
    """Robust confidence sets by ``m`` (M for SD, Mbar for RM) and the original interval."""

    table: pd.DataFrame
    original: tuple[float, float]
    restriction: str
    method: str
    alpha: float

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def breakdown(self) -> float | None:
        """The largest ``m`` on the grid whose robust set excludes 0 while every smaller one does too
        (HonestDiD's "breakdown value" read off the grid); None when even the smallest includes 0."""
        excl = ~((self.table.lb <= 0) & (self.table.ub >= 0))
        last = None
        for m, ok in zip(self.table.m, excl):
            if not ok:
                break
            last = float(m)
        return last

    def summary(self) -> str:
        name = {"SD": "M (smoothness)", "RM": "Mbar (relative magnitudes)"}[self.restriction]
        b = self.breakdown()
        words = (f"the {1 - self.alpha:.0%} robust interval excludes zero up to {name} = {b:g}" if b is not None
                 else "the robust interval includes zero at every value tried")
        return (self.table.to_string(index=False) + f"\nOriginal interval {self.original[0]:.4g} to "
                f"{self.original[1]:.4g}; {words}.")


def honest_did(beta, sigma, n_pre: int, n_post: int, l_vec=None, restriction: Restriction = "RM",
               m_values=None, alpha: float = 0.05, method: str | None = None, grid_points: int = 1000,
               seed: int = 0) -> HonestResult:
    """Robust confidence sets for ``l' tau_post`` (default: the first post period).

    ``restriction``: "SD" (FLCI) or "RM" (``method`` "C-LF", the default, or "Conditional").
    ``m_values`` defaults to HonestDiD's: Mbar 0, 0.5, ..., 2 for RM; M from 0 to the pre-period
    standard error in 5 steps for SD.
    """
    beta, sigma = np.asarray(beta, dtype=float), np.asarray(sigma, dtype=float)
    if beta.shape != (n_pre + n_post,) or sigma.shape != (n_pre + n_post,) * 2:
        raise ValueError(f"beta has shape {beta.shape} and sigma {sigma.shape}; with n_pre={n_pre} and "
                         f"n_post={n_post} they must be ({n_pre + n_post},) and square of that size")
    if restriction not in ("SD", "RM"):
        raise ValueError(f"restriction must be one of 'SD', 'RM'; got {restriction!r}")
    if n_pre < 1 or n_post < 1:
        raise ValueError("need at least one pre-period and one post-period coefficient")
    l_vec = np.eye(n_post)[0] if l_vec is None else np.asarray(l_vec, dtype=float)
    if m_values is None:
        m_values = (np.linspace(0, 2, 5) if restriction == "RM"
                    else np.linspace(0, float(np.sqrt(sigma[0, 0])), 5))
    method = method or ("FLCI" if restriction == "SD" else "C-LF")
    rows = []
    for m in m_values:
        if restriction == "SD":
            lb, ub, _ = optimal_flci(beta, sigma, n_pre, n_post, l_vec, float(m), alpha)
        else:
            lb, ub = rm_confidence_set(beta, sigma, n_pre, n_post, l_vec, float(m), alpha, method,
                                       grid_points, seed=seed)
        rows.append({"m": float(m), "lb": lb, "ub": ub, "method": method, "restriction": restriction})
    se = float(np.sqrt(l_vec @ sigma[n_pre:, n_pre:] @ l_vec))
    est = float(l_vec @ beta[n_pre:])
    z = stats.norm.ppf(1 - alpha / 2)
    return HonestResult(pd.DataFrame(rows), (est - z * se, est + z * se), restriction, method, alpha)


def from_event_study(es, restriction: Restriction = "RM", **kwargs) -> HonestResult:
    """Run :func:`honest_did` on a :class:`joinedup.impact.event_study.EventStudyResult`.

    Needs the coefficients' covariance (``es.vcov``, kept by ``event_study``); the reference period
    (``es.ref``, normally -1) is dropped as HonestDiD requires.
    """
    if getattr(es, "vcov", None) is None:
        raise ValueError("this event study result has no covariance matrix (es.vcov)")
    tab = es.table[~es.table.reference].reset_index(drop=True)
    n_pre = int((tab.rel_time < es.ref).sum())
    if (tab.rel_time[(tab.rel_time > es.ref) & (tab.rel_time < 0)]).any():
        raise ValueError(f"reference period {es.ref} must be the last period before the start (-1)")
    return honest_did(tab.estimate.to_numpy(), es.vcov, n_pre, len(tab) - n_pre, restriction=restriction,
                      **kwargs)


def from_aggte(es, restriction: Restriction = "RM", **kwargs) -> HonestResult:
    """Run :func:`honest_did` on a Callaway-Sant'Anna ``aggregate("dynamic")`` result.

    As R HonestDiD's ``honest_did.AGGTEobj``: the covariance is ``IF'IF / n^2`` from the event-time
    influence functions, the reference event time -1 (0 under ``base_period="universal"``, which
    HonestDiD requires so pre-period estimates are comparable to post-period ones) is dropped.
    """
    if es.kind != "dynamic":
        raise ValueError(f"need aggregate('dynamic'); got aggregate({es.kind!r})")
    if es.params.get("base_period", "universal") != "universal":
        raise ValueError("att_gt(..., base_period='universal') is required: with 'varying' the pre-period "
                         "estimates are one-period changes, not comparable to the post-period effects")
    n = es.inf_egt.shape[0]
    keep = np.asarray(es.egt) != -1
    vcov = (es.inf_egt.T @ es.inf_egt / n / n)[np.ix_(keep, keep)]
    egt = np.asarray(es.egt)[keep]
    return honest_did(np.asarray(es.att_egt)[keep], vcov, int((egt < 0).sum()), int((egt >= 0).sum()),
                      restriction=restriction, **kwargs)
