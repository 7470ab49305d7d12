"""The effect a simulation programmed, averaged as an estimator sees it.

Simulated England multiplies the emergency admission rate of a Pioneer area by
``1 + relative_change * ramp(day)`` from its site's start date, the ramp rising linearly to 1 over
``ramp_months`` (``truth.json``). An estimator compares whole periods, so the programmed effect of a
treated area-period is the log of the mean multiplier over the period's days; an ATT over many
area-periods is their plain mean. On the rate scale the counterfactual of an observed rate ``y`` is
``y / multiplier``, so the effect is ``y - y / multiplier``.

Every area-level effect counts: a Pioneer area that is also a Vanguard gets both. Comparison areas
are assumed untouched, which holds when Vanguard areas are excluded (the default); the simulated
MDT effect acts on a few enrolled patients only and is left out.

Example:
    >>> truth = {"effects": [{"name": "pioneer_wave_1", "relative_change": -0.04, "ramp_months": 0,
    ...          "start_dates": {"Leeds": "2013-11-01"}, "areas": ["E08000035"]}]}
    >>> rows = pd.DataFrame({"area_code": ["E08000035"], "period_start": [pd.Timestamp("2014-01-01")],
    ...                      "y": [1.0]})
    >>> round(programmed_effect(truth, rows, "log", period="quarter"), 6)
    -0.040822
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

DAYS_PER_MONTH = 30.44  # the simulator's ramp unit


def load_truth(data_folder: str | Path) -> dict | None:
    """``truth.json`` of a simulated dataset folder, or None for real data."""
    path = Path(data_folder) / "truth.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _area_effects(truth: dict) -> dict[str, list[tuple[pd.Timestamp, float, float]]]:
    """area code -> [(start date, relative change, ramp months)] of every area-level programme effect.

    Pioneer effects list their areas and the start date of each site (all sites of a wave start on
    the same day); Vanguard start dates are by area. The MDT effect acts on enrolled patients, not
    on whole areas, and is left out.
    """
    out: dict[str, list] = {}
    for effect in truth.get("effects", []):
        name = str(effect.get("name", ""))
        if not (name.startswith("pioneer") or name in ("vanguard", "practice_programme")):
            continue  # MDT effects act on patients; the utility effect is not on admissions
        change, ramp = float(effect["relative_change"]), float(effect.get("ramp_months", 0))
        if name.startswith("pioneer"):
            starts = sorted(set(effect.get("start_dates", {}).values()))
            if len(starts) != 1:
                raise ValueError(f"truth.json: {name} has sites starting on different days {starts}")
            for area in effect.get("areas", []):
                out.setdefault(area, []).append((pd.Timestamp(starts[0]), change, ramp))
        elif name in ("vanguard", "practice_programme"):  # start dates by area (practice) code
            for area, start in effect.get("start_dates", {}).items():
                out.setdefault(area, []).append((pd.Timestamp(start), change, ramp))
    return out


def _mean_multiplier(effects: list, first: pd.Timestamp, last: pd.Timestamp) -> float:
    """Mean over the period's days of the product of every effect's multiplier that day."""
    days = pd.date_range(first, last, freq="D")
    total = np.ones(len(days))
    for start, change, ramp_months in effects:
        since = (days - start).days.to_numpy().astype(float)
        ramp = np.ones_like(since) if ramp_months <= 0 else np.clip(since / (ramp_months * DAYS_PER_MONTH), 0, 1)
        total *= np.where(since >= 0, 1 + change * ramp, 1.0)
    return float(np.mean(total))


def programmed_effect(truth: dict | None, rows: pd.DataFrame, scale: str, period: str | None = None) -> float:
    """Mean programmed effect over treated area-periods ``rows`` (columns ``area_code``,
    ``period_start``, and ``y`` on the rate scale); NaN without a truth or rows. ``period`` defaults to
    ``rows.attrs["period"]``. Every area-level effect counts (an area in both programmes gets both)."""
    if truth is None or rows is None or len(rows) == 0:
        return float("nan")
    from joinedup.indicators.compute import period_end

    period = period or rows.attrs.get("period", "quarter")
    effects = _area_effects(truth)
    starts = pd.to_datetime(rows["period_start"]).reset_index(drop=True)
    ends = period_end(starts, period).reset_index(drop=True)
    values = []
    for area, first, last, y in zip(rows["area_code"], starts, ends, rows["y"]):
        multiplier = _mean_multiplier(effects.get(area, []), first, last)
        values.append(np.log(multiplier) if scale == "log" else y - y / multiplier)
    return float(np.mean(values))
