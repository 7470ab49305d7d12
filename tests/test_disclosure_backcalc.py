"""Issue 15: try to get suppressed counts (1-7) back from every output table of a small run.

The attacker's tools, as NHS Digital's HES disclosure guidance anticipates them: a rate times its
denominator (with the multiplier read off the table's own unsuppressed rows), a percentage times its
base, a confidence interval of a crude rate or percentage (Byar and Wilson limits give the count
back), a mean or percentile over a number of people that was suppressed, a model's expected count
over its mean prediction, and the difference between a total and its shown subtotals. A leak is a
suppressed sub-national count pinned to a value in 1-7 (rounding to 5 leaves a difference uncertain by
2.5 per rounded figure, so only differences of exact figures can pin a value).

Every table the run writes must be listed in TABLES, so a new table fails here until someone has said
how each of its numbers could give a count back (or why none can).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

SMALL = (0.5, 7.5)  # an implied count that rounds to 1..7

# table -> checks: ("rate", rate, base, numerator) implied numerator = rate x base / multiplier;
# ("mean", column, people) a mean over a suppressed number of people; ("ratio", a, b, numerator)
# implied = a / b; ("limits", [limits], numerator) limits shown where the numerator is suppressed;
# ("share", percentage, base) a percentage with no numerator column: share x base must not be 1-7.
# None: the table holds no derived number over people (reason given).
TABLES: dict[str, list | str] = {
    "admissions_by_method": "national (England) counts and costs: the rule is for sub-national figures",
    "population_pyramid": "national (England) counts",
    "table_rows": "national row counts of the dataset",
    "area_groups": "area attributes, no counts",
    "site_areas": "site to area lookup, no counts",
    "population_by_year": [("counts", ["persons"])],
    "emergency_by_month": [("counts", ["admissions", "persons"]),
                           ("rate", "rate_per_1000", "persons", "admissions")],
    "indicators": "checked by test_indicator_rates_and_limits_give_no_small_count_back",
    "indicator_breakdowns": [("counts", ["numerator", "denominator"]),
                             ("limits", ["value", "lower", "upper"], "numerator")],
    "indicator_inequalities": "SII/RII model estimates across quintiles, no counts",
    "impact_subgroups": "model estimates by subgroup; n counts areas",
    "indicator_funnel": [("counts", ["observed"]),
                         ("rate", "ratio", "expected", "observed")],
    "impact_att_gt": "model estimates over areas", "impact_balance": "area-level covariate means",
    "impact_cs_calendar": "model estimates", "impact_cs_dynamic": "model estimates",
    "impact_cs_group": "model estimates", "impact_estimates": "model estimates; n counts areas",
    "impact_twfe_event_study": "model estimates; n counts areas",
    "impact_honest": "HonestDiD robust sets of the event study's first post-period effect: model estimates",
    "impact_synth_sites": "model estimates over areas",
    "impact_synth_gaps": "a site's standardised rate (a DSR: no DSR under 10 events) and its synthetic control",
    "synthesis_sites": "model estimates; n_areas counts areas", "synthesis_pooled": "meta-analysis estimates",
    "synthesis_regression": "meta-regression estimates",
    "survey_response_rates": "whole programme's panel (national), declared in survey OUTPUT_CONTROL",
    "survey_respondents_by_org": "whole programme's panel by organisation type (national)",
    "survey_panel_participation": "whole programme's panel (national)",
    "survey_progress": "whole programme's panel (national)", "survey_barriers": "whole programme's panel (national)",
    "survey_helpfulness": "whole programme's panel (national)",
    "survey_involvement": "whole programme's panel (national)",
    "survey_codes_by_org": "whole programme's panel (national)", "survey_change": "whole programme's panel (national)",
    "survey_respondents_by_pioneer": [("counts", ["n"])],
    "typology_clusters": "sites, not people", "typology_stability": "sites and bootstrap replicates",
    "typology_selection": "sites and schemes", "typology_registry": "schemes",
    "economics_sample_sizes": [("counts", ["Control", "Treated"])],
    "economics_risk": [("counts", ["people", "events"])],
    "economics_risk_calibration": [("counts", ["n", "observed"]), ("rate", "observed_rate", "n", "observed"),
                                   ("mean", "mean_predicted", "n"), ("ratio", "expected", "mean_predicted", "n")],
    "economics_use": [("counts", ["people"]), ("mean", "mean", "people")],
    "economics_estimates": [("counts", ["n", "clusters"]), ("mean", "mean_before", "n"), ("mean", "mean_after", "n")],
    "economics_balance": "covariate means of the matched sample (economics_sample_sizes holds its size)",
    "economics_unit_costs": "unit costs, no people",
    "economics_qalys": [("counts", ["sampled", "complete", "no_baseline", "no_end_point"])],
    "economics_cea": "model estimates (bootstrap)", "economics_scenarios": "model estimates",
    "economics_ceac": "model estimates",
    "economics_sites": [("counts", ["n_treated"])],  # and per-site model estimates
    "impact_comparison_units": "the comparison units chosen and their weights, no counts",
    "impact_panel": [("counts", ["numerator", "denominator"])],
    "survey_site_measures": [("counts", ["respondents", "n_progress", "n_barriers"]),
                             ("share", "pct_progress_unplanned", "n_progress"),
                             ("share", "pct_barriers_significant", "n_barriers")],
    "wp3_sites": [("counts", ["respondents"])],  # site effects (models) and the survey shares above
    "wp3_moderators": "meta-regression estimates over sites",
    "wp3_self_report": "site effects (models), the survey shares above and area-level changes of rates",
    # the process evaluation (docs/process-evaluation.md): initiatives are projects, not people
    "process_site_years": "site-year portfolios: counts of initiatives (projects) and 0/1 features, no people",
    "process_positions": "site-year positions on fixed dimensions, no people",
    "process_moves": "sites' moves between positions, no people",
    "process_trends": "model estimates over site-years", "process_delays": "mean months over initiatives (national)",
    "process_dose": [("counts", ["people_covered"])],
    "process_triangulation": [("counts", ["informants"]), ("mean", "reported_share", "informants")],
    "process_triangulation_summary": "rank correlations and agreement rates over sites",
    "process_routine_costs": [("counts", ["emergency_spells", "residents"]),
                              ("mean", "cost_per_head", "emergency_spells")],
    "process_unreviewed": "counts of register entries and proposals, not of people",
    "process_interviews_by_round": "national counts of interviews (the evaluation's 140 and 57)",
    "process_interviews_by_site": [("counts", ["interviews"])],
    "process_interviews_by_role": [("counts", ["interviews"])],
}


def _multiplier(rate: pd.Series, base: pd.Series, numerator: pd.Series) -> float:
    """The table's own multiplier (1, 100, 1000, ...), read off rows where all three are shown."""
    shown = rate.notna() & base.notna() & numerator.notna() & (numerator > 0) & (base > 0)
    if not shown.any():
        return 1.0
    m = float(np.median(rate[shown] * base[shown] / numerator[shown]))
    return float(10 ** round(np.log10(m))) if m > 0 else 1.0


