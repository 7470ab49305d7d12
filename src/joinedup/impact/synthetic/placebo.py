"""Placebo-in-space inference for synthetic control (Abadie, Diamond & Hainmueller 2010).

Each donor in turn is treated as if it had been treated, with the other donors (never the treated
unit) as its pool; the treated unit's post/pre MSPE ratio is ranked among all of them and the
permutation p-value is rank / (placebos kept + 1). An optional pre-fit filter drops placebos whose
pre-period MSPE exceeds ``prefit_filter`` times the treated unit's (ADH use 20, 5 and 2).

Several treated units may share one call: placebo fits depend only on the donor pool and the
treatment time, so they are fitted once per distinct treatment time and shared by every treated
unit treated then (the Pioneers' two waves need two placebo sets, not 25).

Example:
    >>> import pandas as pd
    >>> prop99 = pd.read_csv("california_prop99.csv", sep=";")                # doctest: +SKIP
    >>> res = placebo_in_space(prop99, "State", "Year", "PacksPerCapita", "California", 1989,
    ...                        v="outcome")                                   # doctest: +SKIP
    >>> res.rank, round(res.p_value, 4)                                        # doctest: +SKIP
    (1, 0.0256)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from joinedup.impact.synthetic import _charts
from joinedup.impact.synthetic._outer import METHODS, STARTS
from joinedup.impact.synthetic._prep import prepare
from joinedup.impact.synthetic._runner import run_fits
from joinedup.impact.synthetic.fit import SynthResult, _options, _slug


@dataclass(frozen=True)
class PlaceboSummary:
    """Rank, p-value and the kept placebos; renders as text and HTML."""

    table: pd.DataFrame

    def __str__(self) -> str:
        return self.table.to_string(index=False)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


@dataclass(frozen=True)
class PlaceboResult:
    """The treated fit, every placebo fit, and the permutation test (frozen)."""

    treated_fit: SynthResult
    placebo_fits: tuple[SynthResult, ...]
    prefit_filter: float | None = None

    def with_filter(self, prefit_filter: float | None) -> PlaceboResult:
        """The same fits judged with another pre-fit filter (no refitting)."""
        _check_filter(prefit_filter)
        return replace(self, prefit_filter=prefit_filter)

    def tidy(self) -> pd.DataFrame:
        """One row per unit (treated first): pre/post MSPE, ratio, ATT, kept, rank by ratio."""
        fits = (self.treated_fit, *self.placebo_fits)
        t = pd.DataFrame({"unit": [f.treated_unit for f in fits],
                          "treated": [True] + [False] * len(self.placebo_fits),
                          "pre_mspe": [f.pre_mspe for f in fits],
                          "post_mspe": [f.post_mspe for f in fits],
                          "mspe_ratio": [f.mspe_ratio for f in fits],
                          "att": [f.att for f in fits]})
        keep = np.ones(len(t), dtype=bool)
        if self.prefit_filter is not None:
            keep[1:] = t["pre_mspe"].to_numpy()[1:] <= self.prefit_filter * t["pre_mspe"].iloc[0]
        t["kept"] = keep
        ratio = t["mspe_ratio"].to_numpy()
        # rank among kept units, largest ratio first; ties share the worse (larger) rank
        t["rank"] = [int((ratio[keep] >= r).sum()) if k else pd.NA for r, k in zip(ratio, keep)]
        return t

    @property
    def n_placebos(self) -> int:
        """Placebos kept by the pre-fit filter."""
        return int(self.tidy()["kept"].sum()) - 1

    @property
    def rank(self) -> int:
        """The treated unit's rank by post/pre MSPE ratio (1 = largest)."""
        return int(self.tidy()["rank"].iloc[0])

    @property
    def p_value(self) -> float:
        """Permutation p-value: rank / (placebos kept + 1)."""
        return self.rank / (self.n_placebos + 1)

    def gaps(self) -> pd.DataFrame:
        """Long table: unit, time, gap, treated (bool), kept (bool)."""
        kept = self.tidy().set_index("unit")["kept"]
        rows = []
        for i, f in enumerate((self.treated_fit, *self.placebo_fits)):
            rows.append(pd.DataFrame({"unit": f.treated_unit, "time": f.times, "gap": f.gap,
                                      "treated": i == 0, "kept": bool(kept.iloc[i])}))
        return pd.concat(rows, ignore_index=True)

    def summary(self) -> PlaceboSummary:
        f = self.treated_fit
        return PlaceboSummary(pd.DataFrame([{
            "treated_unit": f.treated_unit, "att": f.att, "mspe_ratio": f.mspe_ratio,
            "rank": self.rank, "placebos": len(self.placebo_fits), "placebos_kept": self.n_placebos,
            "prefit_filter": self.prefit_filter, "p_value": self.p_value}]))

    def plot(self):
        """Gaps of every kept placebo in grey, the treated unit's highlighted (a ``Figure``)."""
        g = self.gaps()
        g = g[g["kept"]].drop(columns="kept")
        f = self.treated_fit
        rule = "" if self.prefit_filter is None else (
            f" (placebos with pre-period MSPE above {self.prefit_filter:g} times the treated unit's "
            "left out)")
        alt_text = (f"Line chart of the gap in {f.outcome} between each unit and its synthetic "
                    f"control: {f.treated_unit} highlighted, {self.n_placebos} placebo donors in grey"
                    f"{rule}. {f.treated_unit} ranks {self.rank} of {self.n_placebos + 1} by post/pre "
                    f"MSPE ratio, permutation p = {_charts.fmt(self.p_value)}.")
        return _charts.highlight_figure(f"synth-placebo-{_slug(f.treated_unit)}",
                                        f"Placebo gaps in {f.outcome}: {f.treated_unit} and donors",
                                        alt_text, g, "gap", f.treatment_time, f.treated_unit,
                                        f"Gap in {f.outcome}")


