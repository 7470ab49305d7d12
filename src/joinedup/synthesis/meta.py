"""Random-effects meta-analysis and meta-regression, as R's metafor (``rma``) computes them.

``meta_analysis(yi, vi, method)`` pools site estimates ``yi`` with sampling variances ``vi``:

* ``FE``: fixed effect, weights 1/vi.
* ``DL``: DerSimonian-Laird, tau2 = max(0, (Q - (k - 1)) / (sum w - sum w^2 / sum w)).
* ``REML`` (default, as metafor): Fisher scoring on the restricted likelihood from the Hedges estimator,
  tau2 <- tau2 + (y'PPy - tr P) / tr PP with P = W - W X (X'WX)^-1 X'W, truncated at 0, until the
  change is below ``tol`` (1e-10; metafor's default threshold is 1e-5).
* ``ML``: the same scoring on the full likelihood; ``PM``: Paule-Mandel (generalised Q = k - 1).
* ``HE``: Hedges' unweighted method of moments; ``SJ``: Sidik-Jonkman; ``EB``: empirical Bayes (Morris),
  scored as metafor does (its fixed point is Paule-Mandel's). ``tau2_se`` is metafor's ``se.tau2`` for
  every estimator but FE (see :func:`joinedup.synthesis.meta_fit.fit_model`).
* ``knha=True``: Knapp-Hartung: the variance of the estimate times sum w (y - mu)^2 / (k - p) and a t
  distribution with k - p degrees of freedom (metafor's ``test="knha"``; the factor is not truncated).

Heterogeneity as metafor reports it: Q (with fixed-effect weights), I^2 = tau2 / (tau2 + s2) and
H^2 = (tau2 + s2) / s2 with the "typical" within-study variance s2 = (k - p) sum w / ((sum w)^2 - sum w^2)
(for FE: I^2 = (Q - df) / Q, H^2 = Q / df); prediction interval mu +- crit x sqrt(tau2 + se^2).
``meta_regression`` adds moderators: coefficients, residual heterogeneity QE, the omnibus test QM of the
moderators, pseudo R^2 = max(0, (tau2_RE - tau2_ME) / tau2_RE); for ``FE``, metafor's R^2 is the adjusted
R^2 of the weighted least-squares fit (78.0% for ``ablat`` on dat.bcg). ``confint()`` gives Q-profile
intervals for tau2, tau, I^2 and H^2 (:mod:`joinedup.synthesis.meta_confint`).

Example:
    >>> res = meta_analysis([-0.9, -1.6, -1.4, -0.2], [0.3, 0.2, 0.4, 0.05], method="DL")
    >>> round(res.estimate, 4), round(res.tau2, 4)
    (-0.941, 0.4307)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.synthesis.meta_confint import check_confint, q_profile
from joinedup.synthesis.meta_fit import (
    METHODS,
    Method,
    check_inputs,
    check_method,
    check_options,
    fit_model,
    residual_q,
    typical_variance,
)

__all__ = ["METHODS", "Method", "MetaRegression", "MetaResult", "meta_analysis", "meta_regression"]


def _heterogeneity(method, tau2, q, df, s2) -> tuple[float, float]:
    """I^2 (percent) and H^2 as metafor prints them."""
    if method == "FE":  # no tau2 to speak of: metafor falls back to the Q-based (Higgins) definitions
        return (max(0.0, 100 * (q - df) / q) if q > 0 else 0.0), (q / df if df > 0 else float("nan"))
    return 100 * tau2 / (tau2 + s2), (tau2 + s2) / s2


def _knha(fit, y, x, knha: bool, level: float):
    """Covariance of the coefficients, the critical value and the t df (None for z) for the test asked."""
    k, p = x.shape
    if not knha:
        return fit.vcov, stats.norm.ppf(0.5 + level / 2), None
    factor = np.sum(fit.w * (y - x @ fit.beta) ** 2) / (k - p)
    return fit.vcov * factor, stats.t.ppf(0.5 + level / 2, k - p), k - p


@dataclass(frozen=True)
class MetaResult:
    """A pooled estimate with its heterogeneity statistics and prediction interval (metafor's ``rma``)."""

    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    statistic: float  # z, or t with ``df`` degrees of freedom under Knapp-Hartung
    p_value: float
    tau2: float
    tau2_se: float  # metafor's se.tau2 (NaN for FE)
    i2: float  # percent
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
    df: int | None = None

    @property
    def test(self) -> str:
        """``"z"`` or ``"t"``: the reference distribution of ``statistic``."""
        return "z" if self.df is None else "t"

    def tidy(self) -> pd.DataFrame:
        """One row per study (yi, vi, SE, Wald CI at ``level``, weight %) and a last, pooled row.

        Example:
            >>> meta_analysis([0.1, 0.3], [0.01, 0.01], "FE").tidy()["weight_pct"].tolist()
            [50.0, 50.0, 100.0]
        """
        z = stats.norm.ppf(0.5 + self.level / 2)
        se = np.sqrt(self.vi)
        rows = pd.DataFrame({"study": list(self.labels), "yi": self.yi, "vi": self.vi, "estimate": self.yi,
                             "se": se, "ci_lower": self.yi - z * se, "ci_upper": self.yi + z * se,
                             "weight_pct": self.weights})
        pooled = pd.DataFrame([{"study": f"Pooled ({self.method}{', Knapp-Hartung' if self.knha else ''})",
                                "yi": np.nan, "vi": np.nan, "estimate": self.estimate, "se": self.se,
                                "ci_lower": self.ci_lower, "ci_upper": self.ci_upper, "weight_pct": 100.0}])
        return pd.concat([rows, pooled], ignore_index=True)

    def confint(self, level: float | None = None) -> pd.DataFrame:
        """Q-profile confidence intervals for tau2, tau, I^2 (%) and H^2, as metafor's ``confint(res)``.

        Rows ``tau2``, ``tau``, ``I2``, ``H2``; columns ``estimate``, ``ci_low``, ``ci_high``; ``level``
        defaults to the model's. Not defined for ``method="FE"`` (a ValueError, as in metafor).

        Example:
            >>> res = meta_analysis([-0.9, -1.6, -1.4, -0.2, 0.1], [0.03, 0.02, 0.04, 0.05, 0.02], "DL")
            >>> ci = res.confint()
            >>> bool(ci.loc["tau2", "ci_low"] < res.tau2 < ci.loc["tau2", "ci_high"])
            True
        """
        level = self.level if level is None else level
        check_confint(self.method, level)
        return q_profile(self.yi, self.vi, np.ones((self.k, 1)), self.tau2, self.i2, self.h2, level)

    def summary_frame(self) -> pd.DataFrame:
        """The pooled result as one row: estimate, SE, CI, test, tau2, I^2, H^2, Q, prediction interval.

        Example:
            >>> meta_analysis([0.1, 0.3], [0.01, 0.01], "FE").summary_frame()["estimate"].round(3).item()
            0.2
        """
        keys = ("k", "method", "knha", "estimate", "se", "statistic", "df", "p_value", "ci_lower", "ci_upper",
                "pi_lower", "pi_upper", "tau2", "tau2_se", "i2", "h2", "q", "q_p")
        return pd.DataFrame([{key: getattr(self, key) for key in keys}])

    def summary(self) -> str:
        """A metafor-like printout.

        Example:
            >>> print(meta_analysis([0.1, 0.3], [0.01, 0.01], "FE").summary().splitlines()[0])
            Fixed-effect model (k = 2)
        """
        model = ("Fixed-effect model" if self.method == "FE" else "Random-effects model")
        est = "" if self.method == "FE" else f"; tau^2 estimator: {self.method}"
        stat = f"t(df = {self.df})" if self.df is not None else "z"
        pct = round(100 * self.level)
        return (f"{model} (k = {self.k}{est})\n"
                f"tau^2 = {self.tau2:.4f} (SE = {self.tau2_se:.4f}); I^2 = {self.i2:.2f}%; H^2 = {self.h2:.2f}\n"
                f"Q(df = {self.k - 1}) = {self.q:.4f}, p = {self.q_p:.4g}\n"
                f"estimate {self.estimate:.4f} (SE {self.se:.4f}), {stat} = {self.statistic:.4f}, "
                f"p = {self.p_value:.4g}, {pct}% CI {self.ci_lower:.4f} to {self.ci_upper:.4f}; "
                f"{pct}% prediction interval {self.pi_lower:.4f} to {self.pi_upper:.4f}")

    def plot(self, title: str = "Site estimates and pooled effect", unit: str = ""):
        """Forest plot (a :class:`joinedup.report.charts.Figure` whose alt text states the pooled estimate).

        Example:
            >>> meta_analysis([0.1, 0.3], [0.01, 0.02]).plot().svg.startswith("<svg")   # doctest: +SKIP
            True
        """
        from joinedup.synthesis.forest import forest_plot

        return forest_plot(self, title, unit)


def meta_analysis(yi, vi, method: Method = "REML", knha: bool = False, level: float = 0.95,
                  labels=None, tol: float = 1e-10) -> MetaResult:
    """Pool estimates ``yi`` with sampling variances ``vi`` (see the module docstring for the methods).

    Example:
        >>> res = meta_analysis([0.2, 0.2, 0.2], [0.01, 0.02, 0.03])
        >>> res.estimate, res.tau2
        (0.2, 0.0)
    """
    check_method(method)
    check_options(knha, level, tol)
    y, v = check_inputs(yi, vi)
    k = len(y)
    labels = tuple(labels) if labels is not None else tuple(f"study {i + 1}" for i in range(k))
    if len(labels) != k:
        raise ValueError(f"labels has {len(labels)} entries for {k} estimates")
    x = np.ones((k, 1))
    fit = fit_model(y, v, x, method, tol)
    vb, crit, df = _knha(fit, y, x, knha, level)
    est, se = float(fit.beta[0]), float(np.sqrt(vb[0, 0]))
    stat = est / se
    p = float(2 * (stats.t.sf(abs(stat), df) if df is not None else stats.norm.sf(abs(stat))))
    q = residual_q(y, v, x)
    i2, h2 = _heterogeneity(method, fit.tau2, q, k - 1, typical_variance(v, x))
    # metafor's predict(): sqrt(tau2 + se^2), se being the (Knapp-Hartung-scaled, if asked) SE of mu
    half_pi = crit * np.sqrt(fit.tau2 + se ** 2)
    return MetaResult(est, se, est - crit * se, est + crit * se, float(stat), p, fit.tau2, fit.tau2_se,
                      float(i2), float(h2), q, float(stats.chi2.sf(q, k - 1)), k, method, bool(knha),
                      float(est - half_pi), float(est + half_pi), y, v, 100 * fit.w / fit.w.sum(), labels,
                      float(level), df)


@dataclass(frozen=True)
class MetaRegression:
    """A mixed-effects meta-regression (metafor's ``rma(yi, vi, mods = ...)``)."""

    coefficients: pd.DataFrame  # term, estimate, se, statistic, p_value, ci_lower, ci_upper
    tau2: float  # residual between-study variance
    tau2_se: float
    i2: float  # residual heterogeneity, percent
    h2: float
    qe: float
    qe_p: float
    qm: float  # chi-square with len(terms) - 1 df, or F under Knapp-Hartung (as metafor prints)
    qm_p: float
    r2: float  # percent
    k: int
    method: str
    knha: bool
    df: int | None = None
    level: float = 0.95
    yi: np.ndarray | None = field(repr=False, default=None)
    vi: np.ndarray | None = field(repr=False, default=None)
    x: np.ndarray | None = field(repr=False, default=None)  # the design: intercept and moderators

    def tidy(self) -> pd.DataFrame:
        """The coefficient table (a copy)."""
        return self.coefficients.copy()

    def confint(self, level: float | None = None) -> pd.DataFrame:
        """Q-profile intervals for the residual tau2, tau, I^2 and H^2 (metafor's ``confint`` on a
        mixed-effects model): the same table as :meth:`MetaResult.confint`, with k - p df.

        Example:
            >>> fit = meta_regression([0.1, 0.9, 0.4, 1.5, 0.2], [0.01] * 5, pd.DataFrame({"d": [1, 2, 3, 4, 5]}))
            >>> bool(fit.confint().loc["tau2", "estimate"] == fit.tau2)
            True
        """
        level = self.level if level is None else level
        check_confint(self.method, level)
        return q_profile(self.yi, self.vi, self.x, self.tau2, self.i2, self.h2, level)


def _design(moderators, k: int) -> tuple[np.ndarray, list[str]]:
    """Intercept plus the moderator columns, each checked to be numeric and complete."""
    if isinstance(moderators, pd.Series):
        moderators = moderators.to_frame()
    if not isinstance(moderators, pd.DataFrame):
        raise ValueError(f"moderators must be a pandas DataFrame; got {type(moderators).__name__}")
    mods = moderators.reset_index(drop=True)
    if mods.shape[1] == 0:
        raise ValueError("moderators has no columns")
    if len(mods) != k:
        raise ValueError(f"moderators has {len(mods)} rows for {k} estimates")
    for col in mods.columns:
        values = pd.to_numeric(mods[col], errors="coerce")
        bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
        if len(bad):
            raise ValueError(f"moderators[{col!r}][{bad[0]}] is missing or not numeric ({mods[col].iloc[bad[0]]!r})")
    x = np.column_stack([np.ones(k), mods.to_numpy(dtype=float)])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ValueError("moderators are collinear (with each other or the intercept): drop a column")
    return x, ["intrcpt", *map(str, mods.columns)]


def meta_regression(yi, vi, moderators: pd.DataFrame, method: Method = "REML", knha: bool = False,
                    level: float = 0.95, tol: float = 1e-10) -> MetaRegression:
    """Mixed-effects meta-regression on ``moderators`` (numeric columns; an intercept is added).

    Example:
        >>> fit = meta_regression([0.1, 0.4, 0.5, 0.9], [0.01] * 4, pd.DataFrame({"dose": [1, 2, 3, 4]}))
        >>> round(float(fit.coefficients.set_index("term").loc["dose", "estimate"]), 2)
        0.25
    """
    check_method(method)
    check_options(knha, level, tol)
    y, v = check_inputs(yi, vi)
    x, terms = _design(moderators, len(y))
    k, p = x.shape
    if k <= p:
        raise ValueError(f"{k} estimates cannot support {p} coefficients (intercept and {p - 1} moderators)")
    fit = fit_model(y, v, x, method, tol)
    vb, crit, df = _knha(fit, y, x, knha, level)
    b = fit.beta
    se = np.sqrt(np.diag(vb))
    pvals = 2 * (stats.t.sf(np.abs(b / se), df) if df is not None else stats.norm.sf(np.abs(b / se)))
    qm = float(b[1:] @ np.linalg.solve(vb[1:, 1:], b[1:]))
    if df is not None:
        qm /= p - 1  # metafor reports an F statistic under Knapp-Hartung
        qm_p = float(stats.f.sf(qm, p - 1, df))
    else:
        qm_p = float(stats.chi2.sf(qm, p - 1))
    qe = residual_q(y, v, x)
    i2, h2 = _heterogeneity(method, fit.tau2, qe, k - p, typical_variance(v, x))
    r2 = _pseudo_r2(y, v, x, fit.tau2, qe, method, tol)
    coef = pd.DataFrame({"term": terms, "estimate": b, "se": se, "statistic": b / se, "p_value": pvals,
                         "ci_lower": b - crit * se, "ci_upper": b + crit * se})
    return MetaRegression(coef, fit.tau2, fit.tau2_se, float(i2), float(h2), qe,
                          float(stats.chi2.sf(qe, k - p)), qm, qm_p, float(r2), k, method, bool(knha), df,
                          float(level), y, v, x)


def _pseudo_r2(y, v, x, tau2, qe, method, tol) -> float:
    """R^2 (%) as metafor's ``rma.uni``. Random/mixed effects: the proportional reduction in tau2 against
    the model without moderators, max(0, (tau2_RE - tau2) / tau2_RE), 0 when tau2_RE = 0. Fixed effect:
    the adjusted R^2 of the weighted regression ``lm(yi ~ X, weights = 1/vi)``, which with an intercept is
    1 - (QE / Q) (k - 1) / (k - p), Q the Cochran Q of the intercept-only fit; floored at 0."""
    k, p = x.shape
    if method == "FE":
        q0 = residual_q(y, v, np.ones((k, 1)))
        if np.var(y) == 0 or q0 == 0:  # metafor: identical(var(yi), 0) gives R^2 = 0
            return 0.0
        return 100 * max(0.0, 1 - (qe / q0) * (k - 1) / (k - p))
    tau2_re = fit_model(y, v, np.ones((k, 1)), method, tol).tau2
    return 100 * max(0.0, (tau2_re - tau2) / tau2_re) if tau2_re > 0 else 0.0
