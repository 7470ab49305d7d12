"""Deterministic multi-arm incremental analysis: dominance, extended dominance, frontier ICERs.

The classic procedure (Drummond et al., *Methods for the Economic Evaluation of Health Care
Programmes*, 4th ed., ch. 4): sort the options by cost; remove every option that is strongly
dominated (another costs no more and yields at least as much); then, along what is left, remove
any option whose ICER exceeds that of the next more costly option (extended dominance: a mix of
its neighbours would do better), repeating until the ICERs rise. The ICERs of what remains are
each option against the next cheaper one on the frontier.

Example:
    >>> t = incremental_analysis([0, 100, 300, 200], [0.0, 1.0, 2.0, 1.1], ["A", "B", "C", "D"])
    >>> t[["intervention", "status", "icer"]].to_dict("records")[1:]    # doctest: +NORMALIZE_WHITESPACE
    [{'intervention': 'B', 'status': 'frontier', 'icer': 100.0},
     {'intervention': 'D', 'status': 'extendedly dominated', 'icer': nan},
     {'intervention': 'C', 'status': 'frontier', 'icer': 200.0}]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def incremental_analysis(costs: Sequence[float], effects: Sequence[float],
                         names: Sequence[str] | None = None) -> pd.DataFrame:
    """Table of options sorted by cost with status, what each is compared with, and frontier ICERs.

    ``status`` is ``frontier`` (the cheapest option is the frontier's start, with no ICER),
    ``dominated`` or ``extendedly dominated``; ``reason`` names the options responsible.
    """
    c, e = np.asarray(costs, dtype=float), np.asarray(effects, dtype=float)
    if c.shape != e.shape or c.ndim != 1:
        raise ValueError("costs and effects must be 1-D and of the same length")
    names = [str(n) for n in names] if names is not None else [f"option {i + 1}" for i in range(len(c))]
    order = sorted(range(len(c)), key=lambda i: (c[i], -e[i]))  # cheapest first; more effect first on ties
    status = {i: "frontier" for i in order}
    reason = {i: "" for i in order}

    for pos, i in enumerate(order):  # strong (simple) dominance, including identical later options
        for j in order[:pos]:
            if c[j] <= c[i] and e[j] >= e[i]:
                status[i], reason[i] = "dominated", f"dominated by {names[j]}"
                break

    while True:  # extended dominance: drop the first option whose ICER exceeds the next one's
        front = [i for i in order if status[i] == "frontier"]
        ratios = [(c[b] - c[a]) / (e[b] - e[a]) for a, b in zip(front, front[1:])]
        hit = next((n for n in range(len(ratios) - 1) if ratios[n] > ratios[n + 1]), None)
        if hit is None:
            break
        lo, mid, hi = front[hit], front[hit + 1], front[hit + 2]
        status[mid] = "extendedly dominated"
        reason[mid] = f"extendedly dominated by a mix of {names[lo]} and {names[hi]}"

    rows, prev = [], None
    for i in order:
        row = {"intervention": names[i], "cost": c[i], "effect": e[i], "status": status[i],
               "compared_with": None, "inc_cost": np.nan, "inc_effect": np.nan, "icer": np.nan,
               "reason": reason[i]}
        if status[i] == "frontier":
            if prev is not None:
                row.update(compared_with=names[prev], inc_cost=c[i] - c[prev], inc_effect=e[i] - e[prev],
                           icer=(c[i] - c[prev]) / (e[i] - e[prev]))
            prev = i
        rows.append(row)
    return pd.DataFrame(rows)
