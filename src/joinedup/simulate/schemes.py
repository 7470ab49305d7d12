"""Integration schemes of the Pioneer sites, and which practices adopt a community MDT, and when.

Schemes depend on the seed only (not the scale): 3-8 per Pioneer site, starting after the site does;
ten sites run a ``community_mdt`` scheme. In those sites about half the practices adopt an MDT at a
quarter start between the scheme's start and October 2017.

Example:
    >>> from joinedup.simulate.geography import read_reference
    >>> table, mdt_sites = build_schemes(read_reference("pioneers"), seed=2013)
    >>> len(mdt_sites)
    10
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa

from joinedup.data import codes
from joinedup.simulate.dates import EPOCH, Period, day, from_iso

MDT_SITES = 10
LAST_ADOPTION = day(2017, 10, 1)
ADOPTION_SHARE = 0.5
# Plausible target groups for each scheme type (first is the most likely).
TARGETS = {
    "community_mdt": ("frail_elderly", "long_term_conditions", "older_people"),
    "care_navigator": ("older_people", "long_term_conditions", "all_adults"),
    "risk_stratification": ("long_term_conditions", "frail_elderly", "all_adults"),
    "single_point_of_access": ("all_adults", "older_people", "mental_health"),
    "shared_care_record": ("all_adults", "long_term_conditions", "children"),
    "reablement": ("older_people", "frail_elderly"),
    "rapid_response": ("frail_elderly", "older_people", "end_of_life"),
    "integrated_discharge": ("older_people", "frail_elderly", "all_adults"),
    "prevention_self_management": ("long_term_conditions", "all_adults", "children", "mental_health"),
    "vcs_navigation": ("all_adults", "older_people", "mental_health"),
}


def _add_months(days: int, months: int) -> int:
    d = EPOCH + dt.timedelta(days=int(days))
    total = d.year * 12 + d.month - 1 + months
    return day(total // 12, total % 12 + 1, 1)


def _slug(site: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-")


def build_schemes(pioneers: list[dict], seed: int) -> tuple[pa.Table, dict[str, dict]]:
    """The schemes table and, for sites with a community MDT, the scheme's id, start and areas."""
    from joinedup.data.tables import TABLES

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0, 1]))
    sites: dict[str, dict] = {}
    for r in pioneers:
        site = sites.setdefault(r["site"], {"start": from_iso(r["start_date"]), "areas": []})
        site["areas"].append(r["area_code"])
    names = list(sites)
    with_mdt = set(rng.choice(names, size=min(MDT_SITES, len(names)), replace=False).tolist())
    others = [t for t in codes.SCHEME_TYPES if t != "community_mdt"]
    rows, mdt_sites = [], {}
    for name in names:
        n = int(rng.integers(3, 9))
        chosen = list(rng.choice(others, size=n - (name in with_mdt), replace=False))
        if name in with_mdt:
            chosen.insert(int(rng.integers(0, len(chosen) + 1)), "community_mdt")
        for k, scheme_type in enumerate(chosen):
            targets = TARGETS[scheme_type]
            weights = np.array([2.0] + [1.0] * (len(targets) - 1))
            target = targets[int(rng.choice(len(targets), p=weights / weights.sum()))]
            lag = int(rng.integers(2, 20)) if scheme_type == "community_mdt" else int(rng.integers(1, 25))
            start = _add_months(sites[name]["start"], lag)
            scheme_id = f"{_slug(name)}-{k + 1:02d}"
            rows.append((scheme_id, name, scheme_type, target, start))
            if scheme_type == "community_mdt":
                mdt_sites[name] = {"scheme_id": scheme_id, "start": start, "areas": sites[name]["areas"],
                                   "index": names.index(name)}
    cols = list(zip(*rows))
    arrays = [pa.array(cols[0]), pa.array(cols[1]), pa.array(cols[2]), pa.array(cols[3]),
              pa.array(np.array(cols[4], dtype=np.int32), pa.int32()).cast(pa.date32())]
    return pa.Table.from_arrays(arrays, schema=TABLES["schemes"].arrow_schema()), mdt_sites


def quarter_starts(first: int, last: int) -> list[int]:
    """First days of the quarters (Jan, Apr, Jul, Oct) from ``first`` to ``last`` inclusive."""
    d = EPOCH + dt.timedelta(days=int(first))
    total = d.year * 12 + d.month - 1
    total += (-total) % 3 if d.day == 1 else 3 - total % 3
    out = []
    while True:
        q = day(total // 12, total % 12 + 1, 1)
        if q > last:
            return out
        out.append(q)
        total += 3


def mdt_adoptions(site: dict, n_practices: int, seed: int, area_index: int, period: Period) -> np.ndarray:
    """Adoption date of each practice of an area in an MDT site (-1: does not adopt in the period)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3, area_index]))
    quarters = quarter_starts(site["start"], LAST_ADOPTION) or quarter_starts(site["start"], site["start"] + 92)
    adopt = rng.random(n_practices) < ADOPTION_SHARE
    if not adopt.any():
        adopt[int(rng.integers(n_practices))] = True
    dates = np.asarray(quarters, dtype=np.int64)[rng.integers(0, len(quarters), n_practices)]
    out = np.where(adopt, dates, -1)
    return np.where((out >= period.start) & (out < period.end), out, -1).astype(np.int64)
