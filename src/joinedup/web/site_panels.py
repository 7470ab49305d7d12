"""What the site dashboard draws, computed from a run's (already disclosure-controlled) tables:

* :func:`spc_panels`: per indicator, the site's quarterly XmR chart (Making Data Count rules, as
  :func:`joinedup.indicators.spc.xmr` computes them after NHSRplotthedots) with its variation and
  assurance icons;
* :func:`spine_rows`: a Fingertips-style spine chart of the site's latest financial-year values:
  England's value as the centre, the range and middle half of all areas, the site's comparison areas
  (areas in neither programme with a deprivation decile within one of the site's, the pool the
  impact designs compare against, narrowed as Fingertips narrows to similar areas; their median is
  marked), and the site
  coloured by Fingertips' rule: "better" or "worse" (by the indicator's polarity) when the site's
  95% interval excludes England's value, else "similar";
* :func:`impact_rows`: the evaluation's estimates for the site as % change with 95% intervals.

Example:
    >>> rows = spine_rows(SiteData("out/demo"), "Barnsley")                        # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.indicators.spc import xmr
from joinedup.web.site_charts import (
    ASSURANCE_WORDS,
    VARIATION_WORDS,
    assurance_icon_svg,
    interval_svg,
    spc_svg,
    spine_svg,
    variation_icon_svg,
)

MIN_SPC_POINTS = 12  # Making Data Count: at least 12 points before limits are read


def _title(indicator: str) -> tuple[str, str]:
    spec = CATALOGUE.get(indicator)
    return (spec.title, spec.unit) if spec else (indicator.replace("_", " ").capitalize(), "")


def spc_panels(ind: pd.DataFrame, site: str, start=None) -> list[dict]:
    """One panel per indicator of the site's quarterly series: title, unit, icons (code, words, SVG)
    and the chart's SVG (None under :data:`MIN_SPC_POINTS` values)."""
    part = ind[(ind["level"] == "pioneer_site") & (ind["unit"] == site) & (ind["period"] == "quarter")]
    panels = []
    for indicator, series in part.groupby("indicator", sort=True):
        series = series.sort_values("period_start")
        ok = series[series["value"].notna()]
        title, unit = _title(indicator)
        spec = CATALOGUE.get(indicator)
        panel = {"indicator": indicator, "title": title, "unit": unit, "svg": None, "icon": None,
                 "assurance": None, "n": len(ok),
                 "latest": float(ok["value"].iloc[-1]) if len(ok) else float("nan"),
                 "latest_quarter": f"{pd.Timestamp(ok['period_start'].iloc[-1]):%b %Y}" if len(ok) else ""}
        if len(ok) >= MIN_SPC_POINTS:
            chart = xmr(ok["value"].astype(float).to_numpy(), pd.to_datetime(ok["period_start"]).to_numpy(),
                        improvement_direction="decrease" if spec is None or spec.lower_is_better else "increase")
            panel["icon"], panel["assurance"] = chart.variation_icon, chart.assurance_icon
            panel["svg"] = spc_svg(chart.tidy(), title, unit, start)
        panel["icon_text"] = VARIATION_WORDS.get(panel["icon"], "not enough data (12 quarters needed)")
        panel["assurance_text"] = ASSURANCE_WORDS.get(panel["assurance"], "no target set")
        panel["icon_svg"] = variation_icon_svg(panel["icon"])
        panel["assurance_svg"] = assurance_icon_svg(panel["assurance"])
        panels.append(panel)
    return panels


def comparison_areas(area_groups: pd.DataFrame | None, site_areas: set[str]) -> set[str]:
    """Areas in neither programme whose IMD decile is within one of the median decile of the site's
    areas (empty when the run has no ``area_groups`` table).

    Example:
        >>> g = pd.DataFrame({"area_code": list("abcd"), "imd_decile": [3, 4, 9, 3],
        ...                   "group": ["Pioneer wave 1"] + ["Neither programme"] * 3})
        >>> sorted(comparison_areas(g, {"a"}))
        ['b', 'd']
    """
    if area_groups is None or not site_areas:
        return set()
    mine = area_groups[area_groups["area_code"].isin(site_areas)]
    if mine.empty or mine["imd_decile"].isna().all():
        return set()
    decile = float(mine["imd_decile"].median())
    pool = area_groups[(area_groups["group"] == "Neither programme")
                       & ((area_groups["imd_decile"] - decile).abs() <= 1)]
    return set(pool["area_code"])


