"""Cost-effectiveness analysis (WP2): BCEA-style decision analysis, the CE bootstrap, QALYs, discounting.

- :func:`bcea` -- ICERs with their quadrant, EIB, CEAC, CEAF, EVPI, k*, NMB on simulation matrices;
- :func:`bootstrap_ce` -- fast (clustered) bootstrap of incremental cost and effect, percentile/BCa;
- :func:`incremental_analysis` -- dominance and extended dominance among several options;
- :func:`discount`, :func:`qaly_auc`, :func:`baseline_adjusted`, :func:`inflate` -- QALYs and costs;
- :func:`one_way`, :func:`scenarios`, :func:`tornado_plot` -- deterministic sensitivity analysis.

Names resolve lazily, so importing this package costs nothing until a method is used.

Example:
    >>> from joinedup.economics.cea import icer_quadrant
    >>> icer_quadrant(inc_cost=-200.0, inc_effect=0.02).label
    'dominant'
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "bcea": "result", "CEAResult": "result",
    "bootstrap_ce": "bootstrap", "BootstrapCE": "bootstrap",
    "icer_quadrant": "quadrant", "Quadrant": "quadrant",
    "incremental_analysis": "frontier",
    "percentile_interval": "intervals", "bca_interval": "intervals", "jackknife_acceleration": "intervals",
    "discount": "qaly", "qaly_auc": "qaly", "baseline_adjusted": "qaly", "BaselineAdjusted": "qaly",
    "inflate": "inflation", "inflation_index": "inflation",
    "one_way": "sensitivity", "scenarios": "sensitivity", "tornado_plot": "plots",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
