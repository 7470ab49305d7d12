"""Delayed transfers of care: delayed days per area, month and responsible organisation.

The national rate (delayed days per day per 100,000 adults) follows the SitRep series' shape: about 9
to 2012, rising to about 15 in early 2017, falling to about 10 by 2019 (knots in ``params``). Each
area has a lasting level (lognormal) and a slowly wandering monthly deviation, its own split between
the NHS, social care and both, and Poisson noise. The denominator is the simulated adults (18+) of the
area at mid-year, so the counts scale with the simulation. Data start in August 2010, as the SitReps did.

Example:
    >>> from joinedup.simulate.dates import Period
    >>> rate = national_rate(Period.of(2010, 2019).month_starts[:-1])
    >>> round(float(rate[-1]), 1) < round(float(rate[85]), 1)
    True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from joinedup.data import codes
from joinedup.data.tables import TABLES
from joinedup.simulate import params
from joinedup.simulate.dates import Period, from_iso

FIRST_MONTH = from_iso("2010-08-01")


def national_rate(month_days: np.ndarray) -> np.ndarray:
    """Delayed days per day per 100,000 adults, interpolated between the knots."""
    x = np.array([from_iso(d) for d, _ in params.DTOC_KNOTS], dtype=float)
    y = np.array([v for _, v in params.DTOC_KNOTS])
    return np.interp(np.asarray(month_days, dtype=float), x, y)


def delayed_transfers_table(seed: int, area_codes: list[str], adults: np.ndarray, period: Period) -> pa.Table:
    """The table for all areas; ``adults`` is areas x years of simulated adults at mid-year."""
    starts = period.month_starts
    keep = starts[:-1] >= FIRST_MONTH
    month, days = starts[:-1][keep], np.diff(starts)[keep]
    year_index = np.searchsorted(period.year_starts, month, side="right") - 1
    rate = national_rate(month)
    orgs = codes.DELAY_RESPONSIBILITY
    base_share = np.array([params.DTOC_SHARES[o] for o in orgs])
    cols: dict[str, list] = {"area": [], "month": [], "org": [], "days": []}
    levels, rngs = [], []
    for i in range(len(area_codes)):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 4, i]))
        levels.append(np.exp(params.DTOC_AREA_SD * rng.standard_normal()))
        rngs.append(rng)
    # Area levels average 1 over adults, so the national rate follows the knots.
    weight = adults.sum(axis=1).astype(float)
    levels = np.array(levels) / max(float((np.array(levels) * weight).sum() / max(weight.sum(), 1.0)), 1e-9)
    for i, rng in enumerate(rngs):
        wander = np.zeros(len(month))
        for t in range(1, len(month)):
            wander[t] = 0.85 * wander[t - 1] + rng.normal(0, 0.06)
        share = rng.dirichlet(base_share * 40)
        expected = adults[i, year_index] / 1e5 * rate * days * levels[i] * np.exp(wander - 0.0065)
        counts = rng.poisson(expected[:, None] * share[None, :])
        cols["area"].append(np.full(counts.size, i))
        cols["month"].append(np.repeat(month, len(orgs)))
        cols["org"].append(np.tile(np.arange(len(orgs)), len(month)))
        cols["days"].append(counts.reshape(-1))
    area = np.concatenate(cols["area"]) if cols["area"] else np.zeros(0, np.int64)
    arrays = [
        pa.array(np.array(area_codes, dtype=object)[area].tolist() if len(area) else [], pa.string()),
        pa.array(np.concatenate(cols["month"]).astype(np.int32) if len(area) else np.zeros(0, np.int32),
                 type=pa.date32()),
        pa.array(np.array(orgs, dtype=object)[np.concatenate(cols["org"])].tolist() if len(area) else [],
                 pa.string()),
        pa.array(np.concatenate(cols["days"]).astype(np.int64) if len(area) else np.zeros(0, np.int64)),
    ]
    return pa.Table.from_arrays(arrays, schema=TABLES["delayed_transfers"].arrow_schema())
