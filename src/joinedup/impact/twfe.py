"""Difference-in-differences by two-way fixed effects, with cluster-robust and wild-bootstrap inference.

``y_it = a_i + l_t + b * D_it + e_it``, weighted (area populations) or not, on a balanced or
unbalanced panel (:mod:`joinedup.impact.within` does the exact within transformation). Inference is
CR1 clustered by unit unless told otherwise, with fixest's small-sample factor ``G/(G-1) *
(N-1)/(N-K)`` (K: coefficients plus fixed-effect levels not nested in the clusters), and a t
reference distribution with G-1 degrees of freedom, as fixest and Stata's ``reghdfe`` use.
Estimates and SEs agree with pyfixest 0.60 to machine precision (tests/test_impact_twfe.py).
:func:`wild_cluster_bootstrap` adds a WCR wild cluster bootstrap p-value and interval for few clusters.

The effect is also reported as a percentage change: ``100 * (exp(b) - 1)`` for an outcome on the
log scale, otherwise ``100 * b / baseline``, the baseline being the (weighted) mean outcome of the
treated units before treatment.

With staggered adoption and effects that change over time, a single TWFE coefficient weights
group-time effects in ways that can mislead (Goodman-Bacon 2021); use it with one adoption date
(e.g. one Pioneer wave against never-treated areas) or alongside ``joinedup.impact.att_gt``.

Example:
    >>> import pandas as pd
    >>> df = pd.read_csv("california_prop99.csv", sep=";")                    # doctest: +SKIP
    >>> res = twfe_did(df, y="PacksPerCapita", unit="State", time="Year", treat="treated")  # doctest: +SKIP
    >>> round(res.estimate, 5)                                                # doctest: +SKIP
    -27.34911
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.impact.unbalanced import balance_panel
from joinedup.impact.wild_bootstrap import BootstrapResult, bootstrap_design
from joinedup.impact.within import Design

VCOV = "CR1, small-sample factor G/(G-1)*(N-1)/(N-K) (fixest, K excludes FE nested in clusters)"


@dataclass(frozen=True)
class TwfeSummary:
    """Headline table of a TWFE fit; renders as text and HTML."""

    table: pd.DataFrame
    note: str

    def __str__(self) -> str:
        return self.table.to_string(index=False) + "\n" + self.note

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False) + f"<p>{self.note}</p>"


@dataclass(frozen=True)
class TwfeResult:
    """One TWFE DiD fit (frozen). ``design`` keeps what the wild bootstrap needs."""

    term: str
    estimate: float
    se: float
    t: float
    p: float
    ci: tuple[float, float]
    alpha: float
    df: int
    n_obs: int
    n_clusters: int
    n_units: int
    n_periods: int
    k: int
    ssc: float
    scale: str
    baseline: float
    pct: float
    pct_ci: tuple[float, float]
    weighted: bool
    cluster: str
    design: Design = field(repr=False, compare=False)
    panel_balance: dict = field(default_factory=dict, compare=False)   # unbalanced-panel report

    def tidy(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "term": self.term, "estimate": self.estimate, "std_error": self.se, "statistic": self.t,
            "p_value": self.p, "ci_low": self.ci[0], "ci_high": self.ci[1], "level": 1 - self.alpha,
            "pct_change": self.pct, "pct_ci_low": self.pct_ci[0], "pct_ci_high": self.pct_ci[1],
            "scale": self.scale, "baseline": self.baseline, "df": self.df, "n_obs": self.n_obs,
            "n_clusters": self.n_clusters, "n_units": self.n_units, "n_periods": self.n_periods,
            "weighted": self.weighted, "cluster": self.cluster, "vcov": VCOV,
        }])

    def summary(self) -> TwfeSummary:
        cols = ["term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "pct_change",
                "pct_ci_low", "pct_ci_high", "n_obs", "n_clusters"]
        note = (f"TWFE DiD (unit and period fixed effects{', weighted' if self.weighted else ''}); "
                f"SE {VCOV}, clustered by {self.cluster}; t({self.df}) CI at {1 - self.alpha:.0%}. "
                + ("Percent change = 100*(exp(b)-1) (log scale)." if self.scale == "log" else
                   f"Percent change relative to the treated units' pre-treatment mean {self.baseline:.4g}.")
                + (f" Panel: {self.panel_balance['note']}." if self.panel_balance else ""))
        return TwfeSummary(self.tidy()[cols], note)

    def __str__(self) -> str:
        return str(self.summary())


def check_panel(data: pd.DataFrame, columns: dict[str, str | None]) -> None:
    """Columns present and complete, one row per unit and period; errors name what is wrong."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"panel must be a pandas DataFrame; got {type(data).__name__}")
    for role, col in columns.items():
        if col is None:
            continue
        if col not in data.columns:
            raise ValueError(f"{role} column {col!r} is not in the panel (columns: {list(data.columns)})")
        values = pd.to_numeric(data[col], errors="coerce") if role in ("y", "treat", "weights") else data[col]
        bad = values.isna() | (~np.isfinite(values) if role in ("y", "treat", "weights") else False)
        if bad.any():
            i = bad.to_numpy().nonzero()[0][0]
            raise ValueError(f"{role} column {col!r} has {int(bad.sum())} missing or non-numeric value(s), "
                             f"first at row {data.index[i]!r}")
    if columns.get("weights") and (data[columns["weights"]] <= 0).any():
        raise ValueError(f"weights column {columns['weights']!r} has values <= 0")
    dup = data.duplicated([columns["unit"], columns["time"]])
    if dup.any():
        row = data.loc[dup].iloc[0]
        raise ValueError(f"unit {row[columns['unit']]!r} has more than one row for {columns['time']} "
                         f"{row[columns['time']]!r}")