def _leaks(name: str, t: pd.DataFrame, checks: list) -> list[str]:
    found = []
    if "level" in t.columns:  # England rows are national figures, outside the rule (as the national tables)
        t = t[t["level"].astype(str) != "england"]
    for check in checks:
        kind = check[0]
        if kind == "counts":
            for col in check[1]:
                bad = t[col].between(1, 7)
                found += [f"{name}.{col} shows {v}" for v in t.loc[bad, col]]
        elif kind == "rate":
            _, rate, base, numerator = check
            m = _multiplier(t[rate], t[base], t[numerator])
            implied = t[rate] * t[base] / m
            bad = t[numerator].isna() & implied.between(*SMALL, inclusive="left")
            found += [f"{name}: {rate} x {base} / {m:g} gives {v:.2f}" for v in implied[bad]]
        elif kind == "mean":
            _, column, people = check
            bad = t[people].isna() & t[column].notna()
            found += [f"{name}: {column} shown over a suppressed {people}" for _ in range(int(bad.sum()))]
        elif kind == "share":
            _, pct, base = check
            implied = t[pct] * t[base] / 100
            bad = t[pct].notna() & implied.between(*SMALL, inclusive="left")
            found += [f"{name}: {pct} x {base} gives {v:.2f}" for v in implied[bad]]
        elif kind == "ratio":
            _, a, b, numerator = check
            implied = t[a] / (t[b] if isinstance(b, str) else b)
            bad = t[numerator].isna() & implied.between(*SMALL, inclusive="left")
            found += [f"{name}: {a} / {b} gives {v:.2f}" for v in implied[bad]]
    return found


