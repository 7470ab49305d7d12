"""NHS England Delayed Transfers of Care monthly situation reports (August 2010 to February 2020), by
the local authority responsible for each delayed patient -> ``delayed_transfers``.

The published return splits total delayed days in the month by the agency responsible for the delay
(NHS, social care, both), by acute and non-acute care and by reason, for providers and for local
authorities (NHS England, "Delayed Transfers of Care" statistical work area). This importer reads the
local authority table, one row per authority and month, saved as CSV: an authority code (``LA Code``,
``ONS Code``, ``Org Code`` or ``Code``: the ONS code of the social services authority, E06/E08/E09/E10),
the month (``Period`` or ``Month``: 2019-02, 2019-02-01, February 2019, Feb-19 or Feb 2019), and the
all-care total delayed days by agency (``NHS``, ``Social Care``, ``Both``, or those names after
``Total``). Column names are matched case-insensitively; the column names are our reading of the
published table (see docs/bring-your-own-data.md).

Rows for England (E92) or regions (E12) are totals: excluded, counted. Rejected with file, row, field and
reason: a code that is not an ONS code of that form (older files' three-character codes must be mapped
first), a month that does not parse, days that are not a whole number >= 0, and a second, different
row for an authority and month already read (two revisions of one month: keep one file per month).
Identical rows (the same month in two files) are one.

Example:
    >>> import_delayed_transfers(["dtoc_la_2019_02.csv"], "data/mine")    # doctest: +SKIP
"""

from __future__ import annotations

from joinedup.data.importers.common import ImportReport, Progress
from joinedup.data.importers.tabular import RowImport, run_import

ALIASES = {
    "LA_CODE": ("LA CODE", "ONS CODE", "ORG CODE", "CODE"),
    "PERIOD": ("MONTH",),
    "DAYS_NHS": ("NHS", "TOTAL NHS", "TOTAL DELAYED DAYS NHS"),
    "DAYS_SOCIAL_CARE": ("SOCIAL CARE", "TOTAL SOCIAL CARE", "TOTAL DELAYED DAYS SOCIAL CARE"),
    "DAYS_BOTH": ("BOTH", "TOTAL BOTH", "TOTAL DELAYED DAYS BOTH"),
}
_MONTH = ("CAST(date_trunc('month', coalesce(try_strptime(trim(PERIOD), '%Y-%m'), try_strptime(trim(PERIOD), '%Y-%m-%d'), "
          "try_strptime(trim(PERIOD), '%B %Y'), try_strptime(trim(PERIOD), '%b %Y'), try_strptime(trim(PERIOD), '%b-%y'))) "
          "AS DATE)")
_DAYS = "try_cast(replace(trim({c}), ',', '') AS BIGINT)"
_AGENCIES = (("nhs", "DAYS_NHS"), ("social_care", "DAYS_SOCIAL_CARE"), ("both", "DAYS_BOTH"))

SPEC = RowImport(
    "delayed_transfers",
    ["LA_CODE", "PERIOD", "DAYS_NHS", "DAYS_SOCIAL_CARE", "DAYS_BOTH"],
    ["LA_CODE", "PERIOD", "DAYS_NHS", "DAYS_SOCIAL_CARE", "DAYS_BOTH"],
    dedup_ignore=(),
    aliases=ALIASES,
    typed=f"""
      SELECT *, row_number() OVER (PARTITION BY area_code, month ORDER BY __src) AS seen FROM (
        SELECT __src, upper(trim(LA_CODE)) AS area_code, PERIOD AS period_text, {_MONTH} AS month,
               {', '.join(f"{c} AS {c.lower()}_text, {_DAYS.format(c=c)} AS {c.lower()}" for _, c in _AGENCIES)}
        FROM {{source}})""",
    rejects=[("LA_CODE", "area_code", "not an ONS local authority code (E + 8 digits; map older codes first)",
              "NOT regexp_matches(coalesce(area_code, ''), '^E[0-9]{8}$')"),
             ("PERIOD", "period_text", "month does not parse (2019-02, 2019-02-01, February 2019, Feb-19)",
              "month IS NULL"),
             *[(c, f"{c.lower()}_text", f"{agency.replace('_', ' ')} delayed days are not a whole number >= 0",
                f"{c.lower()} IS NULL OR {c.lower()} < 0") for agency, c in _AGENCIES],
             ("PERIOD", "period_text", ("a second, different row for this authority and month (keep one file "
                                        "per month)"), "seen > 1 AND month IS NOT NULL AND area_code IS NOT NULL")],
    excluded=[("England and region totals (E92, E12)", "regexp_matches(area_code, '^E(92|12)')")],
    select=" UNION ALL ".join(
        f"SELECT area_code, month, '{agency}' AS responsible_org, CAST({c.lower()} AS BIGINT) AS delayed_days FROM kept"
        for agency, c in _AGENCIES) + " ORDER BY area_code, month, responsible_org")


def import_delayed_transfers(files, out, *, memory_limit: str = "2GB",
                             progress: Progress | None = None) -> ImportReport:
    """Write ``out/delayed_transfers.parquet``; return the counts."""
    return run_import(SPEC, files, out, memory_limit=memory_limit, progress=progress)
