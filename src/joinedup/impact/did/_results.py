"""Frozen result objects for ATT(g,t) and their aggregations: ``tidy``, ``summary``, ``plot``.

Example:
    >>> import pandas as pd
    >>> from joinedup.impact import att_gt
    >>> mpdta = pd.read_csv("mpdta.csv")                                       # doctest: +SKIP
    >>> res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", bstrap=False)  # doctest: +SKIP
    >>> res.tidy().head(2)                                                     # doctest: +SKIP
    >>> print(res.aggregate("dynamic").summary())                              # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from joinedup.impact.did import _charts
from joinedup.impact.did._aggte import AggInputs, aggregate


class DidSummary(str):
    """A summary that is plain text (``str``) and renders as a table in notebooks."""

    def __new__(cls, text: str, table: pd.DataFrame, header: str):
        obj = super().__new__(cls, text)
        obj.table, obj.header = table, header
        return obj

    def _repr_html_(self) -> str:
        return f"<p>{self.header}</p>" + self.table.to_html(index=False, float_format=lambda v: f"{v:.4f}")


def _as_int(values: np.ndarray) -> np.ndarray:
    """Periods, groups and event times as integers when they are whole numbers (readable tables)."""
    v = np.asarray(values, dtype=float)
    return v.astype(np.int64) if len(v) and np.all(np.isfinite(v)) and np.all(v == np.round(v)) else v


def _stars(lower, upper) -> list[str]:
    return ["*" if (lo > 0 or hi < 0) else "" for lo, hi in zip(lower, upper)]


@dataclass(frozen=True)
class AttGtResult:
    """Group-time average treatment effects ATT(g,t) with influence functions (as R's ``MP``)."""

    group: np.ndarray
    t: np.ndarray
    att: np.ndarray
    se: np.ndarray
    post: np.ndarray
    crit_val: float              # pointwise z, or the bootstrap sup-t value when the band is uniform
    uniform: bool
    inffunc: np.ndarray          # (n units x n cells)
    n: int
    periods: np.ndarray
    unit_ids: np.ndarray
    unit_g: np.ndarray           # 0 for never treated, as R
    unit_w: np.ndarray
    cluster: np.ndarray | None
    W: float | None              # Wald pre-test of parallel trends (pre-treatment cells)
    Wpval: float | None
    params: dict = field(default_factory=dict)
    design: dict = field(default_factory=dict)   # data structure, units, unbalanced units, what was done

    def tidy(self) -> pd.DataFrame:
        """One row per (group, t): ``group``, ``t``, ``att``, ``se``, ``lower``, ``upper``, ``post``."""
        return pd.DataFrame({"group": _as_int(self.group), "t": _as_int(self.t), "att": self.att, "se": self.se,
                             "lower": self.att - self.crit_val * self.se,
                             "upper": self.att + self.crit_val * self.se, "post": self.post.astype(bool)})

    def summary(self) -> DidSummary:
        """Readable text: the ATT(g,t) table, the band used and the parallel-trends pre-test."""
        tab = self.tidy()
        tab["sig"] = _stars(tab["lower"], tab["upper"])
        p = self.params
        band = "simultaneous (sup-t bootstrap)" if self.uniform else "pointwise"
        conf = int(round(100 * (1 - p["alp"])))
        head = (f"Group-time ATT (Callaway & Sant'Anna 2021), outcome {p['yname']}; {self.n} units, "
                f"control group {p['control_group']}, estimator {p['est_method']}, base period "
                f"{p['base_period']}, anticipation {p['anticipation']}")
        data_line = [f"Data: {self.design['treatment']}"] if self.design else []
        if self.design.get("covariates"):
            data_line.append(f"Covariates: {self.design['covariates']}")
        lines = [head, *data_line, f"{conf}% {band} confidence band; standard errors "
                       f"{'multiplier bootstrap (' + str(p['biters']) + ' draws)' if p['bstrap'] else 'analytic'}",
                 "", tab.to_string(index=False, float_format=lambda v: f"{v:.4f}"), ""]
        if self.W is not None:
            lines.append(f"P-value for the pre-test of parallel trends: {self.Wpval:.4f} (W = {self.W:.3f})")
        lines.append("* the confidence band excludes 0")
        return DidSummary("\n".join(lines), tab, head)

    def plot(self, id: str = "att-gt"):
        """ATT(g,t) by period, one panel per group, with confidence bands (a ``Figure``)."""
        return _charts.attgt_figure(id, self.tidy(), self.params, self.uniform)

    def aggregate(self, kind: str = "group", min_e: float = -np.inf, max_e: float = np.inf,
                  balance_e: int | None = None, na_rm: bool = False, bstrap: bool | None = None,
                  biters: int | None = None, cband: bool | None = None, alp: float | None = None,
                  seed=None) -> AggteResult:
        """Aggregate ATT(g,t) as R's ``aggte``: ``kind`` in "simple", "group", "dynamic", "calendar".

        Unset options are inherited from ``att_gt``. ``seed`` defaults to one derived from
        ``att_gt``'s seed, so the same inputs give the same bands.

        Example:
            >>> res.aggregate("dynamic", min_e=-3, max_e=3).overall_att      # doctest: +SKIP
        """
        p = self.params
        kinds = ("simple", "group", "dynamic", "calendar")
        if kind not in kinds:
            raise ValueError(f"kind must be one of {', '.join(map(repr, kinds))}; got {kind!r}")
        if balance_e is not None and kind != "dynamic":
            raise ValueError("balance_e applies to kind='dynamic' only")
        alp = p["alp"] if alp is None else alp
        inp = AggInputs(self.group, self.t, self.att, self.inffunc, self.periods, self.unit_g, self.unit_w,
                        self.cluster)
        out = aggregate(inp, kind, min_e=min_e, max_e=max_e, balance_e=balance_e, na_rm=na_rm,
                        bstrap=p["bstrap"] if bstrap is None else bstrap,
                        biters=p["biters"] if biters is None else int(biters),
                        cband=p["cband"] if cband is None else cband, alp=alp,
                        rng=_child_rng(p.get("seed"), seed, kinds.index(kind)),
                        boot_weights=p["boot_weights"])
        return AggteResult(**out, params={**p, "bstrap": p["bstrap"] if bstrap is None else bstrap})


def _child_rng(parent_seed, seed, k: int) -> np.random.Generator:
    if seed is not None:
        return np.random.default_rng(seed)
    if parent_seed is None:
        return np.random.default_rng()
    if isinstance(parent_seed, np.random.Generator):
        return parent_seed.spawn(1)[0]
    return np.random.default_rng([int(parent_seed), 1 + k])


@dataclass(frozen=True)
class AggteResult:
    """An aggregated treatment effect (overall, and by event time / group / period), as R's ``aggte``."""

    kind: str
    overall_att: float
    overall_se: float
    egt: np.ndarray | None
    att_egt: np.ndarray | None
    se_egt: np.ndarray | None
    crit_val: float
    uniform: bool
    inf_egt: np.ndarray | None
    inf_overall: np.ndarray
    alp: float
    min_e: float
    max_e: float
    balance_e: int | None
    params: dict = field(default_factory=dict)

    @property
    def overall_ci(self) -> tuple[float, float]:
        """Pointwise confidence interval for the overall effect (as R)."""
        z = norm.ppf(1 - self.alp / 2)
        return self.overall_att - z * self.overall_se, self.overall_att + z * self.overall_se

    def tidy(self) -> pd.DataFrame:
        """Rows per ``egt`` (event time, group or period): ``egt``, ``att``, ``se``, ``lower``, ``upper``.

        ``simple`` has no breakdown: one row with ``egt`` NaN holding the overall effect.
        """
        if self.egt is None:
            lo, hi = self.overall_ci
            return pd.DataFrame({"egt": [np.nan], "att": [self.overall_att], "se": [self.overall_se],
                                 "lower": [lo], "upper": [hi]})
        return pd.DataFrame({"egt": _as_int(self.egt), "att": self.att_egt, "se": self.se_egt,
                             "lower": self.att_egt - self.crit_val * self.se_egt,
                             "upper": self.att_egt + self.crit_val * self.se_egt})

    def summary(self) -> DidSummary:
        """Readable text: the overall effect and, except for ``simple``, the breakdown."""
        lo, hi = self.overall_ci
        conf = int(round(100 * (1 - self.alp)))
        label = {"simple": "Overall ATT (simple weighted average)", "group": "Overall ATT, average over groups",
                 "dynamic": "Overall ATT, average over event times e >= 0",
                 "calendar": "Overall ATT, average over calendar periods"}[self.kind]
        head = f"{label}: {self.overall_att:.4f} (se {self.overall_se:.4f}; {conf}% CI {lo:.4f} to {hi:.4f})"
        tab = self.tidy()
        lines = [head]
        if self.egt is not None:
            name = {"group": "group", "dynamic": "event time", "calendar": "period"}[self.kind]
            band = "simultaneous" if self.uniform else "pointwise"
            tab = tab.rename(columns={"egt": name})
            tab["sig"] = _stars(tab["lower"], tab["upper"])
            lines += ["", f"By {name} ({conf}% {band} band):",
                      tab.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
                      "* the confidence band excludes 0"]
        return DidSummary("\n".join(lines), tab, head)

    def plot(self, id: str | None = None):
        """Event-study plot for ``dynamic``; effects by group or period otherwise (a ``Figure``)."""
        if self.egt is None:
            raise ValueError("kind='simple' has a single number; plot 'dynamic', 'group' or 'calendar'")
        return _charts.aggte_figure(id or f"aggte-{self.kind}", self.kind, self.tidy(), self.params,
                                    self.uniform, self.alp)
