"""Costs and QALYs of the cohort design, into the economics step's own CEA functions.

Nothing is re-implemented here: use and its costs come from :func:`joinedup.economics.outcomes.outcomes`
and :func:`joinedup.economics.costs.add_costs` (the ``unit_costs`` table at one price year; the
scheme's own cost, ``[cohort] scheme_cost_per_year`` pounds per enrolled person-year, takes the place
of the MDT's); QALYs from :func:`joinedup.economics.qalys.complete_case_qalys` and
:func:`joinedup.economics.cea.qaly.baseline_adjusted`; the bootstrap and the CEA from
:func:`joinedup.economics.cea.bootstrap_ce` and :func:`joinedup.economics.cea.bcea`.

* Incremental cost: the matched DiD of total cost per person over follow-up (emergency spells,
  A&E, social care, and the scheme for the enrolled while alive), person-clustered SE and a
  bootstrap of matched sets (:func:`joinedup.cohort.estimate.did`); the two-part model of cost after
  enrolment beside it. Both arms share the index month's first day as the window's start.
* Incremental QALYs where measured: the matched people with EQ-5D at their own index month
  (``[cohort] eq5d``; the enrolled at enrolment, controls in the comparison sample), complete cases,
  baseline-adjusted (Manca et al. 2005), discounted at ``discount_rate``. Cost and QALY increments
  come from different people, so their bootstrap replicates are paired by position (independent),
  as the economics step does.

Example:
    >>> econ = cohort_economics(ds, match.pairs, protocol.cohort, eq5d_path)   # doctest: +SKIP
    >>> econ.tables["cohort_cea"]                                               # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from joinedup.cohort.estimate import did
from joinedup.economics.cea import bcea, bootstrap_ce
from joinedup.economics.cea.plots import ce_plane, ceac_plot
from joinedup.economics.cea.qaly import baseline_adjusted
from joinedup.economics.costs import MDT_ITEM, UnitCosts, add_costs, unit_costs
from joinedup.economics.models import two_part_cost
from joinedup.economics.outcomes import outcomes
from joinedup.economics.qalys import complete_case_qalys, deaths_of
from joinedup.report.charts import Figure

ARMS = ("usual care", "scheme")
COST_PARTS = ("emergency_cost", "ae_cost", "social_care_cost", "total_cost")
MIN_QALY_PEOPLE = 10  # complete EQ-5D cases needed in each arm before QALYs are compared
EQ5D_COLUMNS = ("person_id", "index_date", "wave", "utility")


class CohortEq5dError(ValueError):
    """The cohort's EQ-5D file breaks a rule; the message names the file, the line and the value."""


@dataclass
class CohortEconomics:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def followup_days(months: int) -> int:
    """Days of a follow-up of ``months`` (365 for 12 and 182 for 6: the windows of the economics step).

    >>> followup_days(12), followup_days(6)
    (365, 182)
    """
    return round(months * 365 / 12)


def scheme_unit_costs(ds, price_year: int | None, scheme_cost_per_year: float | None) -> UnitCosts:
    """The ``unit_costs`` of a price year with the scheme's cost per person-year as the case-management item."""
    uc = unit_costs(ds, price_year, mdt_cost_per_patient_year=scheme_cost_per_year or 0.0)
    cost = float(scheme_cost_per_year or 0.0)
    t = uc.table[uc.table["item"] != MDT_ITEM]
    row = {"item": MDT_ITEM, "cost": cost, "unit": "per_year", "source": "[cohort] scheme_cost_per_year"}
    return UnitCosts(uc.price_year, pd.concat([t, pd.DataFrame([row])], ignore_index=True))


def costed_pairs(ds, pairs: pd.DataFrame, months: int, uc: UnitCosts) -> pd.DataFrame:
    """The matched sets with use and costs before and after the index month (engine queries, DuckDB or Spark)."""
    days = followup_days(months)
    frame = pd.DataFrame({"set_id": pairs["set_id"].to_numpy(), "person_id": pairs["person_id"].to_numpy(),
                          "treated": pairs["treated"].to_numpy(), "weight": pairs["weight"].to_numpy(),
                          "site": pairs["site"].to_numpy(), "index_date": pd.to_datetime(pairs["index_month"])})
    use = outcomes(ds, frame, days)
    death = deaths_of(ds, frame["person_id"].unique().tolist()).set_index("person_id")["death_date"]
    alive = (pd.to_datetime(frame["person_id"].map(death)) - frame["index_date"]).dt.days
    use["mdt_days"] = np.where(frame["treated"] == 1, alive.fillna(days).clip(0, days), 0)
    costed = add_costs(use, uc, days).rename(columns={"mdt_cost_after": "scheme_cost_after"})
    costed["scheme_cost_before"] = 0.0
    costed["total_cost_change"] = costed["total_cost_after"] - costed["total_cost_before"]
    return costed


