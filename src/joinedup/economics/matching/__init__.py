"""Propensity-score matching modelled on R MatchIt 4.5, entropy balancing, matched estimates.

Modules, one concern each:

- ``design``: the formula and data → treatment vector and model matrices (R ``model.matrix`` names)
- ``distance``: propensity scores (R ``glm`` IRLS, gradient boosting), Mahalanobis, prognostic score
- ``nearest``: greedy nearest-neighbour matching (MatchIt's ``nn_matchC_vec`` and ``nn_matchC``)
- ``weights``: matching weights and subclasses from the match matrix
- ``balance``: MatchIt's ``summary()`` balance statistics and sample sizes
- ``result``: :class:`MatchResult` (``match_data``, ``balance``, ``summary``, ``love_plot``)
- ``entropy``: entropy balancing (Hainmueller 2012)
- ``estimate``: weighted difference in means with cluster-robust standard errors
- ``api``: :func:`matchit`, which orchestrates the above
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "matchit": "joinedup.economics.matching.api",
    "MatchResult": "joinedup.economics.matching.result",
    "entropy_balance": "joinedup.economics.matching.entropy",
    "EntropyBalanceResult": "joinedup.economics.matching.entropy",
    "att": "joinedup.economics.matching.estimate",
    "AttEstimate": "joinedup.economics.matching.estimate",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'joinedup.economics.matching' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
