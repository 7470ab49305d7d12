"""Slope and relative index of inequality (PHEindicatormethods ``phe_sii``, v2.1.0).

A port of ``R/SII_function.R`` and its helpers ``FindXValues`` and ``SimulationFunc`` in
``R/utils.R`` (ukhsa-collaboration/PHEindicatormethods, commit 093fd288). The method is Low & Low
(2004): each quantile (e.g. deprivation decile, ordered most to least deprived) gets the relative
rank ``b`` of the midpoint of its share of the population, and the weighted regression
``y*sqrt(a) = c0*sqrt(a) + c1*b*sqrt(a)`` (``a`` the quantile's share of the population) is fitted
by least squares. The SII is the slope ``c1`` (times ``multiplier``), the RII the ratio of the
fitted values at rank 1 and rank 0, ``(c0 + c1) / c0``.

Confidence limits come, as in PHE, from simulation: every quantile's value is drawn ``repetitions``
times from a normal distribution with its standard error (on the log scale for rates, the logit
scale for proportions), the regression is refitted to each draw, and the limits are the draws at
positions ``round(reps * (1 - c) / 2)`` and ``round(reps * (1 + c) / 2)`` of the sorted results.
The draws come from a ``numpy.random.Generator`` (``seed``), not R's Mersenne Twister, so the
limits agree with R's to Monte Carlo error only, which is why PHE's own tests compare them with a
5% tolerance. The point estimates (``sii``, ``rii``, ``intercept``) are deterministic.

Where PHE's code has a quirk it is kept and named: with ``transform=True`` the limits of a rate
are flipped when ``multiplier < 1`` (those of a proportion when ``multiplier < 0``), and the RII
limits are built from the SII limits around the midpoint of the fitted line.

Example:
    >>> import pandas as pd
    >>> data = pd.DataFrame({"decile": range(1, 11),
    ...     "population": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
    ...     "value": [75.9, 78.3, 83.8, 83.6, 80.5, 81.1, 81.7, 84.2, 80.6, 86.3],
    ...     "se": [1.64, 1.58, 1.51, 1.78, 1.7, 1.56, 1.37, 1.4, 2.43, 1.57]})
    >>> out = phe_sii(data, "decile", "population", value="value", se="se", rii=True,
    ...               repetitions=10_000, seed=1)
    >>> round(float(out.loc[0, "sii"]), 3), round(float(out.loc[0, "rii"]), 4)
    (7.0, 1.0897)
    >>> bool(out.loc[0, "sii_lower95_0cl"] < 7.0 < out.loc[0, "sii_upper95_0cl"])
    True
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit, logit
from scipy.stats import norm

from joinedup.indicators.phe_common import by_list, check_columns

VALUE_TYPES = {0: "normal", 1: "rate", 2: "proportion"}
MIN_QUANTILES, MAX_QUANTILES, WARN_QUANTILES = 5, 100, 10


def relative_ranks(population: np.ndarray) -> np.ndarray:
    """Midpoint of each quantile's share in the cumulative population (PHE ``FindXValues``).

    >>> relative_ranks(np.array([12.0, 10.0, 78.0])).round(2).tolist()
    [0.06, 0.17, 0.61]
    """
    share = population / population.sum()
    return np.cumsum(share) - share / 2


def _levels(confidence) -> tuple[float, ...]:
    levels = np.atleast_1d(np.asarray(confidence, dtype="float64"))
    if ((levels < 0.9) | ((levels > 1) & (levels < 90)) | (levels > 100)).any():
        raise ValueError("confidence: all confidence levels must be between 90 and 100 or "
                         f"between 0.9 and 1; got {confidence!r}")
    return tuple(float(c / 100 if c >= 90 else c) for c in levels)


def _tag(level: float) -> str:
    """'95_0' for 0.95, as PHE's column names (formatC(conf * 100, 'f', 1))."""
    return f"{level * 100:.1f}".replace(".", "_")