@pytest.fixture(scope="module")
def written(small_run_out):
    folder = small_run_out / "tables"
    # what people download: each table's CSV, or its Parquet where the table is written as Parquet only
    # ([output] table_format, joinedup.outputs.LARGE_TABLES: the indicators)
    files = {p.stem: p for p in sorted(folder.glob("*.parquet"))}
    files.update({p.stem: p for p in sorted(folder.glob("*.csv"))})  # the CSV wherever there is one
    return {name: pd.read_csv(p) if p.suffix == ".csv" else pd.read_parquet(p) for name, p in files.items()}


def test_every_output_table_is_declared(written):
    assert sorted(set(written) - set(TABLES)) == []


def test_no_table_gives_a_small_count_back(written):
    leaks = []
    for name, table in written.items():
        checks = TABLES[name]
        if isinstance(checks, list):
            leaks += _leaks(name, table, checks)
    assert leaks == [], leaks[:20]
    # the checks had something to try: suppressed rows exist in the tables they looked at
    assert written["survey_respondents_by_pioneer"]["n"].isna().sum() > 20


def _indicator_leaks(t: pd.DataFrame) -> list[str]:
    sub = t[t["level"] != "england"]
    leaks = []
    for (indicator, method), rows in sub.groupby(["indicator", "method"]):
        if "percentile" in method:  # a percentile over the stays counted in its denominator
            bad = rows["denominator"].isna() & rows["value"].notna()
            leaks += [f"{indicator}: percentile over a suppressed number of stays"] * int(bad.sum())
            continue
        m = _multiplier(rows["value"], rows["denominator"], rows["numerator"])
        implied = rows["value"] * rows["denominator"] / m
        if "per day" in method:  # delayed days per day per 100,000: the period's days in the base
            days = (pd.to_datetime(rows["period_end"]) - pd.to_datetime(rows["period_start"])).dt.days + 1
            m = _multiplier(rows["value"], rows["denominator"] * days, rows["numerator"])
            implied = rows["value"] * rows["denominator"] * days / m
        bad = rows["numerator"].isna() & implied.between(*SMALL, inclusive="left")
        leaks += [f"{indicator} ({method}): value x denominator gives {v:.2f}" for v in implied[bad]]
        for limit in ("lower", "upper", "lower_998", "upper_998"):
            shown = rows["numerator"].isna() & rows[limit].notna()
            leaks += [f"{indicator}: {limit} shown with a suppressed numerator"] * int(shown.sum())
    return leaks


def test_indicator_rates_and_limits_give_no_small_count_back(written):
    t = written["indicators"]
    leaks = _indicator_leaks(t)
    assert leaks == [], leaks[:20]
    sub = t[t["level"] != "england"]
    assert sub["numerator"].isna().sum() > 1000  # many small counts were there to find
    # percentages beside their counts are the rounded counts' percentages (HES guide)
    wilson = sub[sub["method"].str.startswith("Wilson") & sub["value"].notna() & (sub["denominator"] > 0)]
    assert len(wilson) > 100
    np.testing.assert_allclose(wilson["value"], 100 * wilson["numerator"] / wilson["denominator"], rtol=1e-12)