def placebo_in_space(data: pd.DataFrame, unit: str, time: str, outcome: str, treated_unit,
                     treatment_time, *, predictors: Sequence[str] | None = None,
                     special_predictors: Sequence | None = None, predictors_op: str = "mean",
                     time_predictors_prior: Sequence | None = None,
                     time_optimize_ssr: Sequence | None = None, v="nested",
                     donors: Sequence | None = None, prefit_filter: float | None = None,
                     methods: Sequence[str] = METHODS, starts: Sequence[str] = STARTS,
                     maxiter: int = 1000, restarts: int = 10, n_jobs: int = 1):
    """Placebo-in-space test; options as :func:`synth`.

    ``treated_unit`` may be a list, with ``treatment_time`` one period for all or a mapping from
    unit to period; then ``donors`` defaults to every unit not in the list and a dict of
    results by treated unit is returned.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": list("aaabbbcccddd"), "t": [1, 2, 3] * 4,
        ...                    "y": [1.0, 2, 9, 0, 1, 2, 2, 3, 4, 1, 2, 3]})
        >>> res = placebo_in_space(df, "u", "t", "y", "a", 3, v="outcome")
        >>> res.rank, res.n_placebos
        (1, 3)
    """
    _check_filter(prefit_filter)
    opts, outcome_only = _options(v, predictors, special_predictors, methods, starts, maxiter, restarts)
    several = isinstance(treated_unit, (list, tuple, pd.Index, np.ndarray))
    treated = list(treated_unit) if several else [treated_unit]
    if len(set(treated)) != len(treated):
        raise ValueError("treated units must not repeat")
    times = _times(treated, treatment_time)
    if donors is None:
        pool = [u for u in sorted(set(data[unit]) if unit in data.columns else []) if u not in treated]
    else:
        pool = list(donors)
        clash = [u for u in treated if u in pool]
        if clash:
            raise ValueError(f"treated unit {clash[0]!r} is also listed among the donors")
    results = {}
    for when in dict.fromkeys(times.values()):
        group = [u for u in treated if times[u] == when]
        prep = prepare(data, unit, time, outcome, group[0], when, group[1:] + pool, predictors,
                       special_predictors, predictors_op, time_predictors_prior, time_optimize_ssr,
                       scale=not outcome_only, outcome_only=outcome_only)
        m, n = len(group), len(prep.units)
        if n - m < 3:
            raise ValueError(f"placebo-in-space needs at least three donors; got {n - m}")
        donor_cols = np.arange(m, n)
        tasks = [(i, donor_cols) for i in range(m)]
        tasks += [(d, donor_cols[donor_cols != d]) for d in donor_cols]
        fits = run_fits(prep, tasks, opts, n_jobs)
        placebos = tuple(fits[m:])
        for i, u in enumerate(group):
            results[u] = PlaceboResult(fits[i], placebos, prefit_filter)
    return results if several else results[treated[0]]


def _times(treated: list, treatment_time) -> dict:
    if isinstance(treatment_time, Mapping):
        missing = [u for u in treated if u not in treatment_time]
        if missing:
            raise ValueError(f"treatment_time has no period for treated unit {missing[0]!r}")
        return {u: treatment_time[u] for u in treated}
    return {u: treatment_time for u in treated}


def _check_filter(prefit_filter) -> None:
    if prefit_filter is not None and not (np.isfinite(prefit_filter) and prefit_filter > 0):
        raise ValueError(f"prefit_filter must be a positive number or None; got {prefit_filter!r}")