def _position(reps: int, p: float) -> int:
    """1-based position of a percentile among sorted draws; R's round() halves to even."""
    return int(np.round(reps * p))


def _check_arguments(value, x, se, lower_cl, upper_cl, value_type, transform, repetitions,
                     multiplier) -> None:
    if value is None and x is None:
        raise ValueError("function phe_sii requires value field, or x field if indicator is a "
                         "proportion of population")
    if se is None and (lower_cl is None or upper_cl is None):
        raise ValueError("function phe_sii requires either lower_cl and upper_cl fields, or se field")
    if value_type not in VALUE_TYPES:
        raise ValueError(f"value_type should be 0, 1 or 2; got {value_type!r}")
    for name, arg in (("multiplier", multiplier), ("repetitions", repetitions)):
        if isinstance(arg, bool) or not isinstance(arg, (int, float, np.number)):
            raise TypeError("multiplier, repetitions and confidence inputs should be numeric; "
                            f"{name} is {arg!r}")
    if repetitions < 1000:
        raise ValueError("number of repetitions must be 1000 or greater. Default is 100,000; "
                         f"got {repetitions}")
    if transform and value_type == 0:
        raise ValueError("value_type should be 1 or 2 when transform is true")
    if transform and se is not None:
        raise ValueError("function phe_sii requires se to be missing when transform is true")


def _check_data(data: pd.DataFrame, population, x, value, se, lower_cl, upper_cl, value_type):
    for name in (population, x, value, se, lower_cl, upper_cl):
        if name is not None and not pd.api.types.is_numeric_dtype(data[name]):
            raise TypeError(f"some input fields in data.frame are non-numeric: {name!r}")

    def rows(mask) -> str:
        return str(np.flatnonzero(np.asarray(mask))[:10].tolist())

    pop = data[population]
    if ((pop <= 0) | pop.isna()).any():
        raise ValueError("some groups have a zero, negative or missing population "
                         f"(column {population!r}, rows {rows((pop <= 0) | pop.isna())})")
    if se is not None and ((data[se] < 0) | data[se].isna()).any():
        raise ValueError(f"negative or missing standard errors in input dataset (column {se!r})")
    if se is None and (data[lower_cl].isna() | data[upper_cl].isna()).any():
        raise ValueError("missing lower or upper confidence limits in input dataset")
    if value_type == 2:
        if value is not None and ((data[value] < 0) | (data[value] > 1)).any():
            raise ValueError(f"value proportions are not all between 0 and 1 (column {value!r})")
        if se is None and ((data[[lower_cl, upper_cl]] < 0) | (data[[lower_cl, upper_cl]] > 1)
                           ).any(axis=None):
            raise ValueError("confidence limit proportions are not all between 0 and 1")
        if value is None and (data[x] <= 0).any():
            raise ValueError(f"some groups have a zero or negative count x (column {x!r})")


def _to_scale(values: np.ndarray, value_type: int) -> np.ndarray:
    """PHE's working scale: log for rates, logit for proportions, as is otherwise."""
    if value_type == 1:
        return np.log(values)
    if value_type == 2:
        return logit(values)
    return values


def _from_scale(values: np.ndarray, value_type: int) -> np.ndarray:
    if value_type == 1:
        return np.exp(values)
    if value_type == 2:
        return expit(values)
    return values


