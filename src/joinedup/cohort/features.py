"""What is known about everyone on the first day of a month: the inputs of eligibility and matching.

Windows of monthly history are read from cumulative sums (one pass over the panel, cached), so a
month's features for a million people are a few vectorised gathers. The risk score is the fitted
:class:`joinedup.economics.risk.RiskModel` applied to the 12 months before (its published predictors:
emergency admissions, bed days, A&E attendances, age, sex, long-term conditions).

Example:
    >>> f = MonthFeatures(panel, risk_params=rm.params)                          # doctest: +SKIP
    >>> f.at(24)("emergency_admissions", 1).sum()                                 # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from joinedup.cohort.panel import Panel

RISK_TERMS = ("const", "emergency_admissions", "bed_days", "ae_attendances", "age", "male", "ltc_count")


class MonthFeatures:
    """Feature arrays of every person in the panel at a month; ``at(m)`` is a ``features(field, months)``."""

    def __init__(self, panel: Panel, risk_params: pd.Series | None = None, risk_scores: np.ndarray | None = None):
        self.panel = panel
        self.params = None if risk_params is None else np.array([float(risk_params[t]) for t in RISK_TERMS])
        self.risk_scores = risk_scores  # people x months, given directly (benchmarks, external scores)
        self._cum: dict[str, np.ndarray] = {}
        self._codes: dict = {}
        p = panel.persons
        self.birth_year = p["birth_year"].to_numpy(dtype=np.int64)
        self.male = (p["sex"].to_numpy() == "M").astype(float)
        self.ltc = p["ltc_count"].to_numpy(dtype=float)
        self.imd = p["imd_decile"].to_numpy(dtype=float)
        self.death_month = p["death_month"].to_numpy(dtype=np.int64)

    def codes(self, field: str):
        """A text column of persons (sex, practice_code, area_code) factorized once."""
        from joinedup.cohort.eligibility import Codes

        if field not in self._codes:
            self._codes[field] = Codes(self.panel.persons[field].to_numpy())
        return self._codes[field]

    def cumulative(self, name: str) -> np.ndarray:
        if name not in self._cum:
            values = {"emergency_admissions": self.panel.admissions, "bed_days": self.panel.bed_days,
                      "ae_attendances": self.panel.ae, "cost": self.panel.cost}[name]
            dtype = np.float64 if name == "cost" else np.int32
            # column-major: a risk set reads one month's column for many people, contiguous this way
            cum = np.zeros((values.shape[0], values.shape[1] + 1), dtype=dtype, order="F")
            np.cumsum(values, axis=1, dtype=dtype, out=cum[:, 1:])
            self._cum[name] = cum
        return self._cum[name]

    def window(self, name: str, start, stop, rows=None) -> np.ndarray:
        """Sum of ``name`` over months [start, stop) (clipped to the panel), for ``rows`` (default all)."""
        cum = self.cumulative(name)
        n = self.panel.n_months
        lo, hi = np.clip(start, 0, n), np.clip(stop, 0, n)
        if rows is None:
            return (cum[:, hi] - cum[:, lo]).astype(float)
        return (cum[rows, hi] - cum[rows, lo]).astype(float)

    def age(self, m: int) -> np.ndarray:
        return (self.panel.month_start(m).year - self.birth_year).astype(float)

    def risk(self, m: int, rows=None) -> np.ndarray:
        if self.risk_scores is not None:
            s = self.risk_scores[:, m]
            return s if rows is None else s[rows]
        if self.params is None:
            raise ValueError("a risk_score condition or covariate needs a fitted risk model (risk_params)")
        r = slice(None) if rows is None else rows
        x = np.column_stack([np.ones(len(self.birth_year[r])), self.window("emergency_admissions", m - 12, m, rows),
                             self.window("bed_days", m - 12, m, rows), self.window("ae_attendances", m - 12, m, rows),
                             self.age(m)[r], self.male[r], self.ltc[r]])
        return 1 / (1 + np.exp(-(x @ self.params)))

    def at(self, m: int):
        """The ``features(field, months)`` function of :func:`joinedup.cohort.eligibility.eligible` at month m."""
        cache: dict = {}

        def features(field: str, months: int | None):
            key = (field, months)
            if key in cache:
                return cache[key]
            if field == "alive":
                out = self.death_month >= m
            elif field == "age":
                out = self.age(m)
            elif field == "ltc_count":
                out = self.ltc
            elif field == "imd_decile":
                out = self.imd
            elif field == "risk_score":
                out = self.risk(m)
            elif field in ("emergency_admissions", "bed_days", "ae_attendances"):
                out = self.window(field, m - months, m)
            else:
                out = self.codes(field)
            cache[key] = out
            return out

        return features
