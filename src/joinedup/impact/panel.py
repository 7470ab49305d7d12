"""The area x period panel that impact estimators read, built from indicator outputs.

One row per area and period of one indicator: the outcome ``y`` on the rate or log-rate scale (a
proportion: percentage points, or empirical log odds), the events (``numerator``), the population
(the denominator, used as the regression ``weight``), the integer period index ``t`` (1..T) and the
treatment timing from the programme table. A proportion's period with no one eligible in an area
has no row: missing, never zero.

Treatment timing follows R ``did``'s ``gname``: ``first_treated`` is the index of the first period
an area is treated (0 for areas never treated inside the panel). The first treated period is the
one that *contains* the site's start date: a period with any exposure counts as treated, so no
treated months leak into the pre-period (a Pioneer starting 1 November 2013 is first treated in the
quarter starting 1 October 2013). A programme start after the last period gives ``first_treated =
0`` with ``programme_area`` still True, so the user can see (and drop) such areas.

Example:
    >>> from joinedup.indicators import compute_indicators                              # doctest: +SKIP
    >>> table = compute_indicators(ds, ["emergency_admissions"], ["quarter"])          # doctest: +SKIP
    >>> panel = area_panel(table, ds, "emergency_admissions", scale="log")             # doctest: +SKIP
    >>> panel.columns[:5].tolist()                                                     # doctest: +SKIP
    ['area_code', 'period_start', 't', 'y', 'numerator']
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

Scale = Literal["rate", "log", "logit"]  # logit: proportions' log odds
Outcome = Literal["crude", "value"]
Zeros = Literal["error", "drop_area"]
PROGRAMME_COLUMNS = ("programme", "site", "area_code", "wave", "start_date")
INDICATOR_COLUMNS = ("indicator", "period", "level", "area_code", "period_start", "period_end", "numerator",
                     "denominator", "value")


def _need(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing} (it has: {list(frame.columns)})")


def _programmes(ds_or_programmes) -> pd.DataFrame:
    """The programme table from a Dataset (anything with ``.table``/``.execute``) or a DataFrame."""
    if isinstance(ds_or_programmes, pd.DataFrame):
        frame = ds_or_programmes.copy()
    elif hasattr(ds_or_programmes, "table") and hasattr(ds_or_programmes, "execute"):
        frame = ds_or_programmes.execute(ds_or_programmes.table("programmes"))
    else:
        raise ValueError("ds_or_programmes must be a joinedup Dataset or the programmes table as a "
                         f"DataFrame; got {type(ds_or_programmes).__name__}")
    _need(frame, PROGRAMME_COLUMNS, "the programmes table")
    frame["start_date"] = pd.to_datetime(frame["start_date"])
    return frame


def _first_period(starts: pd.Series, period_starts: np.ndarray, last_end: np.datetime64) -> np.ndarray:
    """Index (1..T) of the period containing each start date; 1 if before the panel, 0 if after it."""
    dates = starts.to_numpy(dtype="datetime64[ns]")
    # period_starts are sorted; the containing period is the last one starting on or before the date.
    idx = np.maximum(np.searchsorted(period_starts, dates, side="right"), 1)  # before: treated from t=1
    return np.where(dates > last_end, 0, idx)


def area_panel(indicators: pd.DataFrame, ds_or_programmes, indicator_id: str, period: str = "quarter",
               programme: str = "pioneer", exclude: Sequence[str] = ("vanguard",),
               scale: Scale = "rate", outcome: Outcome = "crude", zeros: Zeros = "error") -> pd.DataFrame:
    """Area x period panel of one indicator with treatment timing from the programme table.

    ``exclude`` drops every area belonging to those programmes (co-interventions such as Vanguards,
    whose own effect would otherwise bias the comparison); with ``exclude=()`` the areas are kept
    and flagged in ``in_<programme>`` columns. ``scale="log"`` gives log rates (areas x periods with
    no events cannot be logged and raise an error naming them); ``scale="logit"`` gives a
    proportion's empirical log odds (:func:`empirical_logit`, defined at 0% and 100%). A proportion's
    area-period with no one eligible (no discharges in a quarter) has no value: it is left out of the
    panel (missing, not zero), counted in ``attrs["missing_cells"]`` and its area listed in
    ``attrs["incomplete_areas"]``. ``outcome="crude"`` (default) uses
    ``numerator / denominator`` times the indicator's multiplier: standardised values (DSRs) are not
    given below 10 events, which small areas hit, and the area fixed effects absorb a stable age
    structure anyway; ``outcome="value"`` uses the indicator's published value. On the log scale a
    period with no events stops with an error naming it, unless ``zeros="drop_area"``: then the
    areas with any such period are dropped, listed in ``attrs["dropped_areas"]`` and a warning.

    Returns columns ``area_code, period_start, t, y, numerator, population, weight, first_treated,
    first_treated_start, wave, site, programme_area, treated, post, treated_post, in_<programme>...``;
    ``treated`` marks areas first treated inside the panel, ``post`` periods at or after their
    ``first_treated``, ``treated_post`` the product. Attributes: ``scale``, ``indicator``, ``period``.

    Example:
        >>> panel = area_panel(table, ds, "emergency_admissions", scale="log")        # doctest: +SKIP
        >>> panel.groupby("treated").area_code.nunique()                               # doctest: +SKIP
    """
    if scale not in get_args(Scale):
        raise ValueError(f"scale must be one of {', '.join(map(repr, get_args(Scale)))}; got {scale!r}")
    _need(indicators, INDICATOR_COLUMNS, "the indicator table")
    rows = indicators[(indicators["indicator"] == indicator_id) & (indicators["period"] == period)
                      & (indicators["level"] == "area")]
    if rows.empty:
        have = sorted(indicators.loc[indicators["level"] == "area", "indicator"].unique())
        raise ValueError(f"no area rows for indicator {indicator_id!r} and period {period!r} in the "
                         f"indicator table (area-level indicators there: {have})")
    progs = _programmes(ds_or_programmes)
    if programme not in set(progs["programme"]):
        raise ValueError(f"programme {programme!r} is not in the programmes table "
                         f"(it has: {sorted(progs['programme'].unique())})")
    panel = pd.DataFrame({
        "area_code": rows["area_code"].astype(str).to_numpy(),
        "period_start": pd.to_datetime(rows["period_start"]).to_numpy(),
        "numerator": rows["numerator"].astype(float).to_numpy(),
        "population": rows["denominator"].astype(float).to_numpy(),
        "value": rows["value"].astype(float).to_numpy(),
    })
    starts = np.sort(panel["period_start"].unique())
    last_end = pd.to_datetime(rows["period_end"]).max().to_datetime64()
    from joinedup.indicators.catalogue import CATALOGUE

    if indicator_id in CATALOGUE and CATALOGUE[indicator_id].method == "proportion":
        panel = panel[panel["population"] > 0]  # no one eligible: the cell is missing, not 0%
    elif scale == "logit":
        raise ValueError(f"scale='logit' needs a proportion; indicator {indicator_id!r} is not one "
                         "(use scale='log' or 'rate')")
    panel["t"] = np.searchsorted(starts, panel["period_start"].to_numpy()) + 1
    # Co-interventions: flag, then drop the excluded programmes' areas.
    for other in sorted(set(progs["programme"]) - {programme}):
        panel[f"in_{other}"] = panel["area_code"].isin(progs.loc[progs["programme"] == other, "area_code"])
    unknown = [e for e in exclude if e not in set(progs["programme"])]
    if unknown:
        raise ValueError(f"exclude names programme(s) {unknown} not in the programmes table "
                         f"(it has: {sorted(progs['programme'].unique())})")
    if programme in exclude:
        raise ValueError(f"exclude must not name the programme under study ({programme!r})")
    for other in exclude:
        panel = panel[~panel[f"in_{other}"]]
    _add_treatment(panel, progs[progs["programme"] == programme], starts, last_end)
    if not panel["treated"].any():
        raise ValueError(f"no {programme} areas treated inside the panel's periods are left "
                         f"(after excluding {list(exclude)})")
    if panel["treated"].all():
        raise ValueError(f"no comparison (never-treated) areas left after excluding {list(exclude)}")
    if outcome not in get_args(Outcome):
        raise ValueError(f"outcome must be one of {', '.join(map(repr, get_args(Outcome)))}; got {outcome!r}")
    if outcome == "crude":
        from joinedup.indicators.catalogue import CATALOGUE

        mult = CATALOGUE[indicator_id].multiplier if indicator_id in CATALOGUE else 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            panel["value"] = panel["numerator"] / panel["population"] * mult
    if zeros not in get_args(Zeros):
        raise ValueError(f"zeros must be one of {', '.join(map(repr, get_args(Zeros)))}; got {zeros!r}")
    dropped: list[str] = []
    if scale == "log" and zeros == "drop_area":
        dropped = sorted(panel.loc[panel["value"] == 0, "area_code"].unique())
        if dropped:
            warnings.warn(f"area_panel: dropped {len(dropped)} area(s) with a period of no events "
                          f"(log scale): {dropped}", stacklevel=2)
            panel = panel[~panel["area_code"].isin(dropped)]
    if not panel["treated"].any() or panel["treated"].all():
        raise ValueError(f"no {'treated' if not panel['treated'].any() else 'comparison'} areas left "
                         f"after dropping areas with periods of no events: {dropped}")
    panel["y"] = _outcome(panel, scale)
    panel["weight"] = panel["population"]
    # Cells absent from the indicator table (a proportion with no eligible events in the period: no
    # discharges in a quarter) stay missing, never zero; the designs use the cells that exist.
    cells = panel.groupby("area_code")["t"].nunique()
    incomplete = cells[cells < len(starts)]
    first = ["area_code", "period_start", "t", "y", "numerator", "population", "weight", "first_treated",
             "first_treated_start", "wave", "site", "programme_area", "treated", "post", "treated_post"]
    panel = panel[first + [c for c in panel.columns if c.startswith("in_")]]
    panel = panel.sort_values(["area_code", "t"]).reset_index(drop=True)
    panel.attrs.update(scale=scale, outcome=outcome, dropped_areas=dropped, indicator=indicator_id, period=period, programme=programme,
                       exclude=tuple(exclude), missing_cells=int((len(starts) - incomplete).sum()),
                       incomplete_areas=sorted(incomplete.index))
    return panel


def _add_treatment(panel: pd.DataFrame, progs: pd.DataFrame, starts: np.ndarray, last_end) -> None:
    """first_treated, wave, site and the treated/post flags, in place (earliest start if several)."""
    first = progs.sort_values(["start_date", "site"]).drop_duplicates("area_code").set_index("area_code")
    index = pd.Series(_first_period(first["start_date"], starts, last_end), index=first.index)
    code = panel["area_code"]
    panel["programme_area"] = code.isin(first.index)
    panel["first_treated"] = code.map(index).fillna(0).astype(int)
    starts_by_t = dict(zip(range(1, len(starts) + 1), pd.to_datetime(starts)))
    panel["first_treated_start"] = panel["first_treated"].map(starts_by_t)  # NaT for never treated
    panel["wave"] = code.map(first["wave"]).fillna(0).astype(int)
    panel["site"] = code.map(first["site"])
    panel["treated"] = panel["first_treated"] > 0
    panel["post"] = panel["treated"] & (panel["t"] >= panel["first_treated"])
    panel["treated_post"] = panel["post"].astype(float)


def _outcome(panel: pd.DataFrame, scale: str) -> pd.Series:
    """The indicator's value (its own multiplier) on the rate or log scale, refusing what cannot be."""
    bad = panel["value"].isna() | ~np.isfinite(panel["value"]) | (panel["population"] <= 0)
    if bad.any():
        row = panel[bad].iloc[0]
        raise ValueError(f"{int(bad.sum())} area-period(s) have no rate (no population, or a value not "
                         f"given for few events), e.g. area "
                         f"{row['area_code']!r} period {row['period_start'].date()}")
    if scale == "rate":
        return panel["value"]
    if scale == "logit":
        over = panel["numerator"] > panel["population"]
        if over.any():
            row = panel[over].iloc[0]
            raise ValueError(f"scale='logit' needs a proportion: {int(over.sum())} area-period(s) have more events "
                             f"than eligible people, e.g. area {row['area_code']!r} period {row['period_start'].date()}")
        return empirical_logit(panel["numerator"], panel["population"])
    zero = panel["value"] <= 0
    if zero.any():
        row = panel[zero].iloc[0]
        raise ValueError(f"scale='log' needs positive rates; {int(zero.sum())} area-period(s) have none, "
                         f"e.g. area {row['area_code']!r} period {row['period_start'].date()} "
                         "(use zeros='drop_area', scale='rate' or a longer period)")
    return np.log(panel["value"])


