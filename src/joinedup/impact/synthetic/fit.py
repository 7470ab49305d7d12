"""Synthetic control (Abadie, Diamond & Hainmueller), computed as R ``Synth`` does.

Example:
    >>> import pandas as pd
    >>> smoking = pd.read_csv("smoking_adh2010.csv")                             # doctest: +SKIP
    >>> res = synth(smoking, "state", "year", "cigsale", "California", 1989,
    ...             special_predictors=[("lnincome", range(1980, 1989)),
    ...                                 ("retprice", range(1980, 1989)),
    ...                                 ("age15to24", range(1980, 1989)),
    ...                                 ("beer", range(1984, 1989)),
    ...                                 ("cigsale", 1975), ("cigsale", 1980), ("cigsale", 1988)],
    ...             time_optimize_ssr=range(1970, 1989))                       # doctest: +SKIP
    >>> res.weights.nlargest(2).round(3)                                       # doctest: +SKIP
    Utah      0.335
    Nevada    0.236
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from joinedup.impact.synthetic import _charts
from joinedup.impact.synthetic._outer import METHODS, STARTS, OuterFit, fit_v, fixed_v
from joinedup.impact.synthetic._prep import Prepared, prepare
from joinedup.impact.unbalanced import balance_panel

V_OPTIONS = ("nested", "outcome")


@dataclass(frozen=True)
class SynthOptions:
    """How V is chosen: ``v`` is "nested", "outcome" or a vector; the rest tune the outer search."""

    v: object = "nested"
    methods: tuple = METHODS
    starts: tuple = STARTS
    maxiter: int = 1000
    restarts: int = 10


@dataclass(frozen=True)
class SynthSummary:
    """Headline numbers, donor weights, V and predictor balance; renders as text and HTML."""

    headline: pd.DataFrame
    weights: pd.DataFrame
    balance: pd.DataFrame

    def __str__(self) -> str:
        return "\n\n".join([self.headline.to_string(index=False),
                            "Donor weights (> 0):\n" + self.weights.to_string(index=False),
                            "Predictor balance:\n" + self.balance.to_string(index=False)])

    def _repr_html_(self) -> str:
        return "".join([self.headline.to_html(index=False), "<h4>Donor weights (&gt; 0)</h4>",
                        self.weights.to_html(index=False), "<h4>Predictor balance</h4>",
                        self.balance.to_html(index=False)])


@dataclass(frozen=True)
class SynthResult:
    """One synthetic control fit: weights, V, the two paths and their gap (frozen)."""

    treated_unit: object
    treatment_time: object
    outcome: str
    weights: pd.Series            # by donor, all donors (zeros included), sums to 1
    v: pd.Series                  # by predictor, sums to 1
    loss_v: float                 # outcome MSPE over time_optimize_ssr (Synth's loss.v)
    loss_w: float                 # predictor loss (Synth's loss.w)
    times: np.ndarray
    treated: np.ndarray
    synthetic: np.ndarray
    balance: pd.DataFrame         # predictor, treated, synthetic, donor_mean (unscaled)
    details: dict = field(default_factory=dict)

    @property
    def pre(self) -> np.ndarray:
        return self.times < self.treatment_time

    @property
    def gap(self) -> np.ndarray:
        return self.treated - self.synthetic

    @property
    def pre_mspe(self) -> float:
        return float(np.mean(self.gap[self.pre] ** 2))

    @property
    def post_mspe(self) -> float:
        return float(np.mean(self.gap[~self.pre] ** 2))

    @property
    def mspe_ratio(self) -> float:
        """Post/pre MSPE ratio (ADH 2010's placebo statistic); inf for a perfect pre-period fit."""
        return self.post_mspe / self.pre_mspe if self.pre_mspe > 0 else np.inf

    @property
    def att(self) -> float:
        """Average gap over the post-treatment periods."""
        return float(np.mean(self.gap[~self.pre]))

    def gaps(self) -> pd.DataFrame:
        """One row per period: time, treated, synthetic, gap, post."""
        return pd.DataFrame({"time": self.times, "treated": self.treated,
                             "synthetic": self.synthetic, "gap": self.gap, "post": ~self.pre})

    def tidy(self) -> pd.DataFrame:
        """One row: the ATT with the fit statistics."""
        return pd.DataFrame([{
            "treated_unit": self.treated_unit, "treatment_time": self.treatment_time,
            "estimand": "att", "estimate": self.att, "pre_mspe": self.pre_mspe,
            "post_mspe": self.post_mspe, "mspe_ratio": self.mspe_ratio, "loss_v": self.loss_v,
            "loss_w": self.loss_w, "n_donors": len(self.weights),
            "n_donors_weighted": int((self.weights > 0).sum())}])

    def summary(self) -> SynthSummary:
        w = self.weights[self.weights > 0].sort_values(ascending=False)
        return SynthSummary(
            self.tidy()[["treated_unit", "treatment_time", "estimate", "pre_mspe", "post_mspe",
                         "mspe_ratio", "n_donors", "n_donors_weighted"]],
            pd.DataFrame({"donor": w.index, "weight": w.to_numpy()}),
            self.balance.assign(v=self.v.to_numpy()))

    def plot(self):
        """The treated unit and its synthetic control over time (a ``Figure``)."""
        g = self.gaps()
        frame = pd.concat([
            pd.DataFrame({"time": g["time"], "series": str(self.treated_unit), "value": g["treated"]}),
            pd.DataFrame({"time": g["time"], "series": f"Synthetic {self.treated_unit}",
                          "value": g["synthetic"]})], ignore_index=True)
        alt_text = (f"Line chart of {self.outcome} for {self.treated_unit} and its synthetic control "
                    f"from {self.times[0]} to {self.times[-1]}; treatment starts at "
                    f"{self.treatment_time}. Before it the root mean squared gap is "
                    f"{_charts.fmt(np.sqrt(self.pre_mspe))}; after it {self.treated_unit} differs "
                    f"from its synthetic control by {_charts.fmt(self.att)} on average.")
        return _charts.lines_figure(f"synth-path-{_slug(self.treated_unit)}",
                                    f"{self.outcome}: {self.treated_unit} and synthetic control",
                                    alt_text, frame, "value", self.treatment_time, self.outcome)

    def gap_plot(self):
        """The gap (treated minus synthetic) over time (a ``Figure``)."""
        g = self.gaps()
        frame = pd.DataFrame({"time": g["time"], "series": "Gap", "value": g["gap"]})
        alt_text = (f"Line chart of the gap in {self.outcome} between {self.treated_unit} and its "
                    f"synthetic control; treatment starts at {self.treatment_time}. The average gap "
                    f"is {_charts.fmt(float(np.mean(self.gap[self.pre])))} before and "
                    f"{_charts.fmt(self.att)} after.")
        return _charts.lines_figure(f"synth-gap-{_slug(self.treated_unit)}",
                                    f"Gap in {self.outcome}: {self.treated_unit} minus synthetic",
                                    alt_text, frame, "value", self.treatment_time,
                                    f"Gap in {self.outcome}", zero_line=True)


def synth(data: pd.DataFrame, unit: str, time: str, outcome: str, treated_unit, treatment_time, *,
          predictors: Sequence[str] | None = None, special_predictors: Sequence | None = None,
          predictors_op: str = "mean", time_predictors_prior: Sequence | None = None,
          time_optimize_ssr: Sequence | None = None, v="nested", donors: Sequence | None = None,
          methods: Sequence[str] = METHODS, starts: Sequence[str] = STARTS, maxiter: int = 1000,
          restarts: int = 10, unbalanced: str = "error") -> SynthResult:
    """Fit a synthetic control for ``treated_unit``, treated from ``treatment_time`` on.

    Synthetic control needs every unit in every period: an unbalanced panel is refused unless
    ``unbalanced`` is "drop" (complete donors only; an incomplete treated unit is refused) or
    "impute" (outcome and predictors interpolated within unit); ``result.details["panel_balance"]``
    reports what was done.

    ``v="nested"`` chooses V as Synth does (needs ``predictors`` and/or ``special_predictors``);
    ``v="outcome"`` matches every period of ``time_optimize_ssr`` (default: all pre periods) on the
    raw outcome with V = identity; an array gives V directly (Synth's ``custom.v``). Without any
    predictors, ``v="nested"`` falls back to ``"outcome"``.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": list("aaabbbccc"), "t": [1, 2, 3] * 3,
        ...                    "y": [1.0, 2, 5, 0, 1, 2, 2, 3, 4]})
        >>> res = synth(df, "u", "t", "y", "a", 3, v="outcome")
        >>> res.weights.round(3).to_dict(), round(res.att, 3)
        ({'b': 0.5, 'c': 0.5}, 2.0)
    """
    opts, outcome_only = _options(v, predictors, special_predictors, methods, starts, maxiter, restarts)
    numeric = [outcome, *(predictors or []), *(sp[0] for sp in (special_predictors or []) if len(sp))]
    data, report = balance_panel(data, unit, time, unbalanced,
                                 interpolate=[c for c in dict.fromkeys(numeric) if c in data.columns],
                                 allowed=("error", "drop", "impute"), design="synth")
    if treated_unit in report.dropped_units:
        raise ValueError(f"treated unit {treated_unit!r} misses periods, so unbalanced='drop' would drop it; "
                         "use unbalanced='impute' or fill its missing periods first")
    prep = prepare(data, unit, time, outcome, treated_unit, treatment_time, donors, predictors,
                   special_predictors, predictors_op, time_predictors_prior, time_optimize_ssr,
                   scale=not outcome_only, outcome_only=outcome_only)
    res = fit_columns(prep, 0, np.arange(1, len(prep.units)), opts)
    return replace(res, details={**res.details, "panel_balance": report.as_dict()})


def _options(v, predictors, special_predictors, methods, starts, maxiter, restarts):
    has_predictors = bool(predictors) or bool(special_predictors)
    if isinstance(v, str):
        if v not in V_OPTIONS:
            raise ValueError(f"v must be one of {', '.join(map(repr, V_OPTIONS))} or a vector; got {v!r}")
        if v == "outcome" and has_predictors:
            raise ValueError("v='outcome' matches pre-period outcomes only: drop predictors and "
                             "special_predictors, or use v='nested'")
        outcome_only = v == "outcome" or not has_predictors
    else:
        if not has_predictors:
            raise ValueError("a custom v needs predictors or special_predictors")
        outcome_only = False
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"methods must be drawn from {', '.join(map(repr, METHODS))}; got {m!r}")
    for s in starts:
        if s not in STARTS:
            raise ValueError(f"starts must be drawn from {', '.join(map(repr, STARTS))}; got {s!r}")
    v_spec = "outcome" if outcome_only else v
    return SynthOptions(v_spec, tuple(methods), tuple(starts), maxiter, restarts), outcome_only


