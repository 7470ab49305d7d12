"""A line-by-line port of R ``synthdid`` (Arkhangelsky et al. 2021), without covariates.

Frank-Wolfe with exact line search for the unit weights omega and the time weights lambda, the
sparsify step and second round, ``sc_estimate`` and ``did_estimate``, and the placebo, bootstrap and
jackknife standard errors of ``vcov.synthdid_estimate``. The weights are the Frank-Wolfe iterates
where synthdid stops, not the exact optimum, so the stopping rules are copied exactly: the
published Proposition 99 numbers depend on them.

``Y`` is units x periods with the ``N0`` controls first and the ``T0`` pre periods first.

Example:
    >>> import numpy as np
    >>> Y = np.array([[1.0, 2, 3], [2, 3, 4], [3, 4, 8]])
    >>> round(estimate(Y, 2, 2, "did").tau, 6)   # (8 - 3.5) - (3.5 - 2)
    3.0
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class Opts:
    """What synthdid keeps in ``attr(estimate, 'opts')`` (reused by the standard errors)."""

    zeta_omega: float
    zeta_lambda: float
    omega_intercept: bool
    lambda_intercept: bool
    update_omega: bool
    update_lambda: bool
    min_decrease: float
    max_iter: int = 10_000
    max_iter_pre_sparsify: int = 100
    sparsify: bool = True


@dataclass(frozen=True)
class Estimate:
    tau: float
    omega: np.ndarray
    lambda_: np.ndarray
    Y: np.ndarray
    N0: int
    T0: int
    opts: Opts
    estimator: str


def noise_level(Y: np.ndarray, N0: int, T0: int) -> float:
    """sd of the first differences of the control units' pre-period outcomes."""
    return float(np.std(np.diff(Y[:N0, :T0], axis=1), ddof=1))


