"""Comparison areas for programme (Pioneer) areas, matched on baseline characteristics.

:func:`area_covariates` gives one row per area of an area panel: deprivation (``imd_score``), age
structure (``share_65plus``, ``share_85plus`` of residents in the baseline year), and the outcome's
baseline level (weighted mean) and trend (OLS slope per period) over the pre-period, the periods
before the first treated period of any treated area. :func:`match_areas` then picks controls by
greedy nearest-neighbour matching, as MatchIt's ``method = "nearest"`` does:

* ``method="nearest"``: on the propensity score from a logistic regression of treatment on the
  (standardised) covariates; treated areas matched in order of decreasing score (MatchIt's
  ``m.order = "largest"``); ``caliper`` in SDs of the score (MatchIt's ``std.caliper = TRUE``).
* ``method="mahalanobis"``: on the Mahalanobis distance with the pooled within-group covariance;
  treated areas in data order; ``caliper`` in Mahalanobis units.

With ``n_controls = k`` matching runs in k rounds (each treated area gets its 1st control, then its
2nd, ...). Weights follow MatchIt for the ATT: 1 for matched treated areas; each control gets the
sum of ``1/k_i`` over the treated areas it serves, scaled to sum to the number of controls used.
Balance: :func:`joinedup.impact.balance.area_balance` (re-exported here), Love plot: ``balance_plot``.

Example:
    >>> covs = area_covariates(ds, panel)                                          # doctest: +SKIP
    >>> m = match_areas(covs, "treated", ["imd_score", "share_65plus", "baseline_level"])  # doctest: +SKIP
    >>> m.balance()[["covariate", "smd_before", "smd_after"]]                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.impact.balance import area_balance, balance_plot
from joinedup.report.charts import Figure

COVARIATES = ("imd_score", "share_65plus", "share_85plus", "baseline_level", "baseline_trend")


def baseline_outcome(panel: pd.DataFrame, weight: str | None = "weight", complete: bool = True) -> pd.DataFrame:
    """Per area: weighted mean of ``y`` and its OLS slope on ``t`` over the pre-period.

    The pre-period is ``t`` before the earliest ``first_treated`` of any treated area. With
    ``complete`` (``[impact] unbalanced`` other than "available", whose panel is balanced before it
    gets here) an area missing a pre-period is refused by name. Otherwise a missing cell (a quarter
    with no one eligible, a practice that closed) is missing, not zero: level and trend use the
    pre-periods an area has; an area with one has no trend (NaN), with none neither (NaN).
    """
    need = [c for c in ("area_code", "t", "y", "first_treated") if c not in panel.columns]
    if need:
        raise ValueError(f"the panel lacks column(s) {need} (it has: {list(panel.columns)})")
    treated = panel.loc[panel["first_treated"] > 0, "first_treated"]
    if treated.empty:
        raise ValueError("the panel has no treated areas (first_treated > 0 nowhere)")
    start = int(treated.min())
    pre = panel[panel["t"] < start]
    n_pre = start - 1
    if n_pre < 2:
        raise ValueError(f"a baseline trend needs at least 2 pre-periods; the first treated period is t={start}")
    counts = pre.groupby("area_code")["t"].nunique()
    short = counts[counts < n_pre].index.tolist() + sorted(set(panel["area_code"]) - set(counts.index))
    if complete and short:
        raise ValueError(f"unbalanced pre-period: area(s) {short[:5]} lack some of the {n_pre} periods "
                         f"before t={start}")
    w = pre[weight] if weight and weight in pre.columns else pd.Series(1.0, index=pre.index)
    g = pre.assign(_w=w, _wy=w * pre["y"])
    sums = g.groupby("area_code")[["_w", "_wy"]].sum()
    slope = pre[pre["area_code"].map(counts) >= 2].groupby("area_code").apply(
        lambda a: np.polyfit(a["t"], a["y"], 1)[0], include_groups=False)
    out = pd.DataFrame({"baseline_level": sums["_wy"] / sums["_w"]}).assign(
        baseline_trend=slope.reindex(sums.index)).reset_index()
    everyone = pd.DataFrame({"area_code": panel["area_code"].drop_duplicates()})
    return everyone.merge(out, on="area_code", how="left")


def area_covariates(ds, panel: pd.DataFrame, year: int | None = None, complete_baseline: bool = True) -> pd.DataFrame:
    """One row per panel area: treatment, deprivation, age shares in ``year`` and baseline outcome.

    ``year`` defaults to the calendar year of the panel's first period; ``complete_baseline`` as
    :func:`baseline_outcome`'s ``complete``.

    Example:
        >>> covs = area_covariates(ds, panel)                                       # doctest: +SKIP
    """
    areas = ds.execute(ds.table("areas").select("area_code", "area_name", "imd_score"))
    pop = ds.execute(ds.table("population"))
    year = year or int(pd.to_datetime(panel["period_start"]).min().year)
    pop = pop[pop["year"] == year]
    if pop.empty:
        raise ValueError(f"the population table has no rows for year {year}")
    lower = pop["age_band"].str.extract(r"^(\d+)", expand=False).astype(int)
    tot = pop.groupby("area_code")["persons"].sum()
    share = lambda age: pop[lower >= age].groupby("area_code")["persons"].sum().reindex(tot.index, fill_value=0) / tot  # noqa: E731
    ages = pd.DataFrame({"share_65plus": share(65), "share_85plus": share(85)}).reset_index()
    keep = [c for c in ("area_code", "treated", "first_treated", "wave", "site") if c in panel.columns]
    flags = [c for c in panel.columns if c.startswith("in_")]
    out = panel[keep + flags].drop_duplicates("area_code")
    out = out.merge(areas, on="area_code", how="left").merge(ages, on="area_code", how="left")
    out = out.merge(baseline_outcome(panel, complete=complete_baseline), on="area_code", how="left")
    lost = out.loc[out[["imd_score", "share_65plus"]].isna().any(axis=1), "area_code"].tolist()
    if lost:
        raise ValueError(f"area(s) {lost[:5]} of the panel are missing from the areas or population table")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Matching:
    """Matched pairs, weights per area and what produced them (frozen)."""

    areas: pd.DataFrame       # the area frame with treated, matched, match_weight, distance
    pairs: pd.DataFrame       # treated_area, control_area, round, distance
    covariates: tuple[str, ...]
    method: str
    caliper: float | None
    replace: bool
    n_controls: int
    unmatched: tuple[str, ...]

    def tidy(self) -> pd.DataFrame:
        return self.pairs.copy()

    def balance(self, sd_denominator: str = "pooled") -> pd.DataFrame:
        return area_balance(self.areas, "treated", self.covariates, "match_weight", sd_denominator)

    def plot(self, id: str = "love-plot", threshold: float = 0.1) -> Figure:
        return balance_plot(self.balance(), id=id, threshold=threshold)

    def weights(self) -> pd.Series:
        """Match weight by area code (0 for areas not used)."""
        return self.areas.set_index("area_code")["match_weight"]

    def matched_panel(self, panel: pd.DataFrame) -> pd.DataFrame:
        """The panel's rows for matched areas, with ``match_weight`` (and ``weight`` times it)."""
        w = self.weights()
        out = panel[panel["area_code"].map(w).fillna(0) > 0].copy()
        out["match_weight"] = out["area_code"].map(w)
        if "weight" in out.columns:
            out["weight"] = out["weight"] * out["match_weight"]
        out.attrs.update(panel.attrs)
        return out.reset_index(drop=True)


