"""The report's inequalities section: indicators by deprivation quintile and other breakdowns, the
slope index of inequality for England, and the programme's effect by subgroup with the test of
difference between subgroups. Every sentence is written from the tables shown (and re-derived
from them in tests/test_inequalities_section.py).

A gradient is "clear" only when the SII's 95% interval excludes zero; subgroup effects "differ"
only when the Wald test of equal effects has p < 0.05.

Example:
    >>> section = inequalities_step(ds, protocol, out_dir)                        # doctest: +SKIP
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from joinedup.report.html import ReportSection, table_html

BREAKDOWN_WORDS = {"imd_quintile": "deprivation quintile", "age_band": "age band", "sex": "sex",
                   "ethnicity": "ethnic group"}


def _fy(start) -> str:
    year = pd.Timestamp(start).year
    return f"{year}/{str(year + 1)[-2:]}"


def _num(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 1000 else f"{x:,.0f}"


def sii_sentences(sii: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """One sentence per indicator: England's SII in the latest year and its direction."""
    england = sii[sii["level"] == "england"]
    out = []
    for indicator, rows in england.groupby("indicator", sort=True):
        row = rows.sort_values("period_start").iloc[-1]
        lo, hi = row["sii_lower95_0cl"], row["sii_upper95_0cl"]
        if hi < 0:
            shape = "higher among people in more deprived areas"
        elif lo > 0:
            shape = "higher among people in less deprived areas"
        else:
            shape = "without a clear gradient by deprivation"
        out.append(f"{titles.get(indicator, indicator)} in England, {_fy(row['period_start'])}: "
                   f"{shape} (slope index of inequality {_num(row['sii'])}, 95% CI {_num(lo)} to "
                   f"{_num(hi)}; relative index {row['rii']:.2f}).")
    return out


def _test_words(row) -> str:
    """The statistic, its covariance and its reference, as the ``test`` column names them."""
    test = str(row.get("test", ""))
    # the synthetic DiD rows name their covariance (joint jackknife or placebo); say which, since it
    # decides how far the test can be trusted (docs/inequalities.md)
    cov = ("joint jackknife covariance" if "jackknife" in test else
           "joint placebo covariance" if "placebo" in test else "joint covariance")
    stat = f"statistic {row['statistic']:.2f} on {int(row['df'])} df"
    if "Hotelling" in test:
        return f"{stat} with their {cov}, Hotelling F reference"
    if "jackknife" in test or "placebo" in test:
        return f"{stat} with their {cov}, chi-square reference"
    return f"chi-square {row['statistic']:.2f} on {int(row['df'])} df"


