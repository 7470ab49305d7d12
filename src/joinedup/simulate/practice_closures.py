"""Practices that close part-way through the period, for testing designs on unbalanced practice panels.

England lost about a fifth of its GP practices between 2013 and 2023, mostly by merger and closure.
A closed practice stops appearing in NHS Digital's "Patients Registered at a GP Practice" extracts,
so a practice panel built from them loses the practice's later periods. :func:`close_practices`
does this to a simulated dataset after the fact: a share of practices (of every kind: in the
practice-level programme or not) stop at a random quarter in the middle of the period; their
``practice_population`` rows from then on are removed. Their registered patients' later events keep
the closed practice's code, so the practice panel (which needs a list size) leaves them out, as an
analyst's panel would; every other practice, and the programmed truth of the remaining practice-
periods, is unchanged. What was closed, and when, is returned and written beside the data
(``practice_closures.csv``), so tests can check what the estimators were given.

Example:
    >>> closed = close_practices(folder, share=0.1, seed=3)                    # doctest: +SKIP
    >>> closed.columns.tolist()                                                 # doctest: +SKIP
    ['practice_code', 'closed_from']
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def close_practices(folder: str | Path, share: float, seed: int) -> pd.DataFrame:
    """Close ``share`` of the dataset's practices from a random extract date in the middle 60% of the
    period (rewrites ``practice_population.parquet``); returns ``practice_code, closed_from``."""
    if not 0 < share < 1:
        raise ValueError(f"share must be between 0 and 1; got {share}")
    folder = Path(folder)
    path = folder / "practice_population.parquet"
    if not path.exists():
        raise ValueError(f"{path} not found: close_practices needs a simulated dataset with practice lists")
    lists = pd.read_parquet(path)
    dates = np.sort(pd.to_datetime(lists["extract_date"]).unique())
    codes = np.sort(lists["practice_code"].unique())
    rng = np.random.default_rng(np.random.SeedSequence([seed, 77]))
    chosen = codes[rng.random(len(codes)) < share]
    middle = dates[int(len(dates) * 0.2): max(int(len(dates) * 0.8), int(len(dates) * 0.2) + 1)]
    closed = pd.DataFrame({"practice_code": chosen,
                           "closed_from": pd.to_datetime(rng.choice(middle, size=len(chosen)))})
    when = lists["practice_code"].map(closed.set_index("practice_code")["closed_from"])
    kept = lists[when.isna() | (pd.to_datetime(lists["extract_date"]) < when)]
    kept.to_parquet(path, index=False)
    closed.to_csv(folder / "practice_closures.csv", index=False, date_format="%Y-%m-%d")
    return closed


def simulated_practice_programme(ds, truth: dict, name: str = "Practice MDTs"):
    """The simulator's practice-level programme (``truth.json``'s ``practice_programme``) as a
    :class:`joinedup.programme.Programme`, with the practices of Pioneer and Vanguard areas kept out
    of the comparisons as another programme, as a user would write them in sites files."""
    from joinedup.programme import data_checks, programme_from_frames

    effect = next(e for e in truth["effects"] if e["name"] == "practice_programme")
    sites = pd.DataFrame([(s, c, effect["start_dates"][c]) for s, codes in effect["sites"].items() for c in codes],
                         columns=["site", "unit_code", "start_date"])
    practices, prog = ds.execute(ds.table("practices")), ds.execute(ds.table("programmes"))
    other = practices.merge(prog[["area_code", "site", "start_date"]], on="area_code")
    other = other.rename(columns={"practice_code": "unit_code"}).drop_duplicates("unit_code")
    other["start_date"] = pd.to_datetime(other["start_date"]).dt.strftime("%Y-%m-%d")
    known, span, residents = data_checks(ds, "practice")
    return programme_from_frames(name, sites, "practice", {"area programmes": other[["site", "unit_code", "start_date"]]},
                                 known, span, residents)
