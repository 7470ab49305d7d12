"""Random-effects meta-analysis and meta-regression, as R's metafor (``rma``) computes them.

``meta_analysis(yi, vi, method)`` pools site estimates ``yi`` with sampling variances ``vi``:

* ``FE``: fixed effect, weights 1/vi.
* ``DL``: DerSimonian-Laird, tau2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)).
* ``REML`` (default, as metafor): Fisher scoring on the restricted likelihood,
  tau2 <- tau2 + (y'PPy - tr P) / tr PP with P = W - W X (X'WX)^-1 X'W, truncated at 0, to 1e-10.
* ``knha=True``: Knapp-Hartung: the variance of the estimate times sum w (y - mu)^2 / (k - p) and a t
  distribution with k - p degrees of freedom (metafor's ``test="knha"``, factor not truncated).

Heterogeneity as metafor reports it: Q (with fixed-effect weights), I^2 = tau2 / (tau2 + s2) and
H^2 = (tau2 + s2) / s2 with the "typical" within-study variance s2 = (k - p) sum w / ((sum w)^2 - sum w^2);
prediction interval mu +- crit x sqrt(tau2 + se^2). ``meta_regression`` adds moderators: coefficients,
residual heterogeneity QE, the omnibus test QM of the moderators, pseudo R^2 = (tau2_RE - tau2_ME) / tau2_RE.

Example:
    >>> res = meta_analysis([-0.9, -1.6, -1.4, -0.2], [0.3, 0.2, 0.4, 0.05], method="DL")
    >>> round(res.estimate, 4), round(res.tau2, 4)
    (-0.941, 0.4307)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy import stats

Method = Literal["REML", "DL", "FE"]
METHODS: tuple[str, ...] = get_args(Method)


def _check(yi, vi, moderators=None) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(yi, dtype=float).ravel(), np.asarray(vi, dtype=float).ravel()
    if len(y) != len(v):
        raise ValueError(f"yi has {len(y)} values but vi has {len(v)}")
    for name, arr in (("yi", y), ("vi", v)):
        bad = np.flatnonzero(~np.isfinite(arr))
        if len(bad):
            raise ValueError(f"{name}[{bad[0]}] is missing or not finite")
    bad = np.flatnonzero(v <= 0)
    if len(bad):
        raise ValueError(f"vi[{bad[0]}] is {v[bad[0]]}: sampling variances must be positive")
    if len(y) < 2:
        raise ValueError("a meta-analysis needs at least 2 estimates")
    return y, v


def _fit(y, v, x, method: str, tol=1e-10, max_iter=1000):
    """tau2, coefficients, their covariance (model-based), and iterations."""
    def wls(tau2):
        w = 1 / (v + tau2)
        xtwx_inv = np.linalg.inv(x.T @ (x * w[:, None]))
        return w, xtwx_inv, xtwx_inv @ (x.T @ (w * y))

    k, p = x.shape
    w0, inv0, b0 = wls(0.0)
    if method == "FE":
        tau2, it = 0.0, 0
    elif method == "DL":
        q = np.sum(w0 * (y - x @ b0) ** 2)
        p_mat = np.diag(w0) - (w0[:, None] * x) @ inv0 @ (x.T * w0)
        tau2, it = max(0.0, (q - (k - p)) / np.trace(p_mat)), 0
    else:
        # start from the DL estimate (as metafor's default starting value is Hedges-like; any start converges)
        tau2 = _fit(y, v, x, "DL")[0]
        for it in range(1, max_iter + 1):
            w, inv, _ = wls(tau2)
            p_mat = np.diag(w) - (w[:, None] * x) @ inv @ (x.T * w)
            py = p_mat @ y
            step = (py @ py - np.trace(p_mat)) / np.trace(p_mat @ p_mat)
            new = max(0.0, tau2 + step)
            if abs(new - tau2) < tol:
                tau2 = new
                break
            tau2 = new
        else:
            raise RuntimeError(f"REML did not converge in {max_iter} iterations")
    w, inv, b = wls(tau2)
    return tau2, b, inv, w, it


@dataclass(frozen=True)
class MetaResult:
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    statistic: float
    p_value: float
    tau2: float
    tau2_se: float
    i2: float
    h2: float
    q: float
    q_p: float
    k: int
    method: str
    knha: bool
    pi_lower: float
    pi_upper: float
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    weights: np.ndarray = field(repr=False)  # percent
    labels: tuple = field(repr=False, default=())
    level: float = 0.95

    def tidy(self) -> pd.DataFrame:
        """One row per study (estimate, 95% CI, weight %) and a pooled row."""
        z = stats.norm.ppf(0.5 + self.level / 2)
        se = np.sqrt(self.vi)
        rows = pd.DataFrame({"study": list(self.labels), "estimate": self.yi, "se": se,
                             "ci_lower": self.yi - z * se, "ci_upper": self.yi + z * se, "weight_pct": self.weights})
        pooled = pd.DataFrame([{"study": f"Pooled ({self.method}{', Knapp-Hartung' if self.knha else ''})",
                                "estimate": self.estimate, "se": self.se, "ci_lower": self.ci_lower,
                                "ci_upper": self.ci_upper, "weight_pct": 100.0}])
        return pd.concat([rows, pooled], ignore_index=True)

    def summary(self) -> str:
        dist = f"t({self.k - 1})" if self.knha else "z"
        return (f"Random-effects model (k = {self.k}; tau^2 estimator: {self.method})\n"
                f"tau^2 = {self.tau2:.4f} (SE = {self.tau2_se:.4f}); I^2 = {self.i2:.2f}%; H^2 = {self.h2:.2f}\n"
                f"Q(df = {self.k - 1}) = {self.q:.4f}, p = {self.q_p:.4g}\n"
                f"estimate {self.estimate:.4f} (SE {self.se:.4f}), {dist} = {self.statistic:.4f}, p = {self.p_value:.4g}, "
                f"95% CI {self.ci_lower:.4f} to {self.ci_upper:.4f}; prediction interval {self.pi_lower:.4f} to "
                f"{self.pi_upper:.4f}")

    def plot(self, title: str = "Site estimates and pooled effect", unit: str = ""):
        """Forest plot (a :class:`joinedup.report.charts.Figure`)."""
        from joinedup.synthesis.forest import forest_plot

        return forest_plot(self, title, unit)


def meta_analysis(yi, vi, method: Method = "REML", knha: bool = False, level: float = 0.95,
                  labels=None) -> MetaResult:
    """Pool estimates (see the module docstring); result fields as metafor's ``rma``."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    y, v = _check(yi, vi)
    k = len(y)
    x = np.ones((k, 1))
    tau2, b, inv, w, _ = _fit(y, v, x, method)
    w_fe = 1 / v
    mu_fe = np.sum(w_fe * y) / np.sum(w_fe)
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    s2 = (k - 1) * np.sum(w_fe) / (np.sum(w_fe) ** 2 - np.sum(w_fe ** 2))
    vb = inv[0, 0]
    if knha:
        vb *= np.sum(w * (y - b[0]) ** 2) / (k - 1)
        crit = stats.t.ppf(0.5 + level / 2, k - 1)
    else:
        crit = stats.norm.ppf(0.5 + level / 2)
    se = float(np.sqrt(vb))
    stat = float(b[0] / se)
    p = float(2 * (stats.t.sf(abs(stat), k - 1) if knha else stats.norm.sf(abs(stat))))
    p_mat = np.diag(w) - np.outer(w, w) / w.sum()
    tau2_se = float(np.sqrt(2 / np.trace(p_mat @ p_mat))) if method == "REML" else float("nan")
    pi = crit * np.sqrt(tau2 + vb)
    labels = tuple(labels) if labels is not None else tuple(f"study {i + 1}" for i in range(k))
    if len(labels) != k:
        raise ValueError(f"labels has {len(labels)} entries for {k} estimates")
    return MetaResult(float(b[0]), se, float(b[0] - crit * se), float(b[0] + crit * se), stat, p, float(tau2),
                      tau2_se, float(100 * tau2 / (tau2 + s2)), float((tau2 + s2) / s2), q,
                      float(stats.chi2.sf(q, k - 1)), k, method, knha, float(b[0] - pi), float(b[0] + pi),
                      y, v, 100 * w / w.sum(), labels, level)


