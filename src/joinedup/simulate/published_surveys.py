"""Simulated England's published experience surveys: GP Patient Survey practice results and ASCOF
council measures from the Adult Social Care Survey, written in their published CSV layouts (so the
importers in :mod:`joinedup.experience` read them as they would the real files), with a programmed
effect (``effect = 0`` is the null scenario).

Respondents are drawn by :func:`joinedup.simulate.experience_survey.experience_survey` (fresh people
every year, a known effect on the probability scale from the unit's programme start, programme units'
samples ageing over the years) and aggregated as the publishers do: each unit-year's share is weighted
to a fixed age profile (:data:`AGE_PROFILE`; GPPS weights to the practice list, the ASCS to the
council's eligible population), which removes the ageing of the samples, so the programmed effect is
what a DiD of the published shares should recover.

- GPPS (practices, survey years ``gpps_years``): ``GPPS_{year}_Practice_data_(weighted)_(csv)_PUBLIC.csv``
  with ``Practice_Code, Practice_Name, CCG_Code, distributed, received, resprate, Q9base, Q9_12,
  Q9_12pct`` (the preferred-GP item, Q9 in 2012-2023). From 2018 the files also carry ``Q9_1234base``,
  the share's base, as the real 2018-2023 files do: the simulated respondents are those who tried, and
  ``Q9base`` (and ``received``) adds those who say "I have not tried", about a tenth as many again (drawn
  apart from the other draws), so the importer must take the share's base; the 2012-2017 files, like
  the real ones as far as is known, have ``Q9base`` only (the respondents), and the importer says it
  fell back to it. The 2018 questionnaire redevelopment is a break: from 2018 the practice levels are
  drawn afresh and shifted by ``break_shift``, so nothing links the two eras but the programme. About
  2% of practice-years are suppressed (``*``), as the published files suppress small bases: the
  importer rejects them with a reason.
- ASCOF (councils, financial years ``ascof_years``, 2012 = 2012-13): ``ascof_{year}.csv`` in the
  long layout (Geographical code ... Measure value) with 3A (satisfaction) and 3D (easy to find
  information) as Numerator, Denominator and Outcome rows, an England total, and about 2% of
  council values suppressed as ``[c]``; and 1A (social care-related quality of life, the mean
  ASCOT score on 0-24, England about 19) as its Outcome row only, to one decimal, as published. 1A's
  programmed effect is ``scrqol_effect`` points (default ``10 * effect``: +0.5 points for 0.05) from
  the council's start, on council levels ~ N(19, 0.5), common year shifts ~ N(0, 0.15) and
  respondents' scores with SD 3.5 (``ascs_respondents`` a council-year).

``truth.json`` records the effect, seed and files.

Example:
    >>> paths = write_published_surveys("data/england", seed=1, effect=0.05)          # doctest: +SKIP
    >>> sorted(paths)                                                                  # doctest: +SKIP
    ['ascof', 'gpps', 'truth']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from joinedup.simulate.experience_survey import experience_survey, programme_areas

AGE_PROFILE = {"18-64": 0.6, "65-74": 0.2, "75+": 0.2}
ASCOF_COLUMNS = ["Geographical code", "Geographical description", "Geographical level", "ONS code",
                 "ASCOF measure code", "Disaggregation level", "Measure type", "Measure value"]


def weighted_shares(survey: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """``area_code, year, base, share``: each unit-year's share weighted to :data:`AGE_PROFILE`
    (over the age groups present; ``base`` is the number of respondents, unweighted).

    >>> s = pd.DataFrame({"area_code": "a", "year": 1, "age_group": ["18-64", "75+", "75+"], "y": [0.0, 1, 1]})
    >>> weighted_shares(s, "y")[["base", "share"]].values.tolist()
    [[3.0, 0.25]]
    """
    cell = survey.groupby(["area_code", "year", "age_group"])[outcome].agg(["mean", "size"]).reset_index()
    cell["w"] = cell["age_group"].map(AGE_PROFILE)
    cell["wm"] = cell["w"] * cell["mean"]
    out = cell.groupby(["area_code", "year"]).agg(base=("size", "sum"), wm=("wm", "sum"), w=("w", "sum")).reset_index()
    out["share"] = out["wm"] / out["w"]
    out["base"] = out["base"].astype(float)
    return out[["area_code", "year", "base", "share"]]


def _gpps_frames(units, seed, effect, years, respondents, break_shift):
    eras = [(years[0], min(years[1], 2017)), (max(years[0], 2018), years[1])]
    frames = []
    for k, (lo, hi) in enumerate(eras):
        if lo > hi:
            continue
        survey = experience_survey(units, seed=seed * 10 + k, effect=effect, years=(lo, hi), respondents=respondents)
        shares = weighted_shares(survey, "named_contact")
        if lo >= 2018:
            shares["share"] = (shares["share"] + break_shift).clip(0, 1)
        frames.append(shares)
    return pd.concat(frames, ignore_index=True)


def _write_gpps(shares, practices, folder, rng, not_tried_rng) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for year, rows in shares.groupby("year"):
        rows = rows.merge(practices, left_on="area_code", right_on="practice_code")
        tried = rows["base"].astype(int).to_numpy()  # the respondents behind the share
        # from 2018 Q9base also counts those who say "I have not tried", outside the share's base (docstring)
        answered = tried + (not_tried_rng.binomial(tried, 0.1) if year >= 2018 else 0)
        distributed = np.ceil(answered / 0.35).astype(int)
        suppressed = rng.random(len(rows)) < 0.02
        frame = pd.DataFrame({
            "Practice_Code": rows["practice_code"], "Practice_Name": "Practice " + rows["practice_code"],
            "CCG_Code": rows["ccg"], "distributed": distributed, "received": answered,
            "resprate": (answered / distributed).round(4),
            "Q9base": np.where(suppressed, "*", answered.astype(str)),
            "Q9_12": np.where(suppressed, "*", (rows["share"] * rows["base"]).round(0).astype(int).astype(str)),
            "Q9_12pct": np.where(suppressed, "*", rows["share"].round(6).astype(str)),
        })
        if year >= 2018:  # the share's own base, as the real 2018-2023 files carry it
            frame.insert(frame.columns.get_loc("Q9base") + 1, "Q9_1234base",
                         np.where(suppressed, "*", tried.astype(str)))
        path = folder / f"GPPS_{year}_Practice_data_(weighted)_(csv)_PUBLIC.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def scrqol_means(areas: pd.DataFrame, seed: int, effect: float, years: tuple[int, int],
                 respondents: int) -> pd.DataFrame:
    """``area_code, year, base, share`` (``share`` holding the mean score) of simulated ASCOF 1A.

    >>> a = pd.DataFrame({"area_code": ["x", "y"], "start_year": [2013, 0]})
    >>> m = scrqol_means(a, seed=1, effect=0.5, years=(2012, 2013), respondents=100)
    >>> m["base"].tolist(), bool(m["share"].between(15, 23).all())
    ([100.0, 100.0, 100.0, 100.0], True)
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1010]))
    level = rng.normal(19.0, 0.5, len(areas))
    rows = []
    for year in range(years[0], years[1] + 1):
        shift = rng.normal(0, 0.15)
        post = (areas["start_year"].to_numpy() > 0) & (year >= areas["start_year"].to_numpy())
        scores = np.clip(rng.normal((level + shift + effect * post)[:, None], 3.5, (len(areas), respondents)), 0, 24)
        rows.append(pd.DataFrame({"area_code": areas["area_code"].to_numpy(), "year": year,
                                  "base": float(respondents), "share": scores.mean(axis=1)}))
    return pd.concat(rows, ignore_index=True)


