"""A wild bootstrap reference for the synthetic DiD subgroup tests, simulated under equal effects.

:mod:`joinedup.impact.subgroups_sdid` tests equal effects across groups by the Wald statistic
``W = (C b)' (C V C')^-1 (C b)`` (``V`` the joint jackknife over units) and, for an ordered
breakdown, the linear trend ``t = c' b / sqrt(c' V c)``. Referred to Hotelling's T² (m = the wave's
sites) and t(m - 1), both hold their size but are conservative and nearly powerless with 7 sites
(docs/inequalities.md). This module draws their reference distributions instead.

**Why it is cheap.** With the SDID weights of each group's fit held fixed (omega, lambda), the
estimate and every leave-one-unit-out estimate of the jackknife are linear in the outcomes, and only
through each unit's *contrast* ``y_i = sum_t p_t Y_it`` (``p`` = ``-lambda`` before, ``1/T1`` after):
``tau = sum_i w_i y_i`` (``w`` = ``-omega`` on the controls, ``1/N1`` on the sites) and
``tau_(-j) = sum_i w_(-j),i y_i`` (omega renormalised over the controls left, ``1/(N1 - 1)`` on the
sites left: :func:`joinedup.impact.synthetic._synthdid.jackknife_estimates`). A replicate is a
matrix product, not a refit.

**The bootstrap DGP.** Each group's fit is SDID's own weighted two-way regression (Arkhangelsky et
al. 2021, eq. 1.2: weights ``omega_i lambda_t``), whose per-unit contrast is
``kappa_g + tau_g 1{site}`` with ``kappa_g = omega' y_controls`` (the synthetic control's contrast:
the regression's normal equations give exactly this), and residual contrast ``u_gi``. Per unit x
period the residual is ``Y - alpha_i - beta_t - tau D``; a sign shared by all periods of a unit
multiplies its contrast by the sign, the unit and period effects drop out of every contrast (unit
and period weights each sum to zero), so only ``u_gi`` enters. The null fit puts the **common effect**
``tau_0`` on the sites' post cells of every group instead of ``tau_g``:

    y*_gi = kappa_g + tau_0 1{site i} + s_i e_gi,      s_i = +-1 (Rademacher), one per unit, shared
                                                       by every group and period of that unit,

so that ``E*[b*_g] = tau_0`` in every group: the replicates are centred on equal effects, and shared
signs keep the groups' dependence through their common units (a site's quintiles move together).
``e_gi`` are the residuals of the null fit (``impose_null=True``: WCR, Cameron, Gelbach & Miller
2008; the default of Roodman et al. 2019's boottest), ``u_gi + (tau_g - tau_0) 1{site}``, the
group's misfit under the null landing on its sites, as the null fit changes only the sites' post
cells; or the unrestricted residuals ``u_gi`` (``impose_null=False``: WCU, equivalently the
replicate differences centred on the estimates). ``tau_0`` is the **equally weighted** mean of the
group estimates: ``W*`` and ``t*`` do not depend on ``tau_0`` except through the WCR residuals, and
the precision-weighted mean would weigh by the inverse of a ``V`` estimated from about m sites
(weights that can be extreme or negative with strongly correlated groups). Each replicate gives
``b*``, its own joint jackknife ``V*`` (weights fixed, as for ``V``), ``W*`` and ``t*``; the p-values are
``(1 + #{W* >= W}) / (B + 1)`` and ``(1 + #{|t*| >= |t|}) / (B + 1)``. The trend's replicates are
drawn under equal effects too (a stronger null than no trend); its interval is the percentile-t one,
``slope +- q * se`` with ``q`` the 95th percentile of ``|t*|``.

**Caveat.** MacKinnon & Webb (2017, J. Applied Econometrics 32: 233-254; 2018, Econometrics Journal
21: 114-135) show that with few treated clusters the wild cluster bootstrap misbehaves: WCR can
under-reject badly and WCU over-reject, because the sites' few residuals carry most of the
estimate's variation. With 7 sites this is the regime here, so the reference's size is measured
(benchmarks/impact_coverage.py ``--design subgroups-sdid-four --wild-draws 399``; docs/inequalities.md):
deprivation quintiles, 7 wave-1 sites, 200 null seeds: W rejected in 4.0% (WCR; WCU 5.0%), the trend
in 1.0% (WCU 0.5%); with quintile 1 0.2 log apart (120 seeds) WCR found it in 27.5% and 21.7%
(Hotelling's T² 1.7%, t(6) 11.7%). With 3 wave-2 sites WCR rejected nothing, null or not, and WCU
18.5% of true nulls; with 4 of the wave-1 sites WCR found nothing either: hence ``MIN_SITES`` (5).

Example:
    >>> import numpy as np
    >>> from joinedup.impact.synthetic import _synthdid as sd
    >>> rng = np.random.default_rng(1)
    >>> Y = rng.normal(size=(20, 5))
    >>> ests = [sd.estimate(Y + rng.normal(size=Y.shape), 12, 3, "did") for _ in range(3)]
    >>> r = wild_equal_effects(ests, B=99, seed=1, scores=[0, 1, 2])
    >>> 0 < r.p_value <= 1, r.draws.shape, r.B
    (True, (99,), 99)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from joinedup.impact.synthetic import _synthdid as sd
from joinedup.impact.wild_bootstrap import draw_weights

DRAWS = 399  # B: p-values on a grid of 1/400, enough for a 5% test; a replicate is a matrix product
MIN_DRAWS = 19  # (1 + 0) / (B + 1) must be able to fall to 0.05
# the fewest sites for which sdid_subgroup_effects uses this reference. Measured (the quintile benchmark
# with 3-7 sites, docs/inequalities.md): WCR held its size with any number; with 3 and 4 sites it found
# nothing (t(m - 1) 6-7%), with 5 it beat Hotelling's T² and t(4), with 6 and 7 by far
MIN_SITES = 5


@dataclass(frozen=True)
class WildReference:
    """The Wald statistic of equal effects and, with scores, the linear trend, with their wild
    bootstrap p-values (module docstring) and replicate draws."""

    statistic: float
    p_value: float
    draws: np.ndarray
    trend: float | None
    trend_p_value: float | None
    trend_draws: np.ndarray | None
    trend_crit: float | None  # the 95th percentile of |t*|: the trend interval's multiplier
    B: int
    impose_null: bool
    seed: int | None

    def words(self) -> str:
        """How the reference was drawn, for the table's ``test`` column."""
        return (f"wild bootstrap reference, B = {self.B}, Rademacher sign per unit shared by the groups, "
                f"{'equal effects imposed (WCR)' if self.impose_null else 'unrestricted residuals (WCU)'}")