def twfe_did(panel: pd.DataFrame, y: str = "y", unit: str = "area_code", time: str = "t",
             treat: str = "treated_post", weights: str | None = None, cluster: str | None = None,
             alpha: float = 0.05, scale: str | None = None, unbalanced: str = "available",
             covariates: Sequence[str] = ()) -> TwfeResult:
    """Two-way fixed-effects DiD of ``y`` on the 0/1 ``treat`` column, clustered by unit by default.

    ``scale`` ("log" or "rate") defaults to ``panel.attrs["scale"]`` (set by ``area_panel``), else
    "rate"; it decides how the percentage change is computed. ``unbalanced`` says what to do when
    units miss periods: "available" (default: the within transformation is exact on the rows that
    exist), "drop", "impute" (``y`` interpolated) or "error" (:mod:`joinedup.impact.unbalanced`);
    ``result.panel_balance`` reports it. ``covariates``: time-varying columns (e.g. a dated
    exposure to a co-intervention) entered beside ``treat``; the estimate stays ``treat``'s.

    Example:
        >>> res = twfe_did(panel, weights="weight")                           # doctest: +SKIP
        >>> res.tidy()[["estimate", "std_error", "ci_low", "ci_high", "pct_change"]]   # doctest: +SKIP
    """
    check_panel(panel, {"y": y, "unit": unit, "time": time, "treat": treat, "weights": weights,
                        "cluster": cluster})
    panel, report = balance_panel(panel, unit, time, unbalanced, interpolate=[y], design="twfe_did")
    d = panel[treat].astype(float)
    if not (d != 0).any():
        raise ValueError(f"no treated observations: column {treat!r} is 0 everywhere")
    treated_units = set(panel.loc[d != 0, unit])
    if panel[unit].isin(treated_units).all():
        raise ValueError(f"no comparison units: every {unit} is treated at some time")
    design = Design.build(panel, y, [treat, *covariates], unit, time, weights, cluster)
    fit = design.fit()
    b, se = float(fit.coef[0]), float(np.sqrt(fit.vcov[0, 0]))
    df = fit.n_clusters - 1
    crit = float(stats.t.ppf(1 - alpha / 2, df))
    ci = (b - crit * se, b + crit * se)
    scale = scale or panel.attrs.get("scale", "rate")
    pre = panel[panel[unit].isin(treated_units) & (d == 0)]
    w = pre[weights] if weights else pd.Series(1.0, index=pre.index)
    baseline = float(np.average(pre[y], weights=w)) if len(pre) else float("nan")
    if scale == "log":
        pct = lambda v: 100 * (np.exp(v) - 1)  # noqa: E731
    else:
        pct = lambda v: 100 * v / baseline  # noqa: E731
    return TwfeResult(
        treat, b, se, b / se, float(2 * stats.t.sf(abs(b / se), df)), ci, alpha, df, fit.n_obs,
        fit.n_clusters, panel[unit].nunique(), panel[time].nunique(), fit.k, fit.ssc, scale, baseline,
        float(pct(b)), (float(pct(ci[0])), float(pct(ci[1]))), weights is not None, cluster or unit, design,
        report.as_dict())


def wild_cluster_bootstrap(result: TwfeResult | pd.DataFrame, B: int = 9999, weights: str = "rademacher",
                           impose_null: bool = True, seed: int | None = None, alpha: float = 0.05,
                           beta0: float = 0.0, **twfe_args) -> BootstrapResult:
    """Wild cluster bootstrap p-value and CI for the TWFE DiD coefficient (WCR by default).

    ``result`` is a :class:`TwfeResult` or a panel (then ``twfe_args`` go to :func:`twfe_did`).
    ``weights``: "rademacher", "webb" (six-point, better with fewer than ~12 clusters) or "mammen";
    with Rademacher weights and ``2**G <= B`` all sign vectors are enumerated (exact, no seed used).

    Example:
        >>> boot = wild_cluster_bootstrap(twfe_did(panel), B=9999, seed=7)     # doctest: +SKIP
        >>> print(boot.summary())                                             # doctest: +SKIP
    """
    if isinstance(result, pd.DataFrame):
        result = twfe_did(result, alpha=alpha, **twfe_args)
    elif twfe_args:
        raise ValueError(f"arguments {sorted(twfe_args)} apply only when a panel is given")
    if not isinstance(result, TwfeResult):
        raise ValueError(f"result must be a TwfeResult or a panel DataFrame; got {type(result).__name__}")
    return bootstrap_design(result.design, 0, B=B, weights=weights, impose_null=impose_null, beta0=beta0,
                            alpha=alpha, seed=seed, ssc=result.ssc)


__all__ = ["TwfeResult", "BootstrapResult", "check_panel", "twfe_did", "wild_cluster_bootstrap"]