def significance(value: float, lower: float, upper: float, england: float, lower_is_better: bool | None) -> str:
    """Fingertips' comparison with England by the 95% interval.

    Example:
        >>> significance(9.0, 8.0, 9.5, 10.0, True), significance(9.0, 8.0, 10.5, 10.0, True)
        ('better', 'similar')
    """
    if not all(np.isfinite([value, lower, upper, england])):
        return "not compared"
    if lower > england:
        side = "higher"
    elif upper < england:
        side = "lower"
    else:
        return "similar"
    if lower_is_better is None:
        return side
    return "better" if (side == "lower") == lower_is_better else "worse"


def spine_rows(ind: pd.DataFrame, site: str, site_areas: set[str], comparators: set[str]) -> pd.DataFrame:
    """The spine chart's rows (see the module docstring): one per indicator with a site value."""
    fy = ind[ind["period"] == "financial_year"]
    rows = []
    for indicator, part in fy.groupby("indicator", sort=True):
        mine = part[(part["level"] == "pioneer_site") & (part["unit"] == site) & part["value"].notna()]
        if mine.empty:
            continue
        latest = mine.sort_values("period_start").iloc[-1]
        when = latest["period_start"]
        same = part[part["period_start"] == when]
        eng = same[same["level"] == "england"]["value"].dropna()
        areas = same[(same["level"] == "area") & same["value"].notna()]
        if eng.empty or areas.empty:
            continue
        spec = CATALOGUE.get(indicator)
        title, unit = _title(indicator)
        values = areas["value"].astype(float)
        comp = areas.loc[areas["area_code"].isin(comparators), "value"].astype(float)
        england = float(eng.iloc[0])
        sig = significance(float(latest["value"]), float(latest.get("lower", np.nan)),
                           float(latest.get("upper", np.nan)), england, spec.lower_is_better if spec else None)
        row = {"indicator": indicator, "title": title, "unit": unit,
               "period": _fy(pd.Timestamp(when)), "site": float(latest["value"]),
               "site_lower": float(latest.get("lower", np.nan)), "site_upper": float(latest.get("upper", np.nan)),
               "england": england, "lowest": float(values.min()), "q25": float(values.quantile(0.25)),
               "q75": float(values.quantile(0.75)), "highest": float(values.max()),
               "comparison_median": float(comp.median()) if len(comp) else np.nan, "n_comparison": len(comp),
               "n_areas": len(values), "significance": sig}
        row["svg"] = spine_svg(england, row["lowest"], row["highest"], row["q25"], row["q75"], row["site"], sig,
                               row["comparison_median"], title)
        rows.append(row)
    return pd.DataFrame(rows)


def _fy(start: pd.Timestamp) -> str:
    return f"{start.year}/{(start.year + 1) % 100:02d}" if start.month == 4 else f"{start:%b %Y}"


def impact_rows(synthesis: pd.DataFrame | None, synth: pd.DataFrame | None, site: str) -> pd.DataFrame:
    """The site's estimates as % change with 95% intervals: the site's DiD against comparison areas
    (``synthesis_sites``) and its synthetic control (``impact_synth_sites``, a point estimate with a
    placebo p-value, so no interval).

    Example:
        >>> s = pd.DataFrame({"site": ["A"], "estimate": [np.log(0.9)], "ci_low": [np.log(0.8)],
        ...                   "ci_high": [np.log(1.01)], "pct_change": [-10.0]})
        >>> impact_rows(s, None, "A")[["pct", "pct_low", "pct_high"]].round(1).values.tolist()
        [[-10.0, -20.0, 1.0]]
    """
    rows = []
    if synthesis is not None and len(part := synthesis[synthesis["site"] == site]):
        r = part.iloc[0]
        est = float(r["estimate"])
        lo = float(r["ci_low"]) if "ci_low" in r else est - 1.959964 * float(r["se"])
        hi = float(r["ci_high"]) if "ci_high" in r else est + 1.959964 * float(r["se"])
        pct = float(r["pct_change"]) if "pct_change" in r and pd.notna(r["pct_change"]) else 100 * np.expm1(est)
        if np.isclose(pct, 100 * np.expm1(est), atol=1e-6):  # log scale: the interval transforms the same way
            low, high = 100 * np.expm1(lo), 100 * np.expm1(hi)
        else:  # rate scale: % change is the estimate over the baseline, a linear map
            k = pct / est if est else np.nan
            low, high = lo * k, hi * k
        rows.append({"label": "Difference-in-differences", "pct": pct, "pct_low": low, "pct_high": high,
                     "p_value": np.nan, "note": "95% interval from placebo comparison areas"})
    if synth is not None and len(part := synth[synth["site"] == site]):
        r = part.iloc[0]
        rows.append({"label": "Synthetic control", "pct": float(r.get("pct_change", np.nan)), "pct_low": np.nan,
                     "pct_high": np.nan, "p_value": float(r.get("p_value", np.nan)),
                     "note": "no interval: placebo-in-space p-value instead"})
    return pd.DataFrame(rows, columns=["label", "pct", "pct_low", "pct_high", "p_value", "note"])


