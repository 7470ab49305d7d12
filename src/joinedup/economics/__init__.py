"""Economic evaluation of specific initiatives (WP2): matched controls, costs, QALYs.

Propensity-score matching modelled on R MatchIt 4.5 (:func:`matchit`), entropy balancing
(:func:`entropy_balance`) and the matched-sample effect estimate (:func:`att`).

Names resolve lazily, so importing :mod:`joinedup.economics` costs nothing until a method is used.

Example:
    >>> import pandas as pd
    >>> from joinedup.economics import matchit
    >>> lalonde = pd.read_csv("lalonde.csv", index_col=0)                      # doctest: +SKIP
    >>> m = matchit("treat ~ age + educ + race + married + nodegree + re74 + re75",
    ...             lalonde)                                                   # doctest: +SKIP
    >>> print(m.summary())                                                     # doctest: +SKIP
"""

from __future__ import annotations

import importlib

# public name -> module that defines it
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
    raise AttributeError(f"module 'joinedup.economics' has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
