"""Run the whole simulation: plan the world, simulate chunk by chunk, write every table and the truth.

Large tables (persons, admissions, A&E, social care) are written chunk by chunk, so memory stays
bounded by the largest chunk whatever the scale. Chunks may run in worker processes; results are
written in chunk order, so the files are identical whatever the number of workers.

Example:
    >>> import tempfile
    >>> summary = simulate(tempfile.mkdtemp(), scale=0.0005, years=(2013, 2014))
    >>> summary.rows["areas"], summary.rows["persons"] > 20_000
    (152, True)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from joinedup.data import codes
from joinedup.data.tables import TABLES
from joinedup.simulate.practice_population import practice_population_table
from joinedup.simulate.chunk import ChunkResult, simulate_chunk
from joinedup.simulate.costs import unit_costs_table
from joinedup.simulate.dates import Period
from joinedup.simulate.delayed import delayed_transfers_table
from joinedup.simulate.geography import World, build_world
from joinedup.simulate.scenario import Scenario, resolve_scenario
from joinedup.simulate.truth import build_truth, eq5d_summary
from joinedup.simulate.workers import run_chunks
from joinedup.simulate.writer import BackgroundWriter, PartWriter, write_table

LARGE_TABLES = ("persons", "admissions", "ae_attendances", "social_care_services")
CHUNKED_SMALL_TABLES = ("mdt_enrolments", "eq5d_responses")  # simulated by chunk, written as one file
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote: rows per table, wall time and throughput, and where."""

    rows: dict[str, int]
    seconds: float
    rows_per_second: float
    out_dir: Path


def _results(world: World, chunks: list[tuple[int, int]], workers: int, years, scenario):
    """Chunk results in chunk order, simulated here or by worker processes."""
    if workers <= 1:
        for key in chunks:
            yield simulate_chunk(world, *key)
        return
    yield from run_chunks((world.scale, world.seed, years, scenario), chunks, workers)


def simulate(out_dir: str | Path, scale: float = 0.02, seed: int = 2013, years: tuple[int, int] = (2010, 2019),
             scenario: str | Scenario = "default", progress: Progress | None = None,
             workers: int | None = None) -> SimulationSummary:
    """Simulate England and write every canonical table and ``truth.json`` into ``out_dir``.

    ``scale`` is the fraction of England's population simulated (1.0 = about 54 million people);
    ``progress(done, total, label)`` is called after each chunk; ``workers`` processes simulate
    chunks in parallel (default 1: this process); the files do not depend on it.

    Example:
        >>> summary = simulate("out/sim", scale=0.02, seed=2013)        # doctest: +SKIP
        >>> summary.rows["admissions"] > 3_000_000                       # doctest: +SKIP
        True
    """
    t0 = time.perf_counter()
    sc = resolve_scenario(scenario)
    first, last = int(years[0]), int(years[1])
    period = Period.of(first, last)
    world = build_world(float(scale), int(seed), period, sc)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = 1
    chunks = [(a.index, p) for a in world.areas for p in range(len(a.parts))]
    writers = {name: PartWriter(out, name, TABLES[name].arrow_schema()) for name in LARGE_TABLES}
    n_areas, n_years = len(world.areas), period.n_years
    population = np.zeros((n_areas, n_years, 2, 19), dtype=np.int64)
    adults = np.zeros((n_areas, n_years), dtype=np.int64)
    list_sizes = {a.index: np.zeros(len(a.practice_codes), np.int64) for a in world.areas}
    enrolled = {a.index: np.zeros(len(a.practice_codes), np.int64) for a in world.areas}
    small_parts: dict[str, list[pa.Table]] = {name: [] for name in CHUNKED_SMALL_TABLES}
    eq5d_effect = [0.0, 0]  # summed in chunk order: the same float whatever the workers
    background = BackgroundWriter()
    try:
        for done, result in enumerate(_results(world, chunks, workers, (first, last), sc), start=1):
            for name in LARGE_TABLES:
                background.submit(writers[name].write, result.tables[name])
            _accumulate(result, population, adults, list_sizes, enrolled, small_parts, eq5d_effect)
            if progress is not None:
                progress(done, len(chunks), world.areas[result.area_index].name)
        for w in writers.values():
            background.submit(w.close)
    finally:
        background.close()
    rows = {name: writers[name].rows for name in LARGE_TABLES}
    small = {
        "areas": _areas_table(world, population),
        "population": _population_table(world, population),
        "practices": _practices_table(world, list_sizes),
        "programmes": world.programmes,
        "schemes": world.schemes,
        **{name: _concat(name, parts) for name, parts in small_parts.items()},
        "unit_costs": unit_costs_table(sc.mdt_cost_per_patient_year),
        "delayed_transfers": delayed_transfers_table(world.seed, [a.code for a in world.areas], adults, period),
        "practice_population": practice_population_table(out / "persons", (first, last)),
    }
    for name, table in small.items():
        write_table(out / f"{name}.parquet", table)
        rows[name] = table.num_rows
    rows = {name: rows[name] for name in TABLES if name in rows}  # optional tables may be absent
    truth = build_truth(world, rows, enrolled, eq5d_summary(small["eq5d_responses"], *eq5d_effect))
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    seconds = time.perf_counter() - t0
    return SimulationSummary(rows, seconds, sum(rows.values()) / max(seconds, 1e-9), out)


