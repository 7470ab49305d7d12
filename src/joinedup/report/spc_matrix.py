"""SPC across sites as a Making Data Count matrix: one row per site, one column per indicator, each
cell the drawn variation icon, the assurance icon and a sparkline of the series (as MDC "summary
icon tables" and NHS board reports lay them out).

The assurance target is the rest of England's rate in the latest period (``programme`` level, "Rest
of England"; England where there is none): the icon says whether the site's process will consistently
do better than the rest of England (pass), worse (fail), or either at random (hit and miss). This is a
stand-in target for a programme that set none, and the section says so.

Example:
    >>> cells = spc_cells(indicator_table)                                       # doctest: +SKIP
    >>> html = spc_matrix_html(cells)                                            # doctest: +SKIP
"""

from __future__ import annotations

from html import escape

import pandas as pd

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.indicators.spc import xmr_by
from joinedup.report.mdc_icons import (
    ASSURANCE,
    VARIATION,
    assurance_icon,
    sparkline,
    variation_icon,
)

COMPARISON = "Rest of England"


def _targets(table: pd.DataFrame, period: str) -> dict[str, float]:
    comp = table[(table["period"] == period) & table["value"].notna()]
    rest = comp[(comp["level"] == "programme") & (comp["unit_name"] == COMPARISON)]
    if rest.empty:
        rest = comp[comp["level"] == "england"]
    latest = rest.sort_values("period_start").groupby("indicator").tail(1)
    return dict(zip(latest["indicator"], latest["value"]))


def spc_cells(table: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per site and indicator: ``variation_icon``, ``assurance_icon``, ``target`` and the
    series (``values``, ``point_types``) from the ``period`` series of the controlled indicator table."""
    sites = table[(table["level"] == "pioneer_site") & (table["period"] == period) & table["value"].notna()]
    sites = sites[sites.groupby(["indicator", "unit_name"])["value"].transform("size") >= 2]
    targets = _targets(table, period)
    rows = []
    for iid, frame in sites.groupby("indicator", sort=True):
        direction = "decrease" if CATALOGUE[iid].lower_is_better else "increase"
        result = xmr_by(frame.sort_values("period_start"), "value", "period_start", "unit_name",
                        improvement_direction=direction, target=targets.get(iid))
        points = result.tidy()
        for icon in result.icons.itertuples():
            series = points[points["unit_name"] == icon.unit_name]
            rows.append({"site": icon.unit_name, "indicator": iid, "variation_icon": icon.variation_icon,
                         "assurance_icon": icon.assurance_icon, "target": icon.target,
                         "latest": float(series["y"].iloc[-1]), "values": series["y"].tolist(),
                         "point_types": series["point_type"].tolist()})
    return pd.DataFrame(rows, columns=["site", "indicator", "variation_icon", "assurance_icon", "target", "latest",
                                       "values", "point_types"])


def spc_matrix_html(cells: pd.DataFrame, caption: str) -> str:
    """The matrix as an HTML table (caption, scoped headers, sticky site column); each cell's icons and
    sparkline carry their own text alternatives."""
    indicators = sorted(cells["indicator"].unique(), key=lambda i: CATALOGUE[i].title)
    sites = sorted(cells["site"].unique())
    by = {(r.site, r.indicator): r for r in cells.itertuples()}
    head = "".join(f'<th scope="col"><span>{escape(CATALOGUE[i].title)}</span></th>' for i in indicators)
    body = []
    for site in sites:
        tds = []
        for iid in indicators:
            r = by.get((site, iid))
            if r is None:
                tds.append('<td class="empty">no data</td>')
                continue
            spark = sparkline(r.values, r.point_types, label=CATALOGUE[iid].title)
            tds.append(f"<td>{variation_icon(r.variation_icon, 24)}{assurance_icon(r.assurance_icon, 24)}"
                       f"<br>{spark}</td>")
        body.append(f'<tr><th scope="row">{escape(site)}</th>{"".join(tds)}</tr>')
    return (f'<div class="table-wrap spc-matrix" tabindex="0" role="region" aria-label="{escape(caption)}">'
            f'<table class="data mdc"><caption>{escape(caption)}</caption>'
            f'<thead><tr><th scope="col">Site</th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def legend_html() -> str:
    """Every icon with its meaning (the key MDC prints beside its tables)."""
    items = [f"<li>{variation_icon(code, 24)} {escape(words)}</li>" for code, (words, *_rest) in VARIATION.items()]
    items += [f"<li>{assurance_icon(code, 24)} {escape(words)}</li>" for code, (words, *_rest) in ASSURANCE.items()]
    return f'<ul class="mdc-legend" aria-label="Key to the icons">{"".join(items)}</ul>'
