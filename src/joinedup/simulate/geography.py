"""Areas, practices, programmes, schemes and MDT plans, from the reference CSVs.

Everything here is decided before any person is simulated, from the seed and the scale only, so that
each area chunk can be simulated on its own (in any order, or in parallel) and give the same result.

Example:
    >>> from joinedup.simulate.dates import Period
    >>> from joinedup.simulate.scenario import SCENARIOS
    >>> world = build_world(0.001, 2013, Period.of(2010, 2019), SCENARIOS["default"])
    >>> len(world.areas), world.programmes.num_rows
    (152, 97)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pyarrow as pa

from joinedup.simulate import params
from joinedup.simulate.dates import Period, from_iso
from joinedup.simulate.demography import area_age_densities
from joinedup.simulate.scenario import Scenario
from joinedup.simulate.schemes import build_schemes, mdt_adoptions

PEOPLE_PER_PRACTICE = 8000
MIN_PRACTICES = 3
PART_MAX_PEOPLE = 250_000  # a chunk is at most this many starting people (groups of practices)
PRACTICE_LETTER = {"North East": "A", "North West": "P", "Yorkshire and The Humber": "B",
                   "East Midlands": "C", "West Midlands": "M", "East of England": "D", "London": "F",
                   "South East": "G", "South West": "L"}
POPULATION_GROWTH = 1.0075  # a year; sets the starting size so that mid-2013 matches areas.csv


@dataclass(frozen=True)
class AreaPlan:
    """One area: its reference data, practices, chunks and the programme dates that apply to it."""

    index: int
    code: str
    name: str
    region: str
    rurality: str
    imd_score: float
    imd_decile: int
    population_2013: int
    n_start: int
    practice_codes: tuple[str, ...]
    practice_sizes: np.ndarray
    parts: tuple[tuple[int, int], ...]  # [first, last) practice index of each chunk
    emergency_mult: float  # area effect x deprivation gradient
    imd_centred: float
    age_density: np.ndarray
    migration_mult: float
    pioneer_site: str | None = None
    pioneer_wave: int = 0
    pioneer_start: int | None = None
    vanguard_sites: tuple[str, ...] = ()
    vanguard_start: int | None = None
    mdt_adoption: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # -1 = none
    mdt_site: str | None = None


@dataclass(frozen=True)
class World:
    """Everything decided before simulating people."""

    seed: int
    scale: float
    period: Period
    scenario: Scenario
    areas: tuple[AreaPlan, ...]
    programmes: pa.Table
    schemes: pa.Table
    mdt_sites: dict[str, dict]  # site -> scheme id, start date, areas


def read_reference(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV shipped with the package (areas, pioneers, vanguards)."""
    text = resources.files("joinedup.simulate").joinpath("reference").joinpath(f"{name}.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def imd_deciles(scores: np.ndarray) -> np.ndarray:
    """National decile of each score, 1 = most deprived (highest score)."""
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(scores), dtype=np.int64)
    rank[order] = np.arange(len(scores))
    return (rank * 10 // len(scores) + 1).astype(np.int32)


def build_world(scale: float, seed: int, period: Period, scenario: Scenario) -> World:
    """Plan every area: sizes, practices, chunks, effects and programme dates."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    rows = sorted(read_reference("areas"), key=lambda r: r["area_code"])
    pioneers, vanguards = read_reference("pioneers"), read_reference("vanguards")
    programmes = _programmes_table(pioneers, vanguards)
    schemes, mdt_sites = build_schemes(pioneers, seed)

    pop = np.array([int(r["population_2013"]) for r in rows], dtype=float)
    imd = np.array([float(r["imd_score"]) for r in rows])
    deciles = imd_deciles(imd)
    imd_mean = float((pop * imd).sum() / pop.sum())
    dep = np.exp(params.EMERGENCY_IMD * (imd - imd_mean))
    dep /= (pop * dep).sum() / pop.sum()
    tilts = np.array([params.AGE_TILT["London"] if r["region"] == "London" else params.AGE_TILT[r["rurality"]]
                      for r in rows])
    densities = area_age_densities(period.first_year, tilts, pop)
    london = np.array([r["region"] == "London" for r in rows])
    mig = np.where(london, params.MIGRATION_LONDON, 1.0)
    mig /= (pop * mig).sum() / pop.sum()
    n_start = np.round(scale * pop * POPULATION_GROWTH ** (period.first_year - 2013.5)).astype(np.int64)

    pioneer_of = {r["area_code"]: r for r in pioneers}
    vanguard_of: dict[str, list[dict]] = {}
    for r in vanguards:
        vanguard_of.setdefault(r["area_code"], []).append(r)

    next_code: dict[str, int] = {}
    areas = []
    for i, r in enumerate(rows):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 1, i]))
        n_prac = max(MIN_PRACTICES, round(float(n_start[i]) / PEOPLE_PER_PRACTICE))
        letter = PRACTICE_LETTER[r["region"]]
        first = next_code.get(letter, 81001)
        next_code[letter] = first + n_prac
        if first + n_prac > 99999:
            raise ValueError(f"too many practices in {r['region']} at scale {scale}")
        codes = tuple(f"{letter}{first + k:05d}" for k in range(n_prac))
        weights = rng.lognormal(0.0, 0.5, n_prac)
        sizes = rng.multinomial(n_start[i], weights / weights.sum())
        area_effect = float(np.exp(params.AREA_SD * rng.standard_normal() - params.AREA_SD ** 2 / 2))
        p, v = pioneer_of.get(r["area_code"]), vanguard_of.get(r["area_code"], [])
        mdt_site = next((s for s, m in mdt_sites.items() if r["area_code"] in m["areas"]), None)
        adoption = (mdt_adoptions(mdt_sites[mdt_site], n_prac, seed, i, period) if mdt_site
                    else np.full(n_prac, -1, dtype=np.int64))
        areas.append(AreaPlan(
            index=i, code=r["area_code"], name=r["area_name"], region=r["region"], rurality=r["rurality"],
            imd_score=float(imd[i]), imd_decile=int(deciles[i]), population_2013=int(pop[i]),
            n_start=int(n_start[i]), practice_codes=codes, practice_sizes=sizes, parts=_parts(sizes),
            emergency_mult=area_effect * float(dep[i]), imd_centred=float(imd[i] - imd_mean),
            age_density=densities[i], migration_mult=float(mig[i]),
            pioneer_site=p["site"] if p else None, pioneer_wave=int(p["wave"]) if p else 0,
            pioneer_start=from_iso(p["start_date"]) if p else None,
            vanguard_sites=tuple(x["site"] for x in v),
            vanguard_start=min(from_iso(x["start_date"]) for x in v) if v else None,
            mdt_adoption=adoption, mdt_site=mdt_site,
        ))
    return World(seed, scale, period, scenario, tuple(areas), programmes, schemes, mdt_sites)


def _parts(sizes: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Consecutive groups of practices of at most PART_MAX_PEOPLE starting people each."""
    parts, first, total = [], 0, 0
    for k, size in enumerate(sizes):
        if total and total + size > PART_MAX_PEOPLE:
            parts.append((first, k))
            first, total = k, 0
        total += int(size)
    parts.append((first, len(sizes)))
    return tuple(parts)


def _programmes_table(pioneers: list[dict], vanguards: list[dict]) -> pa.Table:
    from joinedup.data.tables import TABLES

    rows = [("pioneer", r["site"], r["area_code"], int(r["wave"]), None, r["start_date"]) for r in pioneers]
    # Vanguard round 1 is the March 2015 announcement; later announcements are round 2.
    first_round = min(r["start_date"] for r in vanguards)
    rows += [("vanguard", r["site"], r["area_code"], 1 if r["start_date"] == first_round else 2,
              r["vanguard_type"], r["start_date"]) for r in vanguards]
    cols = list(zip(*rows))
    schema = TABLES["programmes"].arrow_schema()
    arrays = [pa.array(cols[0]), pa.array(cols[1]), pa.array(cols[2]), pa.array(cols[3], pa.int32()),
              pa.array(cols[4], pa.string()),
              pa.array([from_iso(d) for d in cols[5]], pa.int32()).cast(pa.date32())]
    return pa.Table.from_arrays(arrays, schema=schema)
