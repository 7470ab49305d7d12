"""Funnel plots with overdispersion, as FunnelPlotR 0.6.0 (Mainey) draws them.

Two data types (FunnelPlotR ``data_type``):

- ``"SR"``: indirectly standardised ratios O/E (numerator O = observed, denominator E = expected);
  target 1. Unadjusted limits are exact Poisson: lower = qgamma(a, E) / E, upper = qgamma(1-a, E+1)/E
  (= qchisq(a, 2E) / 2E and qchisq(1-a, 2(E+1)) / 2E), a = 0.025 (95%) or 0.001 (99.8%).
- ``"PR"``: proportions O/n; target = sum(O)/sum(n); arcsine scale Y = asin(sqrt(p)), s = 1/(2 sqrt n).

Overdispersion (Spiegelhalter 2005, 2012; ``sr_method`` for SR):

- ``"SHMI"`` (NHS Digital SHMI): Y = log(O/E), s = 1/sqrt(E), z = sqrt(E) log(O/E); expected values
  rounded to 2 dp first (``SHMI_rounding``); z-scores *truncated*: rank r (ties averaged),
  band = floor(r k / (n+1)) with k = 1/trim_by, units in bands 0 and k-1 are left out. A unit
  with O = 0 has z = log(0) = -inf: it ranks lowest and is always left out (``transformed_z``).
- ``"CQC"`` (Spiegelhalter): Y = sqrt(O/E), s = 1/(2 sqrt E), z = (Y - 1)/s = 2(sqrt O - sqrt E);
  z-scores *winsorised* to their trim_by and 1-trim_by quantiles (R type 7).
- ``"PR"``: z = (Y - asin(sqrt(target)))/s, winsorised.

Then phi = (1/m) sum z_i^2 over the m units kept, and the DerSimonian-Laird additive variance
tau2 = max(0, (m phi - (m - 1)) / (sum w - sum w^2 / sum w)), w = 1/s^2 over the same units
(0 when m phi < m - 1). Overdispersed limits at denominator d with s_d, z_a the normal quantile:
SHMI exp(-/+ z_a sqrt(1/d + tau2)); CQC (1 -/+ z_a sqrt(s_d^2 + tau2))^2; PR
sin(asin(sqrt(target)) -/+ z_a sqrt(s_d^2 + tau2))^2 clamped to [0, 1]. All scaled by ``multiplier``.

Differences from FunnelPlotR, on purpose: CQC limits are squared back to the ratio scale (FunnelPlotR
leaves them on the square-root scale, its open issue #33; ``cqc_backtransform=False`` reproduces it);
z quantiles are exact (FunnelPlotR types 1.959964 and 3.090232); phi and tau2 are reported even when
adjusted limits are not used. As in FunnelPlotR, when phi <= 1 outliers are judged on unadjusted limits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy.special import gammainccinv, gammaincinv

DataType = Literal["SR", "PR"]
SrMethod = Literal["SHMI", "CQC"]
Trim = Literal["winsorise", "truncate"]
LEVELS = {95: 0.025, 99: 0.001}  # FunnelPlotR ``limit``: 95% and 99.8% two-sided

__all__ = ["FunnelResult", "FunnelSummary", "dispersion_phi", "funnel", "od_limits", "poisson_limits", "qgamma",
           "tau2_dl", "transformed_z", "truncate", "winsorise"]


def _check(option, value, allowed) -> None:
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{option} must be one of {listed}; got {value!r}")


def qgamma(p, shape) -> np.ndarray:
    """Quantile of the Gamma(shape, 1) distribution (R ``qgamma``): ``scipy.special.gammaincinv``.

    Upper quantiles (p > 0.5) are solved on the upper tail (``gammainccinv`` at 1 - p, exact in
    floating point there), which keeps full relative precision as p approaches 1.
    """
    p, a = np.broadcast_arrays(np.asarray(p, float), np.asarray(shape, float))
    if ((p <= 0) | (p >= 1)).any() or (a <= 0).any():
        raise ValueError("qgamma needs 0 < p < 1 and shape > 0")
    return np.where(p > 0.5, gammainccinv(a, 1 - p), gammaincinv(a, p))


def poisson_limits(expected, target: float = 1.0, multiplier: float = 1.0) -> pd.DataFrame:
    """Exact Poisson funnel limits for O/E at expected E (FunnelPlotR ``calculate_limits``, unadjusted)."""
    e = np.asarray(expected, float)
    out = {}
    for name, a in (("95", LEVELS[95]), ("998", LEVELS[99])):
        out[f"ll{name}"] = multiplier * target * qgamma(a, e) / e
        out[f"ul{name}"] = multiplier * target * qgamma(1 - a, e + 1) / e
    return pd.DataFrame({"expected": e, **out})


def transformed_z(numerator, denominator, data_type: DataType = "SR", sr_method: SrMethod = "SHMI"):
    """(Y, s, target on the transformed scale, unadjusted z) as FunnelPlotR ``transformed_zscore``.

    SHMI with no observed events (O = 0): Y = log(0) = -inf and z = -inf, as in FunnelPlotR, without
    a divide-by-zero warning. ``truncate`` and ``winsorise`` always leave such a unit out of phi and
    tau2 (``trimmed``, ``z_trimmed`` NaN, ``z_od`` -inf); ``funnel`` still reports and judges it:
    its ratio 0 is a low outlier whenever its lower limit is above 0, as the exact Poisson and SHMI
    limits always are.
    """
    o, d = np.asarray(numerator, float), np.asarray(denominator, float)
    if data_type == "SR" and sr_method == "SHMI":
        with np.errstate(divide="ignore"):  # O = 0 gives log(0) = -inf on purpose
            y = np.log(o / d)
        s, t = 1 / np.sqrt(d), 0.0
    elif data_type == "SR":
        y, s, t = np.sqrt(o / d), 1 / (2 * np.sqrt(d)), 1.0
    else:
        y, s, t = np.arcsin(np.sqrt(o / d)), 1 / (2 * np.sqrt(d)), math.asin(math.sqrt(o.sum() / d.sum()))
    return y, s, t, (y - t) / s


def winsorise(z, trim_by: float = 0.1):
    """Clip z to its trim_by / 1-trim_by quantiles (R type 7); returns (z_w, winsorised flag).

    Non-finite z (-inf for a unit with O = 0 under SHMI; NaN) are left out of the quantiles (as R's
    ``na.rm = TRUE`` does for NaN), returned as NaN and flagged, so they never enter phi or tau2.
    """
    z = np.asarray(z, float)
    finite = np.isfinite(z)
    if not finite.any():
        return np.full(z.shape, np.nan), np.ones(z.shape, bool)
    lz, uz = np.quantile(z[finite], trim_by), np.quantile(z[finite], 1 - trim_by)
    return np.where(finite, np.clip(z, lz, uz), np.nan), ~((z > lz) & (z < uz))


def truncate(z, trim_by: float = 0.1):
    """SHMI truncation: NaN for units in the outer bands of the ranks; returns (z_t, truncated flag).

    A z of -inf (O = 0) ranks lowest, as in R, so it lands in band 0 once n >= 1/trim_by; it is cut
    in any case (also for smaller n, where FunnelPlotR would keep it and get an infinite phi).
    """
    z = np.asarray(z, float)
    k = 1 / trim_by
    band = np.floor(pd.Series(z).rank(method="average").to_numpy() * k / (len(z) + 1))
    cut = ~((band > 0) & (band < k - 1)) | ~np.isfinite(z)
    return np.where(cut, np.nan, z), cut


def dispersion_phi(z_kept) -> float:
    """phi = mean of the squared (winsorised or truncated) z-scores."""
    z = np.asarray(z_kept, float)
    z = z[~np.isnan(z)]
    return float(np.sum(z**2) / len(z))


def tau2_dl(phi: float, s_kept) -> float:
    """DerSimonian-Laird between-unit variance from phi and the within-unit s of the kept units."""
    s = np.asarray(s_kept, float)
    m = len(s)
    if m == 0 or m * phi < m - 1:
        return 0.0
    w = 1 / s**2
    return max(0.0, (m * phi - (m - 1)) / (w.sum() - (w**2).sum() / w.sum()))


def od_limits(denominator, tau2: float, data_type: DataType = "SR", sr_method: SrMethod = "SHMI",
              target: float = 1.0, multiplier: float = 1.0, cqc_backtransform: bool = True):
    """Limits with additive variance tau2 (tau2 = 0: the normal-approximation limits) at each d."""
    d = np.asarray(denominator, float)
    out = {}
    for name, a in (("95", LEVELS[95]), ("998", LEVELS[99])):
        za = NormalDist().inv_cdf(1 - a)
        if data_type == "SR" and sr_method == "SHMI":
            sd = np.sqrt(1 / d + tau2)
            lo, up = np.exp(-za * sd), np.exp(za * sd)
        elif data_type == "SR":
            sd = np.sqrt(1 / (4 * d) + tau2)
            lo, up = 1 - za * sd, 1 + za * sd
            if cqc_backtransform:
                lo, up = np.where(lo > 0, lo, 0.0) ** 2, up**2
        else:
            sd = np.sqrt(1 / (4 * d) + tau2)
            c = math.asin(math.sqrt(target))
            lo = np.where(c - za * sd > 0, np.sin(c - za * sd) ** 2, 0.0)
            up = np.where(c + za * sd < math.pi / 2, np.sin(c + za * sd) ** 2, 1.0)
        out[f"ll{name}"], out[f"ul{name}"] = multiplier * lo, multiplier * up
    return pd.DataFrame({"denominator": d, **out})


@dataclass(frozen=True)
class FunnelSummary:
    """One row: units, phi, tau2, which limits judged outliers, outlier counts."""

    table: pd.DataFrame

    def __str__(self) -> str:
        r = self.table.iloc[0]
        return (f"{r['units']} units; phi = {r['phi']:.4g}, tau2 = {r['tau2']:.4g}; limits: "
                f"{r['limits']}; outliers: {r['outliers_high']} high, {r['outliers_low']} low")

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


@dataclass(frozen=True)
class FunnelResult:
    """Frozen funnel result: one row per group in ``tidy()``; phi, tau2 and whether OD limits apply."""

    data: pd.DataFrame
    phi: float
    tau2: float
    adjusted: bool
    options: dict = field(default_factory=dict)

    def tidy(self) -> pd.DataFrame:
        return self.data.copy()

    def summary(self) -> FunnelSummary:
        o = self.data
        return FunnelSummary(pd.DataFrame([{
            "units": len(o), "phi": self.phi, "tau2": self.tau2,
            "limits": f"{'overdispersed' if self.adjusted else 'unadjusted'} {self.options['limit']}",
            "outliers_high": int(o["outlier_high"].sum()),
            "outliers_low": int(o["outlier_low"].sum())}]))

    def limits_lookup(self, n: int = 1000) -> pd.DataFrame:
        """Limits over a grid of denominators for drawing (as FunnelPlotR ``build_limits_lookup``)."""
        o = self.options
        start = 1.1 if o["data_type"] == "SR" else 3.0
        grid = np.linspace(start, math.ceil(self.data["denominator"].max()), n)
        return _limits_at(grid, o, self.tau2, o["target"])

    def plot(self, title: str | None = None):
        import altair as alt

        lk = self.limits_lookup().melt("denominator", var_name="limit", value_name="value")
        lines = alt.Chart(lk).mark_line().encode(x="denominator", y="value", color="limit")
        pts = alt.Chart(self.data).mark_circle(size=50).encode(
            x=alt.X("denominator", title="Expected" if self.options["data_type"] == "SR" else "n"),
            y=alt.Y("ratio", title="Ratio"), color=alt.value("black"),
            tooltip=["group", "numerator", "denominator", "ratio", "outlier"])
        chart = alt.layer(lines, pts)
        return chart.properties(title=title) if title else chart


def _limits_at(d, o: dict, tau2: float, target: float) -> pd.DataFrame:
    if o["data_type"] == "SR":
        un = poisson_limits(d, target, o["multiplier"]).drop(columns="expected")
    else:
        un = od_limits(d, 0.0, "PR", target=target, multiplier=o["multiplier"]).drop(
            columns="denominator")
    od = od_limits(d, tau2, o["data_type"], o["sr_method"], target, o["multiplier"],
                   o["cqc_backtransform"]).drop(columns="denominator").add_prefix("od_")
    return pd.concat([pd.DataFrame({"denominator": d}), un, od], axis=1)


def funnel(frame: pd.DataFrame, numerator: str, denominator: str, group: str, *,
           data_type: DataType = "SR", sr_method: SrMethod = "SHMI", limit: int = 99,
           trim_by: float = 0.1, trim: Trim | None = None, draw_adjusted: bool = True,
           multiplier: float = 1.0, shmi_rounding: bool = True,
           cqc_backtransform: bool = True) -> FunnelResult:
    """Funnel of ``numerator``/``denominator`` summed by ``group`` (FunnelPlotR ``funnel_plot``).

    ``trim`` defaults to truncation for SR/SHMI and winsorisation otherwise, as in FunnelPlotR.
    """
    _check("data_type", data_type, get_args(DataType))
    _check("sr_method", sr_method, get_args(SrMethod))
    _check("limit", limit, tuple(LEVELS))
    _check("trim", trim, (*get_args(Trim), None))
    if not 0 < trim_by < 0.5:
        raise ValueError(f"trim_by must be in (0, 0.5); got {trim_by!r}")
    for col in (numerator, denominator, group):
        if col not in frame.columns:
            raise ValueError(f"column {col!r} not in frame (columns: {list(frame.columns)})")
    agg = frame.groupby(group, sort=True)[[numerator, denominator]].sum().reset_index()
    agg.columns = ["group", "numerator", "denominator"]
    agg = agg.astype({"numerator": float, "denominator": float})
    bad = agg.index[~(agg["denominator"] > 0) | ~(agg["numerator"] >= 0)]
    if len(bad):
        raise ValueError(f"group {agg['group'][bad[0]]!r}: needs numerator >= 0 and denominator > 0")
    shmi = data_type == "SR" and sr_method == "SHMI"
    if shmi and shmi_rounding:
        agg["denominator"] = agg["denominator"].round(2)
    target = 1.0 if data_type == "SR" else agg["numerator"].sum() / agg["denominator"].sum()
    y, s, t, z = transformed_z(agg["numerator"], agg["denominator"], data_type, sr_method)
    trim = trim or ("truncate" if shmi else "winsorise")
    zk, trimmed = (truncate if trim == "truncate" else winsorise)(z, trim_by)
    kept = ~np.isnan(zk)
    phi = dispersion_phi(zk[kept])
    tau2 = tau2_dl(phi, s[kept])
    adjusted = bool(draw_adjusted and phi > 1)
    opts = {"data_type": data_type, "sr_method": sr_method, "limit": limit, "trim_by": trim_by,
            "trim": trim, "draw_adjusted": draw_adjusted, "multiplier": multiplier,
            "shmi_rounding": shmi_rounding, "cqc_backtransform": cqc_backtransform, "target": target}
    lims = _limits_at(agg["denominator"].to_numpy(), opts, tau2, target).drop(columns="denominator")
    out = pd.concat([agg, lims], axis=1)
    out["ratio"] = multiplier * agg["numerator"] / agg["denominator"]
    out["y_transformed"], out["s"], out["z"] = y, s, z
    out["z_trimmed"], out["trimmed"] = zk, trimmed
    out["z_od"] = (y - t) / np.sqrt(s**2 + tau2)
    lvl = "998" if limit == 99 else "95"
    pre = "od_" if adjusted else ""
    out["outlier_high"] = out["ratio"] > out[f"{pre}ul{lvl}"]
    out["outlier_low"] = out["ratio"] < out[f"{pre}ll{lvl}"]
    out["outlier"] = out["outlier_high"] | out["outlier_low"]
    return FunnelResult(out, phi, tau2, adjusted, opts)
