"""Shared, cached simulation runs for the simulator tests (no tests here).

Each run is simulated once per test session (cached by its arguments) into a temporary folder that
is removed at exit, so several test files can share the few seconds each run takes.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import duckdb

from joinedup.simulate import SCENARIOS, Scenario, simulate

_ROOT = Path(tempfile.mkdtemp(prefix="joinedup-sim-tests-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)

MAIN_SCALE = 0.005  # about 300,000 people over 2010-2019; a few seconds
EFFECT_SCALE = 0.004
EFFECT_YEARS = (2012, 2019)
SEED = 2013

SCENARIO_OBJECTS = {
    "default": SCENARIOS["default"],
    "null": SCENARIOS["null"],
    # A large programme effect only (no Vanguard, no MDT effect).
    "big_pioneer": Scenario(name="big_pioneer", pioneer_effect={1: -0.3, 2: -0.3}, vanguard_effect=0.0,
                            mdt_effect_admissions=0.0),
    # A large MDT effect only: same programme multipliers as null, hence the same enrolments.
    "big_mdt": Scenario(name="big_mdt", pioneer_effect={1: 0.0, 2: 0.0}, vanguard_effect=0.0,
                        mdt_effect_admissions=-0.5),
    # A large EQ-5D utility effect only: every table but eq5d_responses is the null run's.
    "big_utility": Scenario(name="big_utility", pioneer_effect={1: 0.0, 2: 0.0}, vanguard_effect=0.0,
                            mdt_effect_admissions=0.0, mdt_effect_utility=0.1),
}


@functools.cache
def run(scenario: str = "default", scale: float = MAIN_SCALE, years: tuple[int, int] = (2010, 2019),
        seed: int = SEED, workers: int | None = None, tag: str = ""):
    """Simulate once per distinct arguments; returns (folder, summary)."""
    folder = _ROOT / f"{scenario}-{scale}-{years[0]}-{years[1]}-{seed}-{workers}{tag}"
    summary = simulate(folder, scale=scale, seed=seed, years=years, scenario=SCENARIO_OBJECTS[scenario],
                       workers=workers)
    return folder, summary


def sql(folder: Path, query: str) -> list[tuple]:
    """Run DuckDB SQL where {admissions}, {persons}, ... name the run's tables."""
    names = {}
    for table in ("persons", "admissions", "ae_attendances", "social_care_services"):
        names[table] = f"read_parquet('{folder}/{table}/*.parquet')"
    for table in ("areas", "population", "practices", "programmes", "schemes", "mdt_enrolments",
                  "eq5d_responses", "unit_costs", "delayed_transfers", "practice_population"):
        names[table] = f"read_parquet('{folder}/{table}.parquet')"
    with duckdb.connect() as con:
        return con.execute(query.format(**names)).fetchall()


def one(folder: Path, query: str):
    """The single value a query returns."""
    return sql(folder, query)[0][0]


def in_list(codes) -> str:
    return ", ".join(f"'{c}'" for c in codes)
