"""XmR statistical process control charts as NHS England's Making Data Count (MDC) draws them.

Limits follow NHSRplotthedots 0.2.2 (``ptd_spc_standard.R``), per series and rebase period:

- mean = mean of the baseline values (the first ``fix_after_n_points`` of the period, or all);
- moving ranges MR_i = |y_i - y_(i-1)| within the baseline; AMR = their mean;
- screening (``screen_outliers=True``): moving ranges with MR >= 3.267 x AMR are dropped and AMR is
  recomputed once from the rest;
- process limits mean -/+ 2.66 x AMR (3 sigma, sigma = AMR / 1.128 ~ (2.66 / 3) x AMR) and 2-sigma
  lines mean -/+ (2 x 2.66 / 3) x AMR.

Rules, labels and point types: :mod:`joinedup.indicators.spc_rules`. Icons: the variation icon is the
point type of a series' last point; assurance compares the target with the last point's limits.

Example:
    >>> r = xmr([1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 10])
    >>> r.variation_icon
    'special_cause_improvement_high'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from joinedup.indicators.spc_rules import SpcRules, classify

Direction = Literal["increase", "decrease", "neutral"]
LIMIT = 2.66  # 3 / d2 with d2 = 1.128 (n = 2), rounded as MDC and NHSRplotthedots round it
MR_SCREEN = 3.267  # D4 for n = 2: upper limit of the moving-range chart
_DIRECTION = {"increase": 1, "neutral": 0, "decrease": -1}
DEFAULT_RULES = SpcRules()  # frozen, so one shared default is safe

__all__ = ["LIMIT", "MR_SCREEN", "SpcRules", "SpcSummary", "XmrResult", "xmr", "xmr_by"]


def _check(option: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{option} must be one of {listed}; got {value!r}")


@dataclass(frozen=True)
class SpcSummary:
    """Per series and period: limits, counts and icons. Renders as text and HTML."""

    table: pd.DataFrame

    def __str__(self) -> str:
        return self.table.to_string(index=False)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


@dataclass(frozen=True)
class XmrResult:
    """Frozen XmR result: ``tidy()`` has one row per point, ``icons`` one row per series."""

    points: pd.DataFrame
    icons: pd.DataFrame
    improvement_direction: str
    rules: SpcRules
    group: str | None = None
    options: dict = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        return self.points.copy()

    def _single(self, column: str) -> Any:
        if len(self.icons) != 1:
            raise ValueError(f"{len(self.icons)} series: read {column} from .icons instead")
        return self.icons[column].iloc[0]

    @property
    def variation_icon(self) -> str:
        return self._single("variation_icon")

    @property
    def assurance_icon(self) -> str | None:
        return self._single("assurance_icon")

    def summary(self) -> SpcSummary:
        """Per series and rebase period (as NHSRplotthedots ``summary``); icons on the last period."""
        keys = ([self.group] if self.group else []) + ["rebase_group"]
        g = self.points.groupby(keys, sort=False)
        table = g.agg(mean=("mean", "first"), lpl=("lpl", "first"), upl=("upl", "first"),
                      n=("y", "size"), short_group_warning=("short_group_warning", "first"),
                      variation_type=("point_type", "last")).reset_index()
        kinds = {k: g["point_type"].agg(lambda s, k=k: int(s.str.startswith(k).sum()))
                 for k in ("common_cause", "special_cause_improvement", "special_cause_concern",
                           "special_cause_neutral")}
        for k, counts in kinds.items():
            table[k] = counts.to_numpy()
        if self.group:
            table = table.merge(self.icons, on=self.group, how="left")
            last = table.groupby(self.group)["rebase_group"].transform("max")
        else:
            table["target"] = float(self.icons["target"].iloc[0])
            for c in ("variation_icon", "assurance_icon"):
                table[c] = pd.Series([self.icons[c].iloc[0]] * len(table), dtype=object)
            last = table["rebase_group"].max()
        table[["variation_icon", "assurance_icon"]] = table[
            ["variation_icon", "assurance_icon"]].astype(object)
        table.loc[table["rebase_group"] != last, ["variation_icon", "assurance_icon"]] = None
        return SpcSummary(table)

    def plot(self, title: str | None = None):
        from joinedup.indicators.spc_plot import xmr_chart

        return xmr_chart(self, title=title)


def _limits(y: np.ndarray, fix_after_n_points: int | None, screen_outliers: bool) -> dict:
    """Mean, AMR and the moving ranges that entered the AMR, for one rebase period."""
    base = y[: fix_after_n_points] if fix_after_n_points else y
    mr = np.abs(np.diff(base))
    used = np.ones(len(mr), dtype=bool)
    amr = mr.mean() if len(mr) else np.nan
    if screen_outliers and len(mr):
        used = mr < MR_SCREEN * amr
        amr = mr[used].mean() if used.any() else np.nan
    mr_used = np.zeros(len(y), dtype=bool)
    mr_used[1: len(base)] = used
    return {"mean": base.mean(), "amr": amr, "mr_in_amr": mr_used}


def _series(y: np.ndarray, x: np.ndarray, starts: np.ndarray, *, direction: int, rules: SpcRules,
            fix_after_n_points: int | None, screen_outliers: bool) -> pd.DataFrame:
    """All columns for one series (already sorted by x); ``starts`` marks rebase points."""
    rebase_group = np.cumsum(starts.astype(int))
    parts = []
    for rg in np.unique(rebase_group):
        idx = np.flatnonzero(rebase_group == rg)
        ys = y[idx]
        lim = _limits(ys, fix_after_n_points, screen_outliers)
        m, amr = lim["mean"], lim["amr"]
        lpl, upl = m - LIMIT * amr, m + LIMIT * amr
        lo2, up2 = m - 2 * LIMIT / 3 * amr, m + 2 * LIMIT / 3 * amr
        flags = classify(ys, m, lpl, upl, lo2, up2, direction, rules)
        mr = np.concatenate([[np.nan], np.abs(np.diff(ys))])
        parts.append(pd.DataFrame({
            "x": x[idx], "y": ys, "rebase_group": rg, "mean": m, "lpl": lpl, "upl": upl,
            "lower_2sigma": lo2, "upper_2sigma": up2, "moving_range": mr,
            "mr_in_amr": lim["mr_in_amr"], "amr": amr,
            "relative_to_mean": np.sign(ys - m).astype(int),
            "outside_limits": flags.outside_limits, "beyond_2sigma": flags.beyond_2sigma,
            "trend": flags.trend, "two_of_three": flags.two_of_three, "run": flags.run,
            "special_cause_type": flags.special_cause_type,
            "special_cause_flag": flags.special_cause_type != "Common Cause",
            "point_type": flags.point_type,
            "short_group_warning": len(idx) < rules.short_group_threshold,
        }))
    return pd.concat(parts, ignore_index=True)


def _variation_icon(point_type: str, improvement_direction: str) -> str:
    if point_type in ("special_cause_improvement", "special_cause_concern"):
        high = (point_type == "special_cause_improvement") == (improvement_direction == "increase")
        return f"{point_type}_{'high' if high else 'low'}"
    return point_type


def _assurance_icon(target: float | None, lpl: float, upl: float, direction: str) -> str | None:
    if target is None or direction == "neutral" or pd.isna(target):
        return None
    increasing = direction == "increase"
    if target > upl:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lpl:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def _as_x(dates: Any, n: int) -> np.ndarray:
    if dates is None:
        return np.arange(n)
    x = pd.Index(dates)
    if len(x) != n:
        raise ValueError(f"dates has {len(x)} values but values has {n}")
    if x.dtype == object or isinstance(x.dtype, pd.StringDtype):
        x = pd.to_datetime(x)
    return x.to_numpy()


def _match_rebase(x: np.ndarray, rebase: Sequence | None, label: str) -> np.ndarray:
    starts = np.zeros(len(x), dtype=bool)
    if rebase is None or len(rebase) == 0:
        return starts
    wanted = pd.Index(rebase)
    if np.issubdtype(x.dtype, np.datetime64):
        wanted = pd.to_datetime(wanted)
    hit = pd.Index(x).isin(wanted)
    missing = [v for v in wanted if v not in set(pd.Index(x)[hit])]
    if missing:
        raise ValueError(f"rebase: {missing!r} not among the dates of {label}")
    return np.asarray(hit)


def _one(y: Any, x: np.ndarray, *, label: str, rebase, target, direction: str, rules: SpcRules,
         fix_after_n_points, screen_outliers) -> tuple[pd.DataFrame, dict]:
    y = np.asarray(y, dtype=float)
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        raise ValueError(f"{label}: value at row {int(bad[0])} is {y[bad[0]]}; values must be finite")
    order = np.argsort(x, kind="stable")
    xs = x[order]
    if len(xs) > 1 and (xs[1:] == xs[:-1]).any():
        dup = xs[1:][xs[1:] == xs[:-1]][0]
        raise ValueError(f"{label}: date {dup!r} appears more than once; dates must be unique")
    starts = _match_rebase(xs, rebase, label)
    pts = _series(y[order], xs, starts, direction=_DIRECTION[direction], rules=rules,
                  fix_after_n_points=fix_after_n_points, screen_outliers=screen_outliers)
    pts["target"] = np.nan if target is None else float(target)
    last = pts.iloc[-1]
    icons = {"target": target,
             "variation_icon": _variation_icon(last["point_type"], direction),
             "assurance_icon": _assurance_icon(target, last["lpl"], last["upl"], direction)}
    return pts, icons


def _icons_frame(rows: list[dict]) -> pd.DataFrame:
    """Icons per series; object columns so a missing icon stays None."""
    frame = pd.DataFrame(rows, dtype=object)
    frame["target"] = pd.to_numeric(frame["target"]).astype(float)
    return frame


def _validate(improvement_direction, fix_after_n_points, rules) -> None:
    _check("improvement_direction", improvement_direction, get_args(Direction))
    if fix_after_n_points is not None and (
            not isinstance(fix_after_n_points, (int, np.integer)) or fix_after_n_points < 12):
        raise ValueError("fix_after_n_points must be an integer >= 12 (as in NHSRplotthedots); "
                         f"got {fix_after_n_points!r}")
    if not isinstance(rules, SpcRules):
        raise TypeError(f"rules must be an SpcRules; got {type(rules).__name__}")


def xmr(values: Sequence[float], dates: Sequence | None = None, *, screen_outliers: bool = True,
        rebase: Sequence | None = None, fix_after_n_points: int | None = None,
        improvement_direction: Direction = "increase", target: float | None = None,
        rules: SpcRules = DEFAULT_RULES) -> XmrResult:
    """XmR chart of one series.

    ``rebase`` lists where new periods start: dates if ``dates`` is given, else 0-based positions.
    Every rebase must be one of the series' dates (NHSRplotthedots ignores unknown ones silently).
    ``fix_after_n_points`` fixes mean and limits on the first n points of each period.
    """
    _validate(improvement_direction, fix_after_n_points, rules)
    values = np.asarray(values, dtype=float)
    x = _as_x(dates, len(values))
    pts, icons = _one(values, x, label="values", rebase=rebase, target=target,
                      direction=improvement_direction, rules=rules,
                      fix_after_n_points=fix_after_n_points, screen_outliers=screen_outliers)
    opts = {"screen_outliers": screen_outliers, "rebase": rebase,
            "fix_after_n_points": fix_after_n_points, "target": target}
    return XmrResult(pts, _icons_frame([icons]), improvement_direction, rules, None, opts)


def xmr_by(frame: pd.DataFrame, value: str, date: str, group: str, *,
           screen_outliers: bool = True, rebase: Sequence | Mapping | None = None,
           fix_after_n_points: int | None = None, improvement_direction: Direction = "increase",
           target: float | Mapping | None = None, rules: SpcRules = DEFAULT_RULES) -> XmrResult:
    """One XmR chart per ``group`` of a long frame (NHSRplotthedots' ``facet_field``).

    ``rebase`` and ``target`` are either one value for every group, or a mapping group -> value
    (groups missing from the mapping get no rebase / no target).
    """
    _validate(improvement_direction, fix_after_n_points, rules)
    for col in (value, date, group):
        if col not in frame.columns:
            raise ValueError(f"column {col!r} not in frame (columns: {list(frame.columns)})")
    if isinstance(rebase, Mapping) or isinstance(target, Mapping):
        known = set(frame[group].unique())
        for name, arg in (("rebase", rebase), ("target", target)):
            extra = set(arg) - known if isinstance(arg, Mapping) else set()
            if extra:
                raise ValueError(f"{name}: groups {sorted(extra, key=str)} not in column {group!r}")
    points, icons = [], []
    for key, sub in frame.groupby(group, sort=True):
        rb = rebase.get(key) if isinstance(rebase, Mapping) else rebase
        tg = target.get(key) if isinstance(target, Mapping) else target
        x = _as_x(sub[date].to_numpy(), len(sub))
        pts, ic = _one(sub[value].to_numpy(), x, label=f"{group}={key!r}", rebase=rb, target=tg,
                       direction=improvement_direction, rules=rules,
                       fix_after_n_points=fix_after_n_points, screen_outliers=screen_outliers)
        pts.insert(0, group, key)
        points.append(pts)
        icons.append({group: key, **ic})
    opts = {"screen_outliers": screen_outliers, "rebase": rebase,
            "fix_after_n_points": fix_after_n_points, "target": target}
    return XmrResult(pd.concat(points, ignore_index=True), _icons_frame(icons),
                     improvement_direction, rules, group, opts)
