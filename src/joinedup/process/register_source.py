"""The register the analyses take as fact, and what they leave aside as unreviewed self-report.

The evaluation warned that sites' self-reports "cannot be objectively verified", so the process
analyses (portfolios, typology, trends, delays, dose, timing) use only **verified** rows: entries the
team curated from documents, interviews or surveys, and site submissions the team reviewed (in the
database, a row with ``reviewed_by``). What is left aside is reported separately, per site
(:func:`unreviewed_table`):

* ``unverified_rows`` / ``unverified_initiatives``: register rows whose source is a site submission
  nobody reviewed (a register file has no review column, so every ``site_submission`` row of a file
  is unverified; record the review in the database, or the source the team checked it against);
* ``pending_new`` / ``pending_corrections``: sites' proposals on their dashboards still awaiting the
  team's decision (database only; a proposal never enters the register by itself).

:func:`store_register` reads the register kept in the survey store's database by the dashboards
(:class:`joinedup.process.register_book.RegisterBook`, schema migration 5), SQLite or PostgreSQL,
without changing it (no tables are made; an older database is named as such).

Example:
    >>> import pandas as pd
    >>> from joinedup.process.register import validate_register
    >>> base = {"initiative": "x", "initiative_type": "community_mdt", "target_groups": "older_people",
    ...     "model": "medical", "prevention": "no", "personalisation": "no", "start_date": "2014-01-01",
    ...     "end_date": "", "period": "2015-01-01", "stage": "implemented", "scale": "", "scale_unit": "",
    ...     "source_ref": ""}
    >>> reg = validate_register(pd.DataFrame([{**base, "site": "A", "initiative_id": "a1", "source": "document"},
    ...     {**base, "site": "B", "initiative_id": "b1", "source": "site_submission"}]))
    >>> facts, aside = verified_only(reg)
    >>> facts.rows["site"].tolist(), aside["site"].tolist()
    (['A'], ['B'])
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from joinedup.process.register import Register, RegisterError

STORE = "store"  # [process] initiative_register = "store": the register in [process] store's database
UNREVIEWED_COLUMNS = ["site", "unverified_rows", "unverified_initiatives", "pending_new", "pending_corrections"]


def verified_only(reg: Register) -> tuple[Register, pd.DataFrame]:
    """``(the register of verified rows (rejects unchanged), the unverified rows)``."""
    rows = reg.rows
    keep = rows["verified"].astype(bool) if len(rows) else pd.Series(dtype=bool)
    return Register(rows[keep].reset_index(drop=True), reg.rejects), rows[~keep].reset_index(drop=True)


def unreviewed_table(unverified: pd.DataFrame, proposals: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per site: unverified register rows and initiatives, pending new initiatives and corrections
    (``proposals``: :meth:`RegisterBook.proposals`, decided ones ignored). Sites with nothing aside
    are absent; the counts are of entries, not of people."""
    parts = []
    if len(unverified):
        parts.append(unverified.groupby("site").agg(unverified_rows=("initiative_id", "size"),
                                                    unverified_initiatives=("initiative_id", "nunique")))
    if proposals is not None and len(proposals):
        pending = proposals[proposals["decision"].fillna("") == ""]
        if len(pending):
            parts.append(pd.crosstab(pending["site"], pending["kind"]).reindex(
                columns=["new", "correction"], fill_value=0).rename(
                columns={"new": "pending_new", "correction": "pending_corrections"}))
    if not parts:
        return pd.DataFrame(columns=UNREVIEWED_COLUMNS)
    out = pd.concat(parts, axis=1).fillna(0).reindex(columns=UNREVIEWED_COLUMNS[1:], fill_value=0)
    out.index.name = "site"
    return out.astype(int).reset_index().sort_values("site").reset_index(drop=True)


def store_register(url: str) -> tuple[Register, pd.DataFrame]:
    """``(register, proposals)`` from the survey store's database at ``url`` (read only).

    RegisterError when the database is not at schema version 5 or later (no register tables yet).
    """
    from joinedup.process.register_book import ENTRIES, PROPOSALS, RegisterBook
    from joinedup.survey.store import SurveyStore

    store = SurveyStore(url)
    try:
        names = set(sa.inspect(store.engine).get_table_names())
        missing = sorted({ENTRIES.name, PROPOSALS.name} - names)
        if missing:
            raise RegisterError(f"survey store {_safe(url)} has no table(s) {', '.join(missing)}: it predates "
                                "the initiative register (schema version 5); start `joinedup survey serve` "
                                "on it once, which migrates it")
        book = RegisterBook(store)
        return book.register(), book.proposals()
    finally:
        store.engine.dispose()


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unparsable URL)"
