"""Scenarios: the true effects simulated England is built with.

A scenario fixes what the programmes and the MDTs do to emergency admissions (and the MDTs to their
patients' EQ-5D utility), so that estimators can be checked against a known truth (``truth.json``) and
a null scenario can show they find nothing when nothing is there.

Example:
    >>> from joinedup.simulate.scenario import SCENARIOS, Scenario
    >>> SCENARIOS["default"].pioneer_effect[1]
    -0.04
    >>> Scenario(name="big", pioneer_effect={1: -0.3, 2: -0.3}).vanguard_effect
    -0.03
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Scenario(BaseModel):
    """True effects of the programmes and of MDT case management.

    Effects are relative changes of a rate (``-0.04`` = 4% fewer); they must be above -1. Programme
    effects multiply the emergency admission rate of every resident of an area from the site's start
    date, reaching their full size linearly over ``ramp_months``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    pioneer_effect: dict[int, float] = Field(default_factory=lambda: {1: -0.04, 2: -0.03})
    ramp_months: int = Field(default=12, ge=0, le=120)
    vanguard_effect: float = -0.03
    mdt_effect_admissions: float = -0.10
    # Absolute change of EQ-5D-5L utility of enrolled patients at follow-up (not a rate: no -1 bound).
    mdt_effect_utility: float = Field(default=0.02, ge=-0.5, le=0.5)
    mdt_cost_per_patient_year: float = Field(default=950.0, ge=0)
    # A practice-level programme (joinedup.simulate.practice_programme): off in the named scenarios.
    practice_effect: float = 0.0
    practice_share: float = Field(default=0.25, ge=0, le=1)

    @field_validator("pioneer_effect")
    @classmethod
    def _check_waves(cls, value: dict[int, float]) -> dict[int, float]:
        for wave, effect in value.items():
            if wave not in (1, 2):
                raise ValueError(f"pioneer_effect: wave must be 1 or 2, got {wave!r}")
            _check_effect(f"pioneer_effect[{wave}]", effect)
        return {1: value.get(1, 0.0), 2: value.get(2, 0.0)}

    @field_validator("vanguard_effect", "mdt_effect_admissions", "practice_effect")
    @classmethod
    def _check_effect_field(cls, value: float, info) -> float:
        return _check_effect(info.field_name, value)

    def effects_log(self) -> dict[str, float]:
        """Each effect on the log scale, as rate-ratio models estimate it."""
        return {
            "pioneer_wave_1": math.log1p(self.pioneer_effect[1]),
            "pioneer_wave_2": math.log1p(self.pioneer_effect[2]),
            "vanguard": math.log1p(self.vanguard_effect),
            "mdt": math.log1p(self.mdt_effect_admissions),
        }


def _check_effect(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= -1.0:
        raise ValueError(f"{name} must be a relative change above -1 (e.g. -0.04), got {value!r}")
    return float(value)


SCENARIOS: dict[str, Scenario] = {
    "default": Scenario(name="default"),
    "null": Scenario(
        name="null",
        pioneer_effect={1: 0.0, 2: 0.0},
        vanguard_effect=0.0,
        mdt_effect_admissions=0.0,
        mdt_effect_utility=0.0,
    ),
}


def resolve_scenario(scenario: str | Scenario) -> Scenario:
    """A scenario object from its name, or the object itself."""
    if isinstance(scenario, Scenario):
        return scenario
    if scenario in SCENARIOS:
        return SCENARIOS[scenario]
    raise ValueError(f"unknown scenario {scenario!r}; allowed: {', '.join(SCENARIOS)}")
