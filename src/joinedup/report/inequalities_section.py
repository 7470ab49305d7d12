"""The report's inequalities section: indicators by deprivation quintile and other breakdowns, the
slope index of inequality for England, and the programme's effect by subgroup with the test of
difference between subgroups. Every sentence is written from the tables shown (and re-derived
from them in tests/test_inequalities_section.py).

A gradient is "clear" only when the SII's 95% interval excludes zero; subgroup effects "differ"
only when the test of equal effects has p < 0.05 (Wald tests; for synthetic control per site, the
placebo-in-space rank test, summarised per breakdown as the number of sites that differ), and
change across ordered groups (deprivation quintile, age band) only when the 1-df linear trend test
has p < 0.05.

Example:
    >>> section = inequalities_step(ds, protocol, out_dir)                        # doctest: +SKIP
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from joinedup.impact.subgroup_gradient import NOT_RUN as NOT_TRENDED
from joinedup.impact.subgroup_gradient import SPAN
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


def per_site(subgroups: pd.DataFrame) -> pd.Series:
    """The rows of synthetic control (and ASCM) per site: no interval, a rank test of difference."""
    return subgroups["method"].astype(str).str.match(r"(Augmented s|S)ynthetic control\b")


def _test_words(row) -> str:
    """The statistic, its covariance and its reference, as the ``test`` column names them."""
    test = str(row.get("test", ""))
    # the synthetic DiD rows name their covariance (joint jackknife or placebo); say which, since it
    # decides how far the test can be trusted (docs/inequalities.md)
    cov = ("joint jackknife covariance" if "jackknife" in test else
           "joint placebo covariance" if "placebo" in test else "joint covariance")
    stat = f"statistic {row['statistic']:.2f} on {int(row['df'])} df"
    if "wild bootstrap" in test:  # synthetic DiD's reference simulated under equal effects
        return f"{stat} with their {cov}, wild bootstrap reference"
    if "Hotelling" in test:
        return f"{stat} with their {cov}, Hotelling F reference"
    if "jackknife" in test or "placebo" in test:
        return f"{stat} with their {cov}, chi-square reference"
    return f"chi-square {row['statistic']:.2f} on {int(row['df'])} df"


def subgroup_sentences(subgroups: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """One sentence per outcome, breakdown and design with a Wald test: did the effect differ between
    groups? For synthetic control per site, one sentence per outcome and breakdown counting the sites
    whose placebo test says so (a sentence a site would bury the rest)."""
    sites = per_site(subgroups)
    tests = subgroups[(subgroups["group"] == "difference") & ~sites]
    out = []
    for _, row in tests.iterrows():
        what = BREAKDOWN_WORDS.get(row["breakdown"], row["breakdown"])
        verb = "differed" if row["p_value"] < 0.05 else "did not differ detectably"
        method = f"{row['method']}: " if isinstance(row.get("method"), str) else ""
        out.append(f"The estimated effect on {titles.get(row['outcome'], row['outcome']).lower()} "
                   f"{verb} between groups by {what} ({method}Wald test of equal effects, "
                   + _test_words(row)
                   + f", p = {row['p_value']:.3f}).")
    return (out + trend_sentences(subgroups[~sites], titles) + untested_sentences(subgroups[~sites], titles)
            + site_sentences(subgroups[sites], titles))


def trend_sentences(rows: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """One sentence per 1-df linear trend test (ordered breakdowns): did the effect change from the
    first group in the order to the last, by how much a step, and the test's t, df and p."""
    out = []
    for _, row in rows[rows["group"] == "gradient"].iterrows():
        slope = row["estimate"]
        verb = (("rose" if slope > 0 else "fell") if row["p_value"] < 0.05 else "did not change detectably")
        stat = (f"t = {row['statistic']:.2f}, wild bootstrap reference" if "wild bootstrap" in str(row.get("test"))
                else f"z = {row['statistic']:.2f}" if row["df"] == float("inf")
                else f"t = {row['statistic']:.2f} on {int(row['df'])} df")
        out.append(f"The estimated effect on {titles.get(row['outcome'], row['outcome']).lower()} {verb} "
                   f"{SPAN[row['breakdown']]} ({row['method']}: linear trend {slope:+.3f} log a step, "
                   f"95% CI {row['ci_low']:.3f} to {row['ci_high']:.3f}; {stat}, p = {row['p_value']:.3f}).")
    return out


