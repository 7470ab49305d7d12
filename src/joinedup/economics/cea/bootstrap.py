"""``bootstrap_ce``: a fast non-parametric bootstrap of incremental cost and effect.

Two designs. Without ``cluster`` each arm is resampled on its own (arm sizes fixed: the usual
two-sample CE bootstrap, Barber & Thompson 2000). With ``cluster`` (a matched-set id) whole sets are
resampled, so a matched pair stays paired. The statistic is the (weighted) mean of treated minus
the (weighted) mean of control.

Why it is fast: a replicate's statistic depends on the data only through per-unit sums (cost x w,
effect x w, w, per arm), so a block of replicates is a sparse (replicates x units) count matrix
times a (units x 6) matrix -- one sparse product instead of B group-bys. Indices are drawn exactly
as scipy.stats.bootstrap draws them (``rng.integers(0, n, (B, n))``, treated sample before control),
so with the same seed both see the same resamples.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"pair": np.repeat(np.arange(200), 2), "mdt": np.tile([1, 0], 200),
    ...                    "cost": rng.gamma(2, 1500, 400), "qaly": rng.normal(0.7, 0.1, 400)})
    >>> boot = bootstrap_ce(df, cost="cost", effect="qaly", group="mdt", cluster="pair", B=999, seed=1)
    >>> boot.tidy()["quantity"].tolist()
    ['inc_cost', 'inc_effect']
    >>> res = boot.bcea()            # the replicates feed the CEA directly
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from joinedup.economics.cea._common import CI_METHODS, CIMethod, Summary, check_choice
from joinedup.economics.cea.intervals import bca_interval, bias_correction, jackknife_acceleration, percentile_interval

_CHUNK_ELEMENTS = 2_500_000  # indices per block of replicates (10 MB as int32): cache-friendly, bounded memory
QUANTITIES = ("inc_cost", "inc_effect")


def bootstrap_ce(data: pd.DataFrame, cost: str, effect: str, group: str, cluster: str | None = None,
                 B: int = 5000, seed=None, ci: CIMethod = "percentile", treated=None,
                 weights: str | None = None, level: float = 0.95) -> BootstrapCE:
    """Bootstrap the mean difference (treated - control) in cost and in effect.

    ``group`` holds two values; ``treated`` says which is the intervention (default: 1 / True when
    the column is 0/1 or boolean). ``cluster`` names the matched-set id (resample whole sets);
    ``weights`` a column of non-negative weights (e.g. matching weights). ``seed`` is an int or a
    ``numpy.random.Generator``. ``ci`` picks the interval reported by ``tidy()``; both are available.

    Example:
        >>> boot = bootstrap_ce(df, "cost", "qaly", "mdt", cluster="pair", seed=2015)   # doctest: +SKIP
        >>> boot.tidy("bca")                                                             # doctest: +SKIP
    """
    check_choice("ci", ci, CI_METHODS)
    if B < 2:
        raise ValueError(f"B must be at least 2; got {B}")
    cols = [cost, effect, group] + [c for c in (cluster, weights) if c is not None]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"data has no column(s) {', '.join(map(repr, missing))}")
    for col in cols:
        bad = data[col].isna().to_numpy()
        if bad.any():
            raise ValueError(f"column {col!r} is missing a value at row {data.index[np.argmax(bad)]!r}")
    is_t, t_label, c_label = _arms(data[group], treated)
    w = np.ones(len(data)) if weights is None else data[weights].to_numpy(dtype=float)
    if np.any(w < 0):
        raise ValueError(f"weights column {weights!r} has a negative value at row {data.index[np.argmax(w < 0)]!r}")
    y = data[[cost, effect]].to_numpy(dtype=float)
    # per-unit sums: [w*cost, w*effect, w] for the treated arm, then the same for control
    unit = np.column_stack([y * w[:, None], w])
    per_unit = np.hstack([unit * is_t[:, None], unit * ~is_t[:, None]])
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    if cluster is None:
        t_sums = _resampled_sums(per_unit[is_t, :3], B, rng)
        c_sums = _resampled_sums(per_unit[~is_t, 3:], B, rng)
        sums = np.hstack([t_sums, c_sums])
        jack = [_jack_strata(per_unit[is_t, :3], per_unit[~is_t, 3:], q) for q in range(2)]
        n_units = len(data)
    else:
        codes, _ = pd.factorize(data[cluster], sort=False)  # sets in order of first appearance
        per_set = np.zeros((codes.max() + 1, 6))
        np.add.at(per_set, codes, per_unit)
        sums = _resampled_sums(per_set, B, rng)
        jack = [[_stat(per_set.sum(axis=0) - per_set, q)] for q in range(2)]
        n_units = len(per_set)
    if np.any(sums[:, 2] <= 0) or np.any(sums[:, 5] <= 0):
        raise ValueError("a bootstrap replicate has no weight in one arm: every matched set needs both arms")
    totals = per_unit.sum(axis=0)
    estimate = np.array([_stat(totals[None], q)[0] for q in range(2)])
    reps = pd.DataFrame({"cost_treated": sums[:, 0] / sums[:, 2], "cost_control": sums[:, 3] / sums[:, 5],
                         "effect_treated": sums[:, 1] / sums[:, 2], "effect_control": sums[:, 4] / sums[:, 5]})
    reps["inc_cost"] = reps["cost_treated"] - reps["cost_control"]
    reps["inc_effect"] = reps["effect_treated"] - reps["effect_control"]
    accel = np.array([jackknife_acceleration(j) for j in jack])
    return BootstrapCE(reps, estimate, accel, ci, level, str(t_label), str(c_label), int(B),
                       "cluster" if cluster is not None else "stratified", n_units, len(data))


def _arms(values: pd.Series, treated) -> tuple[np.ndarray, object, object]:
    levels = list(pd.unique(values))
    if len(levels) != 2:
        raise ValueError(f"group must have exactly two values; found {len(levels)}: {levels[:5]}")
    if treated is None:
        if set(levels) <= {0, 1}:  # also covers booleans (True == 1)
            treated = 1
        else:
            raise ValueError(f"say which group is treated: treated= one of {levels}")
    if treated not in levels:
        raise ValueError(f"treated={treated!r} is not a value of group; values are {levels}")
    control = next(v for v in levels if v != treated)
    is_t = (values == treated).to_numpy()
    if set(levels) <= {0, 1}:  # 0/1 or boolean codes: name the arms in words
        return is_t, ("treated" if treated == 1 else "control"), ("control" if treated == 1 else "treated")
    t_label, c_label = treated, control
    return is_t, t_label, c_label


def _resampled_sums(values: np.ndarray, B: int, rng: np.random.Generator) -> np.ndarray:
    """Column sums of ``values`` over B resamples of its rows (with replacement), block by block."""
    n = values.shape[0]
    out = np.empty((B, values.shape[1]))
    step = max(1, _CHUNK_ELEMENTS // n)
    cols = np.asfortranarray(values)
    # int32 indices draw the same stream as scipy's int64 ones and halve the memory traffic
    dtype = np.int32 if step * n < 2**31 else np.int64
    ones, indptr = np.ones(step * n), np.arange(0, step * n + 1, n, dtype=dtype)
    for start in range(0, B, step):
        b = min(step, B - start)
        idx = rng.integers(0, n, size=(b, n), dtype=dtype)
        counts = sparse.csr_array((ones[: b * n], idx.ravel(), indptr[: b + 1]), shape=(b, n))
        out[start:start + b] = counts @ cols  # row r: sum of the resampled rows of replicate r
    return out


def _stat(sums: np.ndarray, q: int) -> np.ndarray:
    """Treated minus control weighted mean of quantity q (0 cost, 1 effect) from rows of 6 sums."""
    return sums[:, q] / sums[:, 2] - sums[:, 3 + q] / sums[:, 5]


def _jack_strata(t_units: np.ndarray, c_units: np.ndarray, q: int) -> list[np.ndarray]:
    """Leave-one-out estimates, leaving out one unit of one arm at a time (one array per arm)."""
    tt, ct = t_units.sum(axis=0), c_units.sum(axis=0)
    t_minus = (tt[q] - t_units[:, q]) / (tt[2] - t_units[:, 2]) - ct[q] / ct[2]
    c_minus = tt[q] / tt[2] - (ct[q] - c_units[:, q]) / (ct[2] - c_units[:, 2])
    return [t_minus, c_minus]


@dataclass(frozen=True)
class BootstrapCE:
    """Bootstrap replicates of the arm means and increments, with the observed estimates."""

    replicates: pd.DataFrame
    estimate: np.ndarray      # observed inc_cost, inc_effect
    acceleration: np.ndarray  # jackknife BCa acceleration for inc_cost, inc_effect
    ci: str
    level: float
    treated: str
    control: str
    B: int
    design: str               # "stratified" (arms resampled separately) or "cluster" (matched sets)
    n_units: int              # resampling units: people, or matched sets
    n_rows: int

    def interval(self, quantity: str, method: CIMethod | None = None) -> tuple[float, float]:
        """Confidence interval for ``inc_cost`` or ``inc_effect`` by ``percentile`` or ``bca``."""
        method = check_choice("method", method or self.ci, CI_METHODS)
        q = QUANTITIES.index(check_choice("quantity", quantity, QUANTITIES))
        draws = self.replicates[quantity].to_numpy()
        if method == "percentile":
            return percentile_interval(draws, self.level)
        return bca_interval(draws, self.estimate[q], self.acceleration[q], self.level)

    def tidy(self, method: CIMethod | None = None) -> pd.DataFrame:
        """One row per increment: estimate, bootstrap SE, interval, and the BCa ingredients."""
        method = method or self.ci
        rows = []
        for q, name in enumerate(QUANTITIES):
            draws = self.replicates[name].to_numpy()
            lo, hi = self.interval(name, method)
            rows.append({"quantity": name, "estimate": self.estimate[q], "se": draws.std(ddof=1),
                         "bias": draws.mean() - self.estimate[q], "lower": lo, "upper": hi,
                         "method": method, "level": self.level, "z0": bias_correction(draws, self.estimate[q]),
                         "acceleration": self.acceleration[q], "B": self.B})
        return pd.DataFrame(rows)

    def summary(self, method: CIMethod | None = None) -> Summary:
        """Text (and HTML) summary of the increments and their intervals."""
        t = self.tidy(method)
        unit = "matched sets" if self.design == "cluster" else "people, arms resampled separately"
        head = (f"Bootstrap of {self.treated} minus {self.control}: {self.B} replicates over "
                f"{self.n_units} {unit} ({self.n_rows} rows)")
        lines = [head] + [f"{r.quantity}: {r.estimate:,.6g} (SE {r.se:,.4g}); {100 * r.level:.0f}% "
                          f"{r.method} CI {r.lower:,.6g} to {r.upper:,.6g}" for r in t.itertuples()]
        return Summary("\n".join(lines), {"Increments": t}, head)

    @property
    def effects(self) -> pd.DataFrame:
        """Mean effect per arm and replicate (B x 2, control first): the ``effects`` input of bcea."""
        return pd.DataFrame({self.control: self.replicates["effect_control"].to_numpy(),
                             self.treated: self.replicates["effect_treated"].to_numpy()})

    @property
    def costs(self) -> pd.DataFrame:
        """Mean cost per arm and replicate (B x 2, control first): the ``costs`` input of bcea."""
        return pd.DataFrame({self.control: self.replicates["cost_control"].to_numpy(),
                             self.treated: self.replicates["cost_treated"].to_numpy()})

    def bcea(self, **kwargs):
        """A :func:`~joinedup.economics.cea.result.bcea` analysis of the replicates (treated vs control)."""
        from joinedup.economics.cea.result import bcea

        return bcea(self.effects, self.costs, ref=self.treated, **kwargs)
