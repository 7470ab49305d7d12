"""``bcea``: a cost-effectiveness analysis of simulation matrices, as R BCEA 2.4 computes it.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> e = np.column_stack([rng.normal(1.0, 0.1, 500), rng.normal(1.1, 0.1, 500)])
    >>> c = np.column_stack([rng.normal(1000, 100, 500), rng.normal(2500, 100, 500)])
    >>> res = bcea(e, c, ref=1, interventions=["usual care", "MDT"])
    >>> row = res.tidy().iloc[0]
    >>> row["comparison"], row["quadrant"]
    ('MDT vs usual care', 'NE')
    >>> print(res.summary())                                                   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from joinedup.economics.cea import core
from joinedup.economics.cea._common import (DEFAULT_K, NICE_THRESHOLDS, Summary, as_matrix, check_choice,
                                            resolve_ref)
from joinedup.economics.cea.frontier import incremental_analysis
from joinedup.economics.cea.quadrant import icer_quadrant

Table = Literal["summary", "interventions", "ceac", "evpi", "ceaf", "mceac", "frontier"]
TABLES: tuple[str, ...] = ("summary", "interventions", "ceac", "evpi", "ceaf", "mceac", "frontier")


def bcea(effects, costs, ref=0, interventions=None, k=None, wtp: float = 25_000.0) -> CEAResult:
    """Cost-effectiveness analysis of (n_sim x n_interventions) effects and costs against ``ref``.

    ``ref`` is the intervention of interest (name or column position); every other column is a
    comparator, and increments are ref minus comparator. ``k`` is the willingness-to-pay grid
    (default BCEA's 0, 100, ..., 50,000); ``wtp`` the threshold the summary reports (need not lie on
    the grid: values at ``wtp`` are computed exactly). Column names of DataFrames name the
    interventions unless ``interventions`` is given.

    Example:
        >>> import pandas as pd
        >>> psa = pd.read_csv("bcea_vaccine_psa.csv")                            # doctest: +SKIP
        >>> res = bcea(psa[["e_status_quo", "e_vaccination"]], psa[["c_status_quo", "c_vaccination"]],
        ...            ref=1, interventions=["Status Quo", "Vaccination"])       # doctest: +SKIP
        >>> res.at(25_000)[["icer", "eib", "ceac"]]                              # doctest: +SKIP
    """
    e, names = as_matrix(effects, "effects", interventions)
    c, _ = as_matrix(costs, "costs", names)
    if e.shape != c.shape:
        raise ValueError(f"effects {e.shape} and costs {c.shape} must have the same shape")
    if e.shape[1] < 2:
        raise ValueError("bcea needs at least two interventions (columns)")
    r = resolve_ref(ref, names)
    grid = DEFAULT_K.copy() if k is None else np.asarray(k, dtype=float).ravel()
    if grid.size == 0 or np.any(np.diff(grid) <= 0):
        raise ValueError("k must be a non-empty, strictly increasing grid of willingness-to-pay values")
    de, dc = core.increments(e, c, r)
    evpi, mceac = core.evpi_and_mceac(grid, e, c)
    return CEAResult(
        interventions=tuple(names), ref=r, e=e, c=c, k=grid, wtp=float(wtp), delta_e=de, delta_c=dc,
        icer=core.icer(de, dc), eib=core.eib(grid, de, dc), ceac=core.ceac(grid, de, dc),
        eu=core.expected_utility(grid, e, c), best=core.best(grid, e, c), kstar=core.kstar(grid, e, c),
        evpi=evpi, mceac=mceac, ceaf=core.ceaf(grid, e, c, mceac))


@dataclass(frozen=True)
class CEAResult:
    """Everything BCEA's ``bcea()`` object holds; arrays over the k grid have one row per k."""

    interventions: tuple[str, ...]
    ref: int
    e: np.ndarray
    c: np.ndarray
    k: np.ndarray
    wtp: float
    delta_e: np.ndarray  # n_sim x n_comparators, ref minus comparator
    delta_c: np.ndarray
    icer: np.ndarray     # bare ratios per comparator; read them with .tidy()'s quadrant columns
    eib: np.ndarray      # n_k x n_comparators
    ceac: np.ndarray     # n_k x n_comparators
    eu: np.ndarray       # n_k x n_interventions, expected net benefit
    best: np.ndarray     # n_k, index of the optimal intervention
    kstar: np.ndarray    # grid values where the optimal decision changes
    evpi: np.ndarray     # n_k
    mceac: np.ndarray    # n_k x n_interventions, P(intervention has the highest net benefit)
    ceaf: np.ndarray     # n_k

    @property
    def n_sim(self) -> int:
        return self.e.shape[0]

    @property
    def comparators(self) -> list[int]:
        return [j for j in range(len(self.interventions)) if j != self.ref]

    @property
    def comparisons(self) -> list[str]:
        ref = self.interventions[self.ref]
        return [f"{ref} vs {self.interventions[j]}" for j in self.comparators]

    def at(self, wtp: float | None = None) -> pd.DataFrame:
        """One row per comparison at threshold ``wtp``: increments, ICER with quadrant, EIB, CEAC, INMB."""
        wtp = self.wtp if wtp is None else float(wtp)
        mde, mdc = self.delta_e.mean(axis=0), self.delta_c.mean(axis=0)
        rows = []
        for n, j in enumerate(self.comparators):
            q = icer_quadrant(mdc[n], mde[n])
            rows.append({
                "comparison": self.comparisons[n], "intervention": self.interventions[self.ref],
                "comparator": self.interventions[j], "inc_effect": mde[n], "inc_cost": mdc[n],
                "icer": q.icer, "quadrant": q.quadrant, "position": q.label, "statement": q.statement,
                "wtp": wtp, "eib": wtp * mde[n] - mdc[n],
                "ceac": float(np.mean(wtp * self.delta_e[:, n] - self.delta_c[:, n] > 0)),
                **{f"inmb_{int(t)}": t * mde[n] - mdc[n] for t in NICE_THRESHOLDS},
            })
        return pd.DataFrame(rows)

    def evpi_at(self, wtp: float | None = None) -> float:
        """EVPI at one threshold, computed exactly (not read off the grid)."""
        wtp = self.wtp if wtp is None else float(wtp)
        return float(core.evpi_and_mceac(np.array([wtp]), self.e, self.c)[0][0])

    def interventions_at(self, wtp: float | None = None) -> pd.DataFrame:
        """Per intervention: mean effect and cost, expected utility at ``wtp``, NMB at £20k/£30k, P(best)."""
        wtp = self.wtp if wtp is None else float(wtp)
        p_best = core.evpi_and_mceac(np.array([wtp]), self.e, self.c)[1][0]
        frame = pd.DataFrame({"intervention": self.interventions, "mean_effect": self.e.mean(axis=0),
                              "mean_cost": self.c.mean(axis=0), "wtp": wtp,
                              "expected_utility": core.nmb(wtp, self.e, self.c), "p_best": p_best})
        for t in NICE_THRESHOLDS:
            frame[f"nmb_{int(t)}"] = core.nmb(t, self.e, self.c)
        frame["optimal"] = frame["expected_utility"] == frame["expected_utility"].max()
        return frame

    def tidy(self, table: Table = "summary", wtp: float | None = None) -> pd.DataFrame:
        """A tidy table: ``summary`` (per comparison at ``wtp``), ``interventions``, ``ceac``/``evpi``/
        ``ceaf``/``mceac`` (over the k grid) or ``frontier`` (incremental analysis of the means)."""
        check_choice("table", table, TABLES)
        if table == "summary":
            return self.at(wtp)
        if table == "interventions":
            return self.interventions_at(wtp)
        if table == "ceac":
            n_k, n_c = self.ceac.shape
            return pd.DataFrame({"k": np.repeat(self.k, n_c), "comparison": self.comparisons * n_k,
                                 "ceac": self.ceac.ravel(), "eib": self.eib.ravel()})
        if table == "evpi":
            return pd.DataFrame({"k": self.k, "evpi": self.evpi})
        if table == "ceaf":
            return pd.DataFrame({"k": self.k, "optimal": np.asarray(self.interventions)[self.best],
                                 "ceaf": self.ceaf})
        if table == "mceac":
            n_k, n_i = self.mceac.shape
            return pd.DataFrame({"k": np.repeat(self.k, n_i), "intervention": list(self.interventions) * n_k,
                                 "p_best": self.mceac.ravel(), "expected_utility": self.eu.ravel()})
        return incremental_analysis(self.c.mean(axis=0), self.e.mean(axis=0), self.interventions)

    def switches(self) -> pd.DataFrame:
        """The k* table: grid value where the optimal decision changes, and from what to what."""
        idx = np.flatnonzero(np.diff(self.best)) + 1
        names = np.asarray(self.interventions)
        return pd.DataFrame({"k": self.k[idx], "from": names[self.best[idx - 1]], "to": names[self.best[idx]]})

    def summary(self, wtp: float | None = None) -> Summary:
        """BCEA's ``summary()``: comparisons, optimal decision, k*, EVPI and NMB, as text and HTML."""
        wtp = self.wtp if wtp is None else float(wtp)
        comp, arms = self.at(wtp), self.interventions_at(wtp)
        ref = self.interventions[self.ref]
        lines = [f"Cost-effectiveness analysis: {self.n_sim} simulations, {len(self.interventions)} "
                 f"interventions; reference {ref}; willingness to pay £{wtp:,.0f} per QALY", ""]
        for _, r in comp.iterrows():
            lines.append(f"{r['comparison']}: incremental effect {r['inc_effect']:.6g}, incremental cost "
                         f"£{r['inc_cost']:,.2f}; {r['statement']}; EIB {r['eib']:,.4f}; "
                         f"P(cost-effective) {r['ceac']:.3f}")
        opt = arms.loc[arms["optimal"], "intervention"].iloc[0]
        sw = self.switches()
        ks = ", ".join(f"£{k:,.0f} ({a} to {b})" for k, a, b in sw.itertuples(index=False)) or "none on the grid"
        lines += ["", f"Optimal at £{wtp:,.0f}: {opt}; decision changes at k* = {ks}",
                  f"EVPI at £{wtp:,.0f}: {self.evpi_at(wtp):,.4f} per person", ""]
        for _, r in arms.iterrows():
            nmbs = "; ".join(f"NMB at £{int(t):,} {r[f'nmb_{int(t)}']:,.2f}" for t in NICE_THRESHOLDS)
            lines.append(f"{r['intervention']}: expected utility {r['expected_utility']:,.6f}; {nmbs}; "
                         f"P(best) {r['p_best']:.3f}")
        return Summary("\n".join(lines), {"Comparisons": comp.drop(columns=["statement"]),
                                          "Interventions": arms}, lines[0])

    def ce_plane(self, wtp: float | None = None, max_points: int = 2000):
        """Scatter of incremental effect and cost per simulation, with the threshold line."""
        from joinedup.economics.cea.plots import ce_plane

        return ce_plane(self, self.wtp if wtp is None else float(wtp), max_points)

    def ceac_plot(self):
        """Pairwise CEACs over the k grid."""
        from joinedup.economics.cea.plots import ceac_plot

        return ceac_plot(self)

    def ceaf_plot(self):
        """Multi-arm CEACs with the acceptability frontier."""
        from joinedup.economics.cea.plots import ceaf_plot

        return ceaf_plot(self)

    def evpi_plot(self):
        """EVPI over the k grid."""
        from joinedup.economics.cea.plots import evpi_plot

        return evpi_plot(self)

    plot = ce_plane
