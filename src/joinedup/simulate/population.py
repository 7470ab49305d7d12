"""Simulated people of one chunk (an area, or a group of its practices) and their life events.

People present on 1 January of the first year are drawn from the area's age structure; each year
young adults move in, people die (Gompertz-like mortality scaled by sex, deprivation and their latent
risk) and women aged 15-44 give birth. Each person carries a latent log-risk: a permanent part plus
an AR(1) part across years, which drives hospital use, mortality and long-term conditions.

Example:
    >>> import numpy as np
    >>> from joinedup.simulate.dates import Period
    >>> from joinedup.simulate.geography import build_world
    >>> from joinedup.simulate.scenario import SCENARIOS
    >>> world = build_world(0.001, 1, Period.of(2010, 2012), SCENARIOS["null"])
    >>> people = simulate_people(world, world.areas[0], 0, np.random.default_rng(1))
    >>> people.n > world.areas[0].n_start
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from joinedup.simulate import params
from joinedup.simulate.dates import Period, day
from joinedup.simulate.demography import MORTALITY_SEX, female_share
from joinedup.simulate.events import Exposure
from joinedup.simulate.geography import AreaPlan, World

NEVER = np.iinfo(np.int64).max // 4  # "death date" of people alive at the end
MID_YEAR_DOY = 180  # 30 June (0-based day of year, non-leap years)
RISK_VAR = params.SIGMA_PERM ** 2 + params.SIGMA_AR ** 2
_FEMALE = female_share()


@dataclass
class People:
    """Columns of the people of a chunk; index = local person number."""

    sex: np.ndarray  # 0 = F, 1 = M
    birth_year: np.ndarray
    birth_doy: np.ndarray
    entry: np.ndarray  # day they join (first day of the period for those present at the start)
    death: np.ndarray  # day of death, NEVER if alive at the end
    practice: np.ndarray  # index into the area's practice codes
    perm: np.ndarray  # permanent latent log-risk
    ar: np.ndarray  # AR(1) latent log-risk, people x years
    ltc: np.ndarray  # long-term conditions at the start of follow-up
    mother: np.ndarray  # local index of the mother for births in the period, else -1
    cache: dict = field(default_factory=dict, repr=False, compare=False)  # derived matrices

    @property
    def n(self) -> int:
        return len(self.sex)

    def age_matrix(self, period: Period) -> np.ndarray:
        """People x years: age on 30 June of each simulated year (clipped to 0..MAX_AGE)."""
        key = ("age", period.first_year, period.last_year, self.n)
        if key not in self.cache:
            age = (period.years[None, :] - self.birth_year[:, None]) - (self.birth_doy > MID_YEAR_DOY)[:, None]
            self.cache[key] = np.clip(age, 0, params.MAX_AGE)
        return self.cache[key]

    def exposure(self, period: Period) -> Exposure:
        """Who is present in which years and months (shared by every kind of event)."""
        key = ("exposure", period.first_year, period.last_year, self.n)
        if key not in self.cache:
            self.cache[key] = Exposure(self.entry, self.death, period)
        return self.cache[key]

    def risk_matrix(self, load: float = 1.0) -> np.ndarray:
        """People x years multiplier exp(load*z - load^2 var/2) of the latent log-risk z (mean 1)."""
        return np.exp(load * (self.perm[:, None] + self.ar) - load ** 2 * RISK_VAR / 2)


def _new_people(rng, birth_year, birth_doy, sex, practice, entry, n_years, mother=None) -> People:
    """People with given birth dates, sex, practice and entry day, and fresh latent risk."""
    n = len(birth_year)
    perm = rng.normal(0.0, params.SIGMA_PERM, n)
    ar = np.empty((n, n_years))
    if n_years:
        ar[:, 0] = rng.normal(0.0, params.SIGMA_AR, n)
    shock = params.SIGMA_AR * np.sqrt(1 - params.RHO ** 2)
    for t in range(1, n_years):
        ar[:, t] = params.RHO * ar[:, t - 1] + rng.normal(0.0, shock, n)
    age_at_entry = np.maximum(0, _year_of(entry) - birth_year - 1)
    lam = params.ltc_mean(age_at_entry) * np.exp(
        params.LTC_RISK * perm - params.LTC_RISK ** 2 * params.SIGMA_PERM ** 2 / 2)
    return People(
        sex=np.asarray(sex, np.int8), birth_year=np.asarray(birth_year, np.int32),
        birth_doy=np.asarray(birth_doy, np.int32), entry=np.asarray(entry, np.int64),
        death=np.full(n, NEVER, dtype=np.int64), practice=np.asarray(practice, np.int32), perm=perm, ar=ar,
        ltc=np.minimum(rng.poisson(lam), 30).astype(np.int32),
        mother=np.full(n, -1, np.int64) if mother is None else np.asarray(mother, np.int64),
    )


_YEAR_ORIGIN = day(1800)
_YEAR_OF = np.repeat(np.arange(1800, 2200), [day(y + 1) - day(y) for y in range(1800, 2200)]).astype(np.int32)


def _year_of(days: np.ndarray) -> np.ndarray:
    return _YEAR_OF[np.asarray(days) - _YEAR_ORIGIN]


def _concat(parts: list[People]) -> People:
    return People(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in People.__dataclass_fields__
                     if f != "cache"})


def simulate_people(world: World, area: AreaPlan, part: int, rng: np.random.Generator) -> People:
    """Everyone registered with the chunk's practices at any time in the period, with their deaths.

    Nobody born in the period gives birth within it, so the people present at the start and the
    in-migrants are simulated first (all years at once), then their babies.
    """
    period = world.period
    first, last = area.parts[part]
    sizes = area.practice_sizes[first:last]
    n0 = int(sizes.sum())
    weights = sizes / n0 if n0 else np.full(last - first, 1.0 / (last - first))
    ages = rng.choice(params.MAX_AGE + 1, size=n0, p=area.age_density)
    initial = _new_people(rng, period.first_year - ages - 1, rng.integers(0, 365, n0),
                          rng.random(n0) >= _FEMALE[ages], np.repeat(np.arange(first, last), sizes),
                          np.full(n0, period.start), period.n_years)
    # Young adults move in through each year, in proportion to the (growing) population.
    expected = params.MIGRATION_RATE * area.migration_mult * n0 * 1.0075 ** np.arange(period.n_years)
    per_year = rng.poisson(expected)
    n_mig = int(per_year.sum())
    ys = np.repeat(period.year_starts[:-1], per_year)
    ye = np.repeat(period.year_starts[1:], per_year)
    mig_ages, mig_w = params.MIGRATION_AGES
    m_age = rng.choice(mig_ages, size=n_mig, p=mig_w / mig_w.sum())
    m_entry = ys + (rng.random(n_mig) * (ye - ys)).astype(np.int64)
    migrants = _new_people(rng, _year_of(m_entry) - m_age - 1, rng.integers(0, 365, n_mig),
                           rng.random(n_mig) < 0.5, rng.choice(np.arange(first, last), size=n_mig, p=weights),
                           m_entry, period.n_years)
    adults = _concat([initial, migrants])
    mort_area = np.exp(params.MORT_IMD * area.imd_centred)
    _deaths(adults, period, mort_area, rng)
    babies = _births(adults, period, rng)
    _deaths(babies, period, mort_area, rng)
    return _concat([adults, babies])


def _deaths(people: People, period: Period, mort_area: float, rng) -> None:
    """Draw everyone's death (if any) over the period, all years at once, in place."""
    ys, ye = period.year_starts[:-1], period.year_starts[1:]
    start = np.maximum(people.entry[:, None], ys[None, :])
    frac = np.clip((ye[None, :] - start) / (ye - ys)[None, :], 0.0, 1.0)
    load_p, load_a = params.MORT_RISK_PERM, params.MORT_RISK_AR
    mult = (MORTALITY_SEX[people.sex] * mort_area
            * np.exp(load_p * people.perm - load_p ** 2 * params.SIGMA_PERM ** 2 / 2))[:, None] \
        * np.exp(load_a * people.ar - load_a ** 2 * params.SIGMA_AR ** 2 / 2)
    q = np.minimum(params.mortality(people.age_matrix(period)) * mult, 0.95)
    log_surv = np.cumsum(frac * np.log1p(-q), axis=1)
    u = np.log(rng.random(people.n))
    dies = log_surv[:, -1] < u
    idx = np.flatnonzero(dies)
    t = np.argmax(log_surv[idx] < u[idx, None], axis=1)
    lo = start[idx, t]
    people.death[idx] = lo + (rng.random(len(idx)) * (ye[t] - lo)).astype(np.int64)


