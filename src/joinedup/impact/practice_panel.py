"""The practice x period panel of a practice-level programme: events attributed to the registered
practice, denominators from practice list sizes by age and sex.

Events come from the indicator catalogue's own definitions, run on a view of the dataset in which
every table's ``area_code`` is replaced by its ``practice_code`` (admissions carry the registered
practice at admission, HES ``GPPRAC``); an indicator that reads a table without a practice code
cannot be attributed to practices and stops with an error naming the table. Denominators follow
NHS Digital's "Patients Registered at a GP Practice" (the canonical ``practice_population``): the
list size, in the indicator's ages, at the latest extract on or before the period's start (the
publication is quarterly; the area denominator is the mid-year population, which a practice list
has no equivalent of). Proportions (readmissions within 30 days) need no population: numerator and
denominator are both events.

The result has the indicator table's layout (``level == "area"``, ``area_code`` = practice code),
so :func:`joinedup.impact.panel.area_panel`, matching, TWFE, Callaway & Sant'Anna and synthetic
control run on it unchanged.

Example:
    >>> table = practice_indicator_table(ds, "emergency_admissions", "quarter")    # doctest: +SKIP
    >>> panel = area_panel(table, programme.table, "emergency_admissions", programme="programme")  # doctest: +SKIP
"""

from __future__ import annotations

import pandas as pd

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.indicators.compute import _period_of, _periods

UNIT_TABLES_WITHOUT_PRACTICE = "has area_code but no practice_code"


class PracticeView:
    """A dataset whose tables attribute rows to the registered practice (``area_code := practice_code``)."""

    def __init__(self, ds):
        self._ds = ds

    def __getattr__(self, name):
        return getattr(self._ds, name)

    def table(self, name: str):
        t = self._ds.table(name)
        cols = set(t.columns)
        if "practice_code" in cols and "area_code" in cols:
            return t.mutate(area_code=t.practice_code)
        if "area_code" in cols and name not in ("areas", "population", "programmes", "schemes", "practices"):
            raise ValueError(f"table {name!r} {UNIT_TABLES_WITHOUT_PRACTICE}: its events cannot be attributed "
                             "to registered practices (use unit = \"area\" for this outcome)")
        return t


def _list_sizes(ds, indicator) -> pd.DataFrame:
    """List size in the indicator's ages: ``practice_code, extract_date, population``."""
    if not ds.has("practice_population"):
        raise ValueError("unit = \"practice\" needs the practice_population table (registered patients by "
                         "practice, extract date, sex and age band) in the dataset")
    pp = ds.execute(ds.table("practice_population"))
    band = pp["age_band"].str.extract(r"^(\d+)", expand=False).astype(int)
    lowest = 15 if indicator.adult_population else indicator.min_age
    pp = pp[band >= lowest].assign(persons=pp["persons"].astype(float))
    if indicator.adult_population:  # 18+ from five-year bands, as the area denominators
        pp.loc[band[band >= lowest] == 15, "persons"] *= 0.4
    out = pp.groupby(["practice_code", "extract_date"], as_index=False)["persons"].sum()
    out["extract_date"] = pd.to_datetime(out["extract_date"])
    return out.rename(columns={"persons": "population"})


