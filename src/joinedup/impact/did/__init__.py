"""Callaway & Sant'Anna (2021) difference-in-differences with staggered adoption, modelled on R
``did`` 2.5.0: group-time effects ATT(g,t) from the DRDID two-period estimators (doubly robust, IPW,
outcome regression), analytic or multiplier-bootstrap inference with uniform bands, and the
simple / group / dynamic (event-study) / calendar aggregations.

Example:
    >>> import pandas as pd
    >>> from joinedup.impact.did import att_gt
    >>> mpdta = pd.read_csv("mpdta.csv")                                       # doctest: +SKIP
    >>> res = att_gt(mpdta, "lemp", "year", "countyreal", "first.treat", seed=1)  # doctest: +SKIP
    >>> es = res.aggregate("dynamic")                                          # doctest: +SKIP
    >>> es.tidy(), es.plot().alt_text                                          # doctest: +SKIP
"""

from joinedup.impact.did._results import AggteResult, AttGtResult, DidSummary
from joinedup.impact.did.api import att_gt

__all__ = ["AggteResult", "AttGtResult", "DidSummary", "att_gt"]
