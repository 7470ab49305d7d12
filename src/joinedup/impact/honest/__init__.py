"""HonestDiD sensitivity analysis for event studies (Rambachan & Roth 2023, "A More Credible
Approach to Parallel Trends", Review of Economic Studies 90(5)).

Robust confidence sets for a post-period effect ``theta = l' tau_post`` when parallel trends may fail:
under smoothness restrictions ``Delta^SD(M)`` (optimal fixed-length intervals, :mod:`._flci`) and
relative-magnitude restrictions ``Delta^RM(Mbar)`` (ARP conditional / least-favourable hybrid sets,
:mod:`._rm`), with breakdown values. Checked against R HonestDiD on its ``BCdata_EventStudy``.

Example:
    >>> res = honest_did(beta, sigma, n_pre=4, n_post=4, restriction="RM", m_values=[0.5, 1])  # doctest: +SKIP
    >>> res.tidy(), res.breakdown()                                                             # doctest: +SKIP
"""

from joinedup.impact.honest.api import HonestResult, from_aggte, from_event_study, honest_did

__all__ = ["HonestResult", "from_aggte", "from_event_study", "honest_did"]