def _births(people: People, period: Period, rng) -> People:
    """Babies born to women aged 15-44 (at most one a woman-year), from their practice."""
    ys, ye = period.year_starts[:-1], period.year_starts[1:]
    age = people.age_matrix(period)
    women = (people.sex == 0)[:, None] & (age >= 15) & (age <= 44)
    lo = np.maximum(people.entry[:, None], ys[None, :])
    hi = np.minimum(people.death[:, None], ye[None, :])
    expo = np.clip((hi - lo) / (ye - ys)[None, :], 0.0, None)
    asfr = params.ASFR[np.clip((age - 15) // 5, 0, 5)]
    has = women & (expo > 0) & (rng.random(age.shape) < 1.0 - np.exp(-asfr * expo))
    mothers, t = np.nonzero(has)
    lo, hi = lo[mothers, t], hi[mothers, t]
    born = lo + (rng.random(len(mothers)) * (hi - lo)).astype(np.int64)
    order = np.lexsort((born, mothers))
    mothers, born = mothers[order], born[order]
    n = len(mothers)
    return _new_people(rng, _year_of(born), period.doy(born), rng.random(n) < 0.512,
                       people.practice[mothers], born, period.n_years, mother=mothers)


def population_counts(people: People, period: Period) -> tuple[np.ndarray, np.ndarray]:
    """People alive on 30 June of each year by sex and age band (years x 2 x 19), and adults (18+)."""
    counts = np.zeros((period.n_years, 2, 19), dtype=np.int64)
    adults = np.zeros(period.n_years, dtype=np.int64)
    for t, year in enumerate(period.years):
        mid = day(int(year), 6, 30)
        here = (people.entry <= mid) & (people.death > mid)
        age = period.age_at(np.full(int(here.sum()), mid), people.birth_year[here], people.birth_doy[here])
        band = np.minimum(np.maximum(age, 0) // 5, 18)
        counts[t] = np.bincount(people.sex[here] * 19 + band, minlength=38).reshape(2, 19)
        adults[t] = int((age >= 18).sum())
    return counts, adults
