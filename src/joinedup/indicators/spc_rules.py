"""Special-cause rules for one XmR segment (one series between rebases), as pure numpy functions.

The rules and their order follow NHSRplotthedots 0.2.2 (``ptd_calculate_point_type.R``):

1. a point outside the process limits (strictly above ``upl`` or below ``lpl``);
2. a point that is part of a trend of ``trend_length`` points, each strictly above (below) the one
   before (a tie breaks the trend);
3. a point beyond the 2-sigma line that is part of "two out of three" consecutive points beyond the
   2-sigma line, all three on the same side of the mean;
4. a point that is part of a run of ``run_length`` points on the same side of the mean (a point on
   the mean breaks the run).

Where the NHS England Making Data Count (MDC) Excel tool differs, :class:`SpcRules` says how.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Conflict = Literal["rule_order", "improvement"]


@dataclass(frozen=True)
class SpcRules:
    """Rule variants. The defaults reproduce NHSRplotthedots 0.2.2; ``SpcRules.mdc()`` the MDC tool.

    - ``run_length``: points in a run on one side of the mean. 7 in NHSRplotthedots (fixed) and the
      MDC default; the MDC Excel tool lets the user choose 6.
    - ``trend_length``: points (not steps) in an increasing/decreasing trend; 7 in both, 6 selectable
      in the MDC tool.
    - ``two_of_three_beyond_limits``: whether a point beyond the 3-sigma limit also counts as "beyond
      2 sigma" in two-out-of-three. False in NHSRplotthedots 0.2.2 (only points between 2 and 3 sigma
      count); True in the MDC tool since its late-2023 update (NHSRplotthedots issue #194).
    - ``conflict``: what a point flagged for both improvement and concern shows. ``"rule_order"``
      (NHSRplotthedots): the first rule in the order above decides. ``"improvement"`` (MDC single
      chart tool, per the MDC team in issue #194): improvement wins.
    - ``short_group_threshold``: segments with fewer points get ``short_group_warning`` (13 in
      NHSRplotthedots; the MDC tool shows limits and icons only from 13 points).
    """

    run_length: int = 7
    trend_length: int = 7
    two_of_three_beyond_limits: bool = False
    conflict: Conflict = "rule_order"
    short_group_threshold: int = 13

    def __post_init__(self) -> None:
        for name in ("run_length", "trend_length"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 2:
                raise ValueError(f"{name} must be an integer >= 2; got {value!r}")
        allowed = get_args(Conflict)
        if self.conflict not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"conflict must be one of {listed}; got {self.conflict!r}")

    @classmethod
    def nhsrplotthedots(cls) -> SpcRules:
        """NHSRplotthedots 0.2.2 (the default)."""
        return cls()

    @classmethod
    def mdc(cls, points: int = 7) -> SpcRules:
        """MDC Excel single chart tool (late-2023 logic); ``points`` = 6 or 7 for run and trend."""
        if points not in (6, 7):
            raise ValueError(f"points must be 6 or 7; got {points!r}")
        return cls(run_length=points, trend_length=points, two_of_three_beyond_limits=True,
                   conflict="improvement")


def member_of(ends: np.ndarray, length: int) -> np.ndarray:
    """True where a point is one of the ``length`` points of a pattern that ends at a True in ``ends``."""
    hits = np.concatenate([[0], np.cumsum(ends.astype(bool))])
    idx = np.arange(len(ends))
    stop = np.minimum(idx + length, len(ends))
    return (hits[stop] - hits[idx]) > 0


def run_ends(side: np.ndarray, length: int) -> np.ndarray:
    """+1/-1 where a run of ``length`` points on one side of the mean ends (side = sign(y - mean))."""
    out = np.zeros(len(side), dtype=int)
    if len(side) >= length:
        w = sliding_window_view(side, length)
        same = (w == w[:, -1:]).all(axis=1) & (w[:, -1] != 0)
        out[length - 1:] = np.where(same, w[:, -1], 0)
    return out


def trend_ends(y: np.ndarray, length: int) -> np.ndarray:
    """+1/-1 where ``length`` strictly increasing/decreasing points end."""
    out = np.zeros(len(y), dtype=int)
    if len(y) >= length:
        w = sliding_window_view(np.sign(np.diff(y)), length - 1)
        out[length - 1:] = np.where((w == 1).all(axis=1), 1, np.where((w == -1).all(axis=1), -1, 0))
    return out


def two_of_three(beyond: np.ndarray, side: np.ndarray) -> np.ndarray:
    """True for a point beyond 2 sigma that sits in a window of 3 with >= 2 such points, all 3 on one side."""
    n = len(beyond)
    if n < 3:
        return np.zeros(n, dtype=bool)
    qualifies = (sliding_window_view(beyond.astype(int), 3).sum(axis=1) >= 2) & (
        np.abs(sliding_window_view(side, 3).sum(axis=1)) == 3)
    padded = np.concatenate([[False, False], qualifies, [False, False]])
    in_window = padded[:-2][:n] | padded[1:-1][:n] | padded[2:][:n]
    return in_window & beyond.astype(bool)


def _trend_sides(y: np.ndarray, part: np.ndarray) -> np.ndarray:
    """NHSRplotthedots' direction for a trend point: the step to the right inside a trend, else the left."""
    n = len(y)
    if n < 2:
        return np.zeros(n, dtype=int)
    d = np.sign(np.diff(y)).astype(int)
    right = np.concatenate([d, d[-1:]])
    left = np.concatenate([[0], d])
    nxt = np.concatenate([part[1:], [False]])
    return np.where(nxt & part, right, left)


@dataclass(frozen=True)
class SegmentFlags:
    """Rule membership, labels and point types for one segment."""

    outside_limits: np.ndarray
    beyond_2sigma: np.ndarray
    trend: np.ndarray
    two_of_three: np.ndarray
    run: np.ndarray
    special_cause_type: np.ndarray
    point_type: np.ndarray


def classify(y: np.ndarray, mean: float, lpl: float, upl: float, lower2: float, upper2: float,
             direction: int, rules: SpcRules) -> SegmentFlags:
    """Apply every rule to one segment; ``direction`` is 1 (increase), -1 (decrease) or 0 (neutral)."""
    n = len(y)
    side = np.sign(y - mean).astype(int)
    outside = (y > upl) | (y < lpl)
    beyond = (y < lower2) | (y > upper2)
    close = beyond if rules.two_of_three_beyond_limits else beyond & ~outside
    t_ends = trend_ends(y, rules.trend_length)
    part_inc = member_of(t_ends == 1, rules.trend_length)
    part_dec = member_of(t_ends == -1, rules.trend_length)
    part_trend = part_inc | part_dec
    part_23 = two_of_three(close, side)
    part_run = member_of(run_ends(side, rules.run_length) != 0, rules.run_length)

    above = np.where(side > 0, "Above", "Below")
    sdy = np.where(_trend_sides(y, part_trend) == 1, 1, -1)
    t = rules.trend_length
    # candidates in rule order: (member?, direction, label)
    candidates = [
        (outside, np.where(side == 1, 1, -1), np.where(side == 1, "Above UCL", "Below LCL")),
    ]
    if rules.conflict == "improvement" and direction != 0:
        candidates += [(part_inc, np.ones(n, int), np.full(n, f"{t} Point Trend (Increasing)")),
                       (part_dec, -np.ones(n, int), np.full(n, f"{t} Point Trend (Decreasing)"))]
    else:
        candidates += [(part_trend, sdy, np.char.add(f"{t} Point Trend (", np.char.add(
            np.where(sdy == 1, "Increasing", "Decreasing"), ")")))]
    candidates += [
        (part_23, np.where(side > 0, 1, -1), np.char.add("2 in 3 ", np.char.add(above, " CL"))),
        (part_run, np.where(side > 0, 1, -1),
         np.char.add(f"{rules.run_length} Points ", np.char.add(above, " CL"))),
    ]
    label = np.full(n, "Common Cause", dtype=object)
    sign = np.zeros(n, dtype=int)
    chosen = np.zeros(n, dtype=bool)
    if rules.conflict == "improvement" and direction != 0:
        for member, d, lab in candidates:  # first pass: improvement wins
            take = member & ~chosen & (d * direction > 0)
            label[take], sign[take], chosen[take] = lab[take], d[take], True
    for member, d, lab in candidates:
        take = member & ~chosen
        label[take], sign[take], chosen[take] = lab[take], d[take], True

    if direction == 0:
        ptype = np.where(sign > 0, "special_cause_neutral_high",
                         np.where(sign < 0, "special_cause_neutral_low", "common_cause"))
    else:
        oriented = sign * direction
        ptype = np.where(oriented > 0, "special_cause_improvement",
                         np.where(oriented < 0, "special_cause_concern", "common_cause"))
    return SegmentFlags(outside, beyond, part_trend, part_23, part_run, label, ptype.astype(object))
