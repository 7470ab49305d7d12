"""Deterministic sensitivity analysis: one-way (tornado) and scenario analysis.

Both take ``model(params) -> (inc_cost, inc_effect)``: a function of a dict of parameters, such as a
decision model or the WP2 MDT cost model. Results are reported as incremental net monetary benefit
(INMB) at a threshold as well as the ICER, because the ICER jumps sign when a parameter moves the
result across a quadrant and then ranks parameters misleadingly.

Example:
    >>> def model(p):
    ...     return p["cost_mdt"] - p["saved_admissions"] * p["cost_admission"], p["qaly_gain"]
    >>> base = {"cost_mdt": 800.0, "saved_admissions": 0.2, "cost_admission": 2500.0, "qaly_gain": 0.02}
    >>> ranges = {"cost_mdt": (600, 1000), "qaly_gain": (0.0, 0.04)}
    >>> t = one_way(model, base, ranges, wtp=20_000)
    >>> t[["parameter", "inmb_low", "inmb_high"]].to_dict("records")       # doctest: +NORMALIZE_WHITESPACE
    [{'parameter': 'qaly_gain', 'inmb_low': -300.0, 'inmb_high': 500.0},
     {'parameter': 'cost_mdt', 'inmb_low': 300.0, 'inmb_high': -100.0}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from joinedup.economics.cea.quadrant import icer_quadrant

Model = Callable[[dict], tuple[float, float]]


def _evaluate(model: Model, params: dict, wtp: float) -> dict:
    inc_cost, inc_effect = (float(v) for v in model(dict(params)))
    q = icer_quadrant(inc_cost, inc_effect)
    return {"inc_cost": inc_cost, "inc_effect": inc_effect, "icer": q.icer, "quadrant": q.quadrant,
            "statement": q.statement, "inmb": wtp * inc_effect - inc_cost}


def one_way(model: Model, base: Mapping[str, float], ranges, wtp: float = 20_000.0) -> pd.DataFrame:
    """Vary each parameter alone to its low and high value; one row per parameter, widest swing first.

    ``ranges`` is a mapping ``parameter -> (low, high)`` or a DataFrame with columns
    ``parameter, low, high``. Columns give inc cost, inc effect, ICER (NaN where dominant/dominated),
    quadrant and INMB at the base case, low and high values. Plot it with :func:`tornado_plot`.
    """
    if isinstance(ranges, pd.DataFrame):
        ranges = {r.parameter: (r.low, r.high) for r in ranges.itertuples()}
    unknown = [p for p in ranges if p not in base]
    if unknown:
        raise ValueError(f"parameters {unknown} have ranges but no base-case value")
    at_base = _evaluate(model, base, wtp)
    rows = []
    for name, (low, high) in ranges.items():
        row = {"parameter": name, "base": base[name], "low": low, "high": high}
        for end, value in (("low", low), ("high", high)):
            for key, v in _evaluate(model, {**base, name: value}, wtp).items():
                if key != "statement":
                    row[f"{key}_{end}"] = v
        row.update({f"{key}_base": v for key, v in at_base.items() if key != "statement"})
        row["swing"] = abs(row["inmb_high"] - row["inmb_low"])
        rows.append(row)
    return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def scenarios(model: Model, base: Mapping[str, float], changes: Mapping[str, Mapping[str, float]],
              wtp: float = 20_000.0) -> pd.DataFrame:
    """Evaluate named scenarios (each a dict of parameter overrides) next to the base case.

    Example:
        >>> scenarios(model, base, {"no admissions saved": {"saved_admissions": 0.0}})  # doctest: +SKIP
    """
    rows = [{"scenario": "base case", "changes": "", **_evaluate(model, base, wtp)}]
    for name, over in changes.items():
        unknown = [p for p in over if p not in base]
        if unknown:
            raise ValueError(f"scenario {name!r} changes unknown parameters {unknown}")
        text = ", ".join(f"{k}={v:g}" for k, v in over.items())
        rows.append({"scenario": name, "changes": text, **_evaluate(model, {**base, **over}, wtp)})
    out = pd.DataFrame(rows)
    out["wtp"] = wtp
    return out