def contrast_weights(est: sd.Estimate) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The period weights ``p`` (T), unit weights ``w`` (N) and leave-one-out unit weights (N x N,
    row ``j`` with unit ``j`` out at zero) of a fit with its weights fixed, so that ``w @ Y @ p`` is
    the estimate and ``J @ Y @ p`` synthdid's jackknife estimates (Algorithm 3, fixed weights)."""
    n, t = est.Y.shape
    n0, t0 = est.N0, est.T0
    n1 = n - n0
    if n1 < 2 or (est.omega != 0).sum() == 1:
        raise ValueError("the jackknife is undefined: one site, or one comparison area with positive weight")
    p = np.concatenate([-est.lambda_, np.full(t - t0, 1.0 / (t - t0))])
    w = np.concatenate([-est.omega, np.full(n1, 1.0 / n1)])
    jack = np.zeros((n, n))
    for j in range(n):
        if j < n0:
            keep = np.r_[0:j, j + 1:n0]
            jack[j, keep] = -sd._sum_normalize(est.omega[keep])
            jack[j, n0:] = 1.0 / n1
        else:
            jack[j, :n0] = -est.omega
            jack[j, n0:] = 1.0 / (n1 - 1)
            jack[j, j] = 0.0
    return p, w, jack


def _stats(b: np.ndarray, u: np.ndarray, scores: np.ndarray | None):
    """W and t for estimates ``b`` (G x B) and leave-one-out estimates ``u`` (G x N x B)."""
    g, n = u.shape[0], u.shape[1]
    d = u - u.mean(axis=1, keepdims=True)
    v = (n - 1) / n * np.einsum("gnb,hnb->bgh", d, d)
    c = np.eye(g)[:-1] - np.eye(g)[1:]  # successive differences, as joint_wald_equal_effects
    cb = (c @ b).T
    cvc = c @ v @ c.T
    w = np.einsum("bq,bq->b", cb, np.linalg.solve(cvc, cb[..., None])[..., 0])
    if scores is None:
        return w, None
    s = scores - scores.mean()
    return w, (s @ b) / np.sqrt(np.einsum("g,bgh,h->b", s, v, s))


