"""Life expectancy by abridged life table (PHEindicatormethods ``phe_life_expectancy``, v2.1.0).

A port of ``R/LifeExpectancy.R`` (ukhsa-collaboration/PHEindicatormethods, commit 093fd288):
Chiang's method II for 20 age bands (0, 1-4, 5-9, ..., 85-89, 90+), with the fraction of the
interval lived by those dying ``a = 0.1`` in the first year and ``0.5`` elsewhere, and the
Silcocks et al. (2001) variance, which adds a term for the open-ended last band. Life expectancy
is returned at the start of every band (or at ``le_age`` only).

PHE's data rules are kept, with its warnings: a group with negative deaths, a population of zero
or less in a band, more deaths than population in a band, a number of bands other than 20, or a
total population of 5,000 or less gets missing outputs; a value whose 95% interval is wider than
20 years is suppressed to missing (its limits are kept, as PHE does).

Example:
    >>> import pandas as pd
    >>> ages = [0, 1] + list(range(5, 95, 5))
    >>> df = pd.DataFrame({"startage": ages,
    ...     "pops": [7060, 35059, 46974, 48489, 43219, 38561, 46009, 57208, 61435, 55601,
    ...              50209, 56416, 46411, 39820, 37978, 37039, 33288, 23306, 11936, 11936],
    ...     "deaths": [17, 9, 4, 8, 20, 15, 24, 33, 50, 71, 100, 163, 263, 304, 536, 872,
    ...                1390, 1605, 1936, 1937]})
    >>> out = phe_life_expectancy(df, "deaths", "pops", "startage", type="standard")
    >>> out.loc[0, ["value", "lowercl", "uppercl"]].astype(float).round(4).tolist()
    [80.1696, 79.8827, 80.4565]
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
from scipy.stats import norm

from joinedup.indicators.phe_common import by_list, check_columns

AGE_BANDS = (0, 1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90)
N_BANDS = 20                    # PHE hard-codes 20 bands, whatever age_contents says
MIN_TOTAL_POPULATION = 5000     # PHE: total population of 5,000 or less is suppressed
MAX_HALF_WIDTH = 10             # PHE: a 95% interval wider than 20 years is suppressed
METHOD = "Chiang, using Silcocks et al for confidence limits"

WARNINGS = {
    "negative_deaths": "some age bands have negative deaths; outputs have been suppressed to NAs",
    "population": "some age bands have a zero or less population; outputs have been suppressed "
                  "to NAs",
    "bands": "some groups contain a different number of age bands than 20; life expectancy "
             "cannot be calculated for these. These groups will contain NAs.",
    "deaths_over_population": "some age bands have more deaths than population; outputs have "
                              "been suppressed to NAs",
    "small": "some groups have a total population of less than 5,000; outputs have been "
             "suppressed to NAs",
}


def _start(age) -> int:
    """The first whole number in an age band label ('10 - 14' -> 10), as PHE's regex."""
    match = re.search(r"\d+", str(age))
    if match is None:
        raise ValueError(f"age band {age!r} holds no number")
    return int(match.group())


def _levels(confidence) -> tuple[float, ...]:
    levels = np.atleast_1d(np.asarray(confidence, dtype="float64"))
    if ((levels < 0.9) | ((levels > 1) & (levels < 90)) | (levels > 100)).any():
        raise ValueError("confidence: all confidence levels must be between 90 and 100 or "
                         f"between 0.9 and 1; got {confidence!r}")
    return tuple(float(c / 100 if c >= 90 else c) for c in levels)


def life_table(start: np.ndarray, deaths: np.ndarray, pops: np.ndarray) -> tuple[np.ndarray, ...]:
    """Life expectancy and its standard error at each band start (bands sorted by age).

    Returns ``(e, se)``. Follows PHE's vectorised life table line by line.
    """
    n = len(start)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = deaths / pops
        width = np.append(np.diff(start).astype("float64"), 2 / m[-1])
        a = np.where(start == 0, 0.1, 0.5)
        q = np.where(deaths <= pops / width / a, m * width / (1 + m * width * (1 - a)), 1.0)
        p = 1 - q
        alive = 1e5 * np.cumprod(np.append(1.0, p[:-1]))
        died = alive - np.append(alive[1:], 0.0)
        lived = np.append(width[:-1] * (alive[1:] + a[:-1] * died[:-1]), alive[-1] / m[-1])
        total = np.cumsum(lived[::-1])[::-1]
        e = np.where(alive == 0, 0.0, total / alive)
        spi = np.where(died == 0, 0.0, q ** 2 * (1 - q) / deaths)
        spi[-1] = 4 / (deaths[-1] * m[-1] ** 2)
        weighted = np.empty(n)
        weighted[:-1] = spi[:-1] * alive[:-1] ** 2 * ((1 - a[:-1]) * width[:-1] + e[1:]) ** 2
        weighted[-1] = (alive[-1] / 2) ** 2 * spi[-1]
        se = np.sqrt(np.cumsum(weighted[::-1])[::-1] / alive ** 2)
    return e, se


