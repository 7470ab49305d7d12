"""A simulated repeated-cross-section experience survey: different people each year in every area.

Outcomes such as the GP Patient Survey's "I have a named contact / an agreed care plan" or the
Adult Social Care Survey's are measured on a fresh sample each year, so a DiD on them needs the
repeated cross-section estimators (R did's ``panel = FALSE``). This module draws such a survey for
the areas and programme start dates of a simulated England, with a known programme effect:

- ``respondents`` people per area and year (fixed, so every area weighs the same each year), each
  with an age group (``18-64``, ``65-74``, ``75+``) and sex;
- a linear probability model, so that parallel trends hold exactly *conditional on age and sex*:
  ``p = area level + 0.01 * year index + age effect + sex effect (+ effect once the area's
  programme has started)``;
- the programme areas' respondents get older over the years (the older a respondent, the more
  likely a named contact), so the unconditional comparison is biased and the conditional one
  (``xformla = "~ age_group + sex"``: two text columns, read as factors) is not.

The programmed ATT on the probability scale is ``effect`` for every treated year (no ramp), which
is what every aggregation of ATT(g,t) should recover.

Example:
    >>> survey = experience_survey(areas, seed=1, effect=0.05)                 # doctest: +SKIP
    >>> survey.columns.tolist()                                                 # doctest: +SKIP
    ['area_code', 'year', 'first_treated', 'age_group', 'sex', 'named_contact']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

AGE_GROUPS = ("18-64", "65-74", "75+")
AGE_EFFECT = {"18-64": 0.0, "65-74": 0.10, "75+": 0.20}


def programme_areas(ds, programme: str = "pioneer") -> pd.DataFrame:
    """``area_code, start_year`` of a simulated dataset's areas (start_year 0: never in the
    programme; an area in the other programme, e.g. Vanguards, is left out as a co-intervention)."""
    areas = ds.execute(ds.table("areas").select("area_code"))
    prog = ds.execute(ds.table("programmes"))
    starts = prog[prog["programme"] == programme].groupby("area_code")["start_date"].min()
    other = set(prog.loc[prog["programme"] != programme, "area_code"])
    out = areas[~areas["area_code"].isin(other - set(starts.index))].copy()
    # a survey year runs April to March: the programme counts from the first whole survey year
    start = pd.to_datetime(out["area_code"].map(starts))
    out["start_year"] = np.where(start.isna(), 0, start.dt.year + (start.dt.month > 4)).astype(int)
    return out.reset_index(drop=True)


def experience_survey(areas: pd.DataFrame, seed: int, effect: float, years: tuple[int, int] = (2010, 2016),
                      respondents: int = 40) -> pd.DataFrame:
    """Draw the survey (module docstring) for ``areas`` (``area_code, start_year``)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 404]))
    year_list = np.arange(years[0], years[1] + 1)
    level = pd.Series(rng.uniform(0.25, 0.45, len(areas)), index=areas["area_code"])
    frames = []
    for i, year in enumerate(year_list):
        n = len(areas) * respondents
        code = np.repeat(areas["area_code"].to_numpy(), respondents)
        start = np.repeat(areas["start_year"].to_numpy(), respondents)
        in_programme = start > 0
        # programme areas' samples age: the share of 75+ rises by 4 points a year there, not elsewhere
        old = np.where(in_programme, 0.20 + 0.04 * i, 0.20)
        u = rng.random(n)
        age = np.where(u < old, "75+", np.where(u < old + 0.25, "65-74", "18-64"))
        sex = np.where(rng.random(n) < 0.5, "female", "male")
        treated = in_programme & (year >= start)
        p = (level[code].to_numpy() + 0.01 * i + pd.Series(age).map(AGE_EFFECT).to_numpy()
             + np.where(sex == "female", 0.03, 0.0) + effect * treated)
        frames.append(pd.DataFrame({"area_code": code, "year": year, "first_treated": start, "age_group": age,
                                    "sex": sex, "named_contact": (rng.random(n) < p).astype(float)}))
    out = pd.concat(frames, ignore_index=True)
    # treated groups that start after the last year are never treated in these data
    out.loc[out["first_treated"] > years[1], "first_treated"] = 0
    return out
