"""Public health statistics with confidence limits, after PHEindicatormethods 2.1.0 (UKHSA).

One import point for the methods, which live in small modules by concern:

- ``phe_limits``: Byar's, exact Poisson and Wilson limits (``byars_lower/upper``,
  ``exact_lower/upper``, ``poisson_limits``, ``wilson_lower/upper``);
- ``phe_rates``: ``crude_rate``, ``proportion``, ``mean_ci`` (row-wise or by group);
- ``phe_standardised``: ``dsr`` (Dobson; independent or non-independent events), ``isratio``,
  ``israte`` (long data grouped by ``by``) and ``smr`` (observed/expected arrays);
- ``phe_sii``: slope and relative index of inequality (``phe_sii``, simulated limits);
- ``phe_life_expectancy``: abridged life table life expectancy (``phe_life_expectancy``);
- ``phe_funnels``: funnel limits, significance and plotting points (arithmetic in
  ``phe_funnel_math``).

The normal, chi-square, t and incomplete-gamma functions they need come from scipy
(``scipy.stats``, ``scipy.special``).

Confidence: 0.95 (or 95), 0.998, any level in [0.9, 1], or the pair (0.95, 0.998). One level gives
``lowercl``/``uppercl``; the pair gives ``lower95_0cl``, ``upper95_0cl``, ``lower99_8cl``,
``upper99_8cl`` (PHE's names). Functions are pure: arrays or DataFrames in, new DataFrames out.
Missing inputs propagate as PHE does; invalid values raise ValueError naming the argument and the
offending 0-based positions (non-numeric input raises TypeError). See docs/indicator-methods.md for formulas and validation.

Example:
    >>> from joinedup.indicators.stats import crude_rate
    >>> out = crude_rate([20], [100], multiplier=100, confidence=(0.95, 0.998))
    >>> [round(float(out[c].iloc[0]), 4) for c in ("value", "lower95_0cl", "upper99_8cl")]
    [20.0, 12.2114, 38.085]
"""

from joinedup.indicators.phe_funnels import funnel_limits, funnel_points, funnel_significance
from joinedup.indicators.phe_limits import (
    byars_lower,
    byars_upper,
    exact_lower,
    exact_upper,
    poisson_limits,
    wilson_lower,
    wilson_upper,
)
from joinedup.indicators.phe_life_expectancy import phe_life_expectancy
from joinedup.indicators.phe_rates import crude_rate, mean_ci, proportion
from joinedup.indicators.phe_sii import phe_sii
from joinedup.indicators.phe_standardised import dsr, israte, isratio, smr

__all__ = [
    "byars_lower", "byars_upper", "crude_rate", "dsr", "exact_lower", "exact_upper",
    "funnel_limits", "funnel_points", "funnel_significance", "israte", "isratio", "mean_ci",
    "phe_life_expectancy", "phe_sii", "poisson_limits", "proportion", "smr", "wilson_lower", "wilson_upper",
]
