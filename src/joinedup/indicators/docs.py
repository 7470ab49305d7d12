"""The indicator catalogue docs page, generated from the definitions (never written by hand).

Example:
    >>> "`acsc_chronic`" in render_catalogue_docs()
    True
"""

from __future__ import annotations

from joinedup.indicators.catalogue import CATALOGUE

METHODS = {
    "dsr": "directly standardised rate (ESP 2013, by sex and five-year band), Dobson limits; "
           "not given for fewer than 10 events",
    "crude_rate": "crude rate, Byar's limits (exact Poisson below 10 events)",
    "proportion": "proportion, Wilson score limits",
    "percentile": "percentile (type 7), no limits",
    "rate_per_day": "crude rate per day of the period, Byar's limits on the days",
}


def render_catalogue_docs() -> str:
    lines = [
        "# Indicator catalogue\n",
        "Generated from `src/joinedup/indicators/catalogue.py` by `joinedup docs`; do not edit by hand.\n",
        "Each indicator is declared once: its events (an Ibis expression that runs unchanged on DuckDB,",
        "Spark or a warehouse), its population, its statistical method and the definition it follows.",
        "`joinedup indicators --data DIR --out DIR` (or the protocol's `[indicators]` step) computes",
        "every indicator for every area, each Pioneer site, each wave, all Pioneers, the rest of England",
        "and England, by month, quarter and financial year (from 1 April), with 95% and 99.8% limits.",
        "Rates are for their period, not annualised; the denominator is the mid-year population of the",
        "calendar year in which the period starts. Methods: [indicator-methods.md](indicator-methods.md);",
        "SPC and funnels: [spc-and-funnels.md](spc-and-funnels.md).\n",
        "| id | indicator | unit | method | population |",
        "|---|---|---|---|---|",
    ]
    for ind in CATALOGUE.values():
        population = ("residents 18+" if ind.adult_population else
                      f"residents {ind.min_age}+" if ind.min_age else "all residents")
        if ind.method in ("proportion", "percentile"):
            population = "the events themselves"
        method = METHODS[ind.method] if ind.limits else "crude rate, no limits"
        lines.append(f"| `{ind.id}` | {ind.title} | {ind.unit} | {method} | {population} |")
    lines.append("\n## Definitions\n")
    for ind in CATALOGUE.values():
        follow = f" Follow-up: {ind.followup_days} days after the event must lie inside the data." \
            if ind.followup_days else ""
        better = "lower is better" if ind.lower_is_better else "higher is better"
        lines.append(f"### `{ind.id}`: {ind.title}\n\n{ind.source}.{follow} SPC direction: {better}.\n")
    lines.append("## Output table\n\n`tables/indicators.parquet` (and `.csv` with `[output] table_format = "
                 "\"both\"` or `joinedup indicators --table-format both`): `indicator, period, level, unit, "
                 "unit_name, area_code, period_start, period_end, numerator, denominator, value, lower, upper, "
                 "lower_998, upper_998, method, suppressed`. `level` is `area`, `pioneer_site`, `pioneer_wave`, "
                 "`programme` (All Pioneers, Rest of England) or `england`; `area_code` is set for areas. "
                 "Sub-national counts are disclosure-controlled ([disclosure.md](disclosure.md)).\n")
    return "\n".join(lines)
