"""Wild cluster bootstrap for one coefficient of a two-way FE regression (Roodman et al. 2019).

WCR (``impose_null=True``, the default, as boottest and wildboottest): the bootstrap samples are the
restricted fit plus restricted residuals times one weight per cluster; each sample's t statistic
uses the same CR1 variance as the original. WCU (``impose_null=False``) uses unrestricted residuals
and studentises around the estimate.

"Fast and wild": for a single coefficient every bootstrap t statistic is a ratio of a linear form
and a quadratic form in the cluster weights ``v``. With ``x`` and ``u_r`` partialled out of the
fixed effects (and other regressors), ``beta* - beta0 = a'v / D`` and the bootstrap cluster scores
are ``S v``, where ``a_g = x_g' W_g u_r,g``, ``D = x'Wx`` and the G x G matrix ``S`` is built once by
partialling the cluster-wise columns of ``u_r`` out of the fixed effects. No regression is re-run
per draw. Because ``u_r = y - beta0 x`` is linear in the null value, ``a`` and ``S`` are too, and the
p-value at any ``beta0`` costs O(B): the confidence interval is found by test inversion (bisection
on each side), as boottest does.

With Rademacher weights and ``2**G <= B`` every sign vector is enumerated (B becomes ``2**G``), so
the p-value is exact and reproducible with no seed. P-values are symmetric: the share of bootstrap
``|t*|`` strictly above ``|t|`` (Roodman et al. 2019, eq. 11); ties in exact arithmetic (the draw
that reproduces the data) are not counted.

Example:
    >>> res = twfe_did(panel)                                                   # doctest: +SKIP
    >>> boot = wild_cluster_bootstrap(res, B=9999, seed=1)                      # doctest: +SKIP
    >>> boot.p, boot.ci                                                         # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from joinedup.impact.within import Design

BootWeights = Literal["rademacher", "webb", "mammen"]
_TIE = 1e-10  # relative: |t*| within this of |t| counts as a tie, not as exceeding it
_BLOCK = 4096  # bootstrap draws processed at once (bounds memory at G x _BLOCK)


@dataclass(frozen=True)
class BootstrapResult:
    """A wild cluster bootstrap test of one coefficient and its test-inversion interval."""

    param: str
    estimate: float
    beta0: float
    t: float
    p: float
    ci: tuple[float, float]
    alpha: float
    B: int
    weights: str
    enumerated: bool
    impose_null: bool
    n_clusters: int
    seed: int | None

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "term": self.param, "estimate": self.estimate, "null": self.beta0, "t": self.t,
            "p_boot": self.p, "ci_low": self.ci[0], "ci_high": self.ci[1], "level": 1 - self.alpha,
            "B": self.B, "weights": self.weights, "enumerated": self.enumerated,
            "method": "WCR" if self.impose_null else "WCU", "n_clusters": self.n_clusters,
        }])

    def summary(self) -> str:
        how = "all sign vectors enumerated" if self.enumerated else f"seed {self.seed}"
        return (f"Wild cluster bootstrap ({'WCR' if self.impose_null else 'WCU'}, {self.weights}, "
                f"B={self.B}, {how}), {self.n_clusters} clusters\n"
                f"  {self.param}: {self.estimate:.6g}, H0: = {self.beta0:g}, t = {self.t:.4f}, "
                f"p = {self.p:.4f}, {1 - self.alpha:.0%} CI [{self.ci[0]:.6g}, {self.ci[1]:.6g}]")

    __str__ = summary


def draw_weights(kind: str, g: int, B: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """G x B cluster weights; every Rademacher sign vector when ``2**g <= B``."""
    if kind not in get_args(BootWeights):
        raise ValueError(f"weights must be one of {', '.join(map(repr, get_args(BootWeights)))}; got {kind!r}")
    if kind == "rademacher" and g < 31 and 2 ** g <= B:
        bits = (np.arange(2 ** g)[None, :] >> np.arange(g)[:, None]) & 1
        return 2.0 * bits - 1.0, True
    if kind == "rademacher":
        return rng.choice([-1.0, 1.0], size=(g, B)), False
    if kind == "webb":  # six points, mean 0, variance 1 (Webb 2014)
        pts = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
        return rng.choice(pts, size=(g, B)), False
    s5 = np.sqrt(5.0)  # Mammen (1993) two-point
    low, high, p_low = -(s5 - 1) / 2, (s5 + 1) / 2, (s5 + 1) / (2 * s5)
    return np.where(rng.random((g, B)) < p_low, low, high), False


class _Pieces:
    """a and S of the fast algorithm for residuals ``r`` (linear in r)."""

    def __init__(self, design: Design, partial, x: np.ndarray, r: np.ndarray, D: float, g: int):
        w, cl = design.w, design.cluster
        n = len(r)
        self.a = np.bincount(cl, weights=w * x * r, minlength=g)
        cols = np.zeros((n, g))
        cols[np.arange(n), cl] = r          # cluster h's residuals, zero elsewhere
        proj = partial(cols)                 # M_Z applied to every column at once
        cross = np.zeros((g, g))
        np.add.at(cross, cl, (w * x)[:, None] * proj)
        xx = np.bincount(cl, weights=w * x * x, minlength=g)
        self.S = cross - np.outer(xx, self.a) / D


def _prepare(design: Design, j: int, ssc: float):
    """The fixed effects and other regressors partialled out: (partial, x, y, D, estimate, CR1 SE, G)."""
    others = np.delete(np.arange(design.x.shape[1]), j)
    xo = design.residualise(design.x[:, others]) if len(others) else None

    def partial(m: np.ndarray) -> np.ndarray:  # M_Z: the fixed effects, then the other regressors
        m = design.residualise(m)
        if xo is None:
            return m
        m2 = m[:, None] if m.ndim == 1 else m
        xw = xo * design.w[:, None]
        m2 = m2 - xo @ np.linalg.solve(xw.T @ xo, xw.T @ m2)
        return m2[:, 0] if m.ndim == 1 else m2

    x, y = partial(design.x[:, j]), partial(design.y)
    w, g = design.w, int(design.cluster.max()) + 1
    D = float(np.sum(w * x * x))
    est = float(np.sum(w * x * y) / D)
    u = y - est * x
    se = float(np.sqrt(ssc * np.sum(np.bincount(design.cluster, weights=w * x * u, minlength=g) ** 2)) / D)
    return partial, x, y, D, est, se, g


def exceeds(t_boot: np.ndarray, t: float) -> np.ndarray:
    """Which bootstrap ``|t*|`` lie strictly above ``|t|`` (ties within _TIE not counted)."""
    return np.abs(t_boot) > abs(t) * (1 + _TIE) + 1e-300


def bootstrap_t_draws(design: Design, j: int, V: np.ndarray, beta0: float = 0.0,
                      ssc: float = 1.0) -> tuple[float, np.ndarray]:
    """The t statistic of coefficient ``j`` against ``beta0`` and its WCR bootstrap draws for the
    given G x B cluster weights ``V`` (rows in the order of ``design.cluster_labels``), so that
    several regressions can share one set of draws (Romano-Wolf). With ``V`` from
    :func:`draw_weights`, ``mean(exceeds(draws, t))`` is :func:`bootstrap_design`'s p-value.
    """
    partial, x, y, D, est, se, g = _prepare(design, j, ssc)
    if V.shape[0] != g:
        raise ValueError(f"V has {V.shape[0]} rows; the design has {g} clusters")
    py, px = _Pieces(design, partial, x, y, D, g), _Pieces(design, partial, x, x, D, g)
    sy, sx = py.S @ V, px.S @ V
    num = py.a @ V - beta0 * (px.a @ V)
    q = np.sum(sy * sy, axis=0) - 2 * beta0 * np.sum(sy * sx, axis=0) + beta0 * beta0 * np.sum(sx * sx, axis=0)
    return (est - beta0) / se, num / np.sqrt(ssc * np.maximum(q, 0) + 1e-300)


def bootstrap_design(design: Design, j: int, B: int = 9999, weights: str = "rademacher",
                     impose_null: bool = True, beta0: float = 0.0, alpha: float = 0.05,
                     seed: int | None = None, ssc: float = 1.0) -> BootstrapResult:
    """The wild cluster bootstrap of coefficient ``j`` of ``design`` (see the module docstring)."""
    if B < 1:
        raise ValueError(f"B must be a positive number of bootstrap draws; got {B}")
    partial, x, y, D, est, se, g = _prepare(design, j, ssc)
    u = y - est * x
    V, enumerated = draw_weights(weights, g, B, np.random.default_rng(seed))
    if impose_null:  # residuals y - beta0 x: pieces for y and for x, combined linearly in beta0
        py, px = _Pieces(design, partial, x, y, D, g), _Pieces(design, partial, x, x, D, g)
    else:           # residuals u, studentised around the estimate
        py, px = _Pieces(design, partial, x, u, D, g), None
    num_y, num_x, q0, q1, q2 = (np.empty(V.shape[1]) for _ in range(5))
    for lo in range(0, V.shape[1], _BLOCK):
        v = V[:, lo:lo + _BLOCK]
        sy = py.S @ v
        num_y[lo:lo + _BLOCK], q0[lo:lo + _BLOCK] = py.a @ v, np.sum(sy * sy, axis=0)
        if px is not None:
            sx = px.S @ v
            num_x[lo:lo + _BLOCK] = px.a @ v
            q1[lo:lo + _BLOCK], q2[lo:lo + _BLOCK] = np.sum(sy * sx, axis=0), np.sum(sx * sx, axis=0)

    def pvalue(b0: float) -> float:
        t = (est - b0) / se
        if impose_null:
            tb = (num_y - b0 * num_x) / np.sqrt(ssc * np.maximum(q0 - 2 * b0 * q1 + b0 * b0 * q2, 0) + 1e-300)
        else:
            tb = num_y / np.sqrt(ssc * q0 + 1e-300)
        return float(np.mean(exceeds(tb, t)))

    if impose_null:
        ci = (_invert(pvalue, est, se, alpha, -1), _invert(pvalue, est, se, alpha, +1))
    else:  # symmetric percentile-t interval
        crit = float(np.quantile(np.abs(num_y / np.sqrt(ssc * q0 + 1e-300)), 1 - alpha))
        ci = (est - crit * se, est + crit * se)
    return BootstrapResult(design.names[j], est, beta0, float((est - beta0) / se), pvalue(beta0), ci,
                           alpha, V.shape[1], weights, enumerated, impose_null, g, seed)


def _invert(pvalue, est: float, se: float, alpha: float, side: int) -> float:
    """The null value on one side where the bootstrap p-value falls to alpha (bisection)."""
    inner, step = est, se
    outer = est + side * step
    while pvalue(outer) >= alpha:  # walk out until rejected
        inner, step = outer, step * 2
        outer = est + side * step
        if step > 1e6 * se:  # never rejected: too few clusters for this level (2**G draws)
            return float(side * np.inf)
    for _ in range(200):
        mid = (inner + outer) / 2
        if pvalue(mid) >= alpha:
            inner = mid
        else:
            outer = mid
        if abs(outer - inner) <= 1e-9 * se:
            break
    return float((inner + outer) / 2)
