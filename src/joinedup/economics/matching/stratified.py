"""``matchit(method="subclass" | "exact" | "cem")``: subclasses and their weights, as a :class:`MatchResult`.

The subclasses and weights come from :mod:`joinedup.economics.matching.strata`; balance and sample
sizes are the same functions the nearest-neighbour methods use. As in MatchIt, ``exact`` and ``cem``
use no distance (no propensity model is fitted and ``match_data()`` has no ``distance`` column) and
their ``summary()`` has the "Std. Pair Dist." column over every treated-control pair within a
subclass; ``subclass`` fits the propensity score, and its summary leaves pair distances out
(MatchIt's ``summary.matchit.subclass`` default ``pair.dist = FALSE``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.economics.matching.result import MatchResult
from joinedup.economics.matching.strata import (
    coarsen,
    exact_subclasses,
    propensity_subclasses,
    stratum_keys,
    subclass_weights,
)


def match_strata(method: str, design, data: pd.DataFrame, score, model, discarded: np.ndarray,
                 estimand: str, n_sub: int | None, cutpoints, settings: dict) -> MatchResult:
    """Build the subclasses for ``method`` and wrap them with weights in a :class:`MatchResult`."""
    treat = design.treat
    if method == "subclass":
        if score is None:
            raise ValueError("method='subclass' needs a score: use distance='glm' (the default), 'gbm', "
                             "'prognostic' or an array of scores, not 'mahalanobis'")
        n_sub = 6 if n_sub is None else n_sub
        if not (isinstance(n_sub, (int, np.integer)) and n_sub >= 2):
            raise ValueError(f"subclass must be a whole number of subclasses >= 2; got {n_sub!r}")
        sub = propensity_subclasses(score, treat, discarded, int(n_sub), estimand)
        settings = {**settings, "subclass": int(n_sub), "pair_dist": False}
    else:
        raw = data[list(design.variables)]
        if raw.shape[1] == 0:
            raise ValueError(f"method={method!r} needs covariates on the right-hand side of the formula")
        frame = coarsen(raw, cutpoints) if method == "cem" else raw
        # exact: R's intersect() over unique(treat) keeps the order of the group met first in the data;
        # cem: split() orders the groups 0, 1, so the controls' order
        first = int(treat[0]) if method == "exact" else 0
        sub = exact_subclasses(stratum_keys(frame), treat, first)
        score, model = None, None
        settings = {**settings, "distance": None, "link": None, "pair_dist": True,
                    "cutpoints": cutpoints if method == "cem" else None}
    weights = subclass_weights(sub, treat, estimand)
    return MatchResult(formula=design.formula, data=data, treat_name=design.treat_name, treat=treat,
                       estimand=estimand, distance=score, discarded=discarded, match_matrix=None,
                       weights=weights, subclass=sub, covariates=design.covariates, model=model,
                       ps_columns=tuple(design.ps_matrix.columns), settings=settings)
