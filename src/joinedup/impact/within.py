"""Two-way fixed-effects least squares by the within transformation, with cluster-robust variance.

The unit fixed effects are removed by exact (weighted) demeaning within units; the time fixed
effects enter as dummies that are demeaned the same way (Frisch-Waugh-Lovell). That is exact for
balanced and unbalanced panels, weighted or not, with no iteration, and cheap while the number of
periods is modest (area panels have tens of periods). :meth:`Design.residualise` applies the same
projection to any matrix, which the wild bootstrap uses to residualise many columns at once.

Cluster-robust variance is CR1 with fixest's small-sample factor ``G/(G-1) * (N-1)/(N-K)``, where K
counts the coefficients plus the levels of every fixed effect *not* nested in the clusters (fixest's
``fixef.K = "nested"``, as pyfixest 0.60 counts it: with unit FE and clusters = units, K = p + T).

Example:
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"u": np.repeat([0, 1, 2], 2), "t": [1, 2] * 3,
    ...                    "y": [1.0, 2.0, 1.0, 2.5, 0.0, 1.0], "d": [0, 0, 0, 1, 0, 0.0]})
    >>> des = Design.build(df, "y", ["d"], "u", "t")
    >>> round(float(des.fit().coef[0]), 6)
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values, sort=True)[0]


def _indicator(codes: np.ndarray) -> sp.csr_matrix:
    n = len(codes)
    return sp.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, int(codes.max()) + 1))


@dataclass(frozen=True)
class Fit:
    """Coefficients, residuals and the cluster-robust variance of one fit."""

    coef: np.ndarray
    vcov: np.ndarray
    resid: np.ndarray
    n_obs: int
    n_clusters: int
    k: int
    ssc: float


@dataclass(frozen=True)
class Design:
    """A weighted two-way FE regression of ``y`` on the columns of ``x``, ready to fit."""

    y: np.ndarray            # outcome (N,)
    x: np.ndarray            # regressors of interest (N, p)
    names: tuple[str, ...]
    w: np.ndarray            # weights (N,), ones when unweighted
    unit: np.ndarray         # unit codes 0..U-1
    time: np.ndarray         # time codes 0..T-1
    cluster: np.ndarray      # cluster codes 0..G-1
    cluster_labels: np.ndarray

    @classmethod
    def build(cls, data: pd.DataFrame, y: str, x: list[str], unit: str, time: str,
              weights: str | None = None, cluster: str | None = None) -> Design:
        cl = data[cluster if cluster else unit]
        codes, labels = pd.factorize(cl, sort=True)
        w = np.ones(len(data)) if weights is None else data[weights].to_numpy(dtype=float)
        return cls(data[y].to_numpy(dtype=float), data[x].to_numpy(dtype=float), tuple(x), w,
                   _codes(data[unit]), _codes(data[time]), codes, np.asarray(labels))

    # -- the projection -------------------------------------------------------------------------
    def _unit_demean(self, m: np.ndarray) -> np.ndarray:
        ind = _indicator(self.unit)
        sums = ind.T @ (m * self.w[:, None])
        means = sums / (ind.T @ self.w)[:, None]
        return m - ind @ means

    def _time_dummies(self) -> np.ndarray:
        """Time dummies less the first period (the unit FE carry the level), unit-demeaned."""
        t = self.time
        dummies = (t[:, None] == np.arange(1, t.max() + 1)[None, :]).astype(float)
        return self._unit_demean(dummies)

    def residualise(self, m: np.ndarray) -> np.ndarray:
        """``m`` (N,) or (N, m) with the unit and time fixed effects projected out (weighted)."""
        flat = m.ndim == 1
        m2 = self._unit_demean(m[:, None] if flat else m)
        z = self._time_dummies()
        if z.shape[1]:
            zw = z * self.w[:, None]
            m2 = m2 - z @ np.linalg.solve(zw.T @ z, zw.T @ m2)
        return m2[:, 0] if flat else m2

    # -- fitting --------------------------------------------------------------------------------
    def k(self) -> int:
        """Coefficients plus the levels of fixed effects not nested in the clusters (fixest)."""
        k = self.x.shape[1]
        for fe in (self.unit, self.time):
            pairs = pd.DataFrame({"fe": fe, "cl": self.cluster}).drop_duplicates()
            if pairs["fe"].duplicated().any():  # some level spans clusters: not nested
                k += int(fe.max()) + 1
        return k

    def fit(self) -> Fit:
        coef, resid, inv, scores, ssc = self.sandwich_parts()
        vcov = ssc * inv @ (scores.T @ scores) @ inv
        return Fit(coef, vcov, resid, len(self.y), scores.shape[0], self.k(), ssc)

    def sandwich_parts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        """Coefficients, residuals, the inverse bread, the per-cluster scores (G x p, rows in the
        order of ``cluster_labels``) and the small-sample factor: the pieces of the cluster-robust
        variance ``ssc * inv @ scores.T @ scores @ inv``, kept apart so that the scores of fits on
        different data can be stacked by cluster (:mod:`joinedup.impact.subgroups_four`)."""
        xt, yt = self.residualise(self.x), self.residualise(self.y)
        xw = xt * self.w[:, None]
        bread = xw.T @ xt
        if np.linalg.matrix_rank(bread) < bread.shape[0]:
            gone = [n for j, n in enumerate(self.names) if np.allclose(xt[:, j], 0)]
            raise ValueError(f"regressor(s) {gone or list(self.names)} are collinear with the unit and "
                             "time fixed effects (no within variation left to estimate them from)")
        coef = np.linalg.solve(bread, xw.T @ yt)
        resid = yt - xt @ coef
        g = int(self.cluster.max()) + 1
        if g < 2:
            raise ValueError("cluster-robust inference needs at least 2 clusters; got 1")
        scores = np.zeros((g, xt.shape[1]))
        np.add.at(scores, self.cluster, xw * resid[:, None])
        n, k = len(self.y), self.k()
        ssc = g / (g - 1) * (n - 1) / (n - k)
        return coef, resid, np.linalg.inv(bread), scores, ssc