def _one_group(frame: pd.DataFrame, value_type: int, transform: bool, multiplier: float,
               repetitions: int, levels: tuple[float, ...], rng: np.random.Generator) -> dict:
    """SII, RII, intercept and simulated limits for one group's quantiles (ordered)."""
    pop = frame["population"].to_numpy(dtype="float64")
    value = frame["value_t"].to_numpy(dtype="float64")
    se = frame["se_t"].to_numpy(dtype="float64")
    sqrt_a = np.sqrt(pop / pop.sum())
    design = np.vstack([sqrt_a, relative_ranks(pop) * sqrt_a])  # 2 x quantiles, PHE's m
    solver = np.linalg.solve(design @ design.T, design)         # (m m')^-1 m
    level_y = value if transform else _from_scale(value, value_type)
    c0, c1 = solver @ (sqrt_a * level_y)

    draws = rng.normal(value[:, None], se[:, None], size=(len(value), repetitions))
    if not transform:
        draws = _from_scale(draws, value_type)
    params = solver @ (draws * sqrt_a[:, None])
    sim_sii = np.sort(params[1] * (1.0 if transform else multiplier))
    sim_rii = (params[1] + params[0]) / params[0]
    if multiplier < 0 and not transform:
        sim_rii = 1 / sim_rii
    sim_rii = np.sort(sim_rii)

    out: dict[str, float] = {}
    if not transform:
        out["sii"] = multiplier * c1
        rii = (c0 + c1) / c0
        out["rii"] = 1 / rii if multiplier < 0 else rii
        out["intercept"] = c0
        for level in levels:
            upper_p = level + (1 - level) / 2
            lo, up = _position(repetitions, 1 - upper_p) - 1, _position(repetitions, upper_p) - 1
            tag = _tag(level)
            out[f"sii_lower{tag}cl"], out[f"sii_upper{tag}cl"] = sim_sii[lo], sim_sii[up]
            out[f"rii_lower{tag}cl"], out[f"rii_upper{tag}cl"] = sim_rii[lo], sim_rii[up]
        return out

    # Transformed: back-transform the fitted line's ends (PHE's anti-log / anti-logit block).
    flip_at = 1 if value_type == 1 else 0  # PHE: rates flip for multiplier < 1, proportions < 0
    at1 = c0 + c1
    half = (c0 + at1) / 2
    end0, end1 = _from_scale(np.array(c0), value_type), _from_scale(np.array(at1), value_type)
    out["sii"] = float((end1 - end0) * multiplier)
    out["rii"] = float(end0 / end1 if multiplier < 0 else end1 / end0)
    out["intercept"] = float(end0 * abs(multiplier))
    for level in levels:
        upper_p = level + (1 - level) / 2
        lo, up = _position(repetitions, 1 - upper_p) - 1, _position(repetitions, upper_p) - 1
        s_lo, s_up = sim_sii[lo], sim_sii[up]
        ends_lo = (_from_scale(half - s_lo / 2, value_type), _from_scale(half + s_lo / 2, value_type))
        ends_up = (_from_scale(half - s_up / 2, value_type), _from_scale(half + s_up / 2, value_type))
        if multiplier < flip_at:
            ends_lo, ends_up = ends_up, ends_lo
        tag = _tag(level)
        out[f"sii_lower{tag}cl"] = float((ends_lo[1] - ends_lo[0]) * multiplier)
        out[f"sii_upper{tag}cl"] = float((ends_up[1] - ends_up[0]) * multiplier)
        rii_lo, rii_up = ends_lo[1] / ends_lo[0], ends_up[1] / ends_up[0]
        if multiplier < flip_at:
            rii_lo, rii_up = 1 / rii_lo, 1 / rii_up
        out[f"rii_lower{tag}cl"], out[f"rii_upper{tag}cl"] = float(rii_lo), float(rii_up)
    return out


