"""Synthesis across sites (WP3): random-effects meta-analysis and meta-regression (as metafor).

The public functions are imported on first use, so ``import joinedup.synthesis`` stays cheap (scipy and
pandas load only when a function is asked for).

Example:
    >>> from joinedup.synthesis import meta_analysis
    >>> meta_analysis([0.1, 0.3, 0.2], [0.01, 0.02, 0.015]).k
    3
"""

from __future__ import annotations

import importlib

_EXPORTS = {"meta_analysis": "joinedup.synthesis.meta", "meta_regression": "joinedup.synthesis.meta",
            "MetaResult": "joinedup.synthesis.meta", "MetaRegression": "joinedup.synthesis.meta"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'joinedup.synthesis' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
