"""benchmarks/coverage_subgroups_synth.py's swapped-path draws (``--noise swap``): each unit's noise
in a group is another unit's realised residual path, the same source unit in every group, rescaled
to the receiving unit's own root mean square residual there and weighted as the realised-path draws.
Exact arithmetic on a small hand-made panel (tolerance 1e-12: one multiply and one divide)."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from coverage_subgroups_synth import _draws_swap

UNITS, TIMES = ["a", "b", "c", "d"], [1, 2, 3, 4]


def _panel(rng, post_from=3) -> pd.DataFrame:
    rows = pd.DataFrame([(u, t) for u in UNITS for t in TIMES], columns=["cluster", "t"])
    resid = rng.normal(size=(len(UNITS), len(TIMES)))
    resid -= resid.mean(axis=1, keepdims=True)  # two-way fixed-effects residuals sum to 0 by unit
    rows["resid"] = resid.ravel()
    rows["fit"] = rng.normal(size=len(rows))
    rows["post"] = (rows["cluster"] == "a") & (rows["t"] >= post_from)
    return rows


def test_each_unit_gets_another_units_path_at_its_own_level():
    rng = np.random.default_rng(3)
    panels = {"g1": _panel(rng), "g2": _panel(rng)}
    effects = [0.5, -0.2]
    out = _draws_swap(panels, effects, rho=0.0, rng=np.random.default_rng(7))
    sources = {}
    for (name, p), effect in zip(panels.items(), effects):
        noise = (out[name]["y"] - p["fit"] - effect * p["post"]).to_numpy().reshape(len(UNITS), len(TIMES))
        resid = p["resid"].to_numpy().reshape(len(UNITS), len(TIMES))
        rms = np.sqrt((resid ** 2).mean(axis=1))
        for i, unit in enumerate(UNITS):
            # the noise is weight x (a source's path / its rms) x this unit's rms: find the source
            shape = noise[i] / np.sqrt((noise[i] ** 2).mean())
            match = [j for j in range(len(UNITS))
                     if np.allclose(np.abs(shape @ (resid[j] / rms[j])) / len(TIMES), 1, rtol=0, atol=1e-12)]
            assert len(match) == 1, (name, unit)
            sources.setdefault(unit, set()).add(match[0])
    assert all(len(s) == 1 for s in sources.values())  # the same source unit in every group
    source = [next(iter(sources[u])) for u in UNITS]
    assert sorted(source) == list(range(len(UNITS)))  # a permutation
    assert source != list(range(len(UNITS)))  # and here not the identity: the paths moved


def test_the_draws_are_seeded_and_need_balanced_panels():
    rng = np.random.default_rng(3)
    panels = {"g1": _panel(rng), "g2": _panel(rng)}
    one = _draws_swap(panels, [0.0, 0.0], 0.5, np.random.default_rng(1))
    two = _draws_swap(panels, [0.0, 0.0], 0.5, np.random.default_rng(1))
    pd.testing.assert_frame_equal(one["g1"], two["g1"])
    other = _draws_swap(panels, [0.0, 0.0], 0.5, np.random.default_rng(2))
    assert not np.allclose(one["g1"]["y"], other["g1"]["y"])
    gap = {"g1": panels["g1"].iloc[1:], "g2": panels["g2"]}
    with pytest.raises(ValueError, match="every unit in every year of group 'g1'"):
        _draws_swap(gap, [0.0, 0.0], 0.5, np.random.default_rng(1))
