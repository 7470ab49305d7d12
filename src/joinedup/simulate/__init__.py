"""Simulated England: people, hospital activity, social care, programmes and MDTs with known effects.

Example:
    >>> from joinedup.simulate import simulate, SCENARIOS
    >>> summary = simulate("out/sim", scale=0.02, seed=2013, scenario="default")   # doctest: +SKIP
    >>> sorted(SCENARIOS)
    ['default', 'null']

See docs/simulation.md for what is simulated, the calibration and the ``truth.json`` format.
"""

from joinedup.simulate.runner import SimulationSummary, simulate
from joinedup.simulate.scenario import SCENARIOS, Scenario

__all__ = ["SCENARIOS", "Scenario", "SimulationSummary", "simulate"]
