"""The eligibility rule of a scheme, written as data: a list of typed conditions checked month by month.

A condition is a small mapping, e.g. ``{field = "age", op = ">=", value = 65}``,
``{field = "emergency_admissions", months = 1, op = ">=", value = 1}`` (an emergency admission in the
month before) or ``{field = "risk_score", op = "top_share", value = 0.02}`` (the top 2%, by the risk
score, of the people who met the conditions listed before it). Everyone is checked on the first day
of a month with their history up to the end of the month before, so enrolled people and their
controls are judged on the same information (the risk-set rule of sequential matching, Thomas et al.
2020, as the Improvement Analytics Unit evaluations use it).

Fields: ``age`` (calendar year minus birth year), ``sex``, ``ltc_count``, ``imd_decile`` (of the area),
``risk_score`` (the :mod:`joinedup.economics.risk` model's 12-month probability), ``emergency_admissions``,
``bed_days`` and ``ae_attendances`` over the ``months`` before, ``practice_code`` and ``area_code``.
The canonical tables carry no care-home flag, so a care-home condition is refused with that reason.

Example:
    >>> c = parse_conditions([{"field": "age", "op": ">=", "value": 65}])
    >>> c[0].describe()
    'age >= 65'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC = ("age", "ltc_count", "imd_decile", "risk_score")
HISTORY = ("emergency_admissions", "bed_days", "ae_attendances")
CODES = ("sex", "practice_code", "area_code")
FIELDS = NUMERIC + HISTORY + CODES
COMPARE = (">=", ">", "<=", "<", "==", "!=")
OPS = {**{f: COMPARE + ("between",) for f in NUMERIC + HISTORY}, **{f: ("==", "!=", "in", "not_in") for f in CODES}}
OPS["risk_score"] = OPS["risk_score"] + ("top_share",)
OPS["practice_code"] = OPS["practice_code"] + ("in_scheme", "not_in_scheme")


class EligibilityError(ValueError):
    """A condition of the eligibility rule is malformed; the message names the condition and the key."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: object = None
    months: int | None = None

    def describe(self) -> str:
        window = f" in the {self.months} month(s) before" if self.months else ""
        if self.op == "top_share":
            return f"top {100 * float(self.value):g}% by {self.field}"
        if self.op in ("in_scheme", "not_in_scheme"):
            return f"{self.field} {'in' if self.op == 'in_scheme' else 'not in'} the scheme's practices"
        value = f"{self.value:g}" if isinstance(self.value, float) else self.value
        return f"{self.field}{window} {self.op} {value}"


def parse_conditions(items) -> list[Condition]:
    """Check and type each condition; raise :class:`EligibilityError` naming condition ``i`` and the problem.

    Example:
        >>> parse_conditions([{"field": "care_home", "op": "==", "value": False}])
        Traceback (most recent call last):
        ...
        joinedup.cohort.eligibility.EligibilityError: eligibility condition 1: field 'care_home' is not available: the canonical tables have no care-home flag (allowed fields: age, ltc_count, imd_decile, risk_score, emergency_admissions, bed_days, ae_attendances, sex, practice_code, area_code)
    """
    out = []
    for i, raw in enumerate(items, start=1):
        where = f"eligibility condition {i}"
        item = dict(raw) if hasattr(raw, "keys") else (raw.model_dump() if hasattr(raw, "model_dump") else None)
        if item is None:
            raise EligibilityError(f"{where}: expected a table like {{field = 'age', op = '>=', value = 65}}; got {raw!r}")
        item = {k: v for k, v in item.items() if v is not None}
        unknown = set(item) - {"field", "op", "value", "months"}
        if unknown:
            raise EligibilityError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: field, op, value, months)")
        field, op = item.get("field"), item.get("op")
        if field not in FIELDS:
            why = ": the canonical tables have no care-home flag" if field == "care_home" else ""
            raise EligibilityError(f"{where}: field {field!r} is not available{why} (allowed fields: {', '.join(FIELDS)})")
        if op not in OPS[field]:
            raise EligibilityError(f"{where}: op {op!r} is not allowed for {field} (allowed: {', '.join(OPS[field])})")
        value, months = item.get("value"), item.get("months")
        if field in HISTORY:
            if not (isinstance(months, int) and 1 <= months <= 36):
                raise EligibilityError(f"{where}: {field} needs months = 1..36 (the look-back window); got {months!r}")
        elif months is not None:
            raise EligibilityError(f"{where}: months applies only to {', '.join(HISTORY)}")
        value = _check_value(where, field, op, value)
        out.append(Condition(field, op, value, months))
    return out


