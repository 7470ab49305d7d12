"""What to do with an unbalanced area or practice panel, chosen by the caller and always reported.

GP practices merge, open and close; local authority boundaries change; areas miss quarters. The
panel designs (TWFE, event study, synthetic control, synthetic DiD) take ``unbalanced=`` with

- ``"error"``: refuse, naming a unit and its missing periods and these options;
- ``"drop"``: keep only units observed in every period (the balanced sub-panel), listing the units
  dropped: the usual choice for synthetic control, whose weights need every period;
- ``"impute"``: add the missing unit-periods, the outcome (and other numeric columns named in
  ``interpolate``) linearly interpolated within unit over time (nearest value at the ends), other
  columns carried from the unit's nearest observed period; an ``imputed`` column marks them;
- ``"available"``: estimate on the rows that exist (TWFE and the event study handle this exactly
  through the within transformation; synthetic control cannot and refuses it).

Whatever is chosen, :class:`BalanceReport` says how many units were incomplete and what was done,
so nothing is dropped or filled silently.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": ["a", "a", "a", "b", "b"], "t": [1, 2, 3, 1, 3], "y": [1.0, 2, 3, 4, 8]})
    >>> out, rep = balance_panel(df, "u", "t", "impute", interpolate=["y"])
    >>> out[out.u == "b"].y.tolist(), rep.incomplete_units, rep.imputed_cells
    ([4.0, 6.0, 8.0], 1, 1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

CHOICES = ("error", "drop", "impute", "available")


@dataclass(frozen=True)
class BalanceReport:
    how: str
    n_units: int
    n_periods: int
    incomplete_units: int
    missing_cells: int
    dropped_units: tuple
    imputed_cells: int
    note: str

    def as_dict(self) -> dict:
        return asdict(self)


def balance_panel(data: pd.DataFrame, unit: str, time: str, how: str, interpolate=(),
                  allowed: tuple[str, ...] = CHOICES, design: str = "this design") -> tuple[pd.DataFrame, BalanceReport]:
    """Apply ``how`` to ``data`` (one row per unit and period at most) and report what was done."""
    if how not in allowed:
        raise ValueError(f"unbalanced must be one of {', '.join(map(repr, allowed))} for {design}; got {how!r}")
    for col in (unit, time):
        if col not in data.columns:
            raise ValueError(f"column {col!r} is not in the panel (columns: {list(data.columns)})")
        if data[col].isna().any():
            raise ValueError(f"column {col!r} has missing values")
    dup = data.duplicated([unit, time])
    if dup.any():
        row = data.loc[dup].iloc[0]
        raise ValueError(f"unit {row[unit]!r} has more than one row for {time} {row[time]!r}")
    periods = np.sort(data[time].unique())
    counts = data.groupby(unit, sort=True, observed=True)[time].size()
    short = counts[counts < len(periods)]
    missing = int((len(periods) - short).sum())
    base = dict(n_units=len(counts), n_periods=len(periods), incomplete_units=len(short), missing_cells=missing)
    if not len(short):
        return data, BalanceReport(how, **base, dropped_units=(), imputed_cells=0,
                                   note=f"balanced panel: {len(counts)} units x {len(periods)} periods")
    if how == "error":
        u = short.index[0]
        gap = [p.item() if isinstance(p, np.generic) else p
               for p in periods if p not in set(data.loc[data[unit] == u, time])]
        raise ValueError(f"unbalanced panel: unit {u!r} has no row for {time} {list(gap[:5])} ({len(short)} of "
                         f"{len(counts)} units incomplete, {missing} unit-periods missing); choose unbalanced="
                         f"{' / '.join(repr(c) for c in allowed if c != 'error')} for {design}")
    if how == "available":
        return data, BalanceReport(how, **base, dropped_units=(), imputed_cells=0,
                                   note=f"{len(short)} of {len(counts)} units miss {missing} unit-periods; "
                                        "estimated on the rows that exist")
    if how == "drop":
        kept = data[~data[unit].isin(short.index)]
        if kept[unit].nunique() < 2:
            raise ValueError(f"unbalanced='drop' leaves {kept[unit].nunique()} complete unit(s) of {len(counts)}; "
                             "try unbalanced='impute'")
        return kept.reset_index(drop=True), BalanceReport(
            how, **base, dropped_units=tuple(u.item() if isinstance(u, np.generic) else u for u in short.index),
            imputed_cells=0,
            note=f"dropped {len(short)} incomplete unit(s) of {len(counts)} ({missing} unit-periods missing); "
                 f"e.g. {[u.item() if isinstance(u, np.generic) else u for u in short.index[:3]]}")
    return _impute(data, unit, time, periods, list(interpolate), base, len(short))


def _impute(data, unit, time, periods, interpolate, base, n_short):
    full = pd.MultiIndex.from_product([np.sort(data[unit].unique()), periods], names=[unit, time])
    wide = data.set_index([unit, time]).reindex(full)
    wide["imputed"] = ~full.isin(pd.MultiIndex.from_frame(data[[unit, time]]))
    out = wide.reset_index()
    t_num = pd.to_numeric(out[time], errors="coerce")
    for col in [c for c in out.columns if c not in (unit, time, "imputed")]:
        grouped = out.groupby(unit, sort=False)[col]
        if col in interpolate:
            if not pd.api.types.is_numeric_dtype(out[col]):
                raise ValueError(f"unbalanced='impute': column {col!r} must be numeric to interpolate")
            if t_num.isna().any():
                raise ValueError(f"unbalanced='impute': column {time!r} must be numeric to interpolate over time")
            out[col] = out.groupby(unit, sort=False, group_keys=False).apply(
                lambda g, c=col: pd.Series(np.interp(t_num[g.index], t_num[g.index][g[c].notna()],
                                                     g[c][g[c].notna()]), index=g.index), include_groups=False)
        else:
            out[col] = grouped.transform(lambda s: s.ffill().bfill())
            if out[col].notna().all():  # reindexing made bool/int columns object or float: restore them
                out[col] = out[col].astype(data[col].dtype)
    filled = int(out["imputed"].sum())
    return out, BalanceReport("impute", **base, dropped_units=(), imputed_cells=filled,
                              note=f"imputed {filled} missing unit-periods of {n_short} incomplete unit(s): "
                                   f"{', '.join(interpolate) or 'no column'} interpolated linearly within unit "
                                   "(nearest value at the ends), other columns carried from the nearest period; "
                                   "rows marked in column 'imputed'")