def test_differences_of_totals_and_subtotals_pin_no_small_count(written):
    """England's exact totals (national) less the shown sub-national parts: with one part suppressed
    the difference is that part give or take 2.5 for every rounded part, so it pins no value."""
    leaks = []

    def check(label, total, total_exact, parts):
        hidden = parts.isna()
        if hidden.sum() != 1:
            return
        implied = total - parts[~hidden].sum()
        uncertainty = 2.5 * ((~hidden).sum() + (not total_exact))
        if uncertainty < 0.5 and SMALL[0] <= implied < SMALL[1]:
            leaks.append(f"{label}: difference gives {implied}")

    pyramid = written["population_pyramid"].groupby("year")["persons"].sum()
    for year, rows in written["population_by_year"].groupby("year"):
        check(f"population {year}", pyramid[year], True, rows["persons"])
    ind = written["indicators"]
    for (indicator, period, start), rows in ind[ind["level"].isin(["england", "area"])].groupby(
            ["indicator", "period", "period_start"]):
        eng = rows[rows["level"] == "england"]["numerator"]
        if len(eng) == 1 and eng.notna().all():
            check(f"{indicator} {period} {start}", float(eng.iloc[0]), True, rows[rows["level"] == "area"]["numerator"])
    assert leaks == [], leaks[:20]


# the report's tables (captions start with these), with the checks of the table they show, in the
# report's column names; the England rows of the indicator table are national
REPORT_TABLES = {
    "Residents by programme group": [("counts", ["persons"])],
    "Emergency admissions per 1,000 residents per month": [
        ("counts", ["admissions", "persons"]), ("rate", "rate_per_1000", "persons", "admissions")],
    "Pioneers and the rest of England, every indicator": "indicators",
    "Emergency admissions: funnel plot of areas": [("counts", ["observed"]), ("rate", "ratio", "expected", "observed")],
    "Patients matched, unmatched and discarded": [("counts", ["Control", "Treated"])],
}


def test_workbook_and_report_give_no_small_count_back(small_run_out, written):
    """tables.xlsx (one sheet per table) and the report's tables and charts' data, read back as a
    reader would, under the same attempts."""
    import io
    import re

    book = pd.read_excel(small_run_out / "tables.xlsx", sheet_name=None)
    contents = book.pop("Contents")
    leaks = []
    for sheet, table in zip(contents["Sheet"], contents["Table"]):
        checks = TABLES[table]
        if table == "indicators":
            leaks += _indicator_leaks(book[sheet])
        elif isinstance(checks, list):
            leaks += _leaks(f"tables.xlsx {sheet}", book[sheet], checks)
    html = (small_run_out / "report.html").read_text(encoding="utf-8")
    captions = re.findall(r"<caption>(.*?)</caption>", html, re.DOTALL)
    frames = pd.read_html(io.StringIO(html))
    assert len(captions) == len(frames)
    seen = set()
    for caption, frame in zip(captions, frames):
        key = next((k for k in REPORT_TABLES if caption.startswith(k)), None)
        if key is None:
            continue
        seen.add(key)
        frame = frame.apply(lambda c: pd.to_numeric(c, errors="coerce") if c.name not in ("Indicator", "Area") else c)
        if REPORT_TABLES[key] == "indicators":
            shown = frame.rename(columns=str.lower).assign(
                level=lambda f: np.where(f["area"] == "England", "england", "area"),
                method=lambda f: np.where(f["indicator"].str.contains("percentile"), "percentile", "rate"))
            leaks += [f"report: {x}" for x in _indicator_leaks(shown.rename(
                columns={"lower limit": "lower", "upper limit": "upper"}).assign(lower_998=np.nan, upper_998=np.nan))]
        else:
            leaks += _leaks(f"report: {caption[:40]}", frame, REPORT_TABLES[key])
    assert leaks == [], leaks[:20]
    assert seen == set(REPORT_TABLES)  # every table the check is for was found in the report
    assert len(book) == len(written)