def wild_equal_effects(estimates: list[sd.Estimate], B: int = DRAWS, seed: int | None = 0,
                       scores=None, impose_null: bool = True) -> WildReference:
    """The wild bootstrap reference of the Wald test of equal effects (and, with ``scores``, the
    groups' positions in their order, of the linear trend) for SDID fits sharing their units in the
    same rows (module docstring)."""
    if not isinstance(B, (int, np.integer)) or B < MIN_DRAWS:
        raise ValueError(f"B must be an integer of at least {MIN_DRAWS} draws (a 5% test needs "
                         f"(1 + 0) / (B + 1) <= 0.05); got {B!r}")
    if len(estimates) < 2:
        raise ValueError(f"a test of equal effects needs two or more groups; got {len(estimates)}")
    shapes = {(e.Y.shape[0], e.N0) for e in estimates}
    if len(shapes) != 1:
        raise ValueError(f"the wild bootstrap needs the same units in every group: {sorted(shapes)}")
    if scores is not None:
        scores = np.asarray(scores, dtype=float)
        if len(estimates) < 3 or scores.shape != (len(estimates),) or np.ptp(scores) == 0:
            raise ValueError(f"a trend needs three or more groups and varying scores, one a group; got {scores}")
    n, n0 = shapes.pop()
    site = np.arange(n) >= n0
    parts = []
    for est in estimates:
        p, w, jack = contrast_weights(est)
        y = est.Y @ p
        tau = float(w @ y)
        kappa = float(est.omega @ y[:n0])
        parts.append((w, jack, y, y - kappa - tau * site, tau))
    b0 = np.array([x[4] for x in parts])
    tau0 = float(b0.mean())
    signs, _ = draw_weights("rademacher", n, B, np.random.default_rng(seed))
    B = signs.shape[1]  # 2**n < B: every sign vector, once
    obs_b = b0[:, None]
    obs_u = np.stack([jack @ y for w, jack, y, _, _ in parts])[..., None]
    stat, trend = _stats(obs_b, obs_u, scores)
    boot_b, boot_u = np.empty((len(parts), B)), np.empty((len(parts), n, B))
    for g, (w, jack, _, u, tau) in enumerate(parts):
        e = u + (tau - tau0) * site if impose_null else u
        ystar = e[:, None] * signs  # the common part kappa + tau0 1{site} cancels from every statistic
        boot_b[g], boot_u[g] = w @ ystar, jack @ ystar
    draws, tdraws = _stats(boot_b, boot_u, scores)
    tie = 1e-10 * abs(stat[0])
    p = (1 + int(np.sum(draws >= stat[0] - tie))) / (B + 1)
    if scores is None:
        return WildReference(float(stat[0]), p, draws, None, None, None, None, B, impose_null, seed)
    tt = float(trend[0])
    tp = (1 + int(np.sum(np.abs(tdraws) >= abs(tt) * (1 - 1e-10)))) / (B + 1)
    crit = float(np.quantile(np.abs(tdraws), 0.95))
    return WildReference(float(stat[0]), p, draws, tt, tp, tdraws, crit, B, impose_null, seed)


def wild_test_rows(out, cov: np.ndarray, fits: list[sd.Estimate], breakdown: str, draws: int = DRAWS,
                   seed: int | None = 0, impose_null: bool = True) -> tuple[dict, dict | None]:
    """The rows of :func:`joinedup.impact.subgroups_sdid.sdid_subgroup_effects` for the wild
    reference (``cov``: the fits' joint jackknife covariance): the test of equal effects
    (``p_value`` from the draws, ``statistic`` W, ``df`` its differences) and, for an ordered
    breakdown, the trend (slope, jackknife SE, percentile-t interval, t and its wild p-value; ``df``
    NaN: no t distribution is used). The ``test`` column says which reference; a test that cannot
    run is a "not run" row saying why."""
    from joinedup.impact.subgroup_gradient import ORDERED, gradient_row

    groups, m, q = list(out["group"]), int(out["n_sites"].min()), len(out) - 1
    order = ORDERED.get(breakdown)
    ordered = order is not None and len(groups) >= 3 and set(groups) <= set(order)
    scores = [order.index(g) for g in groups] if ordered else None
    try:
        r = wild_equal_effects(fits, draws, seed, scores, impose_null)
    except (ValueError, np.linalg.LinAlgError) as err:
        return ({"group": "not run", "group_label": f"Test of equal effects not run: {err}"},
                None if not ordered else {"group": "not run", "group_label": f"Test of a linear trend not run: {err}"})
    words = f"{r.words()}, m = {m} sites"
    test = {"group": "difference", "group_label": "Test of equal effects across groups", "p_value": r.p_value,
            "test": f"Wald, {q} df, {words} (equal effects; joint jackknife covariance)",
            "statistic": r.statistic, "df": q}
    if not ordered:
        return test, None
    trend = gradient_row(breakdown, groups, out["estimate"], cov, None, words, "joint jackknife covariance")
    if trend["group"] == "gradient":
        se = trend["std_error"]
        trend.update(p_value=r.trend_p_value, df=np.nan, ci_low=trend["estimate"] - r.trend_crit * se,
                     ci_high=trend["estimate"] + r.trend_crit * se)
    return test, trend
