"""The numbers of a BCEA-style analysis, as pure functions of simulation matrices.

``e`` and ``c`` are (n_sim x n_interventions) matrices of effects (QALYs) and costs, one row per
PSA draw or bootstrap replicate; ``k`` is a grid of willingness-to-pay values (£ per QALY).
Conventions follow R BCEA 2.4: increments are *reference minus comparator*, net benefit is
``k * e - c``, and the CEAC is P(incremental net benefit > 0).

Example:
    >>> import numpy as np
    >>> e = np.array([[0.0, 1.0], [0.0, 2.0]]); c = np.array([[0.0, 100.0], [0.0, 300.0]])
    >>> de, dc = increments(e, c, ref=1)
    >>> float(icer(de, dc)[0])
    133.33333333333334
    >>> eib(np.array([0.0, 200.0]), de, dc)[:, 0].tolist()
    [-200.0, 100.0]
"""

from __future__ import annotations

import numpy as np

from joinedup.economics.cea._common import k_chunks


def increments(e: np.ndarray, c: np.ndarray, ref: int) -> tuple[np.ndarray, np.ndarray]:
    """Incremental effects and costs, reference minus each comparator (n_sim x n_comparators)."""
    comps = [j for j in range(e.shape[1]) if j != ref]
    return e[:, [ref]] - e[:, comps], c[:, [ref]] - c[:, comps]


def icer(delta_e: np.ndarray, delta_c: np.ndarray) -> np.ndarray:
    """BCEA's ICER per comparison: mean incremental cost over mean incremental effect.

    A bare ratio: read it with :func:`~joinedup.economics.cea.quadrant.icer_quadrant`, since a negative
    value means either dominance or being dominated.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return delta_c.mean(axis=0) / delta_e.mean(axis=0)


def eib(k: np.ndarray, delta_e: np.ndarray, delta_c: np.ndarray) -> np.ndarray:
    """Expected incremental benefit ``k * E[de] - E[dc]`` (n_k x n_comparators)."""
    return np.outer(k, delta_e.mean(axis=0)) - delta_c.mean(axis=0)


def ceac(k: np.ndarray, delta_e: np.ndarray, delta_c: np.ndarray) -> np.ndarray:
    """Pairwise CEAC: share of simulations with ``k * de - dc > 0`` (n_k x n_comparators)."""
    out = np.empty((len(k), delta_e.shape[1]))
    for s in k_chunks(k, delta_e.size):
        inb = k[s, None, None] * delta_e[None] - delta_c[None]
        out[s] = (inb > 0).mean(axis=1)
    return out


def expected_utility(k: np.ndarray, e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Expected net benefit of each intervention ``k * E[e] - E[c]`` (n_k x n_interventions)."""
    return np.outer(k, e.mean(axis=0)) - c.mean(axis=0)


def best(k: np.ndarray, e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index of the intervention with the highest expected net benefit at each k (first on ties)."""
    return expected_utility(k, e, c).argmax(axis=1)


def kstar(k: np.ndarray, e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Grid values where the optimal decision changes (BCEA: ``k[which(diff(best) != 0) + 1]``)."""
    b = best(k, e, c)
    return k[np.flatnonzero(np.diff(b)) + 1]


def evpi_and_mceac(k: np.ndarray, e: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EVPI over k and the multi-arm CEAC (P(each intervention has the highest net benefit)).

    EVPI(k) = E[max_j NB_j] - max_j E[NB_j]: the value of removing all parameter uncertainty.
    Both come from one pass over the (k x sim x intervention) net-benefit array, in k chunks so
    memory stays bounded for long grids or many simulations.
    """
    n_sim, n_int = e.shape
    evpi = np.empty(len(k))
    mceac = np.empty((len(k), n_int))
    for s in k_chunks(k, e.size):
        nb = k[s, None, None] * e[None] - c[None]
        evpi[s] = nb.max(axis=2).mean(axis=1) - nb.mean(axis=1).max(axis=1)
        winners = nb.argmax(axis=2)
        mceac[s] = (winners[..., None] == np.arange(n_int)).mean(axis=1)
    return evpi, mceac


def ceaf(k: np.ndarray, e: np.ndarray, c: np.ndarray, mceac: np.ndarray) -> np.ndarray:
    """Acceptability frontier: P(the arm with the highest *expected* net benefit is truly best)."""
    return mceac[np.arange(len(k)), best(k, e, c)]


def nmb(wtp: float, e: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Mean net monetary benefit of each intervention at one threshold: ``wtp * E[e] - E[c]``."""
    return wtp * e.mean(axis=0) - c.mean(axis=0)
