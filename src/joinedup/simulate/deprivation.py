"""Small-area deprivation and ethnic group of simulated persons, calibrated to England.

**Deprivation.** Each person gets the national IMD decile of the LSOA they live in (1 = most
deprived 10% of LSOAs). LSOAs hold roughly equal populations (about 1,500 people), so a tenth of
LSOAs is a tenth of people: by construction each decile holds 10% of England's simulated people.
A person's decile is ``1 + floor(10 * Phi(w))`` of a latent standard-normal score

    w = RHO * z_area + sqrt(1 - RHO^2) * (-GAMMA * perm / SIGMA_PERM + sqrt(1 - GAMMA^2) * e)

where ``z_area = Phi^-1(population-weighted mid-rank of the area's IMD score, most deprived
first)``, ``perm`` is the person's permanent latent log-risk (which drives their hospital use,
mortality and long-term conditions) and ``e`` fresh noise. Over England ``w`` is standard normal,
so deciles are tenths; within an area, deciles spread around the area's own deprivation
(``RHO``), and people with higher latent risk live in more deprived LSOAs (``GAMMA``): that is
the programmed deprivation gradient. Because deciles are *labels drawn from* the latent risk
(not a new risk term), the simulated activity itself is unchanged: every calibration holds.

The programmed gradient is known exactly: within an area, the mean of ``exp(L * perm)`` among
people whose ``w`` lies in ``(a, b)`` relative to the area's mean is
``[Phi(b' + k) - Phi(a' + k)] / [Phi(b') - Phi(a')]`` with ``k = L * SIGMA_PERM * GAMMA`` and
``a', b'`` the interval in the within-area score (:func:`relative_risk`). For emergency
admissions ``L = 1`` (their rate is proportional to ``exp(perm + ar)``).

**Ethnic group.** ONS Census 2021 (TS021, England, usual residents): White 81.0%, Asian 9.6%,
Black 4.2%, Mixed 3.0%, Other 2.2%; London (White 53.8%, Asian 20.7%, Black 13.5%, Mixed 5.7%,
Other 6.3%) against the rest of England, derived so that the national mix is England's (London
15.6% of England's population). Ethnic group is drawn independently of risk and deprivation: the
simulation programmes *no* ethnic gradient, so breakdowns by ethnicity are a null check. (In
England ethnicity and deprivation are associated, and minority groups are younger; neither is
simulated, which the docs state.)

Draws use their own random stream (seed, 18, area, chunk), so the rest of the simulation is
identical with or without these columns.

Example:
    >>> import numpy as np
    >>> decile_of(np.array([-3.0, 0.0, 3.0])).tolist()
    [1, 6, 10]
    >>> round(float(relative_risk(1, 0.0, 1.0)), 2) > 1 > round(float(relative_risk(10, 0.0, 1.0)), 2)
    True
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from joinedup.simulate import params

RHO = 0.7      # weight of the area's deprivation in its residents' LSOA deprivation
GAMMA = 0.3    # within-area correlation of (minus) latent risk and LSOA deprivation
STREAM = 18    # random stream number of these draws (issue 18)

ETHNIC_GROUPS: tuple[str, ...] = ("white", "mixed", "asian", "black", "other")
ETHNIC_LABELS = {"white": "White", "mixed": "Mixed or Multiple ethnic groups",
                 "asian": "Asian or Asian British", "black": "Black or Black British",
                 "other": "Other ethnic group"}
# ONS Census 2021 TS021, percentages of usual residents, order of ETHNIC_GROUPS.
ENGLAND_2021 = np.array([81.0, 3.0, 9.6, 4.2, 2.2])
LONDON_2021 = np.array([53.8, 5.7, 20.7, 13.5, 6.3])
LONDON_SHARE = 0.156  # London's share of England's usual residents, Census 2021 (8.80m / 56.49m)


def ethnic_shares(region: str) -> np.ndarray:
    """Probabilities of ETHNIC_GROUPS for an area's region (London, or the rest of England).

    >>> mix = LONDON_SHARE * ethnic_shares("London") + (1 - LONDON_SHARE) * ethnic_shares("North East")
    >>> np.round(mix * 100, 1).tolist()
    [81.0, 3.0, 9.6, 4.2, 2.2]
    """
    london = LONDON_2021 / LONDON_2021.sum()
    if region == "London":
        return london
    england = ENGLAND_2021 / ENGLAND_2021.sum()
    return (england - LONDON_SHARE * london) / (1 - LONDON_SHARE)


def area_scores(imd_scores: np.ndarray, populations: np.ndarray) -> np.ndarray:
    """``z_area``: normal score of each area's population-weighted mid-rank, most deprived first.

    >>> area_scores(np.array([40.0, 10.0]), np.array([1.0, 1.0])).round(3).tolist()
    [-0.674, 0.674]
    """
    order = np.argsort(-np.asarray(imd_scores), kind="stable")
    share = np.asarray(populations, dtype=float)[order] / np.sum(populations)
    mid = np.empty(len(share))
    mid[order] = np.cumsum(share) - share / 2
    return norm.ppf(mid)


def decile_of(w: np.ndarray) -> np.ndarray:
    """National decile (1 most deprived) of latent scores."""
    return np.minimum(1 + np.floor(10 * norm.cdf(w)).astype(np.int32), 10)


def within_area_bounds(decile: int, z_area: float) -> tuple[float, float]:
    """The decile's interval on the within-area score ``u`` (w = RHO z + sqrt(1-RHO^2) u)."""
    s = np.sqrt(1 - RHO ** 2)
    lo, hi = norm.ppf((decile - 1) / 10), norm.ppf(decile / 10)
    return (lo - RHO * z_area) / s, (hi - RHO * z_area) / s


def relative_risk(decile: int, z_area: float, load: float = 1.0) -> float:
    """Programmed mean of exp(load * perm) in a decile, relative to the area's mean.

    ``u = -GAMMA * perm/SIGMA + ...``, so a low ``u`` (deprived) means a high perm: the tilt ``k``
    enters with a plus sign.
    """
    a, b = within_area_bounds(decile, z_area)
    k = load * params.SIGMA_PERM * GAMMA
    base = norm.cdf(b) - norm.cdf(a)
    return float((norm.cdf(b + k) - norm.cdf(a + k)) / base) if base > 0 else float("nan")


def decile_share(decile: int, z_area: float) -> float:
    """Expected share of an area's residents in a national decile."""
    a, b = within_area_bounds(decile, z_area)
    return float(norm.cdf(b) - norm.cdf(a))


def person_traits(perm: np.ndarray, z_area: float, region: str, seed: int, area_index: int,
                  part: int) -> tuple[np.ndarray, np.ndarray]:
    """(LSOA IMD decile, ethnic group index) of each person of one chunk, from their own stream."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, STREAM, area_index, part]))
    n = len(perm)
    u = -GAMMA * perm / params.SIGMA_PERM + np.sqrt(1 - GAMMA ** 2) * rng.standard_normal(n)
    w = RHO * z_area + np.sqrt(1 - RHO ** 2) * u
    ethnic = rng.choice(len(ETHNIC_GROUPS), size=n, p=ethnic_shares(region))
    return decile_of(w), ethnic


def world_area_scores(world) -> np.ndarray:
    """``z_area`` of every area of a simulated world (index = area index)."""
    return area_scores(np.array([a.imd_score for a in world.areas]),
                       np.array([a.population_2013 for a in world.areas], dtype=float))


def chunk_traits(world, area, part: int, perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`person_traits` for the people of one chunk of a world."""
    z = float(world_area_scores(world)[area.index])
    return person_traits(perm, z, area.region, world.seed, area.index, part)
