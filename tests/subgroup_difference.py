"""A programmed difference between subgroups on simulated England, for the by-subgroup designs' tests."""

import datetime as dt

import numpy as np
import pandas as pd


def with_difference(table: pd.DataFrame, programmes: pd.DataFrame, group: str, d: float) -> pd.DataFrame:
    """``table`` (``indicator_breakdowns``) with ``group``'s events in Pioneer areas from their start's
    financial year times exp(d): the group's log-rate effect moves by exactly ``d``."""
    pioneer = programmes[programmes["programme"] == "pioneer"]
    start = pd.to_datetime(pioneer.set_index("area_code")["start_date"])
    fy = start.map(lambda s: dt.date(s.year if s.month >= 4 else s.year - 1, 4, 1))
    out = table.copy()
    rows = (out["group"] == group) & out["unit"].isin(fy.index)
    rows &= pd.to_datetime(out["period_start"]) >= pd.to_datetime(out["unit"].map(fy))
    out.loc[rows, "numerator"] *= np.exp(d)
    return out