def collapsed_form(Y: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """(N0 + 1) x (T0 + 1): post periods and treated units averaged; ``Y`` may carry a batch axis."""
    top = np.concatenate([Y[..., :N0, :T0], Y[..., :N0, T0:].mean(axis=-1, keepdims=True)], axis=-1)
    bottom = np.concatenate([Y[..., N0:, :T0].mean(axis=-2, keepdims=True),
                             Y[..., N0:, T0:].mean(axis=(-2, -1))[..., None, None]], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def sc_weight_fw(Y: np.ndarray, zeta: float, intercept: bool, lam: np.ndarray | None,
                 min_decrease: float, max_iter: int) -> np.ndarray:
    """synthdid's ``sc.weight.fw`` on a batch: columns 1..T0 of each ``Y[r]`` predict its last.

    Each problem runs its own Frank-Wolfe steps (exact line search) and stops by its own rule, as
    if alone; batching only shares the numpy call overhead (placebo and bootstrap replications).
    """
    R, N0, T0 = Y.shape[0], Y.shape[1], Y.shape[2] - 1
    lam = np.full((R, T0), 1.0 / T0) if lam is None else np.array(lam, dtype=float).reshape(R, T0)
    if intercept:
        Y = Y - Y.mean(axis=1, keepdims=True)
    A, b = Y[:, :, :T0], Y[:, :, T0]
    eta = N0 * zeta ** 2
    rows = np.arange(R)
    active = np.ones(R, dtype=bool)
    prev = np.full(R, np.inf)
    threshold = min_decrease ** 2
    Ax = (A @ lam[:, :, None])[:, :, 0]
    t = 0
    while t < max_iter and active.any():
        t += 1
        half_grad = ((Ax - b)[:, None, :] @ A)[:, 0, :] + eta * lam
        i = np.argmin(half_grad, axis=1)              # first minimum, as R's which.min
        d_x = -lam
        d_x[rows, i] += 1.0
        d_err = A[rows, :, i] - Ax
        den = np.vecdot(d_err, d_err) + eta * np.vecdot(d_x, d_x)
        num = -np.vecdot(half_grad, d_x)
        moving = d_x.any(axis=1) & active
        step = np.zeros(R)
        np.divide(num, den, out=step, where=moving)
        step = np.clip(step, 0.0, 1.0)
        lam = lam + step[:, None] * d_x
        Ax = Ax + step[:, None] * d_err
        err = Ax - b
        val = zeta ** 2 * np.vecdot(lam, lam) + np.vecdot(err, err) / N0
        # synthdid's rule: go on while the last step lowered the objective by more than min.decrease^2
        if t >= 2:
            active &= (prev - val) > threshold
        prev = np.where(active, val, prev)
    return lam


def sparsify(v: np.ndarray) -> np.ndarray:
    v = np.where(v <= v.max(axis=-1, keepdims=True) / 4, 0.0, v)
    return v / v.sum(axis=-1, keepdims=True)


def synthdid_estimate(Y: np.ndarray, N0: int, T0: int, opts: Opts,
                      omega: np.ndarray | None = None, lambda_: np.ndarray | None = None,
                      estimator: str = "sdid") -> Estimate:
    """synthdid's ``synthdid_estimate`` with the options already resolved (no covariates)."""
    taus, omegas, lambdas = synthdid_batch(Y[None], N0, T0, opts,
                                           None if omega is None else omega[None],
                                           None if lambda_ is None else lambda_[None])
    return Estimate(float(taus[0]), omegas[0], lambdas[0], Y, N0, T0, opts, estimator)


def synthdid_batch(Y: np.ndarray, N0: int, T0: int, opts: Opts, omega: np.ndarray | None,
                   lambda_: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``synthdid_estimate`` for a batch of panels of one shape (R x N x T): taus, omegas, lambdas."""
    R, N, T = Y.shape
    N1, T1 = N - N0, T - T0
    first = opts.max_iter_pre_sparsify if opts.sparsify else opts.max_iter
    Yc = collapsed_form(Y, N0, T0)
    if opts.update_lambda:
        lambda_ = sc_weight_fw(Yc[:, :N0, :], opts.zeta_lambda, opts.lambda_intercept, lambda_,
                               opts.min_decrease, first)
        if opts.sparsify:
            lambda_ = sc_weight_fw(Yc[:, :N0, :], opts.zeta_lambda, opts.lambda_intercept,
                                   sparsify(lambda_), opts.min_decrease, opts.max_iter)
    if opts.update_omega:
        Yo = np.swapaxes(Yc[:, :, :T0], 1, 2)
        omega = sc_weight_fw(Yo, opts.zeta_omega, opts.omega_intercept, omega, opts.min_decrease, first)
        if opts.sparsify:
            omega = sc_weight_fw(Yo, opts.zeta_omega, opts.omega_intercept, sparsify(omega),
                                 opts.min_decrease, opts.max_iter)
    omega = np.broadcast_to(omega, (R, N0))
    lambda_ = np.broadcast_to(lambda_, (R, T0))
    unit = np.concatenate([-omega, np.full((R, N1), 1.0 / N1)], axis=1)
    period = np.concatenate([-lambda_, np.full((R, T1), 1.0 / T1)], axis=1)
    taus = np.einsum("rn,rnt,rt->r", unit, Y, period)
    return taus, np.array(omega), np.array(lambda_)


def estimate(Y: np.ndarray, N0: int, T0: int, estimator: str = "sdid") -> Estimate:
    """``synthdid_estimate``, ``sc_estimate`` or ``did_estimate`` with synthdid's defaults."""
    N1, T1 = Y.shape[0] - N0, Y.shape[1] - T0
    sigma = noise_level(Y, N0, T0)
    eta_omega = {"sdid": (N1 * T1) ** 0.25, "sc": 1e-6, "did": (N1 * T1) ** 0.25}[estimator]
    opts = Opts(zeta_omega=eta_omega * sigma, zeta_lambda=1e-6 * sigma,
                omega_intercept=estimator != "sc", lambda_intercept=True,
                update_omega=estimator != "did", update_lambda=estimator == "sdid",
                min_decrease=1e-5 * sigma)
    omega = np.full(N0, 1.0 / N0) if estimator == "did" else None
    lambda_ = {"sdid": None, "sc": np.zeros(T0), "did": np.full(T0, 1.0 / T0)}[estimator]
    return synthdid_estimate(Y, N0, T0, opts, omega, lambda_, estimator)


def _sum_normalize(x: np.ndarray) -> np.ndarray:
    s = x.sum()
    return x / s if s != 0 else np.full(len(x), 1.0 / len(x))


def placebo_se(est: Estimate, replications: int, rng: np.random.Generator) -> float:
    """Algorithm 4: controls permuted, the last N1 of them play the treated units."""
    N1 = est.Y.shape[0] - est.N0
    if est.N0 <= N1:
        raise ValueError("the placebo SE needs more controls than treated units")
    N0 = est.N0 - N1
    inds = np.array([rng.permutation(est.N0) for _ in range(replications)])
    omega = np.array([_sum_normalize(est.omega[ind[:N0]]) for ind in inds])
    lam = np.broadcast_to(est.lambda_, (replications, est.T0))
    taus = synthdid_batch(est.Y[inds], N0, est.T0, est.opts, omega, lam)[0]
    return float(np.sqrt((replications - 1) / replications) * np.std(taus, ddof=1))


def bootstrap_se(est: Estimate, replications: int, rng: np.random.Generator) -> float:
    """Algorithm 2: units resampled with replacement; draws with no control or no treated unit redrawn.

    Draws with the same number of controls share one batch (the shapes must agree).
    """
    N = est.Y.shape[0]
    if est.N0 == N - 1:
        return float("nan")
    draws = []
    while len(draws) < replications:
        ind = np.sort(rng.integers(0, N, size=N))
        n0 = int((ind < est.N0).sum())
        if 0 < n0 < N:
            draws.append((n0, ind))
    taus = np.empty(replications)
    for n0 in sorted({n for n, _ in draws}):
        which = [k for k, (n, _) in enumerate(draws) if n == n0]
        inds = np.array([draws[k][1] for k in which])
        omega = np.array([_sum_normalize(est.omega[ind[:n0]]) for ind in inds])
        lam = np.broadcast_to(est.lambda_, (len(which), est.T0))
        taus[which] = synthdid_batch(est.Y[inds], n0, est.T0, est.opts, omega, lam)[0]
    return float(np.sqrt((replications - 1) / replications) * np.std(taus, ddof=1))


def jackknife_estimates(est: Estimate) -> np.ndarray | None:
    """Algorithm 3's leave-one-unit-out estimates (unit ``i`` left out at position ``i``), weights
    fixed and renormalised, not re-estimated; None where synthdid's jackknife is undefined (one
    treated unit, or one control of positive weight). Shared by :func:`jackknife_se` and the joint
    jackknife covariance of :mod:`joinedup.impact.subgroups_sdid`."""
    N = est.Y.shape[0]
    if est.N0 == N - 1 or (est.omega != 0).sum() == 1:
        return None
    opts = replace(est.opts, update_omega=False, update_lambda=False)
    u = np.empty(N)
    for i in range(N):
        ind = np.r_[0:i, i + 1:N]
        n0 = int((ind < est.N0).sum())
        omega = _sum_normalize(est.omega[ind[:n0]])
        u[i] = synthdid_estimate(est.Y[ind], n0, est.T0, opts, omega, est.lambda_).tau
    return u


def jackknife_se(est: Estimate) -> float:
    """Algorithm 3, fixed weights: NaN with one treated unit or one control of positive weight."""
    u = jackknife_estimates(est)
    if u is None:
        return float("nan")
    N = len(u)
    return float(np.sqrt(((N - 1) / N) * (N - 1) * np.var(u, ddof=1)))