def subgroup_sentences(subgroups: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """One sentence per outcome and breakdown: did the effect differ between groups?"""
    tests = subgroups[subgroups["group"] == "difference"]
    out = []
    for _, row in tests.iterrows():
        what = BREAKDOWN_WORDS.get(row["breakdown"], row["breakdown"])
        verb = "differed" if row["p_value"] < 0.05 else "did not differ detectably"
        method = f"{row['method']}: " if isinstance(row.get("method"), str) else ""
        out.append(f"The estimated effect on {titles.get(row['outcome'], row['outcome']).lower()} "
                   f"{verb} between groups by {what} ({method}Wald test of equal effects, "
                   + _test_words(row)
                   + f", p = {row['p_value']:.3f}).")
    return out


def inequalities_html(breakdowns: pd.DataFrame, sii: pd.DataFrame, subgroups: pd.DataFrame | None,
                      titles: dict[str, str]) -> str:
    parts = ["<p>Indicators by the deprivation of people's neighbourhoods (IMD quintile of their "
             "LSOA, 1 most deprived), age band, sex and ethnic group, with disclosure control. "
             "The slope index of inequality (PHE's method) is the modelled gap from the most to "
             "the least deprived end; a negative value means higher values among the more "
             "deprived.</p>"]
    parts += [f"<p>{escape(s)}</p>" for s in sii_sentences(sii, titles)]
    england = breakdowns[(breakdowns["level"] == "england")
                         & (breakdowns["breakdown"] == "imd_quintile")]
    if not england.empty:
        latest = england[england["period_start"] == england["period_start"].max()]
        shown = latest[["indicator", "group_label", "numerator", "denominator", "value", "lower",
                        "upper"]]
        parts.append(table_html(shown, f"England by deprivation quintile, {_fy(latest['period_start'].iloc[0])}"))
    england_sii = sii[sii["level"] == "england"]
    if not england_sii.empty:
        parts.append(table_html(england_sii[["indicator", "period_start", "sii", "sii_lower95_0cl",
                                             "sii_upper95_0cl", "rii"]],
                                "Slope and relative index of inequality, England"))
    if subgroups is not None and not subgroups.empty:
        parts += [f"<p>{escape(s)}</p>" for s in subgroup_sentences(subgroups, titles)]
        test, not_run = subgroups["group"] == "difference", subgroups["group"] == "not run"
        # a group's row has no test statistic, a test's row no estimate and a design that did not run
        # neither: blank, not "suppressed"
        not_applicable = pd.DataFrame({"estimate": test | not_run, "ci_low": test | not_run,
                                       "ci_high": test | not_run, "p_value": not_run,
                                       "statistic": ~test, "df": ~test})
        parts.append(table_html(subgroups[["outcome", "breakdown", "method", "group_label", "estimate",
                                           "ci_low", "ci_high", "p_value", "statistic", "df"]],
                                "Programme effect by subgroup (log rate; TWFE DiD with groups taken as "
                                "independent; Callaway & Sant'Anna, synthetic DiD and the four-group design "
                                "with their joint covariance) and the tests of equal effects",
                                not_applicable=not_applicable))
    return "\n".join(parts)


def _not_run(outcome: str, breakdown: str, method: str, err: Exception) -> pd.DataFrame:
    return pd.DataFrame([{"outcome": outcome, "breakdown": breakdown, "group": "not run",
                          "group_label": f"{method} not run: {err}", "method": method}])


def by_subgroup(raw: pd.DataFrame, programme, outcome: str, breakdown: str, spec) -> pd.DataFrame:
    """TWFE, Callaway & Sant'Anna, synthetic DiD (with ``spec.synthetic_control``) and the
    four-group design (with ``spec.four_groups`` and a second programme) by the groups of
    ``breakdown``, each with its test of equal effects; a ``method`` column names the design of
    each row (synthetic DiD: per wave; four groups: per contrast)."""
    from joinedup.impact.subgroups import subgroup_effects
    from joinedup.impact.subgroups_cs import cs_subgroup_effects
    from joinedup.impact.subgroups_four import four_groups_subgroup_effects
    from joinedup.impact.subgroups_sdid import sdid_subgroup_effects

    parts = [subgroup_effects(raw, programme, outcome, breakdown).assign(method="TWFE DiD")]
    # a design that cannot run for a breakdown (e.g. a group with too few areas for a cell) says so in a
    # "not run" row and the others stay
    try:
        parts.append(cs_subgroup_effects(raw, programme, outcome, breakdown, spec)
                     .assign(method="Callaway & Sant'Anna"))
    except ValueError as err:
        parts.append(_not_run(outcome, breakdown, "Callaway & Sant'Anna", err))
    if getattr(spec, "synthetic_control", False):
        try:
            parts.append(sdid_subgroup_effects(raw, programme, outcome, breakdown, spec))
        except ValueError as err:
            parts.append(_not_run(outcome, breakdown, "Synthetic DiD", err))
    if getattr(spec, "four_groups", False) and programme.other is not None:
        try:
            parts.append(four_groups_subgroup_effects(raw, programme, outcome, breakdown))
        except ValueError as err:
            parts.append(_not_run(outcome, breakdown, "Four groups", err))
    return pd.concat(parts, ignore_index=True)


def inequalities_step(ds, protocol, out_dir: Path) -> ReportSection:
    """Breakdown tables (indicators), subgroup effects (if [impact]) and the section."""
    from joinedup.impact.outcomes import outcome_ids
    from joinedup.indicators.breakdown_step import breakdown_step
    from joinedup.indicators.breakdowns import compute_breakdowns
    from joinedup.indicators.catalogue import CATALOGUE
    from joinedup.outputs import write_table
    from joinedup.programme import programme_of

    spec, control = protocol.indicators, protocol.output.disclosure_control
    ids = None if spec.ids == "all" else spec.ids
    programme = programme_of(protocol, ds)
    controlled, sii, table = breakdown_step(ds, ids, spec.breakdowns, programme, out_dir, control)
    subgroups = None
    if protocol.impact is not None and programme.unit == "area":
        outcome = outcome_ids(protocol.impact)[0]
        raw = table[table["indicator"] == outcome]
        if raw.empty:  # the outcome is not among the protocol's indicators
            raw = compute_breakdowns(ds, [outcome], spec.breakdowns, programme=programme)
        if not raw.empty:
            subgroups = pd.concat([by_subgroup(raw, programme, outcome, b, protocol.impact)
                                   for b in spec.breakdowns], ignore_index=True)
            subgroups = write_table(subgroups, out_dir, "impact_subgroups", [],
                                    disclosure_control=control)  # estimates; n counts areas
    titles = {k: v.title for k, v in CATALOGUE.items()}
    return ReportSection("inequalities", "Inequalities",
                         inequalities_html(controlled, sii, subgroups, titles))