def practice_indicator_table(ds, indicator_id: str, period: str = "quarter") -> pd.DataFrame:
    """One indicator by practice and period, in the indicator table's layout (module docstring)."""
    indicator = CATALOGUE[indicator_id]
    if indicator.method == "percentile":
        raise ValueError(f"indicator {indicator_id!r} is a percentile: not an impact outcome")
    events = indicator.events(PracticeView(ds))
    events = events.mutate(month=events.event_date.truncate("M").cast("date"))
    events = events.filter(events.area_code.notnull())  # no registered practice: not attributable
    if indicator.method == "proportion":
        metrics = {"numerator": events.hit.cast("int64").sum(), "denominator": events.count()}
    else:
        metrics = {"numerator": events.amount.sum()}
    counts = ds.execute(events.group_by(["area_code", "month"]).aggregate(**metrics))
    counts["month"] = pd.to_datetime(counts["month"])
    first, last = counts["month"].min(), counts["month"].max() + pd.offsets.MonthEnd(0)
    if indicator.followup_days:
        last_adm = pd.Timestamp(ds.execute(ds.table("admissions").admission_date.max()))
        last = min(last, last_adm - pd.Timedelta(days=indicator.followup_days))
    lists = None
    if indicator.method != "proportion":
        lists = _list_sizes(ds, indicator)
        first = max(first, lists["extract_date"].min())
    periods = _periods(first.date(), last.date(), period)
    counts = counts[(counts["month"] >= periods["period_start"].min())
                    & (counts["month"] <= periods["period_end"].max())]
    counts = counts.assign(period_start=_period_of(counts["month"], period)).drop(columns="month")
    counts = counts.groupby(["area_code", "period_start"], as_index=False).sum()
    if lists is None:
        frame = counts.merge(periods, on="period_start")
    else:
        grid = lists[["practice_code"]].drop_duplicates().merge(periods, how="cross")
        # A practice that closed publishes no more lists: carry an extract forward for at most a
        # year (the publication is quarterly, monthly since 2017), never past the practice's end.
        grid = pd.merge_asof(grid.sort_values("period_start"), lists.sort_values("extract_date"),
                             left_on="period_start", right_on="extract_date", by="practice_code",
                             tolerance=pd.Timedelta(days=366))
        last_list = lists.groupby("practice_code")["extract_date"].max()
        closed = lists["extract_date"].max() > grid["practice_code"].map(last_list)
        grid.loc[closed & (grid["period_start"] > grid["practice_code"].map(last_list)), "population"] = 0.0
        grid = grid.rename(columns={"practice_code": "area_code", "population": "denominator"})
        frame = grid.merge(counts, on=["area_code", "period_start"], how="left").fillna({"numerator": 0.0})
        frame = frame[frame["denominator"] > 0]  # closed practices, or none of the ages
    frame["value"] = frame["numerator"] / frame["denominator"] * indicator.multiplier
    frame = frame.assign(indicator=indicator_id, period=period, level="area")
    cols = ["indicator", "period", "level", "area_code", "period_start", "period_end", "numerator",
            "denominator", "value"]
    return frame[cols].sort_values(["area_code", "period_start"]).reset_index(drop=True)


def practice_covariates(ds, panel: pd.DataFrame, complete_baseline: bool = True) -> pd.DataFrame:
    """One row per panel practice, as :func:`joinedup.impact.comparison.area_covariates` for areas:
    the deprivation of the practice's area, the list's shares aged 65+ and 85+ at the first extract
    of the panel's first year, and the baseline outcome level and trend."""
    from joinedup.impact.comparison import baseline_outcome

    practices = ds.execute(ds.table("practices").select("practice_code", "area_code"))
    areas = ds.execute(ds.table("areas").select("area_code", "imd_score"))
    imd = practices.merge(areas, on="area_code").set_index("practice_code")["imd_score"]
    pp = ds.execute(ds.table("practice_population"))
    pp["extract_date"] = pd.to_datetime(pp["extract_date"])
    pp = pp[pp["extract_date"] == pp["extract_date"].min()]
    band = pp["age_band"].str.extract(r"^(\d+)", expand=False).astype(int)
    tot = pp.groupby("practice_code")["persons"].sum()
    share = lambda age: pp[band >= age].groupby("practice_code")["persons"].sum().reindex(tot.index, fill_value=0) / tot  # noqa: E731
    keep = [c for c in ("area_code", "treated", "first_treated", "wave", "site") if c in panel.columns]
    flags = [c for c in panel.columns if c.startswith("in_")]
    out = panel[keep + flags].drop_duplicates("area_code").copy()
    out["area_name"] = out["area_code"]
    out["imd_score"] = out["area_code"].map(imd)
    out["share_65plus"] = out["area_code"].map(share(65))
    out["share_85plus"] = out["area_code"].map(share(85))
    return out.merge(baseline_outcome(panel, complete=complete_baseline), on="area_code",
                     how="left").reset_index(drop=True)


def practice_truth(truth: dict | None, ds) -> dict | None:
    """``truth.json`` with the area programmes' effects re-keyed by practice code (a practice's patients
    get its area's effects), so :func:`joinedup.impact.truth.programmed_effect` reads practice rows."""
    if truth is None:
        return None
    import copy

    practices = ds.execute(ds.table("practices").select("practice_code", "area_code"))
    of_area = practices.groupby("area_code")["practice_code"].apply(list).to_dict()
    out = copy.deepcopy(truth)
    for effect in out.get("effects", []):
        name = str(effect.get("name", ""))
        if name.startswith("pioneer"):
            effect["areas"] = sorted(p for a in effect.get("areas", []) for p in of_area.get(a, []))
        elif name == "vanguard":
            effect["start_dates"] = {p: d for a, d in effect.get("start_dates", {}).items()
                                     for p in of_area.get(a, [])}
    return out
