"""The ``[cohort]`` step: enrolments in, plan (MDE), matched sets, balance, trajectory and effects out.

Order matters and is kept: the enrolment file is checked, the risk sets are matched and the plan's
minimum detectable effect is computed from pre-index history only, before any ``*_after`` column is
used. Only aggregate tables leave, through :func:`joinedup.outputs.write_table` (disclosure control
on the counts); the matched sets themselves (patient-level rows) stay in memory.

Example:
    >>> result = run_cohort(ds, protocol.cohort, protocol.resolve(protocol.cohort.enrolments))  # doctest: +SKIP
    >>> write_cohort_tables(result, "out/eval")                                  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from joinedup.cohort.economics import CohortEconomics, cohort_economics
from joinedup.cohort.eligibility import parse_conditions
from joinedup.cohort.enrolments import read_enrolments
from joinedup.cohort.estimate import estimate_effects, naive_before_after
from joinedup.cohort.features import MonthFeatures
from joinedup.cohort.panel import monthly_panel
from joinedup.cohort.power import planned_mde
from joinedup.cohort.riskset import RiskSetSpec, risk_set_match, trajectory
from joinedup.outputs import write_table

# count columns of each table (sub-national counts: suppressed 1-7 and rounded to 5 by default)
COUNTS = {"cohort_plan": ["enrolled"], "cohort_risk_sets": ["enrolled", "candidates", "matched", "met_rule",
                                                            "excluded_short_data"],
          "cohort_balance": [], "cohort_trajectory": ["people"], "cohort_estimates": ["enrolled", "controls", "persons"],
          "cohort_naive": ["enrolled"], "cohort_costs": ["enrolled", "controls", "persons"],
          "cohort_unit_costs": [], "cohort_increments": ["people"], "cohort_cea": [], "cohort_ceac": [],
          "cohort_qalys": ["people"]}


@dataclass
class CohortResult:
    plan: pd.DataFrame  # the MDE, one row
    risk_sets: pd.DataFrame
    balance: pd.DataFrame
    trajectory: pd.DataFrame
    estimates: pd.DataFrame
    naive: pd.DataFrame
    rule: list[str]
    truth: dict | None = None
    economics: CohortEconomics | None = None  # incremental cost, QALYs where measured, the CEA

    def tables(self) -> dict[str, pd.DataFrame]:
        out = {"cohort_plan": self.plan, "cohort_risk_sets": self.risk_sets, "cohort_balance": self.balance,
               "cohort_trajectory": self.trajectory, "cohort_estimates": self.estimates, "cohort_naive": self.naive}
        return {**out, **(self.economics.tables if self.economics else {})}


def spec_from(cohort) -> RiskSetSpec:
    """The matching spec of a protocol's ``[cohort]`` table."""
    return RiskSetSpec(conditions=parse_conditions([c.model_dump() for c in cohort.eligibility]),
                       controls=cohort.controls, history_months=cohort.history_months,
                       lookback_months=cohort.lookback_months, followup_months=cohort.followup_months,
                       ratio=cohort.ratio, replace=cohort.replace, reuse_controls=cohort.reuse_controls,
                       caliper=cohort.caliper, seed=cohort.seed)


def balance(pairs: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Means of enrolled and (weighted) matched controls and the standardised difference (SD of the enrolled,
    as MatchIt for the ATT) of every matching covariate, the monthly admissions one by one among them."""
    t = pairs["treated"].to_numpy() == 1
    w = pairs["weight"].to_numpy()
    rows = []
    for c in covariates:
        x = pairs[c].to_numpy(dtype=float)
        m1, m0 = x[t].mean(), np.average(x[~t], weights=w[~t])
        sd = x[t].std(ddof=1)
        rows.append({"covariate": c, "enrolled_mean": m1, "control_mean": m0,
                     "std_mean_diff": (m1 - m0) / sd if sd > 0 else 0.0})
    return pd.DataFrame(rows)


def _fit_risk(ds, cohort):
    """The risk model's coefficients (the score is always a matching covariate, and may be in the rule)."""
    from joinedup.economics.cohort import default_reference_date
    from joinedup.economics.risk import risk_model

    return risk_model(ds, cohort.risk_reference_date or default_reference_date(ds)).params


def run_cohort(ds, cohort, enrolments_path, truth: dict | None = None, eq5d_path=None) -> CohortResult:
    """Run the cohort design of a protocol's ``[cohort]`` table on a dataset (``eq5d_path``: the
    resolved ``[cohort] eq5d`` file, if any)."""
    from joinedup.economics.cohort import data_period

    panel = monthly_panel(ds)
    enrolled = read_enrolments(enrolments_path, known_ids=panel.person_id, period=data_period(ds))
    spec = spec_from(cohort)
    feat = MonthFeatures(panel, _fit_risk(ds, cohort))
    match = risk_set_match(panel, enrolled, spec, feat)
    # power first: from the pre-index history of the matched sample, before outcomes are read
    plan = planned_mde(feat, match.pairs, spec.followup_months, alpha=cohort.alpha, power=cohort.power)
    plan_frame = pd.DataFrame([plan])
    from joinedup.cohort.tables import admission_costs_missing

    outcomes = [o for o in cohort.outcomes if not (o == "cost" and admission_costs_missing(ds))]
    est = estimate_effects(match.pairs, outcomes=outcomes, covariates=match.covariates,
                           bootstrap=cohort.bootstrap, seed=cohort.seed)
    traj = trajectory(panel, match)
    people = match.pairs.groupby("treated")["person_id"].nunique()
    traj["people"] = traj["group"].map({"enrolled": people.get(1, 0), "matched controls": people.get(0, 0)})
    naive = pd.DataFrame([{**naive_before_after(match.pairs, o), "enrolled": int(match.pairs["treated"].sum())}
                          for o in outcomes])
    risk_sets = match.diagnostics.copy()
    econ = cohort_economics(ds, match.pairs, cohort, eq5d_path)
    return CohortResult(plan_frame, risk_sets, balance(match.pairs, match.covariates), traj, est, naive,
                        [c.describe() for c in spec.conditions], truth, econ)


def write_cohort_tables(result: CohortResult, out_dir, disclosure_control: bool = True) -> dict[str, pd.DataFrame]:
    """Write every cohort table through the disclosure-controlled boundary; return what was written."""
    return {name: write_table(frame, Path(out_dir), name, COUNTS[name], False, disclosure_control)
            for name, frame in result.tables().items()}


def read_truth(location) -> dict | None:
    """The simulated scheme's truth (``truth.json``'s ``cohort_scheme``), where the data are simulated."""
    path = Path(str(location)) / "truth.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8")).get("cohort_scheme")


def cohort_step(ds, protocol, out_dir, location: str):
    """The pipeline's ``[cohort]`` step: run, write the controlled tables, and build the report section."""
    from joinedup.report.cohort_section import cohort_section

    spec = protocol.cohort
    result = run_cohort(ds, spec, protocol.resolve(spec.enrolments), read_truth(location),
                        protocol.resolve(spec.eq5d) if spec.eq5d else None)
    written = write_cohort_tables(result, out_dir, protocol.output.disclosure_control)
    econ = result.economics
    from joinedup.cohort.tables import missing_notes

    from joinedup.cohort.tables import COST_NOTE, admission_costs_missing

    notes = [*missing_notes(ds), *(n for n in (econ.notes if econ else ()) if n not in missing_notes(ds))]
    if "cost" in spec.outcomes and admission_costs_missing(ds):
        notes.insert(0, COST_NOTE)
    return cohort_section(written, result.rule, result.truth, notes,
                          econ.figures if econ else ())
