"""Synthesis across sites (WP3): random-effects meta-analysis and meta-regression (as metafor).

Example:
    >>> from joinedup.synthesis import meta_analysis
    >>> meta_analysis([0.1, 0.3, 0.2], [0.01, 0.02, 0.015]).k
    3
"""

from joinedup.synthesis.meta import MetaRegression, MetaResult, meta_analysis, meta_regression

__all__ = ["MetaRegression", "MetaResult", "meta_analysis", "meta_regression"]