def fit_columns(prep: Prepared, treated: int, donors: np.ndarray, opts: SynthOptions) -> SynthResult:
    """Fit unit column ``treated`` against donor columns ``donors`` of a prepared problem."""
    cols = np.r_[treated, donors]
    P = prep.P[:, cols]
    if prep.scale:
        # Synth divides each predictor by its SD over the treated unit and its donors
        sd = P.std(axis=1, ddof=1)
        sd[~(sd > 0)] = 1.0
        P = P / sd[:, None]
    x1, X0 = P[:, 0], P[:, 1:]
    Z = prep.Y[prep.opt][:, cols]
    z1, Z0 = Z[:, 0], Z[:, 1:]
    if isinstance(opts.v, str) and opts.v == "outcome":
        fit = fixed_v(np.ones(len(x1)), X0, x1, Z0, z1, "outcome")
    elif isinstance(opts.v, str):
        fit = fit_v(X0, x1, Z0, z1, opts.methods, opts.starts, opts.maxiter, opts.restarts)
    else:
        fit = fixed_v(opts.v, X0, x1, Z0, z1)
    return _result(prep, cols, fit)


def _result(prep: Prepared, cols: np.ndarray, fit: OuterFit) -> SynthResult:
    units = [prep.units[c] for c in cols]
    Y = prep.Y[:, cols]
    P = prep.P[:, cols]
    balance = pd.DataFrame({"predictor": prep.names, "treated": P[:, 0], "synthetic": P[:, 1:] @ fit.w,
                            "donor_mean": P[:, 1:].mean(axis=1)})
    return SynthResult(
        units[0], prep.treatment_time, prep.outcome,
        pd.Series(fit.w, index=pd.Index(units[1:], name="donor"), name="weight"),
        pd.Series(fit.v, index=pd.Index(prep.names, name="predictor"), name="v"),
        fit.loss_v, fit.loss_w, prep.times, Y[:, 0].copy(), Y[:, 1:] @ fit.w, balance,
        {"start": fit.start, "method": fit.method, "evaluations": fit.evaluations})


def _slug(x) -> str:
    return "".join(c if c.isalnum() else "-" for c in str(x)).strip("-").lower() or "unit"