def impact_chart(rows: pd.DataFrame) -> str | None:
    """The forest plot of :func:`impact_rows` (None when there is nothing to draw)."""
    return interval_svg(rows) if len(rows) and rows["pct"].notna().any() else None


def readable_survey(frame: pd.DataFrame | None) -> pd.DataFrame | None:
    """A controlled survey table as a reader sees it: labels not codes, no technical columns, and a
    word where a number is withheld (a count of 1-7, or a percentage on a base under 11).

    Example:
        >>> readable_survey(pd.DataFrame({"wave": [1, 2], "pioneer": ["A", "A"], "n": [np.nan, 15.0],
        ...                               "suppressed": [True, False]})).values.tolist()
        [[1, 'not shown (1 to 7)'], [2, '15']]
    """
    from joinedup.report.labels import relabel

    if frame is None:
        return None
    out = frame.drop(columns=[c for c in ("pioneer", "group", "suppressed") if c in frame.columns]).copy()
    if "n" in out:
        out["n"] = [f"{v:,.0f}" if pd.notna(v) else "not shown (1 to 7)" for v in out["n"]]
    for col in [c for c in out.columns if str(c).startswith("pct_")]:
        out[col] = [f"{v:.1f}" if pd.notna(v) else "not shown (base under 11)" for v in out[col]]
    return relabel(out)


def scheme_rows(frame: pd.DataFrame | None, accepted: pd.DataFrame | None = None) -> list[dict]:
    """The register's schemes as the dashboard lists them (a column the run lacks shows blank), with
    the site's accepted corrections (:meth:`joinedup.web.feedback.Feedback.accepted`: scheme_id,
    field, proposed_value, decided_at) layered over the run's register: a corrected field shows the
    site's value, and the row's note says "corrected by the site, accepted <date>" with what changed
    (a field the list has no column for, status or description, is named in the note). A correction
    of a scheme missing from the register (``scheme_id = "new"``) adds a row of its own.

    Example:
        >>> scheme_rows(pd.DataFrame({"scheme_id": ["a-01"], "scheme_type": ["community_mdt"]}))
        [{'scheme_id': 'a-01', 'scheme_type': 'community_mdt', 'target_group': '', 'start': '', 'note': ''}]
        >>> fix = pd.DataFrame({"scheme_id": ["a-01"], "field": ["target_group"], "proposed_value": ["over 75s"],
        ...                     "decided_at": [pd.Timestamp("2026-12-05")]})
        >>> scheme_rows(pd.DataFrame({"scheme_id": ["a-01"]}), fix)[0]["note"]
        'Target group corrected by the site, accepted 05 Dec 2026'
    """
    rows = []
    for r in ([] if frame is None else frame.to_dict("records")):
        start = r.get("start_date")
        rows.append({"scheme_id": str(r.get("scheme_id", "")), "scheme_type": r.get("scheme_type") or "",
                     "target_group": r.get("target_group") or "",
                     "start": f"{pd.Timestamp(start):%b %Y}" if start is not None and pd.notna(start) else "",
                     "note": ""})
    if accepted is None or accepted.empty:
        return rows
    by_id = {r["scheme_id"]: r for r in rows}
    for fix in accepted.to_dict("records"):
        if fix["scheme_id"] == "new":
            row = {"scheme_id": "Added by the site", "scheme_type": "", "target_group": "", "start": "", "note": ""}
            rows.append(row)
        elif fix["scheme_id"] in by_id:
            row = by_id[fix["scheme_id"]]
        else:  # a scheme the run's register no longer has: nothing to correct
            continue
        _apply(row, fix)
    return rows


def _apply(row: dict, fix: dict) -> None:
    """Layer one accepted correction over a listed scheme (see :func:`scheme_rows`)."""
    from joinedup.report.labels import label

    field, value = fix["field"], str(fix["proposed_value"])
    if field in ("scheme_type", "target_group"):
        row[field] = value
        row["as_typed"] = [*row.get("as_typed", []), field]  # the site's words: shown verbatim, not as a code
    elif field == "start_date":
        try:
            row["start"] = f"{pd.Timestamp(value):%b %Y}"
        except (ValueError, TypeError):
            row["start"] = value  # as the site wrote it ("spring 2015")
    what = str(label(field))
    what = what.replace("_", " ").capitalize() if what == field else what
    shown = "" if field in ("scheme_type", "target_group", "start_date") else f": {value}"
    note = f"{what} corrected by the site{shown}, accepted {pd.Timestamp(fix['decided_at']):%d %b %Y}"
    row["note"] = f"{row['note']}; {note}" if row["note"] else note