def _accumulate(result: ChunkResult, population, adults, list_sizes, enrolled, small_parts, eq5d_effect) -> None:
    """Add a chunk's aggregates to the run's (small) running totals."""
    i = result.area_index
    population[i] += result.population
    adults[i] += result.adults
    list_sizes[i] += result.list_sizes
    enrolled[i] += result.enrolled
    for name, parts in small_parts.items():
        parts.append(result.tables[name])
    eq5d_effect[0] += result.eq5d_effect[0]
    eq5d_effect[1] += result.eq5d_effect[1]


def _concat(name: str, parts: list[pa.Table]) -> pa.Table:
    return pa.concat_tables(parts) if parts else TABLES[name].arrow_schema().empty_table()


def _areas_table(world: World, population: np.ndarray) -> pa.Table:
    a = world.areas
    return pa.Table.from_arrays([
        pa.array([x.code for x in a]), pa.array([x.name for x in a]), pa.array([x.region for x in a]),
        pa.array([x.imd_score for x in a], pa.float64()), pa.array([x.imd_decile for x in a], pa.int32()),
        pa.array([x.rurality for x in a]), pa.array(population[:, 0].sum(axis=(1, 2)).astype(np.int64)),
    ], schema=TABLES["areas"].arrow_schema())


def _population_table(world: World, population: np.ndarray) -> pa.Table:
    n_areas, n_years = population.shape[:2]
    codes_arr = np.array([x.code for x in world.areas], dtype=object)
    area = np.repeat(np.arange(n_areas), n_years * 2 * 19)
    year = np.tile(np.repeat(world.period.years, 2 * 19), n_areas)
    sex = np.tile(np.repeat(np.arange(2), 19), n_areas * n_years)
    band = np.tile(np.arange(19), n_areas * n_years * 2)
    return pa.Table.from_arrays([
        pa.array(codes_arr[area].tolist(), pa.string()), pa.array(year.astype(np.int32)),
        pa.array(np.array(codes.SEXES, dtype=object)[sex].tolist(), pa.string()),
        pa.array(np.array(codes.AGE_BANDS, dtype=object)[band].tolist(), pa.string()),
        pa.array(population.reshape(-1)),
    ], schema=TABLES["population"].arrow_schema())


def _practices_table(world: World, list_sizes: dict[int, np.ndarray]) -> pa.Table:
    codes_, areas, sizes = [], [], []
    for a in world.areas:
        codes_.extend(a.practice_codes)
        areas.extend([a.code] * len(a.practice_codes))
        sizes.append(list_sizes[a.index])
    return pa.Table.from_arrays([pa.array(codes_), pa.array(areas), pa.array(np.concatenate(sizes))],
                                schema=TABLES["practices"].arrow_schema())
