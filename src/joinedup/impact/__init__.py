"""Comparative impact: programme areas against comparison areas.

Difference-in-differences (two-way fixed effects with cluster-robust and wild-cluster-bootstrap
inference; Callaway & Sant'Anna group-time effects under staggered adoption, modelled on R ``did``),
synthetic control (Abadie, with placebo-in-space and leave-one-out) and synthetic DiD, on an area x
period panel built from indicator outputs, with matched comparison areas.

Names resolve lazily, so importing :mod:`joinedup.impact` costs nothing until an estimator is used.

Example:
    >>> import pandas as pd
    >>> from joinedup.impact import att_gt
    >>> mpdta = pd.read_csv("mpdta.csv")                                       # doctest: +SKIP
    >>> res = att_gt(mpdta, yname="lemp", tname="year", idname="countyreal",
    ...              gname="first.treat")                                      # doctest: +SKIP
    >>> res.aggregate("dynamic").overall_att                                   # doctest: +SKIP
"""

from __future__ import annotations

import importlib

# public name -> module that defines it
_EXPORTS = {
    "att_gt": "joinedup.impact.did",
    "AttGtResult": "joinedup.impact.did",
    "AggteResult": "joinedup.impact.did",
    "synth": "joinedup.impact.synthetic",
    "placebo_in_space": "joinedup.impact.synthetic",
    "leave_one_out": "joinedup.impact.synthetic",
    "sdid": "joinedup.impact.synthetic",
    "ascm": "joinedup.impact.synthetic",
    "conformal_intervals": "joinedup.impact.synthetic",
    "twfe_did": "joinedup.impact.twfe",
    "event_study": "joinedup.impact.event_study",
    "wild_cluster_bootstrap": "joinedup.impact.twfe",
    "area_panel": "joinedup.impact.panel",
    "match_areas": "joinedup.impact.comparison",
    "area_balance": "joinedup.impact.comparison",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'joinedup.impact' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
