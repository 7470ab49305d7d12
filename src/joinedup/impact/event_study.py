"""Event-study TWFE: leads and lags of treatment relative to the period before it starts.

``y_it = a_i + l_t + sum_{e != ref} b_e * 1[t - G_i = e] + e_it`` for treated units (``G_i`` their
first treated period); never-treated units have no event dummies and anchor the period effects.
Relative times outside ``window`` are binned into its end points (so the dummies stay identified).
Leads (e < 0) near zero support parallel pre-trends; lags trace the effect as it builds up. The
inference is the same CR1 with t(G-1) as :func:`joinedup.impact.twfe.twfe_did`.

Under staggered adoption with heterogeneous effects TWFE leads/lags can be contaminated by other
periods' effects (Sun & Abraham 2021); with one adoption date against never-treated units they are
clean. Cross-check with ``joinedup.impact.att_gt(...).aggregate("dynamic")``.

Example:
    >>> es = event_study(panel, window=(-6, 8), weights="weight")              # doctest: +SKIP
    >>> es.tidy()[["rel_time", "estimate", "ci_low", "ci_high"]]              # doctest: +SKIP
    >>> es.plot().write(Path("out/figures"))                                  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import altair as alt
import numpy as np
import pandas as pd
from scipy import stats

from joinedup.impact.twfe import VCOV, check_panel
from joinedup.impact.unbalanced import balance_panel
from joinedup.impact.within import Design
from joinedup.report.charts import Figure


@dataclass(frozen=True)
class EventStudyResult:
    """Lead/lag coefficients (the reference period as a row with estimate 0)."""

    table: pd.DataFrame
    ref: int
    alpha: float
    n_clusters: int
    outcome: str
    panel_balance: dict = field(default_factory=dict)   # unbalanced-panel report
    # CR1 covariance of the non-reference coefficients, in rel_time order (for HonestDiD sensitivity)
    vcov: np.ndarray | None = field(default=None, compare=False, repr=False)

    def tidy(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return (self.table.to_string(index=False) + f"\nReference period {self.ref}; SE {VCOV}; "
                f"t({self.n_clusters - 1}) CIs at {1 - self.alpha:.0%}."
                + (f"\nPanel: {self.panel_balance['note']}." if self.panel_balance else ""))

    def plot(self, id: str = "event-study", title: str | None = None) -> Figure:
        """Estimates with their CIs by period relative to the start; a screen-reader summary."""
        data = self.table
        title = title or f"Event study: change in {self.outcome} by period relative to the start"
        pre, post = data[(data.rel_time < 0) & ~data.reference], data[data.rel_time >= 0]
        alt_text = (f"Estimates for {len(data)} periods relative to the start, reference period {self.ref} "
                    f"fixed at 0. Before the start they range from {pre.estimate.min():.3g} to "
                    f"{pre.estimate.max():.3g}; from the start on, from {post.estimate.min():.3g} to "
                    f"{post.estimate.max():.3g}.") if len(pre) and len(post) else \
            f"Estimates for {len(data)} periods relative to the start."
        x = alt.X("rel_time:Q", title="Periods relative to the start (0 = first treated period)")
        base = alt.Chart(data)
        bars = base.mark_rule().encode(x=x, y=alt.Y("ci_low:Q", title=f"Change in {self.outcome}"),
                                       y2="ci_high:Q")
        points = base.mark_point(filled=True, size=50).encode(
            x=x, y="estimate:Q", tooltip=["rel_time", "estimate", "ci_low", "ci_high"])
        zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555").encode(y="y:Q")
        start = alt.Chart(pd.DataFrame({"x": [-0.5]})).mark_rule(color="#999").encode(x="x:Q")
        chart = (zero + start + bars + points).properties(title=title)
        return Figure.from_chart(id, title, alt_text, chart, data)


def event_study(panel: pd.DataFrame, y: str = "y", unit: str = "area_code", time: str = "t",
                first_treated: str = "first_treated", weights: str | None = None,
                cluster: str | None = None, window: tuple[int, int] | None = None, ref: int = -1,
                alpha: float = 0.05, unbalanced: str = "available", covariates=()) -> EventStudyResult:
    """Event-study TWFE; ``first_treated`` holds the first treated period (0 = never treated).

    ``unbalanced``: "available" (default, the rows that exist), "drop", "impute" or "error", as
    :func:`joinedup.impact.twfe.twfe_did`; reported in ``result.panel_balance``. ``covariates``:
    time-varying columns entered beside the event-time dummies (their coefficients are not reported).

    Example:
        >>> es = event_study(panel, window=(-4, 8))                           # doctest: +SKIP
    """
    check_panel(panel, {"y": y, "unit": unit, "time": time, "first_treated": first_treated,
                        "weights": weights, "cluster": cluster})
    panel, report = balance_panel(panel, unit, time, unbalanced, interpolate=[y], design="event_study")
    g = panel[first_treated].to_numpy()
    if not (g > 0).any():
        raise ValueError(f"no treated units: column {first_treated!r} is 0 everywhere")
    if (g > 0).all():
        raise ValueError("no never-treated units (first_treated = 0) to anchor the period effects")
    rel = np.where(g > 0, panel[time].to_numpy() - g, 0)
    if window is not None:
        lo, hi = window
        if not lo <= ref <= hi:
            raise ValueError(f"reference period {ref} is outside window {window}")
        rel = np.clip(rel, lo, hi)
    treated = g > 0
    times = sorted(set(rel[treated]))
    if ref not in times:
        raise ValueError(f"reference period {ref} is not observed for any treated unit (relative times "
                         f"{times[0]}..{times[-1]})")
    terms = [e for e in times if e != ref]
    names = [f"rel_{e}" for e in terms]
    data = panel.copy()
    for e, name in zip(terms, names):
        data[name] = (treated & (rel == e)).astype(float)
    fit = Design.build(data, y, names + list(covariates), unit, time, weights, cluster).fit()
    fit_coef, fit_vcov = fit.coef[:len(names)], fit.vcov[:len(names), :len(names)]
    se = np.sqrt(np.diag(fit_vcov))
    df = fit.n_clusters - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    table = pd.DataFrame({"rel_time": terms, "estimate": fit_coef, "std_error": se,
                          "ci_low": fit_coef - crit * se, "ci_high": fit_coef + crit * se,
                          "p_value": 2 * stats.t.sf(np.abs(fit_coef / se), df), "reference": False})
    ref_row = pd.DataFrame({"rel_time": [ref], "estimate": [0.0], "std_error": [np.nan], "ci_low": [0.0],
                            "ci_high": [0.0], "p_value": [np.nan], "reference": [True]})
    table = pd.concat([table, ref_row], ignore_index=True).sort_values("rel_time", ignore_index=True)
    table["n_treated_units"] = [int(panel.loc[treated & (rel == e), unit].nunique()) for e in table.rel_time]
    return EventStudyResult(table, ref, alpha, fit.n_clusters, y, report.as_dict(), fit_vcov)
