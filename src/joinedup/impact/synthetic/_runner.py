"""Run many synthetic control fits on one prepared problem, in this process or a few others.

Fits are independent, so ``n_jobs > 1`` splits them over worker processes (each gets the prepared
matrices once, through the pool initialiser, and returns small frozen results). On a 2-core machine
that is worth it only for nested fits (tenths of a second each); outcome-only fits take about a
millisecond, less than the cost of shipping them.

Example:
    >>> import numpy as np, pandas as pd
    >>> from joinedup.impact.synthetic._prep import prepare
    >>> from joinedup.impact.synthetic.fit import SynthOptions
    >>> df = pd.DataFrame({"u": list("aaabbbccc"), "t": [1, 2, 3] * 3, "y": [1.0, 2, 5, 0, 1, 2, 2, 3, 4]})
    >>> prep = prepare(df, "u", "t", "y", "a", 3, None, None, None, "mean", None, None, scale=False,
    ...                outcome_only=True)
    >>> [r.treated_unit for r in run_fits(prep, [(0, np.array([1, 2])), (1, np.array([0, 2]))],
    ...                                   SynthOptions("outcome"))]
    ['a', 'b']
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np

from joinedup.impact.synthetic._prep import Prepared
from joinedup.impact.synthetic.fit import SynthOptions, SynthResult, fit_columns

_STATE: dict = {}


def run_fits(prep: Prepared, tasks: list[tuple[int, np.ndarray]], opts: SynthOptions,
             n_jobs: int = 1) -> list[SynthResult]:
    """Fit each ``(treated column, donor columns)`` task; results in task order."""
    if n_jobs is None or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer; got {n_jobs!r}")
    if n_jobs == 1 or len(tasks) < 2:
        return [fit_columns(prep, t, d, opts) for t, d in tasks]
    chunks = max(1, len(tasks) // (4 * n_jobs))
    with ProcessPoolExecutor(max_workers=n_jobs, initializer=_init, initargs=(prep, opts)) as pool:
        return list(pool.map(_work, tasks, chunksize=chunks))


def _init(prep: Prepared, opts: SynthOptions) -> None:
    _STATE["prep"], _STATE["opts"] = prep, opts


def _work(task: tuple[int, np.ndarray]) -> SynthResult:
    return fit_columns(_STATE["prep"], task[0], task[1], _STATE["opts"])