@dataclass(frozen=True)
class MetaRegression:
    coefficients: pd.DataFrame  # term, estimate, se, statistic, p_value, ci_lower, ci_upper
    tau2: float
    qe: float
    qe_p: float
    qm: float
    qm_p: float
    r2: float
    k: int
    method: str
    knha: bool

    def tidy(self) -> pd.DataFrame:
        return self.coefficients.copy()


def meta_regression(yi, vi, moderators: pd.DataFrame, method: Method = "REML", knha: bool = False,
                    level: float = 0.95) -> MetaRegression:
    """Mixed-effects meta-regression on ``moderators`` (numeric columns; an intercept is added).

    Example:
        >>> fit = meta_regression(yi, vi, pd.DataFrame({"ablat": ablat}))        # doctest: +SKIP
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    y, v = _check(yi, vi)
    mods = pd.DataFrame(moderators).reset_index(drop=True)
    if len(mods) != len(y):
        raise ValueError(f"moderators has {len(mods)} rows for {len(y)} estimates")
    x = np.column_stack([np.ones(len(y)), mods.to_numpy(dtype=float)])
    k, p = x.shape
    if k <= p:
        raise ValueError(f"{k} estimates cannot support {p} coefficients")
    tau2, b, inv, w, _ = _fit(y, v, x, method)
    w_fe = 1 / v
    b_fe = np.linalg.solve(x.T @ (x * w_fe[:, None]), x.T @ (w_fe * y))
    qe = float(np.sum(w_fe * (y - x @ b_fe) ** 2))
    vb = inv.copy()
    if knha:
        vb *= np.sum(w * (y - x @ b) ** 2) / (k - p)
    se = np.sqrt(np.diag(vb))
    if knha:
        crit, pvals = stats.t.ppf(0.5 + level / 2, k - p), 2 * stats.t.sf(np.abs(b / se), k - p)
    else:
        crit, pvals = stats.norm.ppf(0.5 + level / 2), 2 * stats.norm.sf(np.abs(b / se))
    sub = b[1:]
    qm = float(sub @ np.linalg.solve(vb[1:, 1:], sub))
    qm_p = float(stats.f.sf(qm / (p - 1), p - 1, k - p) if knha else stats.chi2.sf(qm, p - 1))
    if knha:
        qm /= (p - 1)  # metafor reports F under Knapp-Hartung
    tau2_re = _fit(y, v, np.ones((k, 1)), method)[0]
    r2 = float(max(0.0, (tau2_re - tau2) / tau2_re) * 100) if tau2_re > 0 else 0.0
    terms = ["intrcpt", *map(str, mods.columns)]
    coef = pd.DataFrame({"term": terms, "estimate": b, "se": se, "statistic": b / se, "p_value": pvals,
                         "ci_lower": b - crit * se, "ci_upper": b + crit * se})
    return MetaRegression(coef, float(tau2), qe, float(stats.chi2.sf(qe, k - p)), qm, qm_p, r2, k, method, knha)