def phe_sii(data: pd.DataFrame, quantile: str, population: str, *, by=None,
            x: str | None = None, value: str | None = None, value_type: int = 0,
            transform: bool = False, lower_cl: str | None = None, upper_cl: str | None = None,
            se: str | None = None, multiplier: float = 1, repetitions: int = 100_000,
            confidence=0.95, rii: bool = False, intercept: bool = False, type: str = "full",
            seed: int | np.random.Generator | None = 0) -> pd.DataFrame:
    """Slope index of inequality (and optionally RII, intercept) per group of ``by``.

    Arguments follow PHE's (column names instead of unquoted fields; ``by`` instead of
    ``group_by``). Quantiles must be ordered most to least advantaged as PHE requires (1 = most
    deprived decile). Groups missing a quantile are dropped with PHE's warning. ``seed`` fixes
    the simulation. Output columns: ``by``, ``sii``, [``rii``], ``sii_lower<c>cl``,
    ``sii_upper<c>cl``, [``rii_lower<c>cl``, ``rii_upper<c>cl``] per level (e.g. ``95_0``),
    [``intercept``], and with ``type="full"`` PHE's metadata columns.
    """
    check_columns(data, quantile=quantile, population=population, x=x, value=value,
                  lower_cl=lower_cl, upper_cl=upper_cl, se=se)
    keys = by_list(by)
    check_columns(data, **{f"by[{i}]": k for i, k in enumerate(keys)})
    _check_arguments(value, x, se, lower_cl, upper_cl, value_type, transform, repetitions,
                     multiplier)
    if transform and (lower_cl is None or upper_cl is None):
        raise ValueError("function phe_sii requires lower_cl and upper_cl fields when transform is true")
    if type not in ("full", "standard"):
        raise ValueError(f"type must be 'full' or 'standard'; got {type!r}")
    levels = _levels(confidence)
    _check_data(data, population, x, value, se, lower_cl, upper_cl, value_type)

    quantiles = pd.unique(data[quantile])
    if not MIN_QUANTILES <= len(quantiles) <= MAX_QUANTILES:
        raise ValueError(f"Number of quantiles must be between 5 and 100; got {len(quantiles)}")
    if len(quantiles) > WARN_QUANTILES:
        warnings.warn("WARNING: Small values can make SII unstable when using a large number of "
                      "quantiles", stacklevel=2)

    frame = data[keys].copy() if keys else pd.DataFrame(index=data.index)
    frame["quantile"] = data[quantile].to_numpy()
    frame["population"] = data[population].astype("float64")
    raw = data[value] if value is not None else data[x] / data[population]
    frame["value_t"] = _to_scale(raw.to_numpy(dtype="float64"), value_type)
    if se is not None:
        frame["se_t"] = data[se].to_numpy(dtype="float64")
    else:
        width = (_to_scale(data[upper_cl].to_numpy(dtype="float64"), value_type)
                 - _to_scale(data[lower_cl].to_numpy(dtype="float64"), value_type))
        frame["se_t"] = width / norm.ppf(0.975) / 2  # PHE: the limits are 95% ones
    complete = frame.groupby(keys, sort=False, dropna=False)["quantile"].transform("nunique") \
        if keys else pd.Series(frame["quantile"].nunique(), index=frame.index)
    keep = complete == len(quantiles)
    if not keep.all():
        warnings.warn("WARNING: some records have been removed due to incomplete or invalid data",
                      stacklevel=2)
    frame = frame[keep].sort_values(keys + ["quantile"], kind="stable")

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    rows = []
    groups = frame.groupby(keys, sort=True, dropna=False) if keys else [((), frame)]
    for key, part in groups:
        result = _one_group(part, value_type, transform, float(multiplier), int(repetitions),
                            levels, rng)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), **result})
    out = pd.DataFrame(rows, columns=None if rows else keys + ["sii"])
    columns = keys + ["sii"] + (["rii"] if rii else [])
    for level in levels:
        tag = _tag(level)
        columns += [f"sii_lower{tag}cl", f"sii_upper{tag}cl"]
        if rii:
            columns += [f"rii_lower{tag}cl", f"rii_upper{tag}cl"]
    columns += ["intercept"] if intercept else []
    out = out.reindex(columns=columns)
    if type == "full":
        out["indicator_type"] = VALUE_TYPES[value_type]
        out["multiplier"] = multiplier
        out["transform"] = ({1: "log", 2: "logit"}[value_type] if transform else "none")
        out["CI_confidence"] = ", ".join(f"{c * 100:g}%" for c in levels)
        out["CI_method"] = f"simulation {repetitions} reps"
    return out