def empirical_logit(events, eligible):
    """Log odds ``log((x + 0.5) / (n - x + 0.5))``: Cox's empirical logistic transform (Cox and Snell
    1989, Analysis of Binary Data, section 2.1.6), defined when x is 0 or n, as small areas' quarterly
    proportions often are, and nearly unbiased for the log odds.

    >>> float(empirical_logit(0, 10).round(4)), float(empirical_logit(5, 10))
    (-3.0445, 0.0)
    """
    return np.log((events + 0.5) / (eligible - events + 0.5))


def ramp_excluded(panel: pd.DataFrame, periods: int) -> pd.DataFrame:
    """The panel without each treated area's first ``periods`` treated periods (an effect's ramp-up).

    With a programme whose effect builds up over a year, a TWFE estimate then measures the full
    effect rather than the average over ramp and plateau. The result is unbalanced, which
    :func:`joinedup.impact.twfe.twfe_did` accepts.

    Example:
        >>> p = pd.DataFrame({"area_code": ["a"] * 4 + ["b"] * 4, "t": [1, 2, 3, 4] * 2,
        ...                   "first_treated": [2] * 4 + [0] * 4})
        >>> ramp_excluded(p, 2).groupby("area_code").size().tolist()
        [2, 4]
    """
    _need(panel, ["t", "first_treated"], "the panel")
    ft = panel["first_treated"]
    in_ramp = (ft > 0) & (panel["t"] >= ft) & (panel["t"] < ft + periods)
    out = panel[~in_ramp].reset_index(drop=True)
    out.attrs.update(panel.attrs, ramp_excluded=periods)
    return out