NOT_TESTED = "Test of equal effects not run: "


def untested_sentences(rows: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """A sentence for each design whose groups were estimated but whose test of equal effects (e.g.
    synthetic DiD with no more sites than differences) or of a linear trend could not run, so that the
    reader does not take the missing test for a test that found nothing."""
    if "group_label" not in rows.columns:
        return []
    label = rows["group_label"].astype(str)
    out = []
    for prefix, question in ((NOT_TESTED, "differed between groups by {what}"),
                             (NOT_TRENDED, "changed linearly across {what}s in order")):
        for _, row in rows[(rows["group"] == "not run") & label.str.startswith(prefix)].iterrows():
            what = BREAKDOWN_WORDS.get(row["breakdown"], row["breakdown"])
            out.append(f"Whether the effect on {titles.get(row['outcome'], row['outcome']).lower()} "
                       f"{question.format(what=what)} could not be tested ({row['method']}: "
                       f"{row['group_label'][len(prefix):].rstrip('.')}).")
    return out


# What the synthetic control subgroup test does when the effects are equal, as measured (not the
# nominal 1 in 20), for the default statistic (the scaled H_s, [impact] sc_subgroup_statistic):
# benchmarks/results/impact_coverage_subgroups_sc_swap_summary.json, deprivation quintiles on
# simulated England, each unit's residual paths another unit's in every run (--sc-noise swap), 200
# null seeds x 10 sites: 4.55% of site tests (ASCM 4.75%), at most 10.5% at one site (Worcestershire);
# at least one of the 10 sites in 35-36.5% of seeds. tests/test_inequalities_section.py keeps these
# words equal to that file's numbers.
SC_CHANCE = ("when the effects were in fact equal, this test found a difference at about 1 site in 22 "
             "on simulated England (up to 1 in 10 at one site), and with 10 sites at least one site in "
             "about a third of runs: read a single site's difference as a lead, not a finding")


def site_sentences(rows: pd.DataFrame, titles: dict[str, str]) -> list[str]:
    """Per outcome, breakdown and per-site design: at how many sites the effect differed between
    groups (placebo test p < 0.05), which, how many could not be tested, and the smallest p the test
    could give."""
    rows = rows.assign(family=rows["method"].str.split(",").str[0])
    out = []
    for (outcome, breakdown, family), r in rows.groupby(["outcome", "breakdown", "family"], sort=True):
        what = BREAKDOWN_WORDS.get(breakdown, breakdown)
        t, not_run = r[r["group"] == "difference"], int((r["group"] == "not run").sum())
        head = f"{family} per site, the effect on {titles.get(outcome, outcome).lower()} by {what}: "
        if t.empty:
            out.append(head + "not run at any site (the table says why).")
            continue
        differ = sorted(t.loc[t["p_value"] < 0.05, "method"].str.split(", ", n=1).str[1])
        donors = sorted(t["n_comparison_areas"].dropna().astype(int).unique())
        smallest = (f"with {donors[0]} donors the smallest attainable p is 1/{donors[0] + 1} = {1 / (donors[0] + 1):.3f}"
                    if len(donors) == 1 else
                    f"with {donors[0]}-{donors[-1]} donors the smallest attainable p is 1/{donors[-1] + 1}")
        if 1 / (donors[-1] + 1) >= 0.05:
            smallest += ", so no site can reach p < 0.05"
        out.append(head + f"differed between groups at {len(differ)} of {len(t)} sites tested"
                   + (f" ({', '.join(differ)})" if differ else "")
                   + f" (placebo-in-space test of equal effects, p < 0.05; {smallest}; {SC_CHANCE})"
                   + (f"; {not_run} not run (the table says why)." if not_run else "."))
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
        sites = per_site(subgroups)
        site_rows, subgroups = subgroups[sites], subgroups[~sites]
        test, not_run = subgroups["group"] == "difference", subgroups["group"] == "not run"
        tested = test | (subgroups["group"] == "gradient")  # a trend has its slope and its t both
        # a group's row has no test statistic, a test's row no estimate and a design that did not run
        # neither, and a trend referred to a bootstrap (synthetic DiD's wild reference) no df: blank,
        # not "suppressed"
        not_applicable = pd.DataFrame({"estimate": test | not_run, "ci_low": test | not_run,
                                       "ci_high": test | not_run, "p_value": not_run,
                                       "statistic": ~tested, "df": ~tested | subgroups["df"].isna()})
        shown, not_applicable = _readable(subgroups[["outcome", "breakdown", "method", "group_label", "estimate",
                                                     "ci_low", "ci_high", "p_value", "statistic", "df"]],
                                          not_applicable)
        parts.append(table_html(shown,
                                "Programme effect by subgroup (log rate; TWFE DiD with groups taken as "
                                "independent; Callaway & Sant'Anna, synthetic DiD and the four-group design "
                                "with their joint covariance), the tests of equal effects and, for ordered "
                                "groups, the linear trend in the effect (estimate: change a step)",
                                not_applicable=not_applicable))
        if not site_rows.empty:
            parts.append(_site_table(site_rows))
    return "\n".join(parts)


# the subgroup tables' own headers: "method" and "statistic" mean other things in other sections' tables
HEADERS = {"breakdown": "Breakdown", "method": "Design", "group_label": "Group", "statistic": "Test statistic",
           "df": "df"}


def _readable(frame: pd.DataFrame, not_applicable: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The subgroup table with a reader's headers and breakdown names (its blank-cell mask renamed alike)."""
    shown = frame.assign(breakdown=frame["breakdown"].map(lambda b: BREAKDOWN_WORDS.get(b, b)).str.capitalize())
    return shown.rename(columns=HEADERS), not_applicable.rename(columns=HEADERS)


def _site_table(rows: pd.DataFrame) -> str:
    """Synthetic control per site by subgroup: a table of its own (a row per site and group would
    cut the designs' table) without interval or df columns (it has neither)."""
    test, not_run = rows["group"] == "difference", rows["group"] == "not run"
    # blank, not "suppressed": a test has no estimate, a group no statistic, an ASCM group no p-value
    # (its main design has no placebo test) and a design that did not run nothing
    no_p = not_run | (~test & rows["method"].str.startswith("Augmented"))
    not_applicable = pd.DataFrame({"estimate": test | not_run, "p_value": no_p, "statistic": ~test})
    shown, not_applicable = _readable(rows[["outcome", "breakdown", "method", "group_label", "estimate", "p_value",
                                            "statistic"]], not_applicable)
    return table_html(shown,
                      "Synthetic control per site by subgroup (log rate; no confidence interval: a group's "
                      "p-value is the main design's placebo-in-space test on that group's panel) and the "
                      "placebo-in-space tests of equal effects (statistic: the heterogeneity of the group "
                      "effects, their squared deviations from their mean summed)", not_applicable=not_applicable)


def _not_run(outcome: str, breakdown: str, method: str, err: Exception) -> pd.DataFrame:
    return pd.DataFrame([{"outcome": outcome, "breakdown": breakdown, "group": "not run",
                          "group_label": f"{method} not run: {err}", "method": method}])


def by_subgroup(raw: pd.DataFrame, programme, outcome: str, breakdown: str, spec) -> pd.DataFrame:
    """TWFE, Callaway & Sant'Anna, synthetic DiD and synthetic control per site (with
    ``spec.synthetic_control``; ASCM per site too with ``spec.augmented_synthetic_control``) and the
    four-group design (with ``spec.four_groups`` and a second programme) by the groups of
    ``breakdown``, each with its test of equal effects; a ``method`` column names the design of
    each row (synthetic DiD: per wave; synthetic control: per site; four groups: per contrast)."""
    from joinedup.impact.subgroups import subgroup_effects
    from joinedup.impact.subgroups_cs import cs_subgroup_effects
    from joinedup.impact.subgroups_four import four_groups_subgroup_effects
    from joinedup.impact.subgroups_sc import sc_subgroup_effects
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
            parts.append(sdid_subgroup_effects(raw, programme, outcome, breakdown, spec,
                                               reference=getattr(spec, "subgroup_reference", "wild")))
        except ValueError as err:
            parts.append(_not_run(outcome, breakdown, "Synthetic DiD", err))
        try:  # a site that cannot run has its own "not run" row inside
            parts.append(sc_subgroup_effects(raw, programme, outcome, breakdown, spec,
                                             statistic=getattr(spec, "sc_subgroup_statistic", "scaled")))
        except ValueError as err:
            parts.append(_not_run(outcome, breakdown, "Synthetic control", err))
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
