"""Covariate balance between treated and comparison areas, before and after matching, and a Love plot.

Standardised mean differences use one denominator for both columns, computed **before** matching
from the unweighted samples, so that a change in SMD reflects a change in means, not in spread
(MatchIt and cobalt do the same). The default denominator is the pooled SD
``sqrt((s_treated^2 + s_control^2) / 2)`` of the treated and the full control group; with
``sd_denominator="treated"`` it is the treated group's SD, MatchIt's default for the ATT. The
choice is written in the table's ``smd_denominator`` column and ``attrs``. Variance ratios are
treated over control; weighted variances use the unbiased reliability-weights form that cobalt uses.

Example:
    >>> import pandas as pd
    >>> f = pd.DataFrame({"treated": [True, True, False, False, False], "x": [1.0, 2, 0, 1, 5]})
    >>> float(area_balance(f, "treated", ["x"]).loc[0, "smd_before"].round(3))
    -0.258
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from joinedup.report.charts import Figure

DENOMINATORS = {
    "pooled": "pooled SD sqrt((s_t^2 + s_c^2)/2) of treated and all controls, before matching",
    "treated": "SD of the treated group, before matching (MatchIt's ATT default)",
}


def _wvar(x: np.ndarray, w: np.ndarray) -> float:
    """Unbiased weighted variance (reliability weights); the sample variance when weights are equal."""
    sw = w.sum()
    if sw <= 0 or (sw ** 2 - (w ** 2).sum()) <= 0:
        return float("nan")
    m = np.sum(w * x) / sw
    return float(np.sum(w * (x - m) ** 2) * sw / (sw ** 2 - np.sum(w ** 2)))


def _stats(x: np.ndarray, t: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    wt, wc = w * t, w * ~t
    mt, mc = np.sum(wt * x) / wt.sum(), np.sum(wc * x) / wc.sum()
    vt, vc = _wvar(x[t & (w > 0)], w[t & (w > 0)]), _wvar(x[~t & (w > 0)], w[~t & (w > 0)])
    return float(mt), float(mc), vt / vc if vc > 0 else float("nan")


def area_balance(frame: pd.DataFrame, treated_col: str, covariates: Sequence[str],
                 weights: str | np.ndarray | pd.Series | None = None,
                 sd_denominator: str = "pooled") -> pd.DataFrame:
    """Balance table, one row per covariate: means, SMD and variance ratio before (and after) matching.

    ``weights`` (a column name or array; 0 for unmatched areas) gives the "after" columns.

    Example:
        >>> area_balance(areas, "treated", ["imd_score"], weights="match_weight")   # doctest: +SKIP
    """
    if sd_denominator not in DENOMINATORS:
        raise ValueError(f"sd_denominator must be one of {', '.join(map(repr, DENOMINATORS))}; "
                         f"got {sd_denominator!r}")
    missing = [c for c in [treated_col, *covariates] if c not in frame.columns]
    if missing:
        raise ValueError(f"balance: column(s) {missing} not in the frame (columns: {list(frame.columns)})")
    t = frame[treated_col].astype(bool).to_numpy()
    if t.all() or not t.any():
        raise ValueError(f"balance needs treated and control rows; column {treated_col!r} has "
                         f"{int(t.sum())} treated of {len(t)}")
    if isinstance(weights, str):
        weights = frame[weights]
    after = None if weights is None else np.asarray(weights, dtype=float)
    if after is not None and (after[t].sum() <= 0 or after[~t].sum() <= 0):
        raise ValueError("balance: the weights leave no treated or no control area with weight > 0")
    rows = []
    ones = np.ones(len(frame))
    for cov in covariates:
        x = frame[cov].to_numpy(dtype=float)
        if np.isnan(x).any():
            raise ValueError(f"balance: covariate {cov!r} has missing values")
        mt, mc, vr = _stats(x, t, ones)
        vt, vc = np.var(x[t], ddof=1), np.var(x[~t], ddof=1)
        denom = float(np.sqrt((vt + vc) / 2) if sd_denominator == "pooled" else np.sqrt(vt))
        row = {"covariate": cov, "mean_treated_before": mt, "mean_control_before": mc,
               "smd_before": (mt - mc) / denom if denom > 0 else np.nan, "var_ratio_before": vr}
        if after is not None:
            mt2, mc2, vr2 = _stats(x, t, after)
            row.update(mean_treated_after=mt2, mean_control_after=mc2,
                       smd_after=(mt2 - mc2) / denom if denom > 0 else np.nan, var_ratio_after=vr2)
        row.update(sd_used=denom, smd_denominator=DENOMINATORS[sd_denominator])
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["smd_denominator"] = DENOMINATORS[sd_denominator]
    table.attrs["n_treated"], table.attrs["n_control"] = int(t.sum()), int((~t).sum())
    if after is not None:
        table.attrs["n_control_after"] = int(((after > 0) & ~t).sum())
    return table


def balance_plot(balance: pd.DataFrame, id: str = "love-plot", threshold: float = 0.1,
                 title: str = "Covariate balance of Pioneer and comparison areas") -> Figure:
    """Love plot: absolute SMD per covariate before and after matching, with a threshold line.

    Example:
        >>> fig = balance_plot(area_balance(areas, "treated", covs, "match_weight"))   # doctest: +SKIP
    """
    cols = [c for c in ("smd_before", "smd_after") if c in balance.columns]
    long = balance.melt(id_vars="covariate", value_vars=cols, var_name="sample", value_name="smd")
    long["sample"] = long["sample"].map({"smd_before": "Before matching", "smd_after": "After matching"})
    long["abs_smd"] = long["smd"].abs()
    parts = []
    for label, col in (("before", "smd_before"), ("after", "smd_after")):
        if col in balance.columns:
            a = balance[col].abs()
            parts.append(f"{label} matching from {a.min():.2f} to {a.max():.2f}, {int((a < threshold).sum())} "
                         f"of {len(a)} below {threshold}")
    denom = str(balance.attrs.get("smd_denominator", ""))
    alt_text = ("Absolute standardised mean differences by covariate: " + "; ".join(parts) + ". "
                + (f"Denominator: {denom}." if denom else ""))
    chart = alt.Chart(long).mark_point(size=70, filled=True).encode(
        x=alt.X("abs_smd:Q", title="Absolute standardised mean difference"),
        y=alt.Y("covariate:N", title=None, sort=list(balance["covariate"])),
        color=alt.Color("sample:N", title=None, sort=["Before matching", "After matching"]),
        shape=alt.Shape("sample:N", title=None, sort=["Before matching", "After matching"]),
        tooltip=["covariate", "sample", alt.Tooltip("smd:Q", format=".3f")])
    rule = alt.Chart(pd.DataFrame({"x": [threshold]})).mark_rule(strokeDash=[4, 4], color="#555").encode(x="x:Q")
    return Figure.from_chart(id, title, alt_text, (rule + chart).properties(title=title), long,
                             height=max(120, 28 * len(balance)))
