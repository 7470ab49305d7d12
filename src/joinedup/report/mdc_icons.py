"""NHS England "Making Data Count" (MDC) icons, drawn as small inline SVG, and a sparkline.

The icons follow MDC's definitions (NHS England/Improvement, "Making data count: strengthening your
decisions", 2019; the icon set in NHSRplotthedots 0.2.2, ``ptd_get_icons``):

* **variation**: common cause (grey, no letter); special cause of *improving* nature, high or low
  (blue, "H" or "L"); special cause of *concerning* nature, high or low (orange, "H" or "L"); special
  cause where neither direction is better (purple, "H" or "L").
* **assurance** against a target: the process will consistently pass (blue "P"), consistently fail
  (orange "F"), or hit and miss at random (grey "?").

Colours are NHSRplotthedots' defaults (``ptd_spc_colours``: common cause #7B7D7D, improvement #289DE0,
concern #FAB428, neutral #361475). An icon is a ring in its colour with its letter and, for variation,
a run of dots whose last points rise or fall as the icon's letter says (MDC draws the same). Every icon
is an ``<svg role="img">`` with a ``<title>``, a ``<desc>`` and an ``aria-label`` giving its MDC name in words, so
the meaning never rests on colour or shape alone.

Example:
    >>> svg = variation_icon("special_cause_improvement_low")
    >>> 'aria-label="Special cause improving variation, low"' in svg, ">L</text>" in svg
    (True, True)
    >>> "Consistently passes the target" in assurance_icon("consistent_pass")
    True
"""

from __future__ import annotations

from html import escape

GREY, BLUE, ORANGE, PURPLE = "#7B7D7D", "#289DE0", "#FAB428", "#361475"

VARIATION = {  # code: (words, colour, letter, direction of the last points: +1 up, -1 down, 0 flat)
    "common_cause": ("Common cause variation", GREY, "", 0),
    "special_cause_improvement_high": ("Special cause improving variation, high", BLUE, "H", 1),
    "special_cause_improvement_low": ("Special cause improving variation, low", BLUE, "L", -1),
    "special_cause_concern_high": ("Special cause concerning variation, high", ORANGE, "H", 1),
    "special_cause_concern_low": ("Special cause concerning variation, low", ORANGE, "L", -1),
    "special_cause_neutral_high": ("Special cause variation, high (neither improving nor concerning)", PURPLE, "H", 1),
    "special_cause_neutral_low": ("Special cause variation, low (neither improving nor concerning)", PURPLE, "L", -1),
}
ASSURANCE = {
    "consistent_pass": ("Consistently passes the target", BLUE, "P"),
    "consistent_fail": ("Consistently fails the target", ORANGE, "F"),
    "inconsistent": ("Hit and miss: passes and fails the target at random", GREY, "?"),
}


def _ring(words: str, colour: str, size: int, inner: str) -> str:
    return (f'<svg class="mdc-icon" width="{size}" height="{size}" viewBox="0 0 40 40" role="img" '
            f'aria-label="{escape(words)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(words)}</title>'
            f'<desc>Making Data Count icon: {escape(words)}</desc>'
            f'<circle cx="20" cy="20" r="17" fill="#fff" stroke="{colour}" stroke-width="3"/>{inner}</svg>')


def variation_icon(code: str, size: int = 28) -> str:
    """The MDC variation icon of ``code`` (an SPC ``variation_icon`` value) as inline SVG."""
    if code not in VARIATION:
        raise ValueError(f"unknown variation icon {code!r}; expected one of {', '.join(VARIATION)}")
    words, colour, letter, way = VARIATION[code]
    dots = []
    for i in range(7):  # a run of points in the lower half: flat and grey, the last three moving in the icon's colour
        y = 27 - (way * 2 * (i - 3) if i >= 4 else 0)
        fill = colour if (way and i >= 4) else GREY
        dots.append(f'<circle cx="{9 + 3.5 * i:.1f}" cy="{y}" r="1.9" fill="{fill}"/>')
    text = (f'<text x="20" y="18" text-anchor="middle" font-size="12" font-weight="bold" '
            f'font-family="Arial, sans-serif" fill="{colour}">{letter}</text>') if letter else ""
    return _ring(words, colour, size, "".join(dots) + text)


def assurance_icon(code: str | None, size: int = 28) -> str:
    """The MDC assurance icon of ``code`` (``consistent_pass``/``consistent_fail``/``inconsistent``);
    an empty string when there is no target (None)."""
    if code is None or code != code:
        return ""
    if code not in ASSURANCE:
        raise ValueError(f"unknown assurance icon {code!r}; expected one of {', '.join(ASSURANCE)}")
    words, colour, letter = ASSURANCE[code]
    inner = (f'<line x1="9" y1="27" x2="31" y2="27" stroke="{colour}" stroke-width="1.5" stroke-dasharray="3 2"/>'
             f'<text x="20" y="23" text-anchor="middle" font-size="15" font-weight="bold" '
             f'font-family="Arial, sans-serif" fill="{colour}">{letter}</text>')
    return _ring(words, colour, size, inner)


def sparkline(values, point_types=None, width: int = 56, height: int = 18, label: str = "") -> str:
    """A line of ``values`` (oldest first) with special-cause points marked in their MDC colour; the
    text alternative gives the first and last values.

    Example:
        >>> sparkline([1.0, 2.0, 1.5], label="Admissions").startswith('<svg class="sparkline"')
        True
    """
    vals = [float(v) for v in values]
    if len(vals) < 2:
        return ""
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    xs = [1 + (width - 2) * i / (len(vals) - 1) for i in range(len(vals))]
    ys = [height - 2 - (height - 4) * (v - lo) / span for v in vals]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    colours = {"special_cause_improvement": BLUE, "special_cause_concern": ORANGE, "special_cause_neutral": PURPLE}
    marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6" fill="{colours[t]}"/>'
                    for x, y, t in zip(xs, ys, point_types or []) if t in colours)
    words = f"{label}: from {vals[0]:,.3g} to {vals[-1]:,.3g} over {len(vals)} periods".lstrip(": ")
    return (f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(words)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(words)}</title>'
            f'<desc>Sparkline: {escape(words)}</desc><polyline points="{line}" fill="none" stroke="{GREY}" stroke-width="1"/>{marks}</svg>')
