"""What a site's dashboard shows, read from a run's output tables (``<run>/tables/*.parquet``, already
disclosure-controlled), so the dashboard's numbers are the tables' numbers.

For one site: each indicator's quarterly series at site level with its SPC variation icon (Making Data
Count XmR on the site's own series, improvement direction from the catalogue), the site's areas in the
latest funnel (outliers against all areas), the survey's respondents from the site beside the
programme-wide results (per-site percentages are not shown: 1-9 respondents per site would identify
people), the site's schemes and typology cluster, and the evaluation's estimates for the site.

Disclosure control is applied here again, whatever the run's settings were (:func:`survey_controlled`):
respondent counts of 1-7 are suppressed and others rounded to 5, as in the report, and a survey
percentage needs a base of :data:`~joinedup.disclosure.SURVEY_MIN_BASE` respondents or is not shown.

Example:
    >>> data = SiteData("out/demo")                                              # doctest: +SKIP
    >>> data.dashboard("Barnsley")["indicators"].head()                          # doctest: +SKIP
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import pandas as pd

from joinedup.disclosure import SURVEY_MIN_BASE, control_counts, require_base
from joinedup.indicators.catalogue import CATALOGUE
from joinedup.indicators.spc import xmr

ICON_TEXT = {
    "special_cause_improvement_high": "improving (special cause, higher)",
    "special_cause_improvement_low": "improving (special cause, lower)",
    "special_cause_concern_high": "concern (special cause, higher)",
    "special_cause_concern_low": "concern (special cause, lower)",
    "special_cause_neutral_high": "unusually high (special cause)",
    "special_cause_neutral_low": "unusually low (special cause)",
    "common_cause": "common cause variation only",
}


class SiteData:
    def __init__(self, run_folder: str | Path):
        self.folder = Path(run_folder) / "tables"
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder} does not exist: give the output folder of a joinedup run")
        self._cache: dict[str, tuple[int, pd.DataFrame]] = {}
        self._panels: dict[str, tuple[tuple, dict]] = {}

    def table(self, name: str) -> pd.DataFrame | None:
        """The run's table, read once (again only when the file changes), not on every request."""
        path = self.folder / f"{name}.parquet"
        if not path.is_file():
            return None
        stamp = path.stat().st_mtime_ns
        cached = self._cache.get(name)
        if cached is None or cached[0] != stamp:
            cached = self._cache[name] = (stamp, pd.read_parquet(path))
        return cached[1]

    @cached_property
    def sites(self) -> list[str]:
        ind = self.table("indicators")
        if ind is None:
            return []
        return sorted(ind.loc[ind["level"] == "pioneer_site", "unit"].dropna().unique().tolist())

    def _indicators(self, site: str) -> pd.DataFrame:
        ind = self.table("indicators")
        rows = []
        part = ind[(ind["level"] == "pioneer_site") & (ind["unit"] == site) & (ind["period"] == "quarter")]
        for indicator, series in part.groupby("indicator", sort=True):
            series = series.sort_values("period_start")
            spec = CATALOGUE.get(indicator)
            values = series["value"].astype(float)
            icon = "not enough data"
            if values.notna().sum() >= 12:
                ok = series[values.notna()]
                chart = xmr(ok["value"].astype(float).to_numpy(), pd.to_datetime(ok["period_start"]).to_numpy(),
                            improvement_direction="decrease" if spec is None or spec.lower_is_better else "increase")
                icon = chart.variation_icon
            last = series.dropna(subset=["value"]).tail(1)
            rows.append({"indicator": indicator, "title": spec.title if spec else indicator,
                         "latest_quarter": str(pd.Timestamp(last["period_start"].iloc[0]).date()) if len(last) else "",
                         "latest_value": float(last["value"].iloc[0]) if len(last) else float("nan"),
                         "icon": icon, "icon_text": ICON_TEXT.get(icon, icon)})
        return pd.DataFrame(rows)

    def _funnel(self, site: str) -> pd.DataFrame:
        f = self.table("indicator_funnel")
        ind = self.table("indicators")
        if f is None or ind is None:
            return pd.DataFrame()
        areas = set(ind.loc[(ind["level"] == "area") & ind["area_code"].notna(), "area_code"])
        site_areas = self._site_areas(site) & areas
        latest = f[f["financial_year"] == f["financial_year"].max()]
        out = latest[latest["area_code"].isin(site_areas)][["financial_year", "indicator", "area_code", "unit_name",
                                                            "observed", "expected", "ratio", "outlier_high",
                                                            "outlier_low"]]
        return out.reset_index(drop=True)

    def _site_areas(self, site: str) -> set[str]:
        areas = self.table("site_areas")
        return set() if areas is None else set(areas.loc[areas["site"] == site, "area_code"])

    def dashboard(self, site: str) -> dict[str, pd.DataFrame]:
        """Every table of the site's dashboard (KeyError for an unknown site)."""
        if site not in self.sites:
            raise KeyError(site)
        out = {"indicators": self._indicators(site), "funnel": self._funnel(site)}
        resp = self.table("survey_respondents_by_pioneer")
        if resp is not None:
            out["survey_respondents"] = survey_controlled(resp[resp["pioneer"] == site].reset_index(drop=True))
        for name in ("survey_progress", "survey_barriers"):
            t = self.table(name)
            if t is not None:
                latest = t[t["wave"] == t["wave"].max()]
                latest = latest[latest["group"] == "all"] if "group" in latest.columns else latest
                out[name] = survey_controlled(latest.reset_index(drop=True))
        reg = self.table("typology_registry")
        if reg is not None:
            out["schemes"] = reg[reg["site"] == site].reset_index(drop=True)
        clusters = self.table("typology_clusters")
        if clusters is not None:
            out["typology"] = clusters[clusters["site"] == site].reset_index(drop=True)
        for name in ("synthesis_sites", "impact_synth_sites"):
            t = self.table(name)
            if t is not None:
                out[name] = t[t["site"] == site].reset_index(drop=True)
        return out

    def panels(self, site: str) -> dict:
        """The dashboard's charts for ``site`` (see :mod:`joinedup.web.site_panels`), drawn once per
        site and again only when a table they read changes."""
        from joinedup.web import site_panels as sp

        names = ("indicators", "area_groups", "site_areas", "synthesis_sites", "impact_synth_sites")
        stamp = tuple((self.folder / f"{n}.parquet").stat().st_mtime_ns if (self.folder / f"{n}.parquet").is_file()
                      else 0 for n in names)
        cached = self._panels.get(site)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        ind, groups = self.table("indicators"), self.table("area_groups")
        mine = self._site_areas(site)
        start = None
        if groups is not None and "pioneer_start" in groups and mine:
            starts = groups.loc[groups["area_code"].isin(mine), "pioneer_start"].dropna()
            start = pd.Timestamp(starts.min()) if len(starts) else None
        impact = sp.impact_rows(self.table("synthesis_sites"), self.table("impact_synth_sites"), site)
        out = {"spc": sp.spc_panels(ind, site, start), "start": start,
               "spine": sp.spine_rows(ind, site, mine, sp.comparison_areas(groups, mine)),
               "impact": impact, "impact_svg": sp.impact_chart(impact)}
        out["spc_by"] = {panel["indicator"]: panel for panel in out["spc"]}
        self._panels[site] = (stamp, out)
        return out


def survey_controlled(frame: pd.DataFrame) -> pd.DataFrame:
    """A survey table as a dashboard may show it: the respondent count ``n`` controlled as in the
    report (1-7 suppressed, others rounded to 5) and every ``pct_*`` column blanked where its base
    ``n`` is under :data:`~joinedup.disclosure.SURVEY_MIN_BASE` (the base is judged before rounding).

    Example:
        >>> survey_controlled(pd.DataFrame({"n": [4, 10, 12], "pct_x": [50.0, 40.0, 25.0]})).to_dict("list")
        {'n': [nan, 10.0, 10.0], 'pct_x': [nan, nan, 25.0], 'suppressed': [True, False, False]}
    """
    pcts = [c for c in frame.columns if c.startswith("pct_")]
    out = control_counts(require_base(frame, pcts, "n", SURVEY_MIN_BASE), ["n"])
    if "suppressed" in frame.columns:  # a count the run already blanked stays marked as suppressed
        out["suppressed"] = out["suppressed"] | frame["suppressed"].fillna(False).astype(bool).to_numpy()
    return out