def _write_ascof(by_code, names, folder, rng) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    years = sorted(set().union(*(set(s["year"]) for s in by_code.values())))
    cassr = {code: str(100 + i) for i, code in enumerate(sorted(names))}
    for year in years:
        rows = []
        for code, shares in by_code.items():
            s = shares[shares["year"] == year]
            if code == "1A":  # a mean score: its Outcome row only, to one decimal
                total = round(float((s["share"] * s["base"]).sum() / s["base"].sum()), 1)
                rows.append(["England", "England", "England", "E92000001", code, "Total", "Outcome", total])
                rows += [[cassr[unit], names[unit], "Local authority", unit, code, "Total", "Outcome",
                          "[c]" if rng.random() < 0.02 else round(float(v), 1)]
                         for unit, v in zip(s["area_code"], s["share"])]
                continue
            num, den = (s["share"] * s["base"]).round(1), s["base"]
            rows += [["England", "England", "England", "E92000001", code, "Total", t, v]
                     for t, v in (("Numerator", num.sum()), ("Denominator", den.sum()),
                                  ("Outcome", round(100 * num.sum() / den.sum(), 1)))]
            for unit, n, d in zip(s["area_code"], num, den):
                hide = rng.random() < 0.02
                for t, v in (("Numerator", n), ("Denominator", d), ("Outcome", round(100 * n / d, 1))):
                    rows.append([cassr[unit], names[unit], "Local authority", unit, code, "Total", t,
                                 "[c]" if hide and t != "Denominator" else v])
        path = folder / f"ascof_{year}.csv"
        pd.DataFrame(rows, columns=ASCOF_COLUMNS).to_csv(path, index=False)
        paths.append(path)
    return paths


