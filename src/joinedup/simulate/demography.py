"""Age and sex structure of the first simulated year, nationally and by area.

The national structure is England's mid-2013 one, back-projected to the first simulated year along
cohorts (dividing by survival and removing the in-migrants who arrive in between), so that after the
simulated births, deaths and migration the mid-2013 population looks like England's. Areas tilt it:
London younger, predominantly rural areas older; the tilt is renormalised so England stays England.

Example:
    >>> density = national_age_density(2010)
    >>> round(float(density[65:].sum()), 2)
    0.16
"""

from __future__ import annotations

import numpy as np

from joinedup.simulate import params

FEMALE_SHARE_ANCHORS = {0: 0.487, 20: 0.488, 30: 0.505, 60: 0.508, 70: 0.52, 75: 0.535, 80: 0.56,
                        85: 0.60, 90: 0.68, 100: 0.80, 110: 0.85}
# Mortality multipliers by sex (men die younger), mean about 1 over the population.
MORTALITY_SEX = np.array([0.83, 1.22])  # F, M


def female_share() -> np.ndarray:
    """Share of women by single year of age 0..MAX_AGE (ONS England, mid-2010s)."""
    ages = np.array(sorted(FEMALE_SHARE_ANCHORS), dtype=float)
    return np.interp(np.arange(params.MAX_AGE + 1), ages, [FEMALE_SHARE_ANCHORS[int(a)] for a in ages])


def england_2013_single_year() -> np.ndarray:
    """Mid-2013 England by single year 0..MAX_AGE: flat within bands, 90+ declining geometrically."""
    out = np.zeros(params.MAX_AGE + 1)
    bands = params.ENGLAND_2013_BANDS
    for band in range(18):
        out[band * 5: band * 5 + 5] = bands[band] / 5
    tail = 0.78 ** np.arange(params.MAX_AGE + 1 - 90)
    out[90:] = bands[18] * tail / tail.sum()
    return out / out.sum()


def _survival(age: np.ndarray, years: int) -> np.ndarray:
    """Probability of surviving ``years`` years from each age (average sex and risk)."""
    surv = np.ones(len(age))
    for k in range(years):
        surv *= 1.0 - params.mortality(age + k)
    return surv


def national_age_density(first_year: int) -> np.ndarray:
    """Probability of each single age 0..MAX_AGE on 1 January of ``first_year``."""
    target = england_2013_single_year()
    k = round(2013.5 - first_year)  # years from 1 January of the first year to mid-2013
    if k <= 0:
        return target
    ages = np.arange(params.MAX_AGE + 1)
    later = np.minimum(ages + k, params.MAX_AGE)
    # In-migrants arriving over the k years, by the age they have in 2013.
    mig_ages, mig_weight = params.MIGRATION_AGES
    mig = np.zeros(params.MAX_AGE + 1)
    for j in range(k):
        np.add.at(mig, np.minimum(mig_ages + j, params.MAX_AGE), mig_weight / mig_weight.sum())
    mig *= params.MIGRATION_RATE
    density = np.clip(target[later] - mig[later], target[later] * 0.5, None) / _survival(ages, k)
    density[ages + k > params.MAX_AGE] = 0.0
    return density / density.sum()


def area_age_densities(first_year: int, tilts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Age densities of every area (rows), tilted and renormalised to the national density.

    ``tilts`` are the areas' age tilts, ``weights`` their populations.
    """
    national = national_age_density(first_year)
    ages = np.arange(params.MAX_AGE + 1)
    tilt = np.exp(np.outer(tilts, (ages - 40.0) / 40.0))
    raw = national * tilt
    raw /= raw.sum(axis=1, keepdims=True)
    # Renormalise so the population-weighted mix of areas is the national density again.
    mix = (weights[:, None] * raw).sum(axis=0) / weights.sum()
    adjusted = raw * np.where(mix > 0, national / np.where(mix > 0, mix, 1.0), 0.0)
    return adjusted / adjusted.sum(axis=1, keepdims=True)
