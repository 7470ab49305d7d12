"""The site dashboard's charts, drawn as small inline SVG (no script, no ``style`` attributes, so the
app's Content-Security-Policy holds; vector, so the printed PDF stays small and sharp).

* :func:`variation_icon_svg` / :func:`assurance_icon_svg`: NHS England's Making Data Count icons,
  drawn: a ring coloured as NHSRplotthedots colours point types (blue improvement, orange concern,
  purple neither, grey common cause), a letter H or L for the side of the special cause, and a small
  run of points; assurance P (passes the target), F (fails it) or ? (hit and miss).
* :func:`spc_svg`: an XmR chart of one series (:func:`joinedup.indicators.spc.xmr` computes it):
  the values, the mean (solid) and the process limits (dashed), points coloured by type, and the
  site's programme start marked.
* :func:`spine_svg`: one row of a Fingertips-style spine chart: England's value is the centre line,
  the bar the range of areas (darker: the middle half), an open diamond the comparison areas' median, and the
  site's marker coloured by its comparison with England (Fingertips' "Better / Similar / Worse"
  by whether the 95% interval excludes England's value).
* :func:`interval_svg`: estimates with 95% intervals against no change (a forest plot).

Every chart is an ``<svg role="img">`` with a ``<title>`` saying in words what it shows.

Example:
    >>> variation_icon_svg("special_cause_improvement_low").startswith("<svg")
    True
    >>> 'lower than England' in spine_svg(10.0, 8.0, 12.0, 9.0, 11.0, 9.5, "lower", 9.8, "x")
    True
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from joinedup.indicators.spc_plot import COLOURS

# Fingertips' comparison colours (Public Health England, "Better / Similar / Worse" than England)
SIGNIFICANCE = {"better": "#92D050", "similar": "#FFC000", "worse": "#C00000", "higher": "#BED2FF",
                "lower": "#5555E6", "not compared": "#FFFFFF"}
SIGNIFICANCE_WORDS = {"better": "better than England", "similar": "similar to England",
                      "worse": "worse than England", "higher": "higher than England",
                      "lower": "lower than England", "not compared": "not compared with England"}
INK = "#1d1d1d"
GRID = "#d0d0d0"

VARIATION_WORDS = {
    "special_cause_improvement_high": "improving: special cause, higher",
    "special_cause_improvement_low": "improving: special cause, lower",
    "special_cause_concern_high": "concern: special cause, higher",
    "special_cause_concern_low": "concern: special cause, lower",
    "special_cause_neutral_high": "special cause, higher (neither better nor worse)",
    "special_cause_neutral_low": "special cause, lower (neither better nor worse)",
    "common_cause": "common cause variation only",
}
ASSURANCE_WORDS = {"consistent_pass": "will consistently pass the target",
                   "consistent_fail": "will consistently fail the target",
                   "inconsistent": "will hit and miss the target at random"}


def _esc(text) -> str:
    return escape(str(text), quote=True)


def _ring_colour(icon: str) -> str:
    for kind in ("improvement", "concern", "neutral"):
        if f"_{kind}_" in icon:
            return COLOURS["special_cause_neutral_high" if kind == "neutral" else f"special_cause_{kind}"]
    return COLOURS["common_cause"]


def variation_icon_svg(icon: str | None, size: int = 48) -> str:
    """The Making Data Count variation icon for ``icon`` (an ``XmrResult.variation_icon`` code).

    Example:
        >>> "improving" in variation_icon_svg("special_cause_improvement_high")
        True
    """
    if not icon or icon not in VARIATION_WORDS:
        words = "not enough data for statistical process control (12 points needed)"
        return (f'<svg class="icon" role="img" width="{size}" height="{size}" viewBox="0 0 40 40"><title>{words}</title>'
                f'<circle cx="20" cy="20" r="17" fill="#fff" stroke="{GRID}" stroke-width="3" stroke-dasharray="4 3"/>'
                f'<text x="20" y="25" text-anchor="middle" font-size="13" fill="{INK}">n/a</text></svg>')
    colour = _ring_colour(icon)
    # a run of seven points: flat for common cause, the last ones stepping up (H) or down (L)
    side = "H" if icon.endswith("_high") else ("L" if icon.endswith("_low") else "")
    ys = [22, 24, 21, 23, 22, 24, 22] if not side else ([25, 26, 25, 26, 18, 17, 16] if side == "H"
                                                           else [17, 16, 17, 16, 24, 25, 26])
    dots = "".join(f'<circle cx="{9 + 3.7 * i:.1f}" cy="{y}" r="1.8" fill="{colour if side and i >= 4 else "#7f7f7f"}"/>'
                   for i, y in enumerate(ys))
    letter = (f'<text x="20" y="{13 if side == "L" else 35}" text-anchor="middle" font-size="10" font-weight="bold" '
              f'fill="{INK}">{side}</text>') if side else ""
    return (f'<svg class="icon" role="img" width="{size}" height="{size}" viewBox="0 0 40 40">'
            f'<title>Variation: {_esc(VARIATION_WORDS[icon])}</title>'
            f'<circle cx="20" cy="20" r="17" fill="#fff" stroke="{colour}" stroke-width="3"/>{dots}{letter}</svg>')


def assurance_icon_svg(icon: str | None, size: int = 48) -> str:
    """The Making Data Count assurance icon: P, F or ? in a ring; a dashed ring when no target is set."""
    if not icon or icon not in ASSURANCE_WORDS:
        return (f'<svg class="icon" role="img" width="{size}" height="{size}" viewBox="0 0 40 40">'
                f'<title>Assurance: no target set</title>'
                f'<circle cx="20" cy="20" r="17" fill="#fff" stroke="{GRID}" stroke-width="3" stroke-dasharray="4 3"/>'
                f'<text x="20" y="25" text-anchor="middle" font-size="11" fill="{INK}">no target</text></svg>'
                ).replace('font-size="11"', 'font-size="8"')
    letter, colour = {"consistent_pass": ("P", COLOURS["special_cause_improvement"]),
                      "consistent_fail": ("F", COLOURS["special_cause_concern"]),
                      "inconsistent": ("?", COLOURS["common_cause"])}[icon]
    return (f'<svg class="icon" role="img" width="{size}" height="{size}" viewBox="0 0 40 40">'
            f'<title>Assurance: {_esc(ASSURANCE_WORDS[icon])}</title>'
            f'<circle cx="20" cy="20" r="17" fill="#fff" stroke="{colour}" stroke-width="3"/>'
            f'<text x="20" y="26" text-anchor="middle" font-size="17" font-weight="bold" fill="{INK}">{letter}</text></svg>')


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """Round tick values covering [lo, hi] (the 1-2-5 steps axes usually use)."""
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"


def spc_svg(points: pd.DataFrame, title: str, unit: str, start: pd.Timestamp | None = None) -> str:
    """An XmR chart from ``XmrResult.tidy()`` (columns x, y, mean, lpl, upl, point_type).

    Example:
        >>> from joinedup.indicators.spc import xmr
        >>> r = xmr([5, 6, 5, 6, 5, 6, 5, 6, 5, 6, 5, 9], pd.date_range("2012", periods=12, freq="QS"))
        >>> spc_svg(r.tidy(), "Demo", "per 100,000").count("<circle")
        12
    """
    w, h, left, right, top, bottom = 460, 200, 50, 10, 12, 26
    x = pd.to_datetime(points["x"])
    ys = points[["y", "lpl", "upl"]].to_numpy(dtype=float)
    lo, hi = np.nanmin(ys), np.nanmax(ys)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad
    t0, t1 = x.min().value, x.max().value
    span = (t1 - t0) or 1

    def px(t) -> float:
        return left + (pd.Timestamp(t).value - t0) / span * (w - left - right)

    def py(v) -> float:
        return top + (hi - v) / (hi - lo) * (h - top - bottom)

    parts = []
    ticks = _ticks(lo, hi)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    digits = 0 if step >= 1 else (1 if step >= 0.1 else 2)
    for t in ticks:
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>'
                     f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end" font-size="11" fill="{INK}">'
                     f'{t:,.{digits}f}</text>')
    years = sorted({d.year for d in x})
    for yr in years[:: max(1, len(years) // 6)]:
        t = pd.Timestamp(year=yr, month=1, day=1)
        if t0 <= t.value <= t1:
            parts.append(f'<text x="{px(t):.1f}" y="{h - 10}" text-anchor="middle" font-size="11" fill="{INK}">{yr}</text>')
    if start is not None and t0 <= pd.Timestamp(start).value <= t1:
        sx = px(start)
        parts.append(f'<line x1="{sx:.1f}" x2="{sx:.1f}" y1="{top}" y2="{h - bottom}" stroke="{INK}" stroke-dasharray="2 3"/>'
                     f'<text x="{sx + 3:.1f}" y="{top + 10}" font-size="10" fill="{INK}">start</text>')

    def path(col: str, **attrs) -> str:
        pts = " ".join(f"{px(t):.1f},{py(v):.1f}" for t, v in zip(x, points[col]) if pd.notna(v))
        extra = " ".join(f'{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
        return f'<polyline points="{pts}" fill="none" {extra}/>'

    parts.append(path("upl", stroke="#7f7f7f", stroke_dasharray="5 3"))
    parts.append(path("lpl", stroke="#7f7f7f", stroke_dasharray="5 3"))
    parts.append(path("mean", stroke=INK, stroke_width="1.5"))
    parts.append(path("y", stroke="#a6a6a6", stroke_width="1.5"))
    for t, v, kind in zip(x, points["y"], points["point_type"]):
        if pd.notna(v):
            colour = COLOURS.get(kind, COLOURS["common_cause"])
            parts.append(f'<circle cx="{px(t):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}"/>')
    last = points.dropna(subset=["y"]).iloc[-1]
    words = (f"{title}: {len(points)} quarters from {x.min():%B %Y} to {x.max():%B %Y}, latest {_num(last['y'])} "
             f"{unit}; mean {_num(last['mean'])}, process limits {_num(last['lpl'])} to {_num(last['upl'])}.")
    return (f'<svg class="chart" role="img" viewBox="0 0 {w} {h}" preserveAspectRatio="xMinYMin meet">'
            f'<title>{_esc(words)}</title>{"".join(parts)}</svg>')


def spine_svg(england: float, lowest: float, highest: float, q25: float, q75: float, site: float,
              significance: str, comparison: float, label: str, width: int = 240) -> str:
    """One Fingertips spine row: centre line England, bar the range of areas scaled so the area
    farthest from England reaches the edge, the middle half darker, the comparison areas' median an
    open diamond, the site a circle coloured by its comparison with England."""
    h, mid = 24, width / 2
    half = max(abs(england - lowest), abs(highest - england), abs(site - england), 1e-12)

    def px(v: float) -> float:
        return mid + (v - england) / half * (mid - 8)

    parts = [f'<rect x="{px(lowest):.1f}" y="6" width="{px(highest) - px(lowest):.1f}" height="12" fill="#d9d9d9"/>',
             f'<rect x="{px(q25):.1f}" y="6" width="{px(q75) - px(q25):.1f}" height="12" fill="#8c8c8c"/>',
             f'<line x1="{mid}" x2="{mid}" y1="0" y2="{h}" stroke="{INK}" stroke-width="2"/>']
    if pd.notna(comparison):
        cx = px(comparison)
        parts.append(f'<polygon points="{cx:.1f},4 {cx + 6:.1f},12 {cx:.1f},20 {cx - 6:.1f},12" fill="#fff" '
                     f'stroke="{INK}" stroke-width="1.5"/>')
    parts.append(f'<circle cx="{px(site):.1f}" cy="12" r="6" fill="{SIGNIFICANCE[significance]}" stroke="{INK}"/>')
    words = (f"{label}: site {_num(site)}, {SIGNIFICANCE_WORDS[significance]} ({_num(england)}); "
             f"areas range {_num(lowest)} to {_num(highest)}")
    if pd.notna(comparison):
        words += f"; comparison areas' median {_num(comparison)}"
    return (f'<svg class="spine" role="img" viewBox="0 0 {width} {h}" width="{width}" height="{h}">'
            f'<title>{_esc(words)}</title>{"".join(parts)}</svg>')


def interval_svg(rows: pd.DataFrame, label: str = "label", estimate: str = "pct", low: str = "pct_low",
                 high: str = "pct_high", width: int = 600) -> str:
    """Estimates (in %) with intervals, one row each, against a line at no change (0%).

    Example:
        >>> f = pd.DataFrame({"label": ["DiD"], "pct": [-4.0], "pct_low": [-9.0], "pct_high": [1.0]})
        >>> "-9.0% to 1.0%" in interval_svg(f)
        True
    """
    row_h, left, right, top = 30, 200, 20, 24
    h = top + row_h * len(rows) + 6
    values = rows[[estimate, low, high]].to_numpy(dtype=float)
    lo = min(0.0, np.nanmin(values)) if len(rows) else -1.0
    hi = max(0.0, np.nanmax(values)) if len(rows) else 1.0
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad

    def px(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    parts = [f'<text x="{px(t):.1f}" y="14" text-anchor="middle" font-size="11" fill="{INK}">{"0" if abs(t) < 1e-9 else f"{t:+.0f}"}%</text>'
             f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top - 4}" y2="{h}" stroke="#eee"/>'
             for t in _ticks(lo, hi, 5)]
    parts.append(f'<line x1="{px(0):.1f}" x2="{px(0):.1f}" y1="{top - 4}" y2="{h}" stroke="{INK}"/>')
    words = []
    for i, r in enumerate(rows.itertuples(index=False)):
        y = top + row_h * i + row_h / 2
        d = r._asdict()
        name = str(d[label])
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{INK}">'
                     f'{_esc(name[:30])}</text>')
        if pd.notna(d[low]) and pd.notna(d[high]):
            parts.append(f'<line x1="{px(d[low]):.1f}" x2="{px(d[high]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                         f'stroke="{COLOURS["special_cause_improvement"]}" stroke-width="3"/>')
        if pd.notna(d[estimate]):
            parts.append(f'<rect x="{px(d[estimate]) - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{INK}"/>')
            words.append(f"{name}: {d[estimate]:+.1f}% ({d[low]:.1f}% to {d[high]:.1f}%)")
    text = "Estimated change with 95% intervals; " + "; ".join(words) if words else "No estimates"
    return (f'<svg class="chart" role="img" viewBox="0 0 {width} {h}" preserveAspectRatio="xMinYMin meet">'
            f'<title>{_esc(text)}</title>{"".join(parts)}</svg>')
