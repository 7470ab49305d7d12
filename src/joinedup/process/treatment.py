"""Treatment timing and dose from the initiative register, for the impact designs.

* **Timing**: a site's go-live is the first period in which one of its initiatives (of the types
  given, default all) is implemented or at scale (:data:`~joinedup.process.vocab.LIVE_STAGES`), not
  the date the site joined the programme: the evaluation found years between design and delivery.
* **Dose**: per site and period, the people covered by its live initiatives (``scale`` where
  ``scale_unit == "people"``), the count of live initiatives, and, given unit populations, coverage
  per 1,000 residents.

:func:`apply_register` replaces each programme unit's ``start_date`` with its site's go-live (sites
with no live initiative keep the programme's date and are listed in ``kept``): the designs then read
the register's timing through the programme as they read any sites file.

Example:
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"site": ["A", "A"], "initiative_id": ["a1", "a1"],
    ...     "initiative_type": ["community_mdt"] * 2, "stage": ["piloting", "implemented"],
    ...     "period": pd.to_datetime(["2014-01-01", "2015-04-01"]), "scale": [50.0, 400.0],
    ...     "scale_unit": ["people", "people"]})
    >>> go_live(rows)["go_live"].dt.date.tolist()
    [datetime.date(2015, 4, 1)]
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from joinedup.process.vocab import INITIATIVE_TYPES, LIVE_STAGES


def _live(rows: pd.DataFrame, types) -> pd.DataFrame:
    if types is not None:
        bad = [t for t in types if t not in INITIATIVE_TYPES]
        if bad:
            raise ValueError(f"initiative types {bad} are not among {', '.join(INITIATIVE_TYPES)}")
        rows = rows[rows["initiative_type"].isin(types)]
    return rows[rows["stage"].isin(LIVE_STAGES)]


def go_live(rows: pd.DataFrame, types: list[str] | None = None) -> pd.DataFrame:
    """``site, go_live``: each site's first live period (sites with none are absent)."""
    live = _live(rows, types)
    return live.groupby("site", as_index=False)["period"].min().rename(columns={"period": "go_live"})


def dose(rows: pd.DataFrame, types: list[str] | None = None, population: pd.Series | None = None) -> pd.DataFrame:
    """``site, period, live_initiatives, people_covered[, coverage_per_1000]`` per site and period.

    ``population``: residents per site (index = site) for coverage per 1,000.
    """
    live = _live(rows, types).copy()
    live["people"] = live["scale"].where(live["scale_unit"] == "people")
    out = live.groupby(["site", "period"], as_index=False).agg(
        live_initiatives=("initiative_id", "nunique"), people_covered=("people", "sum"))
    if population is not None:
        out["coverage_per_1000"] = 1000 * out["people_covered"] / out["site"].map(population)
    return out


def apply_register(programme, rows: pd.DataFrame, types: list[str] | None = None):
    """The programme with each site's start date set to its register go-live; returns
    ``(programme, kept)`` where ``kept`` lists sites with no live initiative (their date unchanged).

    Only the programme's own rows change; other programmes (exclusions) keep their dates.
    """
    starts = go_live(rows, types).set_index("site")["go_live"]
    table = programme.table.copy()
    own = table["programme"] == programme.key
    mapped = table.loc[own, "site"].map(starts)
    kept = sorted(set(table.loc[own & mapped.isna().reindex(table.index, fill_value=False), "site"]))
    table.loc[own & mapped.notna().reindex(table.index, fill_value=False), "start_date"] = mapped.dropna()
    table["start_date"] = pd.to_datetime(table["start_date"])
    return replace(programme, table=table, source=programme.source + " (go-live from the initiative register)"), kept


def programme_with_register(programme, path, types: list[str] | None = None, span: tuple | None = None,
                            store: str | None = None):
    """:func:`apply_register` with the register read from ``path`` (CSV/Excel; rejected rows stop the
    run, listed by line, since timing from a partly read register would be silently wrong), and
    go-lives checked against the data's (first, last) dates ``span``. ``path = "store"`` reads the
    register the dashboards keep in the survey store's database at ``store`` (its URL). Only verified
    rows give timing: an unreviewed site submission does not move a site's go-live."""
    from joinedup.process.register import RegisterError
    from joinedup.process.register_io import read_register
    from joinedup.process.register_source import STORE, _safe, store_register, verified_only

    if path == STORE:
        if not store:
            raise RegisterError("initiative_register = \"store\" needs [process] store (the survey database URL)")
        reg, path = store_register(store)[0], f"survey store {_safe(store)}"
    else:
        reg = read_register(path)
    if len(reg.rejects):
        lines = "; ".join(f"line {r.line}: {r.reason}" for r in reg.rejects.head(5).itertuples())
        raise RegisterError(f"{path}: {len(reg.rejects)} row(s) rejected: {lines}")
    out, _ = apply_register(programme, verified_only(reg)[0].rows, types)
    if span is not None:
        first, last = (pd.Timestamp(d) for d in span)
        starts = out.sites.drop_duplicates("site").set_index("site")["start_date"]
        bad = starts[(starts <= first) | (starts > last)]
        if len(bad):
            raise RegisterError(f"{path}: site {bad.index[0]!r} goes live on {bad.iloc[0].date()}, outside the data "
                                f"({first.date()} to {last.date()}; a start needs data before it)")
    return out
