"""Conformal inference for synthetic control and ridge ASCM (Chernozhukov, Wüthrich & Zhu 2021, JASA).

Test inversion. Under the null that the effect in post period ``t`` is ``g``, subtract ``g`` from the
treated unit's outcome in ``t``, refit the weights on the pre-periods plus ``t`` (so the null is
imposed in the fit), and compare the post residual with the pre residuals:

    p(g) = share of the T0 + 1 periods s with |u_s| >= |u_t|

(CWZ's permutation p-value with one post period and q = 1; their i.i.d. and moving-block
permutations coincide when the post block is one period long). The per-period interval is the set
of ``g`` with ``p(g) > alpha``, as pysyncon's ``ConformalInference.confidence_intervals`` computes it:
moving out from the estimate in each direction until the test rejects. We double the step until a
rejection and then bisect to ``tol`` (pysyncon searches with a growing and shrinking step to its
``tol``). With ``T0 + 1 < 1/alpha`` periods no ``g`` can be rejected, and the interval is the whole
line (-inf, inf).

For the average effect the null is a constant effect ``g`` in every post period: all post outcomes
are shifted, the weights refit on every period, and the statistic ``mean |u|`` over the post block
is compared with its value over each of the T cyclic shifts of the periods (CWZ's moving-block
permutations), so ``p >= 1/T``.

The refit is the synthetic control with V = identity on the outcomes (``method="synth"``) or ridge
ASCM with its lambda held at the full-sample choice (``method="ascm"``; augsynth R's conformal
inference also refits with the fitted lambda).

Example:
    >>> import pandas as pd
    >>> prop99 = pd.read_csv("california_prop99.csv", sep=";")                # doctest: +SKIP
    >>> ci = conformal_intervals(prop99, "State", "Year", "PacksPerCapita", "California", 1989)  # doctest: +SKIP
    >>> ci.periods[["time", "estimate", "ci_low", "ci_high"]]                  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from joinedup.impact.synthetic._prep import prepare
from joinedup.impact.synthetic.ascm import ascm, centred, ridge_augmented_weights, scm_weights

METHODS = ("synth", "ascm")


@dataclass(frozen=True)
class ConformalResult:
    """Per-period conformal intervals and the constant-effect interval for the average."""

    method: str
    alpha: float
    periods: pd.DataFrame          # time, estimate, ci_low, ci_high, p_value (null of no effect)
    average: dict                  # estimate, ci_low, ci_high, p_value for a constant effect
    lambda_: float | None = None   # ASCM's lambda (None for synth)
    details: dict = field(default_factory=dict)


def conformal_intervals(data: pd.DataFrame, unit: str, time: str, outcome: str, treated_unit, treatment_time,
                        *, method: str = "synth", alpha: float = 0.05, donors: Sequence | None = None,
                        lambda_: float | None = None, tol: float | None = None) -> ConformalResult:
    """Conformal intervals for each post period and for a constant effect (see the module docstring).

    ``tol`` is the bisection's precision on the outcome's scale (default: 1e-6 times the spread of
    the pre-period outcomes).

    Example:
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> t = np.arange(1, 31)
        >>> df = pd.concat([pd.DataFrame({"u": f"d{i}", "t": t, "y": rng.normal(size=30) + i})
        ...                 for i in range(6)] + [pd.DataFrame({"u": "T", "t": t, "y": 2.5 + (t > 25) * 4.0})])
        >>> res = conformal_intervals(df, "u", "t", "y", "T", 26, alpha=0.1)
        >>> bool((res.periods["ci_low"] < res.periods["ci_high"]).all())
        True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise ValueError(f"alpha must be a float between 0 and 1; got {alpha!r}")
    prep = prepare(data, unit, time, outcome, treated_unit, treatment_time, donors, None, None, "mean",
                   None, None, scale=False, outcome_only=True)
    Y0, y1, pre = prep.Y[:, 1:], prep.Y[:, 0], prep.pre
    lam = None
    if method == "ascm":
        lam = lambda_ if lambda_ is not None else ascm(
            data, unit, time, outcome, treated_unit, treatment_time, donors=donors).lambda_
        fit = _ascm_fit(lam)
    else:
        fit = _synth_fit
    if tol is None:
        spread = float(np.ptp(y1[pre])) or float(np.abs(y1[pre]).max()) or 1.0
        tol = 1e-6 * spread
    if not (tol > 0):
        raise ValueError(f"tol must be positive; got {tol!r}")
    full = fit(Y0[pre], y1[pre])
    gap = y1 - Y0 @ full
    step = max(float(np.sqrt(np.mean(gap[pre] ** 2))), 100 * tol)
    rows = []
    pre_idx = np.flatnonzero(pre)
    for t in np.flatnonzero(~pre):
        idx = np.r_[pre_idx, t]

        def p_value(g, idx=idx):
            y = y1[idx].copy()
            y[-1] -= g
            u = np.abs(y - Y0[idx] @ fit(Y0[idx], y))
            return float(np.mean(u >= u[-1] * (1 - 1e-12)))

        lo, hi = _invert(p_value, gap[t], alpha, step, tol, len(idx))
        rows.append({"time": prep.times[t], "estimate": gap[t], "ci_low": lo, "ci_high": hi,
                     "p_value": p_value(0.0)})
    post = ~pre
    n_post, n = int(post.sum()), len(y1)

    def p_average(g):
        y = y1 - g * post
        u = np.abs(y - Y0 @ fit(Y0, y))
        # moving blocks: the post block's statistic against each cyclic shift of the periods
        stats = np.array([u[np.roll(post, j)].mean() for j in range(n)])
        return float(np.mean(stats >= stats[0] * (1 - 1e-12)))

    att = float(np.mean(gap[post]))
    lo, hi = _invert(p_average, att, alpha, step, tol, n)
    average = {"estimate": att, "ci_low": lo, "ci_high": hi, "p_value": p_average(0.0), "n_post": n_post}
    return ConformalResult(method, alpha, pd.DataFrame(rows), average, lam,
                           {"tol": tol, "n_pre": int(pre.sum()), "weights": full})


def _synth_fit(Y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    return scm_weights(Y0, y1)


def _ascm_fit(lam: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def fit(Y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
        X0, x1 = centred(Y0, y1)
        w, adj = ridge_augmented_weights(X0, x1, lam)
        return w + adj
    return fit


def _invert(p_value: Callable[[float], float], start: float, alpha: float, step: float, tol: float,
            n_periods: int) -> tuple[float, float]:
    """The ends of {g : p(g) > alpha} found moving out from ``start`` (infinite if none can reject)."""
    if 1.0 / n_periods > alpha:
        return -np.inf, np.inf
    ends = []
    for direction in (-1.0, 1.0):
        inside, s = start, step
        for _ in range(200):   # doubling: 2^200 steps out covers any finite outcome
            trial = start + direction * s
            if p_value(trial) <= alpha:
                break
            inside, s = trial, 2 * s
        else:
            ends.append(direction * np.inf)
            continue
        outside = start + direction * s
        while abs(outside - inside) > tol:
            mid = 0.5 * (inside + outside)
            if p_value(mid) > alpha:
                inside = mid
            else:
                outside = mid
        ends.append(0.5 * (inside + outside))
    return ends[0], ends[1]