def _problems(part: pd.DataFrame) -> list[str]:
    found = []
    if (part["deaths"] < 0).any():
        found.append("negative_deaths")
    if (part["pops"] <= 0).any():
        found.append("population")
    if len(part) != N_BANDS:
        found.append("bands")
    if (part["deaths"] > part["pops"]).any():
        found.append("deaths_over_population")
    if part["pops"].sum() <= MIN_TOTAL_POPULATION:
        found.append("small")
    return found


def phe_life_expectancy(data: pd.DataFrame, deaths: str, population: str, startage: str, *,
                        by=None, age_contents=AGE_BANDS, le_age="all", type: str = "full",
                        confidence=0.95) -> pd.DataFrame:
    """Life expectancy at each band start with confidence limits, per group of ``by``.

    Columns: ``by``, ``startage``, ``value``, the limits (``lowercl``/``uppercl`` for one level,
    ``lower95_0cl``... for several), and with ``type="full"`` ``pops_used``, ``dths_used``
    (population and deaths at and above the band), ``confidence``, ``statistic``, ``method``.
    """
    check_columns(data, deaths=deaths, population=population, startage=startage)
    keys = by_list(by)
    check_columns(data, **{f"by[{i}]": k for i, k in enumerate(keys)})
    stripped = [_start(a) for a in age_contents]
    if stripped[0] != 0:
        raise ValueError("first age band in age_contents must be 0")
    if stripped != sorted(stripped):
        out_of_place = [str(a) for a, s, t in zip(age_contents, stripped, sorted(stripped)) if s != t]
        raise ValueError("age_contents doesn't appear to be in ascending order; the following age "
                         f"bands appear out of position: {', '.join(out_of_place)}")
    levels = _levels(confidence)
    if set(map(str, pd.unique(data[startage]))) != set(map(str, age_contents)):
        raise ValueError("the contents in the startage field do not match the contents of the "
                         f"age_contents vector: {sorted(map(str, pd.unique(data[startage])))}")
    if type not in ("full", "standard"):
        raise ValueError(f"type must be 'full' or 'standard'; got {type!r}")

    frame = data[keys].copy() if keys else pd.DataFrame(index=data.index)
    frame[startage] = data[startage].to_numpy()
    frame["start"] = [_start(a) for a in data[startage]]
    frame["deaths"] = data[deaths].astype("float64").to_numpy()
    frame["pops"] = data[population].astype("float64").to_numpy()
    frame = frame.sort_values(keys + ["start"], kind="stable")
    z = norm.ppf(np.array(levels) + (1 - np.array(levels)) / 2)
    names = ([("lowercl", "uppercl")] if len(levels) == 1 else
             [(f"lower{c * 100:.1f}cl".replace(".", "_"), f"upper{c * 100:.1f}cl".replace(".", "_"))
              for c in levels])

    parts, raised = [], []
    groups = frame.groupby(keys, sort=True, dropna=False) if keys else [((), frame)]
    for _, part in groups:
        part = part.copy()
        problems = _problems(part)
        raised += [p for p in problems if p not in raised]
        if problems:
            e = se = np.full(len(part), np.nan)
        else:
            e, se = life_table(part["start"].to_numpy(), part["deaths"].to_numpy(),
                               part["pops"].to_numpy())
            if (norm.ppf(0.975) * se > MAX_HALF_WIDTH).any():
                raised.append("wide")
        part["value"] = np.where(np.isinf(e) | (norm.ppf(0.975) * se > MAX_HALF_WIDTH), np.nan, e)
        for (lo, up), zz in zip(names, z):
            part[lo], part[up] = e - zz * se, e + zz * se
        part["pops_used"] = part["pops"][::-1].cumsum()[::-1]
        part["dths_used"] = part["deaths"][::-1].cumsum()[::-1]
        parts.append(part)
    for key in raised:
        message = WARNINGS.get(key, "some life expectancy values have a 95% confidence interval "
                                    "> 20 years; these values have been suppressed to NAs")
        warnings.warn(message, stacklevel=2)
    out = pd.concat(parts)

    if le_age != "all":
        wanted = list(np.atleast_1d(le_age))
        if not any(a in list(age_contents) for a in wanted):
            warnings.warn("le_age not in the vector described by age_contents; all life "
                          "expectancies will be returned", stacklevel=2)
        else:
            out = out[out[startage].isin(wanted)]
    columns = keys + [startage, "value"] + [lo for lo, _ in names] + [up for _, up in names]
    if type == "full":
        out["confidence"] = ", ".join(f"{c * 100:g}%" for c in levels)
        out["statistic"] = [f"life expectancy at {a}" for a in out[startage]]
        out["method"] = METHOD
        columns += ["pops_used", "dths_used", "confidence", "statistic", "method"]
    return out[columns].reset_index(drop=True)