def read_cohort_eq5d(path) -> pd.DataFrame:
    """The cohort's EQ-5D file: person_id, index_date (YYYY-MM-DD), wave (0, 1, 2), utility (-0.6 to 1).

    >>> import io
    >>> read_cohort_eq5d(io.StringIO("person_id,index_date,wave,utility\\n4,2015-02-01,0,0.7\\n")).shape
    (1, 4)
    """
    name = str(getattr(path, "name", path))
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CohortEq5dError(f"{name}: cannot be read as CSV: {exc}") from None
    missing = [c for c in EQ5D_COLUMNS if c not in raw.columns]
    if missing:
        raise CohortEq5dError(f"{name}: missing column(s) {', '.join(missing)} (needs: {', '.join(EQ5D_COLUMNS)})")
    out = pd.DataFrame({"person_id": pd.to_numeric(raw["person_id"], errors="coerce"),
                        "index_date": pd.to_datetime(raw["index_date"], format="%Y-%m-%d", errors="coerce"),
                        "wave": pd.to_numeric(raw["wave"], errors="coerce"),
                        "utility": pd.to_numeric(raw["utility"], errors="coerce")})
    bad = {"person_id": out["person_id"].isna(), "index_date": out["index_date"].isna(),
           "wave": ~out["wave"].isin([0, 1, 2]), "utility": ~out["utility"].between(-0.6, 1.0)}
    problems = [f"line {i + 2}: {col} {raw[col].iloc[i]!r} is not valid" for col, mask in bad.items()
                for i in np.flatnonzero(mask.to_numpy())[:5]]
    if problems:
        raise CohortEq5dError(f"{name}: {len(problems)} problem(s) shown; nothing was read:\n  " + "\n  ".join(problems))
    return out.astype({"person_id": "int64", "wave": "int64"})


def matched_qalys(ds, pairs: pd.DataFrame, eq: pd.DataFrame, months: int, rate: float):
    """Complete-case QALYs of matched people measured at their own index month; None (and why) if too few."""
    if months not in (6, 12):
        return None, f"QALYs need a follow-up of 6 or 12 months (the EQ-5D waves); it is {months}"
    keys = pairs[["person_id", "treated", "index_month"]].drop_duplicates(["person_id", "index_month"])
    keys = keys.assign(month=pd.to_datetime(keys["index_month"]).dt.to_period("M"))
    eq = eq.assign(month=eq["index_date"].dt.to_period("M")).merge(keys[["person_id", "month", "treated"]],
                                                                  on=["person_id", "month"])
    if eq.empty:
        return None, "no matched person has EQ-5D answers at their index month"
    eq["sample"] = np.where(eq["treated"] == 1, ARMS[1], ARMS[0])
    people, _ = complete_case_qalys(eq, deaths_of(ds, eq["person_id"].unique().tolist()), months / 12, rate)
    people["treated"] = (people["sample"] == ARMS[1]).astype(int)
    n = people.groupby("treated").size()
    if min(n.get(0, 0), n.get(1, 0)) < MIN_QALY_PEOPLE:
        return None, (f"too few complete EQ-5D cases among the matched people to compare QALYs "
                      f"(need {MIN_QALY_PEOPLE} in each arm)")
    return people, None


def _figure(fig: Figure) -> Figure:
    """The CEA figures under ids of their own, so they can sit in one report with the economics step's."""
    new = f"cohort-{fig.id}"
    svg = fig.svg.replace(f'"{fig.id}-clip', f'"{new}-clip').replace(f"#{fig.id}-clip", f"#{new}-clip")
    return replace(fig, id=new, svg=svg)


