"""Published experience measures (GPPS practice items, ASCOF council measures) as outcomes of the
impact designs: a DiD of unit x year values, each year a fresh sample of respondents.

Each value is the share (or mean score) among that year's respondents in one practice or council: a
repeated cross-section of people, aggregated by the publisher. Units are followed over years, so the
estimator is R did's ``att_gt`` with the unit as id (:func:`joinedup.impact.did.att_gt`); a unit
missing a year (suppressed, closed, not surveyed) makes the panel unbalanced, estimated as R does
with ``allow_unbalanced_panel = TRUE`` (repeated cross-section estimators, inference clustered on
the unit). The published values are already weighted to each practice's list (GPPS) or council's
eligible population (ASCS), so no respondent covariates are needed or available.

**The 2018 GPPS break: a period restriction.** The design never compares across the redeveloped
2018 questionnaire. We chose a period restriction over a break indicator: a year effect (or a break
dummy) would absorb a shift common to every practice, but the publisher's analysis found context
effects that change results question by question and were not judged comparable at CCG and practice
level, so nothing guarantees the shift is common. All rows of one estimate must come from one
questionnaire era (:func:`joinedup.experience.gpps.gpps_era`); data spanning the break stop with
an error unless ``era`` picks one, and the years left out are said in the notes. A programme whose
units all started before an era's first year has no pre-period in it, so no estimate there (the
Pioneers, from 2013-2015, are estimable in 2012-2017 only); that is said, not papered over.

Example:
    >>> result = experience_did(table, "preferred_gp", starts, era="2012-2017")     # doctest: +SKIP
    >>> result.tidy()[["measure", "era", "estimate", "ci_low", "ci_high"]]           # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from joinedup.impact.did import att_gt

RESULT_COLUMNS = ["source", "measure", "era", "years", "estimator", "estimate", "std_error", "ci_low", "ci_high",
                  "n_units", "n_treated_units"]


class QuestionnaireBreakError(ValueError):
    """Outcome rows from more than one questionnaire era, with no era chosen."""


@dataclass(frozen=True)
class ExperienceDidResult:
    """One measure's DiD within one era: the overall ATT (simple aggregation of ATT(g,t)) and notes."""

    source: str
    measure: str
    era: str
    years: tuple[int, int]
    estimate: float
    std_error: float
    n_units: int
    n_treated_units: int
    est_method: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def tidy(self) -> pd.DataFrame:
        lo, hi = self.estimate - 1.96 * self.std_error, self.estimate + 1.96 * self.std_error
        return pd.DataFrame([[self.source, self.measure, self.era, f"{self.years[0]}-{self.years[1]}",
                              f"Callaway & Sant'Anna ({self.est_method}), units followed over years",
                              self.estimate, self.std_error, lo, hi, self.n_units, self.n_treated_units]],
                            columns=RESULT_COLUMNS)


def practice_starts(ds, programme: str = "pioneer") -> pd.DataFrame:
    """``unit_code, start_year`` of a simulated dataset's practices: each practice gets its area's
    start (survey years as :func:`joinedup.simulate.experience_survey.programme_areas`)."""
    from joinedup.simulate.experience_survey import programme_areas

    areas = programme_areas(ds, programme)
    practices = ds.execute(ds.table("practices").select("practice_code", "area_code"))
    out = practices.merge(areas, on="area_code")
    return out.rename(columns={"practice_code": "unit_code"})[["unit_code", "start_year"]]


def restrict_to_era(rows: pd.DataFrame, era: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of one questionnaire era (module docstring: the period restriction)."""
    eras = sorted(rows["era"].unique())
    if era is None:
        if len(eras) > 1:
            span = {e: f"{rows.loc[rows['era'] == e, 'year'].min()}-{rows.loc[rows['era'] == e, 'year'].max()}"
                    for e in eras}
            raise QuestionnaireBreakError(
                "the outcome spans questionnaire eras " + ", ".join(f"{e} (years {s})" for e, s in span.items())
                + ": results are not comparable across the GPPS 2018 redevelopment; pass era= one of them")
        return rows, []
    if era not in eras:
        raise QuestionnaireBreakError(f"no rows of era {era!r}; the data have {', '.join(eras)}")
    left = rows[rows["era"] != era]
    note = (f"{len(left):,} unit-years of era(s) {', '.join(sorted(left['era'].unique()))} left out (no comparison "
            "across the questionnaire break)")
    notes = [note] if len(left) else []
    return rows[rows["era"] == era], notes


def experience_panel(table: pd.DataFrame, measure: str, starts: pd.DataFrame,
                     era: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Unit x year rows of ``measure`` with ``first_treated`` (0: never, or not before the era's end)."""
    rows = table[table["measure"] == measure]
    if rows.empty:
        raise ValueError(f"no rows of measure {measure!r}; measures present: {', '.join(sorted(table['measure'].unique()))}")
    rows, notes = restrict_to_era(rows, era)
    start = starts.set_index("unit_code")["start_year"]
    unknown = ~rows["unit_code"].isin(start.index)
    if unknown.any():
        notes.append(f"{rows.loc[unknown, 'unit_code'].nunique():,} unit(s) not in the programme file left out "
                     f"(e.g. {rows.loc[unknown, 'unit_code'].iloc[0]})")
        rows = rows[~unknown]
    panel = rows.assign(first_treated=rows["unit_code"].map(start).astype(int))
    last = int(panel["year"].max())
    panel.loc[panel["first_treated"] > last, "first_treated"] = 0  # starts after the data: not treated in them
    codes = {c: i for i, c in enumerate(sorted(panel["unit_code"].unique()), start=1)}
    panel = panel.assign(unit_id=panel["unit_code"].map(codes))
    return panel.sort_values(["unit_code", "year"]).reset_index(drop=True), notes


def experience_did(table: pd.DataFrame, measure: str, starts: pd.DataFrame, era: str | None = None,
                   est_method: str = "dr") -> ExperienceDidResult:
    """The DiD of ``measure`` within one era (module docstring); errors name what is missing."""
    panel, notes = experience_panel(table, measure, starts, era)
    first = int(panel["year"].min())
    cohorts = sorted(set(panel["first_treated"]) - {0})
    if not [g for g in cohorts if g > first]:
        raise ValueError(f"{measure} in era {panel['era'].iloc[0]} ({first}-{panel['year'].max()}): no programme unit "
                         "has a year before its start in these data, so there is nothing to compare within the era")
    if not (panel["first_treated"] == 0).any():
        raise ValueError(f"{measure}: no comparison units (never treated in the era)")
    res = att_gt(panel, yname="value", tname="year", idname="unit_id", gname="first_treated", est_method=est_method,
                 bstrap=False, cband=False, allow_unbalanced_panel=True)
    agg = res.aggregate("simple")
    if res.design.get("unbalanced_units"):
        notes.append(f"{res.design['unbalanced_units']} unit(s) miss a year: unbalanced panel, estimated as R did's "
                     "allow_unbalanced_panel")
    treated = panel.loc[panel["first_treated"] > first, "unit_code"].nunique()
    return ExperienceDidResult(str(panel["source"].iloc[0]), measure, str(panel["era"].iloc[0]),
                               (first, int(panel["year"].max())), float(agg.overall_att), float(agg.overall_se),
                               int(panel["unit_code"].nunique()), int(treated), est_method, tuple(notes))