def write_published_surveys(data_dir, out_dir=None, seed: int = 2013, effect: float = 0.05,
                            gpps_years: tuple[int, int] = (2012, 2021), ascof_years: tuple[int, int] = (2012, 2016),
                            gpps_respondents: int = 60, ascs_respondents: int = 100,
                            break_shift: float = -0.05, scrqol_effect: float | None = None) -> dict[str, object]:
    """Write the GPPS-like and ASCOF-like files for the simulated dataset in ``data_dir`` (module
    docstring) under ``out_dir`` (default ``data_dir/published_surveys``)."""
    from joinedup.data import load_dataset

    ds = load_dataset(data_dir)
    out = Path(out_dir) if out_dir is not None else Path(data_dir) / "published_surveys"
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1818]))
    areas = programme_areas(ds)
    practices = ds.execute(ds.table("practices").select("practice_code", "area_code"))
    practices = practices.merge(areas, on="area_code")
    practices["ccg"] = "C" + practices["area_code"].str[-4:]
    units = practices.rename(columns={"area_code": "home", "practice_code": "area_code"})[["area_code", "start_year"]]
    gpps = _write_gpps(_gpps_frames(units, seed, effect, gpps_years, gpps_respondents, break_shift),
                       practices[["practice_code", "ccg"]], out / "gpps", rng,
                       np.random.default_rng(np.random.SeedSequence([seed, 1819])))  # apart: other draws unchanged
    names = ds.execute(ds.table("areas").select("area_code", "area_name")).set_index("area_code")["area_name"]
    by_code = {code: weighted_shares(experience_survey(areas, seed=seed * 10 + 5 + k, effect=effect, years=ascof_years,
                                                       respondents=ascs_respondents), "named_contact")
               for k, code in enumerate(("3A", "3D"))}
    scrqol_effect = 10 * effect if scrqol_effect is None else scrqol_effect
    by_code["1A"] = scrqol_means(areas, seed, scrqol_effect, ascof_years, ascs_respondents)
    ascof = _write_ascof(by_code, names[names.index.isin(areas["area_code"])].to_dict(), out / "ascof", rng)
    truth = {"effect": effect, "seed": seed, "scale": "probability (share of respondents)",
             "gpps": {"measure": "preferred_gp", "question": "Q9", "years": list(gpps_years), "break_shift": break_shift},
             "ascof": {"measures": ["3A", "3D"], "years": list(ascof_years), "1A_effect_points": scrqol_effect},
             "note": "every programme unit gets the effect from its start year; starts are area starts (practices "
                     "inherit their area's), in survey years as experience_survey.programme_areas"}
    (out / "truth.json").write_text(json.dumps(truth, indent=2))
    starts = practices.rename(columns={"practice_code": "unit_code"})[["unit_code", "start_year"]]
    starts = pd.concat([starts, areas.rename(columns={"area_code": "unit_code"})], ignore_index=True)
    starts.to_csv(out / "programme_starts.csv", index=False)
    return {"gpps": gpps, "ascof": ascof, "truth": out / "truth.json", "starts": out / "programme_starts.csv"}