def cohort_economics(ds, pairs: pd.DataFrame, cohort, eq5d_path=None) -> CohortEconomics:
    """Incremental cost, incremental QALYs where measured, and the CEA of the matched cohort."""
    res = CohortEconomics()
    from joinedup.cohort.tables import OPTIONAL, costs_available

    if not costs_available(ds):
        res.notes.append(next(OPTIONAL[t] for t in ("unit_costs", "social_care_services") if not ds.has(t)))
        return res
    try:
        uc = scheme_unit_costs(ds, cohort.price_year, cohort.scheme_cost_per_year)
    except ValueError as exc:  # no or incomplete unit_costs: use only, no costs
        res.notes.append(f"No costs: {exc}.")
        return res
    if cohort.scheme_cost_per_year is None:
        res.notes.append("The scheme's own cost was not given ([cohort] scheme_cost_per_year): costs are of "
                         "services used only.")
    costed = costed_pairs(ds, pairs, cohort.followup_months, uc)
    rows = [{**did(costed, part, bootstrap=cohort.bootstrap, seed=cohort.seed).tidy().iloc[0].to_dict()}
            for part in (*COST_PARTS[:-1], "scheme_cost", "total_cost")]
    cost_table = pd.DataFrame(rows)
    two = two_part_cost(costed.rename(columns={"weight": "weights"}), "total_cost", cluster="set_id",
                        B=max(cohort.bootstrap // 5, 50), seed=cohort.seed)
    cost_table = pd.concat([cost_table, pd.DataFrame([{
        "outcome": "total_cost", "design": "two-part model, after only", "group": "pooled",
        "estimate": two.estimate, "se": two.se, "ci_low": two.ci_low, "ci_high": two.ci_high,
        "p_value": two.p_value, "enrolled": int(costed["treated"].sum())}])], ignore_index=True)
    cost_table["price_year"] = uc.price_year
    res.tables["cohort_costs"] = cost_table
    res.tables["cohort_unit_costs"] = uc.tidy()

    if not cohort.eq5d:
        res.notes.append("No EQ-5D for the cohort ([cohort] eq5d): incremental cost only, no QALYs or CEA.")
        return res
    people, why = matched_qalys(ds, pairs, read_cohort_eq5d(eq5d_path), cohort.followup_months,
                                cohort.discount_rate)
    if people is None:
        res.notes.append(f"No QALYs, so no cost-effectiveness analysis: {why}.")
        return res
    adj = baseline_adjusted(people, "qaly", "u0", "treated")
    people["qaly_adjusted"] = adj.adjusted.to_numpy()
    rng = np.random.default_rng(cohort.seed)
    B = max(cohort.bootstrap, 200)
    cboot = bootstrap_ce(costed, "total_cost_change", "total_cost_change", "treated", cluster="set_id", B=B,
                         seed=rng, weights="weight")
    qboot = bootstrap_ce(people.assign(zero=0.0), "zero", "qaly_adjusted", "treated", B=B, seed=rng)
    effects = pd.DataFrame({ARMS[0]: qboot.replicates["effect_control"], ARMS[1]: qboot.replicates["effect_treated"]})
    costs = pd.DataFrame({ARMS[0]: cboot.replicates["cost_control"], ARMS[1]: cboot.replicates["cost_treated"]})
    cea = bcea(effects, costs, ref=ARMS[1], wtp=cohort.wtp)
    inc = pd.concat([cboot.tidy().iloc[[0]], qboot.tidy().iloc[[1]]], ignore_index=True)
    inc["quantity"] = ["incremental cost (matched DiD, £)", "incremental QALYs (EQ-5D, baseline-adjusted)"]
    inc.loc[1, "estimate"] = adj.estimate
    counts = people.groupby("treated").size()
    inc["people"] = [int(costed["person_id"].nunique()), int(counts.sum())]
    res.tables["cohort_increments"] = inc[["quantity", "estimate", "se", "lower", "upper", "level", "B", "people"]]
    summary = pd.concat([cea.at(w) for w in sorted({20_000.0, 30_000.0, float(cohort.wtp)})], ignore_index=True)
    summary["evpi"] = [cea.evpi_at(w) for w in summary["wtp"]]
    res.tables["cohort_cea"] = summary
    res.tables["cohort_ceac"] = cea.tidy("ceac")
    res.tables["cohort_qalys"] = pd.DataFrame({
        "arm": [ARMS[0], ARMS[1]], "people": [int(counts.get(0, 0)), int(counts.get(1, 0))],
        "mean_u0": [people.loc[people["treated"] == t, "u0"].mean() for t in (0, 1)],
        "mean_qaly": [people.loc[people["treated"] == t, "qaly"].mean() for t in (0, 1)]})
    res.figures += [_figure(ce_plane(cea, cohort.wtp)), _figure(ceac_plot(cea))]
    return res
