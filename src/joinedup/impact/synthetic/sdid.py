"""Synthetic difference-in-differences (Arkhangelsky et al. 2021), as R ``synthdid`` computes it.

The panel is long (unit, time, outcome, and a 0/1 column for unit-period treated) and balanced, with
every treated unit starting at the same period, as synthdid's ``panel.matrices`` demands.
``estimator`` picks synthdid's ``synthdid_estimate`` ("sdid"), ``sc_estimate`` ("sc") or
``did_estimate`` ("did"); ``se`` picks ``vcov``'s method ("placebo", "bootstrap", "jackknife") or
none.

Example:
    >>> import pandas as pd
    >>> prop99 = pd.read_csv("california_prop99.csv", sep=";")                # doctest: +SKIP
    >>> res = sdid(prop99, "State", "Year", "PacksPerCapita", "treated", se=None)   # doctest: +SKIP
    >>> round(res.estimate, 5)                                                 # doctest: +SKIP
    -15.60383
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from joinedup.impact.synthetic import _charts
from joinedup.impact.synthetic import _synthdid as sd
from joinedup.impact.synthetic._panel import check_balanced, check_columns, wide_outcome
from joinedup.impact.unbalanced import balance_panel

ESTIMATORS = ("sdid", "sc", "did")
SE_METHODS = ("placebo", "bootstrap", "jackknife")


@dataclass(frozen=True)
class SdidSummary:
    table: pd.DataFrame

    def __str__(self) -> str:
        return self.table.to_string(index=False)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


@dataclass(frozen=True)
class SdidResult:
    """Estimate, standard error, unit weights omega and time weights lambda (frozen)."""

    estimator: str
    estimate: float
    se: float
    se_method: str | None
    replications: int | None
    omega: pd.Series          # by control unit
    lambda_: pd.Series        # by pre period
    Y: pd.DataFrame           # units x periods, controls first
    n_treated: int
    treatment_time: object
    outcome: str
    panel_balance: dict = field(default_factory=dict)   # what was done with an unbalanced panel

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        """Normal interval, estimate +/- z se (as synthdid's summary)."""
        z = stats.norm.ppf(0.5 + level / 2)
        return self.estimate - z * self.se, self.estimate + z * self.se

    def tidy(self) -> pd.DataFrame:
        lo, hi = self.conf_int()
        return pd.DataFrame([{"estimator": self.estimator, "estimate": self.estimate,
                              "std_error": self.se, "conf_low": lo, "conf_high": hi,
                              "se_method": self.se_method, "replications": self.replications,
                              "n_treated": self.n_treated, "n_control": len(self.omega),
                              "n_pre": len(self.lambda_),
                              "n_post": self.Y.shape[1] - len(self.lambda_)}])

    def summary(self) -> SdidSummary:
        return SdidSummary(self.tidy())

    def paths(self) -> pd.DataFrame:
        """Per period: treated mean, omega-weighted control mean, and the latter shifted by the
        lambda-weighted pre-period difference (the parallel trend SDID compares against)."""
        Y = self.Y.to_numpy()
        n0 = len(self.omega)
        treated = Y[n0:].mean(axis=0)
        control = self.omega.to_numpy() @ Y[:n0]
        T0 = len(self.lambda_)
        lam = self.lambda_.to_numpy()
        shift = lam @ (treated[:T0] - control[:T0]) if lam.sum() > 0 else 0.0
        return pd.DataFrame({"time": self.Y.columns, "treated": treated, "synthetic": control,
                             "synthetic_shifted": control + shift})

    def plot(self):
        """Treated mean and its (shifted) synthetic control over time (a ``Figure``)."""
        p = self.paths()
        frame = pd.concat([
            pd.DataFrame({"time": p["time"], "series": "Treated", "value": p["treated"]}),
            pd.DataFrame({"time": p["time"], "series": "Synthetic control (shifted)",
                          "value": p["synthetic_shifted"]})], ignore_index=True)
        lo, hi = self.conf_int()
        se = "" if not np.isfinite(self.se) else (
            f" (95% interval {_charts.fmt(lo)} to {_charts.fmt(hi)}, {self.se_method} SE)")
        alt_text = (f"Line chart of {self.outcome}: the mean of {self.n_treated} treated unit(s) and "
                    f"the {self.estimator.upper()} synthetic control, shifted to the treated level "
                    f"before {self.treatment_time}. Estimated effect {_charts.fmt(self.estimate)}{se}.")
        return _charts.lines_figure(f"sdid-{self.estimator}", f"{self.estimator.upper()}: {self.outcome}",
                                    alt_text, frame, "value", self.treatment_time, self.outcome)


def sdid(data: pd.DataFrame, unit: str, time: str, outcome: str, treated: str, *,
         estimator: str = "sdid", se: str | None = "placebo", replications: int = 200,
         seed: int | np.random.Generator | None = 0, unbalanced: str = "error") -> SdidResult:
    """Synthetic DiD (or synthdid's SC or DiD) with a standard error.

    The estimator needs every unit in every period: an unbalanced panel is refused unless
    ``unbalanced`` is "drop" (complete units only) or "impute" (the outcome interpolated within
    unit, ``treated`` carried from the nearest period); ``result.panel_balance`` reports it.

    Example:
        >>> import pandas as pd
        >>> df = pd.DataFrame({"u": list("aaabbbccc"), "t": [1, 2, 3] * 3,
        ...                    "y": [1.0, 2, 3, 2, 3, 4, 3, 4, 8], "d": [0] * 8 + [1]})
        >>> sdid(df, "u", "t", "y", "d", estimator="did", se=None).estimate
        3.0
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(map(repr, ESTIMATORS))}; got {estimator!r}")
    if se is not None and se not in SE_METHODS:
        raise ValueError(f"se must be one of {', '.join(map(repr, SE_METHODS))} or None; got {se!r}")
    check_columns(data, [unit, time, outcome, treated])
    data, report = balance_panel(data, unit, time, unbalanced, interpolate=[outcome],
                                 allowed=("error", "drop", "impute"), design="sdid")
    Y, N0, T0 = panel_matrices(data, unit, time, outcome, treated)
    est = sd.estimate(Y.to_numpy(), N0, T0, estimator)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if se == "placebo":
        value = sd.placebo_se(est, replications, rng)
    elif se == "bootstrap":
        value = sd.bootstrap_se(est, replications, rng)
    elif se == "jackknife":
        value = sd.jackknife_se(est)
    else:
        value = float("nan")
    return SdidResult(estimator, est.tau, value, se, replications if se in ("placebo", "bootstrap") else None,
                      pd.Series(est.omega, index=Y.index[:N0], name="omega"),
                      pd.Series(est.lambda_, index=Y.columns[:T0], name="lambda"),
                      Y, Y.shape[0] - N0, Y.columns[T0], outcome, report.as_dict())


def panel_matrices(data: pd.DataFrame, unit: str, time: str, outcome: str,
                   treated: str) -> tuple[pd.DataFrame, int, int]:
    """Units x periods outcome matrix, controls first (then by unit), as ``panel.matrices``."""
    check_columns(data, [unit, time, outcome, treated])
    check_balanced(data, unit, time)
    if data[treated].isna().any() or not data[treated].isin([0, 1]).all():
        raise ValueError(f"column {treated!r} must be 0 or 1 for every row")
    W = data.pivot(index=unit, columns=time, values=treated).sort_index(axis=0).sort_index(axis=1)
    W = W.to_numpy().astype(bool)
    Y = wide_outcome(data, unit, time, outcome)
    ever = W.any(axis=1)
    if not ever.any() or ever.all():
        raise ValueError(f"column {treated!r}: need both treated and never-treated units")
    T0 = int(np.flatnonzero(W.any(axis=0))[0])
    if T0 == 0:
        raise ValueError(f"column {treated!r}: treatment starts in the first period; no pre period")
    if W[~ever].any() or W[:, :T0].any() or not W[ever, T0:].all():
        bad = Y.index[ever & ~W[:, T0:].all(axis=1)]
        raise ValueError(f"column {treated!r}: treatment must start in the same period for every "
                         f"treated unit and stay on (not so for unit(s) {list(bad)[:5]})")
    order = np.r_[np.flatnonzero(~ever), np.flatnonzero(ever)]
    return Y.iloc[order], int((~ever).sum()), T0
