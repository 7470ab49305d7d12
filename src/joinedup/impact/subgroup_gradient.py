"""A one-degree-of-freedom test of a gradient in the effect across ordered groups (deprivation
quintile, age band), beside the test of equal effects.

The test of equal effects spends ``G - 1`` differences; with few treated units (7 wave-1 Pioneer
sites against 4 differences between deprivation quintiles) it holds its size but can hardly find
anything (docs/inequalities.md: 1.7% power against quintile 1 0.2 log apart). An evaluator asking
about inequalities usually has one question: does the effect change from the most to the least
deprived? That is the **linear trend** contrast of the group estimates (the test for trend across
ordered subgroups, as the Cochrane Handbook, section 10.11.3.1, recommends meta-regression on the
ordered covariate for, and as the SII takes deprivation as one ordered scale):

    slope = c' b / c' c,   se = sqrt(c' V c) / c' c,   t = slope / se,

``c`` the groups' positions in their order (0, 1, ..., equally spaced) less their mean, ``b`` the
group estimates and ``V`` their joint covariance (the design's own: joint jackknife, influence
function or stacked cluster-robust). ``slope`` is the change in the effect per step from the first
group in the order (1, most deprived; 0-17) to the next. With ``n_clusters`` = m (the units ``V``
rests on: the wave's sites, the fewest treated areas) the reference is ``t(m - 1)``, which is
Hotelling's reference of the equal-effects test with one difference (``F(1, m - 1) = t(m - 1)^2``);
without, the normal. Age bands are unequal in width and are scored as equal steps (the order, not
the years, as the IMD quintiles are): a trend test, not a model of age.

Example:
    >>> import numpy as np
    >>> r = linear_trend([0.0, -0.1, -0.2], np.eye(3) * 0.01, [0, 1, 2], n_clusters=10)
    >>> round(r["estimate"], 6), round(r["std_error"], 6), round(r["statistic"], 4), r["df"]
    (-0.1, 0.070711, -1.4142, 9)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from joinedup.indicators.breakdowns import AGE_GROUPS, LABELS

# the breakdowns whose groups have an order, first to last, and the words for its two ends
ORDERED: dict[str, tuple[str, ...]] = {"imd_quintile": ("1", "2", "3", "4", "5"),
                                       "age_band": tuple(label for _, label in AGE_GROUPS)}
ENDS = {"imd_quintile": (LABELS["imd_quintile"]["1"], LABELS["imd_quintile"]["5"]),
        "age_band": (AGE_GROUPS[0][1], AGE_GROUPS[-1][1])}
NOT_RUN = "Test of a linear trend not run: "  # the report says why in a sentence of its own
SPAN = {"imd_quintile": "from the most deprived quintile (1) to the least deprived (5)",
        "age_band": "from the youngest age band (0-17) to the oldest (85+)"}  # the report's words


def linear_trend(estimates, covariance, scores, n_clusters: int | None = None, alpha: float = 0.05) -> dict:
    """The linear trend of ``estimates`` over ``scores``: ``estimate`` (change per unit of score),
    ``std_error``, ``ci_low``, ``ci_high``, ``statistic`` (t), ``df`` (m - 1; ``inf`` for the
    normal) and ``p_value`` (two-sided)."""
    b = np.asarray(estimates, dtype=float)
    v = np.asarray(covariance, dtype=float)
    s = np.asarray(scores, dtype=float)
    if len(b) < 3 or v.shape != (len(b), len(b)) or len(s) != len(b):
        raise ValueError(f"a trend needs three or more ordered estimates, their scores and a {len(b)} x "
                         f"{len(b)} covariance; got {len(b)} estimates, {len(s)} scores, {v.shape}")
    if not (np.isfinite(b).all() and np.isfinite(v).all() and np.isfinite(s).all()):
        raise ValueError(f"estimates, scores and covariance must be finite: {b}, {s}, {v}")
    c = s - s.mean()
    cc = float(c @ c)
    if cc == 0:
        raise ValueError(f"the scores do not vary: {s}")
    var = float(c @ v @ c)
    if var <= 0:
        raise ValueError(f"the trend's variance is {var}: the covariance gives the contrast no spread")
    slope, se = float(c @ b) / cc, float(np.sqrt(var)) / cc
    if n_clusters is not None and n_clusters < 2:
        raise ValueError(f"a t reference needs two or more clusters; got {n_clusters}")
    df = float("inf") if n_clusters is None else n_clusters - 1
    ref = stats.norm if n_clusters is None else stats.t(df)
    crit, t = float(ref.ppf(1 - alpha / 2)), slope / se
    return {"estimate": slope, "std_error": se, "ci_low": slope - crit * se, "ci_high": slope + crit * se,
            "statistic": t, "df": df, "p_value": float(2 * ref.sf(abs(t)))}


def gradient_row(breakdown: str, groups: list[str], estimates, covariance, n_clusters: int | None,
                 reference: str, covariance_words: str) -> dict | None:
    """The table row of the trend test for an ordered ``breakdown`` (``None`` for an unordered one
    or fewer than three groups): ``group = "gradient"``, the slope with its interval and the t test,
    ``test`` naming the reference and covariance. A trend that cannot be computed gives a "not run"
    row saying why.

    Example:
        >>> import numpy as np
        >>> row = gradient_row("imd_quintile", ["1", "2", "3"], [0.0, -0.1, -0.2], np.eye(3) * 0.01,
        ...                    10, "t reference, m = 10 sites", "joint jackknife covariance")
        >>> row["group"], round(row["estimate"], 3), row["df"]
        ('gradient', -0.1, 9)
        >>> gradient_row("sex", ["F", "M"], [0, 0], np.eye(2), 10, "", "") is None
        True
    """
    order = ORDERED.get(breakdown)
    if order is None or len(groups) < 3 or not set(groups) <= set(order):
        return None
    first, last = ENDS[breakdown]
    scores = [order.index(g) for g in groups]
    try:
        r = linear_trend(estimates, covariance, scores, n_clusters)
    except ValueError as err:
        return {"group": "not run", "group_label": f"{NOT_RUN}{err}"}
    return {"group": "gradient", **r,
            "group_label": f"Linear trend in the effect, per step from {first} to {last}",
            "test": f"t, 1 df, {reference} (linear trend across ordered groups, equal steps; {covariance_words})"}
