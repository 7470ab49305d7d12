"""Leave-one-out robustness for synthetic control (Abadie, Diamond & Hainmueller 2015).

The fit is repeated once for each donor with positive weight, without that donor; if the estimate
hangs on one donor, its leave-one-out path shows it.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": list("aaabbbcccddd"), "t": [1, 2, 3] * 4,
    ...                    "y": [1.0, 2, 9, 0, 1, 2, 2, 3, 4, 1, 2, 3]})
    >>> res = leave_one_out(df, "u", "t", "y", "a", 3, v="outcome")
    >>> sorted(res.tidy()["dropped"])
    ['b', 'c']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from joinedup.impact.synthetic import _charts
from joinedup.impact.synthetic._outer import METHODS, STARTS
from joinedup.impact.synthetic._prep import prepare
from joinedup.impact.synthetic._runner import run_fits
from joinedup.impact.synthetic.fit import SynthResult, _options, _slug, fit_columns


@dataclass(frozen=True)
class LeaveOneOutResult:
    """The full fit and one refit per dropped donor (frozen)."""

    fit: SynthResult
    refits: tuple[SynthResult, ...]
    dropped: tuple

    def tidy(self) -> pd.DataFrame:
        """One row per refit: the dropped donor, its weight in the full fit, ATT, pre/post MSPE."""
        return pd.DataFrame({
            "dropped": list(self.dropped),
            "weight_in_full_fit": [float(self.fit.weights[d]) for d in self.dropped],
            "att": [r.att for r in self.refits], "pre_mspe": [r.pre_mspe for r in self.refits],
            "post_mspe": [r.post_mspe for r in self.refits],
            "att_change": [r.att - self.fit.att for r in self.refits]})

    def paths(self) -> pd.DataFrame:
        """Long table: series (treated, synthetic, or 'without <donor>'), time, value."""
        f = self.fit
        rows = [pd.DataFrame({"series": str(f.treated_unit), "time": f.times, "value": f.treated}),
                pd.DataFrame({"series": "synthetic", "time": f.times, "value": f.synthetic})]
        rows += [pd.DataFrame({"series": f"without {d}", "time": r.times, "value": r.synthetic})
                 for d, r in zip(self.dropped, self.refits)]
        return pd.concat(rows, ignore_index=True)

    def summary(self):
        from joinedup.impact.synthetic.placebo import PlaceboSummary

        return PlaceboSummary(self.tidy())

    def plot(self):
        """The treated path, the synthetic path, and every leave-one-out path in grey."""
        f = self.fit
        frame = self.paths().rename(columns={"series": "unit"})
        atts = [r.att for r in self.refits]
        spread = (f" Leaving one donor out moves the average post-treatment gap from "
                  f"{_charts.fmt(f.att)} to between {_charts.fmt(min(atts))} and "
                  f"{_charts.fmt(max(atts))}." if atts else "")
        alt_text = (f"Line chart of {f.outcome} for {f.treated_unit} (highlighted), its synthetic "
                    f"control and {len(self.refits)} leave-one-out synthetic controls in grey, each "
                    f"without one of the donors with positive weight.{spread}")
        return _charts.highlight_figure(f"synth-loo-{_slug(f.treated_unit)}",
                                        f"Leave-one-out synthetic controls: {f.treated_unit}",
                                        alt_text, frame, "value", f.treatment_time,
                                        str(f.treated_unit), f.outcome)


def leave_one_out(data: pd.DataFrame, unit: str, time: str, outcome: str, treated_unit,
                  treatment_time, *, predictors: Sequence[str] | None = None,
                  special_predictors: Sequence | None = None, predictors_op: str = "mean",
                  time_predictors_prior: Sequence | None = None,
                  time_optimize_ssr: Sequence | None = None, v="nested",
                  donors: Sequence | None = None, methods: Sequence[str] = METHODS,
                  starts: Sequence[str] = STARTS, maxiter: int = 1000, restarts: int = 10,
                  n_jobs: int = 1) -> LeaveOneOutResult:
    """Refit without each donor that has positive weight; options as :func:`synth`.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": list("aaabbbcccddd"), "t": [1, 2, 3] * 4,
        ...                    "y": [1.0, 2, 5, 0, 1, 2, 2, 3, 4, 1, 2, 3]})
        >>> leave_one_out(df, "u", "t", "y", "a", 3, v="outcome").dropped
        ('b', 'c')
    """
    opts, outcome_only = _options(v, predictors, special_predictors, methods, starts, maxiter, restarts)
    prep = prepare(data, unit, time, outcome, treated_unit, treatment_time, donors, predictors,
                   special_predictors, predictors_op, time_predictors_prior, time_optimize_ssr,
                   scale=not outcome_only, outcome_only=outcome_only)
    donor_cols = np.arange(1, len(prep.units))
    fit = fit_columns(prep, 0, donor_cols, opts)
    positive = [j for j, w in zip(donor_cols, fit.weights.to_numpy()) if w > 0]
    if len(donor_cols) - 1 < 2 and positive:
        raise ValueError("leave-one-out needs at least three donors")
    tasks = [(0, donor_cols[donor_cols != j]) for j in positive]
    refits = run_fits(prep, tasks, opts, n_jobs)
    return LeaveOneOutResult(fit, tuple(refits), tuple(prep.units[j] for j in positive))
