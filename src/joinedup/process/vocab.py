"""Code lists of the initiative register, declared once (the register, the simulator and the
typology read them from here).

Stages follow the evaluation's own wording for how far an initiative had got ("planned", "piloting",
"implemented", "at scale", "stopped"); the order matters: :data:`LIVE_STAGES` are the stages at which
an initiative delivers care (its go-live is the first period in one of them).

Example:
    >>> stage_rank("at_scale") > stage_rank("piloting")
    True
"""

from __future__ import annotations

from joinedup.data.codes import SCHEME_TYPES, TARGET_GROUPS

STAGES: tuple[str, ...] = ("planned", "piloting", "implemented", "at_scale", "stopped")
LIVE_STAGES: tuple[str, ...] = ("implemented", "at_scale")
ACTIVE_STAGES: tuple[str, ...] = ("piloting", "implemented", "at_scale")
# The evaluation's contrast: a "medical model" (clinical, case management by health professionals)
# against a social / community model of care.
MODELS: tuple[str, ...] = ("medical", "social")
SOURCES: tuple[str, ...] = ("document", "interview", "survey", "site_submission")
SCALE_UNITS: tuple[str, ...] = ("people", "practices")
INITIATIVE_TYPES: tuple[str, ...] = SCHEME_TYPES
# The scheme registry's groups plus those the seeds name (learning disabilities, carers, cancer,
# whole community): the register is where they first appear.
TARGET_GROUPS_REGISTER: tuple[str, ...] = TARGET_GROUPS + (
    "learning_disabilities", "carers", "cancer", "whole_community")
# "Community MDTs for older people with long-term conditions": the focus the Pioneers narrowed to.
FOCUS_TYPE = "community_mdt"
FOCUS_TARGETS: tuple[str, ...] = ("older_people", "frail_elderly", "long_term_conditions")


def stage_rank(stage: str) -> int:
    """Position of a stage in :data:`STAGES` (a ValueError names the allowed values)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {', '.join(STAGES)}; got {stage!r}")
    return STAGES.index(stage)
