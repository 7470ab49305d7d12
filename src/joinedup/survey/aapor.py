"""Final dispositions and response rates in AAPOR terms (Standard Definitions, 10th edition).

Each invitation (one panelist in one wave) ends in one disposition:

* ``complete`` (AAPOR I) and ``partial`` (P): an interview;
* ``refusal`` (R, including a break-off below the partial threshold and an unsubscribe) and
  ``non_contact`` (NC: invited, never answered): eligible non-interviews;
* ``ineligible``: not eligible (left post, bounced address of someone who has left, duplicate) and
  out of the denominator.

Everyone on the roster is known to be eligible or not, so there is no unknown-eligibility group (UH,
UO) and the estimate *e* of AAPOR's RR3/RR4 is not needed:

    RR1 = I / (I + P + R + NC)          RR2 = (I + P) / (I + P + R + NC)

Example:
    >>> f = pd.DataFrame({"wave": [1, 1, 1, 1], "disposition": ["complete", "partial", "refusal", "ineligible"]})
    >>> response_rates(f, ["wave"])[["invited", "eligible", "rr1", "rr2"]].to_dict("records")
    [{'invited': 4, 'eligible': 3, 'rr1': 0.3333333333333333, 'rr2': 0.6666666666666666}]
"""

from __future__ import annotations

from typing import Literal, get_args

import pandas as pd

Disposition = Literal["complete", "partial", "refusal", "non_contact", "ineligible"]
DISPOSITIONS: tuple[str, ...] = get_args(Disposition)
ELIGIBLE: tuple[str, ...] = ("complete", "partial", "refusal", "non_contact")


def check_dispositions(frame: pd.DataFrame, column: str = "disposition", what: str = "invitations") -> None:
    """Raise a ValueError naming the rows whose disposition is not one of :data:`DISPOSITIONS`."""
    if column not in frame.columns:
        raise ValueError(f"{what} has no column {column!r} (it has: {', '.join(map(str, frame.columns))})")
    bad = frame[~frame[column].isin(DISPOSITIONS)]
    if len(bad):
        rows = ", ".join(f"row {i + 2}: {v!r}" for i, v in zip(bad.index[:5], bad[column].iloc[:5]))
        raise ValueError(f"{what}: {len(bad)} disposition(s) not among {', '.join(DISPOSITIONS)} ({rows})")


def response_rates(frame: pd.DataFrame, by: list[str] | tuple[str, ...] = ("wave",)) -> pd.DataFrame:
    """Counts by disposition and RR1/RR2 on the eligible denominator, one row per group of ``by``.

    Columns: ``by``..., ``invited``, one column per disposition, ``eligible``, ``rr1``, ``rr2``
    (NaN where nobody eligible was invited). Groups keep their order of first appearance sorted.

    Example:
        >>> f = pd.DataFrame({"wave": [1, 2], "disposition": ["complete", "non_contact"]})
        >>> response_rates(f).rr1.tolist()
        [1.0, 0.0]
    """
    check_dispositions(frame)
    by = list(by)
    counts = (pd.crosstab([frame[c] for c in by], frame["disposition"]) if by
              else frame["disposition"].value_counts().to_frame().T)
    counts = counts.reindex(columns=list(DISPOSITIONS), fill_value=0)
    counts.columns.name = None
    out = counts.reset_index() if by else counts.reset_index(drop=True)
    out.insert(len(by), "invited", counts[list(DISPOSITIONS)].sum(axis=1).to_numpy())
    out["eligible"] = out[list(ELIGIBLE)].sum(axis=1)
    eligible = out["eligible"].where(out["eligible"] > 0)
    out["rr1"] = out["complete"] / eligible
    out["rr2"] = (out["complete"] + out["partial"]) / eligible
    return out
