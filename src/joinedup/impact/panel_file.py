"""``area_panel.csv``: the impact designs from published aggregates (unit x period numerators and
denominators), with no person-level data.

Columns (documented in docs/area-panel.md; extra columns are ignored):

==============  ==========================================================================
``unit_code``    ONS code of the area (or ODS code of the practice, with ``unit = "practice"``)
``period_start`` first day of the period, YYYY-MM-DD
``period_end``   last day of the period, YYYY-MM-DD (a month, quarter or financial year, as
                 ``[impact] period`` says)
``indicator``    catalogue id of the indicator (rows of other indicators are skipped, counted)
``numerator``    events in the unit and period (a whole or decimal number >= 0; blank = suppressed)
``denominator``  population (or person-days) of the unit in the period, > 0
optional         ``imd_score``, ``share_65plus``, ``share_85plus``: the unit's covariates for
                 matching and balance, one value per unit (repeated on each of its rows; blank
                 where not known)
==============  ==========================================================================

A row that cannot be used goes to ``OUT/rejects/area_panel.csv`` with file, row (1 = first data row),
field, value and reason; a file that cannot be read at all (missing file or column) stops with an
error naming the file and column. A full ``joinedup run`` writes this file as
``tables/impact_panel.csv``; fed back, it gives the same estimates (tests/test_area_panel.py) when it
was written without disclosure control: with control on (the default), counts of 1-7 are blank and the
others rounded to 5, as NHS Digital publishes HES, so estimates from it differ a little, as they would
from any published aggregate.

Example:
    >>> import io
    >>> text = ("unit_code,period_start,period_end,indicator,numerator,denominator\\n"
    ...         "E06000001,2014-04-01,2014-06-30,emergency_admissions,120,93000\\n")
    >>> read = read_area_panel(io.StringIO(text), "emergency_admissions", "quarter")
    >>> read.table[["area_code", "numerator", "denominator"]].values.tolist()
    [['E06000001', 120.0, 93000.0]]
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REQUIRED = ("unit_code", "period_start", "period_end", "indicator", "numerator", "denominator")
FILE_COVARIATES = ("imd_score", "share_65plus", "share_85plus")
# Days a period may span, by [impact] period (a quarter is 90-92 days, a financial year 365-366).
PERIOD_DAYS = {"month": (28, 31), "quarter": (90, 92), "financial_year": (365, 366)}


class PanelFileError(ValueError):
    """An area panel file that cannot be read as a whole (names the file and what is missing)."""


@dataclass
class PanelRead:
    """The rows of one indicator as an indicator table, unit covariates, rejects and counts."""

    table: pd.DataFrame
    covariates: pd.DataFrame
    rejects: pd.DataFrame
    read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rejected = self.rejects["row"].nunique() if len(self.rejects) else 0
        lines = [f"area panel: read {self.read:,} rows, used {len(self.table):,}, rejected {rejected:,}"]
        lines += [f"  skipped {n:,}: {why}" for why, n in self.skipped.items() if n]
        for reason, n in self.rejects.groupby("reason").size().items():
            lines.append(f"  rejected {n:,}: {reason}")
        return "\n".join(lines)


def _number(text: pd.Series) -> pd.Series:
    return pd.to_numeric(text.str.strip().replace("", np.nan), errors="coerce")


def read_area_panel(path, indicator: str, period: str) -> PanelRead:
    """Read ``path`` (a CSV path or text buffer): the ``indicator`` rows as the indicator table that
    :func:`joinedup.impact.panel.area_panel` reads, each row checked (module docstring)."""
    name = str(getattr(path, "name", path))
    if isinstance(path, str | Path) and not Path(path).is_file():
        raise PanelFileError(f"area panel file {name!r} does not exist")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise PanelFileError(f"cannot read {name} as CSV: {exc}") from None
    raw.columns = [c.strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise PanelFileError(f"{name}: column(s) {', '.join(missing)} missing (columns found: "
                             f"{', '.join(raw.columns)}); see docs/area-panel.md")
    if period not in PERIOD_DAYS:
        raise PanelFileError(f"period must be one of {', '.join(PERIOD_DAYS)}; got {period!r}")
    raw["__row"] = np.arange(1, len(raw) + 1)
    out = PanelRead(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), read=len(raw))
    other = raw["indicator"].str.strip() != indicator
    out.skipped[f"rows of indicators other than {indicator!r}"] = int(other.sum())
    rows = raw[~other].copy()
    unit = rows["unit_code"].str.strip().str.upper()
    start = pd.to_datetime(rows["period_start"].str.strip(), format="%Y-%m-%d", errors="coerce")
    end = pd.to_datetime(rows["period_end"].str.strip(), format="%Y-%m-%d", errors="coerce")
    num, den = _number(rows["numerator"]), _number(rows["denominator"])
    low, high = PERIOD_DAYS[period]
    days = (end - start).dt.days + 1
    checks = [
        ("unit_code", unit == "", "no unit code"),
        ("period_start", start.isna(), "period start is not a date (YYYY-MM-DD)"),
        ("period_end", end.isna(), "period end is not a date (YYYY-MM-DD)"),
        ("period_end", start.notna() & end.notna() & ~days.between(low, high),
         f"period is not one {period} long ({low}-{high} days; [impact] period)"),
        ("numerator", num.isna(), "numerator is blank (suppressed) or not a number"),
        ("numerator", num < 0, "numerator is negative"),
        ("denominator", den.isna() | (den <= 0), "denominator is not a number > 0"),
    ]
    covs = [c for c in FILE_COVARIATES if c in rows.columns]
    cov_values = {c: _number(rows[c]) for c in covs}
    for c in covs:  # blank: not known for this unit (that covariate is then left out of matching)
        checks.append((c, cov_values[c].isna() & rows[c].str.strip().ne(""), f"{c} is not a number"))
    dup = pd.Series(False, index=rows.index)
    ok_key = unit.ne("") & start.notna()
    dup[ok_key] = pd.DataFrame({"u": unit, "s": start})[ok_key].duplicated(keep="first")
    checks.append(("period_start", dup, "duplicate row for this unit and period (the first is kept)"))
    reject_rows, bad = [], pd.Series(False, index=rows.index)
    for column, mask, reason in checks:
        mask = mask.fillna(False).astype(bool)
        bad |= mask
        for idx in rows.index[mask]:
            reject_rows.append({"source_file": name, "row": int(rows.at[idx, "__row"]), "field": column,
                                "value": rows.at[idx, column], "reason": reason})
    out.rejects = pd.DataFrame(reject_rows, columns=["source_file", "row", "field", "value", "reason"])
    keep = ~bad
    from joinedup.indicators.catalogue import CATALOGUE

    mult = CATALOGUE[indicator].multiplier if indicator in CATALOGUE else 1.0
    out.table = pd.DataFrame({
        "indicator": indicator, "period": period, "level": "area", "area_code": unit[keep],
        "period_start": start[keep], "period_end": end[keep], "numerator": num[keep].astype(float),
        "denominator": den[keep].astype(float), "value": (num[keep] / den[keep] * mult).astype(float),
    }).reset_index(drop=True)
    cov = pd.DataFrame({"area_code": unit[keep], **{c: cov_values[c][keep] for c in covs}})
    varying = [c for c in covs if (cov.groupby("area_code")[c].nunique() > 1).any()]
    if varying:
        u = cov.groupby("area_code")[varying[0]].nunique()
        raise PanelFileError(f"{name}: {varying[0]} must be one value per unit; unit {u[u > 1].index[0]!r} "
                             "has several")
    out.covariates = cov.drop_duplicates("area_code").reset_index(drop=True)
    return out


def write_rejects(read: PanelRead, out_dir: Path) -> Path | None:
    """``OUT/rejects/area_panel.csv`` (source_file, row, field, value, reason), or None if none."""
    path = Path(out_dir) / "rejects" / "area_panel.csv"
    if read.rejects.empty:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    read.rejects.to_csv(path, index=False, quoting=csv.QUOTE_MINIMAL)
    return path


def panel_file_frame(indicators: pd.DataFrame, indicator: str, period: str,
                     covariates: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ``area_panel.csv`` columns from an indicator table (its area rows of one indicator and
    period), with the units' covariates where given (``area_code`` + :data:`FILE_COVARIATES`).

    Example:
        >>> t = pd.DataFrame({"indicator": ["x"], "period": ["quarter"], "level": ["area"],
        ...                   "area_code": ["E1"], "period_start": [pd.Timestamp("2014-04-01")],
        ...                   "period_end": [pd.Timestamp("2014-06-30")], "numerator": [3.0],
        ...                   "denominator": [100.0], "value": [3.0]})
        >>> panel_file_frame(t, "x", "quarter").columns.tolist()
        ['unit_code', 'period_start', 'period_end', 'indicator', 'numerator', 'denominator']
    """
    rows = indicators[(indicators["indicator"] == indicator) & (indicators["period"] == period)
                      & (indicators["level"] == "area")]
    frame = pd.DataFrame({
        "unit_code": rows["area_code"].astype(str).to_numpy(),
        "period_start": pd.to_datetime(rows["period_start"]).dt.date.to_numpy(),
        "period_end": pd.to_datetime(rows["period_end"]).dt.date.to_numpy(),
        "indicator": indicator, "numerator": rows["numerator"].astype(float).to_numpy(),
        "denominator": rows["denominator"].astype(float).to_numpy()})
    if covariates is not None:
        have = [c for c in FILE_COVARIATES if c in covariates.columns]
        frame = frame.merge(covariates[["area_code", *have]].rename(columns={"area_code": "unit_code"}),
                            on="unit_code", how="left")
    return frame.sort_values(["unit_code", "period_start"]).reset_index(drop=True)