def _logit_scores(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Propensity scores by IRLS; a tiny ridge keeps it finite under (quasi-)separation."""
    z = np.column_stack([np.ones(len(x)), (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)])
    beta = np.zeros(z.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-z @ beta))
        h = z.T @ (z * (p * (1 - p))[:, None]) + 1e-6 * np.eye(z.shape[1])
        step = np.linalg.solve(h, z.T @ (t - p) - 1e-6 * beta)
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    return 1 / (1 + np.exp(-z @ beta))


def match_areas(frame: pd.DataFrame, treated: str | Sequence[str], covariates: Sequence[str] = COVARIATES,
                n_controls: int = 1, method: str = "nearest", caliper: float | None = None,
                replace: bool = False, exclude: str | Sequence[str] | None = None) -> Matching:
    """Choose comparison areas for the treated areas by nearest-neighbour matching.

    ``frame``: one row per area (e.g. :func:`area_covariates`), or an area panel, collapsed to
    areas with its baseline level and trend added. ``treated``: a boolean column or a list of area
    codes. ``exclude``: a boolean column or area codes barred from the control pool.

    Example:
        >>> m = match_areas(covs, "treated", ["imd_score", "baseline_level"], n_controls=2)  # doctest: +SKIP
    """
    if method not in ("nearest", "mahalanobis"):
        raise ValueError(f"method must be one of 'nearest', 'mahalanobis'; got {method!r}")
    if "area_code" not in frame.columns:
        raise ValueError(f"the frame lacks column 'area_code' (it has: {list(frame.columns)})")
    if frame["area_code"].duplicated().any():  # a panel: one row per area plus the baseline outcome
        base = baseline_outcome(frame)
        frame = frame.drop_duplicates("area_code").drop(columns=["baseline_level", "baseline_trend"],
                                                        errors="ignore").merge(base, on="area_code")
    areas = frame.reset_index(drop=True).copy()
    areas["treated"] = (areas[treated].astype(bool) if isinstance(treated, str)
                        else areas["area_code"].isin(list(treated)))
    missing = [c for c in covariates if c not in areas.columns]
    if missing:
        raise ValueError(f"covariate(s) {missing} not in the frame (columns: {list(areas.columns)})")
    barred = np.zeros(len(areas), bool)
    if exclude is not None:
        barred = (areas[exclude].astype(bool) if isinstance(exclude, str)
                  else areas["area_code"].isin(list(exclude))).to_numpy() & ~areas["treated"].to_numpy()
    areas = areas[~barred].reset_index(drop=True)
    t = areas["treated"].to_numpy()
    if not t.any():
        raise ValueError("no treated areas to match")
    if t.all():
        raise ValueError("no control areas left to match from (after exclusion)")
    x = areas[list(covariates)].to_numpy(dtype=float)
    if np.isnan(x).any():
        bad = areas.loc[np.isnan(x).any(axis=1), "area_code"].tolist()
        raise ValueError(f"covariates have missing values for area(s) {bad[:5]}")
    if not replace and n_controls * t.sum() > (~t).sum():
        raise ValueError(f"{n_controls} control(s) for each of {t.sum()} treated areas without replacement "
                         f"needs {n_controls * t.sum()} controls; only {(~t).sum()} are available")
    ti, ci = np.flatnonzero(t), np.flatnonzero(~t)
    if method == "nearest":
        ps = _logit_scores(x, t.astype(float))
        dist = np.abs(ps[ti][:, None] - ps[ci][None, :])
        limit = None if caliper is None else caliper * ps.std(ddof=1)
        order = np.argsort(-ps[ti], kind="stable")
        areas["distance"] = ps
    else:
        diff = x - np.where(t[:, None], x[t].mean(0), x[~t].mean(0))
        cov = diff.T @ diff / (len(x) - 2)  # pooled within-group covariance
        inv = np.linalg.pinv(cov)
        d = x[ti][:, None, :] - x[ci][None, :, :]
        dist = np.sqrt(np.einsum("ijk,kl,ijl->ij", d, inv, d))
        limit, order = caliper, np.arange(len(ti))
        areas["distance"] = np.nan
    used = np.zeros(len(ci), bool)
    pairs = []
    for rnd in range(1, n_controls + 1):
        for i in order:
            cand = dist[i].copy()
            if not replace:
                cand[used] = np.inf
            if limit is not None:
                cand[cand > limit] = np.inf
            j = int(np.argmin(cand))
            if np.isfinite(cand[j]):
                used[j] = True
                pairs.append((areas.at[ti[i], "area_code"], areas.at[ci[j], "area_code"], rnd, float(dist[i, j])))
    pairs = pd.DataFrame(pairs, columns=["treated_area", "control_area", "round", "distance"])
    if pairs.empty:
        raise ValueError(f"no treated area has a control within the caliper ({caliper})")
    k = pairs.groupby("treated_area")["control_area"].transform("size")
    cw = (1 / k).groupby(pairs["control_area"]).sum()
    cw = cw * len(cw) / cw.sum()
    code = areas["area_code"]
    areas["matched"] = code.isin(pairs["treated_area"]) | code.isin(pairs["control_area"])
    areas["match_weight"] = np.where(t, code.isin(pairs["treated_area"]).astype(float), code.map(cw).fillna(0.0))
    unmatched = tuple(sorted(set(code[t]) - set(pairs["treated_area"])))
    return Matching(areas, pairs, tuple(covariates), method, caliper, replace, n_controls, unmatched)


__all__ = ["COVARIATES", "Matching", "area_balance", "area_covariates", "balance_plot", "baseline_outcome",
           "match_areas"]