def _check_value(where, field, op, value):
    if op in ("in_scheme", "not_in_scheme"):
        return None
    if op == "top_share":
        if not (isinstance(value, (int, float)) and 0 < value <= 1):
            raise EligibilityError(f"{where}: top_share needs a value in (0, 1] (0.02 = top 2%); got {value!r}")
        return float(value)
    if op == "between":
        ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
        if not ok or value[0] > value[1]:
            raise EligibilityError(f"{where}: between needs value = [low, high] with low <= high; got {value!r}")
        return tuple(float(v) for v in value)
    if op in ("in", "not_in"):
        if not (isinstance(value, (list, tuple)) and value):
            raise EligibilityError(f"{where}: {op} needs a non-empty list of values; got {value!r}")
        return tuple(str(v) for v in value)
    if field in CODES:
        if not isinstance(value, str):
            raise EligibilityError(f"{where}: {field} {op} needs a text value; got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EligibilityError(f"{where}: {field} {op} needs a number; got {value!r}")
    return float(value)


class Codes:
    """A text column factorized once (codes and labels), so membership tests on a million rows are integer lookups.

    Example:
        >>> Codes(np.array(["A", "B", "A"])).isin(["A"]).tolist()
        [True, False, True]
    """

    def __init__(self, values):
        self.codes, self.labels = pd.factorize(np.asarray(values).astype(str))

    def isin(self, values) -> np.ndarray:
        return np.isin(self.labels, np.asarray(list(values), dtype=str))[self.codes]


def _isin(x, values) -> np.ndarray:
    return x.isin(values) if isinstance(x, Codes) else np.isin(np.asarray(x).astype(str), np.asarray(list(values), dtype=str))


def _compare(x, op: str, value) -> np.ndarray:
    if op == "between":
        return (x >= value[0]) & (x <= value[1])
    if op in ("in", "not_in", "==", "!=") and (isinstance(x, Codes) or isinstance(value, (str, tuple))):
        inside = _isin(x, value if isinstance(value, tuple) else (value,))
        return inside if op in ("in", "==") else ~inside
    return {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less, "==": np.equal,
            "!=": np.not_equal}[op](x, value)


def top_share_mask(score: np.ndarray, among: np.ndarray, share: float) -> np.ndarray:
    """The top ``share`` (rounded, at least one) of ``score`` among rows flagged ``among``; ties by position.

    Example:
        >>> top_share_mask(np.array([.1, .9, .5, .7]), np.array([True, True, True, False]), 0.34).tolist()
        [False, True, False, False]
    """
    idx = np.flatnonzero(among)
    out = np.zeros(len(score), bool)
    if len(idx) == 0:
        return out
    k = max(1, int(round(share * len(idx))))
    order = np.argsort(-score[idx], kind="stable")[:k]
    out[idx[order]] = True
    return out


def eligible(conditions: list[Condition], features, scheme_practices=frozenset()) -> np.ndarray:
    """Who meets every condition (in order) in one month; ``features(field, months)`` gives arrays.

    People must also be alive on the first day of the month (``features('alive', None)``).
    """
    ok = features("alive", None).copy()
    for c in conditions:
        x = features(c.field, c.months)
        if c.op == "top_share":
            ok &= top_share_mask(x, ok, c.value)
        elif c.op in ("in_scheme", "not_in_scheme"):
            inside = _isin(x, sorted(scheme_practices))
            ok &= inside if c.op == "in_scheme" else ~inside
        else:
            ok &= _compare(x, c.op, c.value)
    return ok


def without_practice_rule(conditions: list[Condition]) -> list[Condition]:
    """The rule less its scheme-practice conditions (controls from other practices meet the rest)."""
    return [c for c in conditions if c.op not in ("in_scheme", "not_in_scheme")]
