"""Synthetic DiD by subgroup, with a test of difference from a joint jackknife covariance.

The main design's synthetic DiD (:func:`joinedup.impact.evaluate.synthetic_did`: each wave's
Pioneer sites as units, their areas' events over their population, against comparison areas) is
run on each group's area x financial-year panel, built from ``indicator_breakdowns`` as
:mod:`joinedup.impact.subgroups` builds it (log rate). Every group's panel keeps only the
comparison areas and sites usable (observed, with events, in every period) in *every* group, so
unit ``i`` is the same unit in every group.

The covariance ``V`` of the group estimates is, by default, a **joint jackknife over units**
(Arkhangelsky et al. 2021, Algorithm 3; synthdid's ``vcov(method = "jackknife")``): unit ``i`` is
left out of every group's fit at once, the weights kept fixed (omega renormalised over the controls
left, lambda as fitted), and with ``d_i`` the groups' leave-``i``-out estimates less their mean,
``V = (N - 1)/N * sum_i d_i d_i'``. Its diagonal is each group's own jackknife variance (as
``sdid(..., se="jackknife")``). Why not the main design's placebo (Algorithm 4, still available as
``covariance="placebo"``, drawn jointly: one permutation of the controls per replication applied
to every group)? The placebo variance assumes the treated units are as noisy as the controls, and a
site's quintile rate is far noisier than a comparison area's: on simulated England the quintile
estimates varied 0.7-2.2 times what their placebo SEs said, and the jackknife's 0.94-1.10 times.

The test of equal effects is the Wald test of ``C b = 0`` (``C`` the ``G - 1`` successive differences):

    W = (C b)' (C V C')^-1 (C b),

referred, with the jackknife, by default to a **wild bootstrap simulated under equal effects**
(:mod:`joinedup.impact.subgroups_sdid_wild`: one Rademacher sign per unit shared by the groups,
weights fixed, ``V`` recomputed in every draw; ``reference="wild"``), in a wave with 5 or more
sites ``m`` and more than the differences ``q = G - 1``; otherwise (or ``reference="hotelling"``) to
**Hotelling's T²**, ``W (m - q) / (q (m - 1)) ~ F(q, m - q)``: the jackknife's ``V`` rests mostly on the ``m`` sites' own
leave-one-out moves, so it is estimated from about ``m`` units and chi-square takes it as known. A
wave with no more sites than differences gets a "not run" test row. With the placebo, chi-square
(as before). Wave by wave, as the main design; a wave with fewer than two financial years before
its start is not run (synthdid's noise level needs two pre-periods).

Measured size and power (``benchmarks/impact_coverage.py --design subgroups-sdid-four``,
docs/inequalities.md), deprivation quintiles, 7 wave-1 sites: the joint jackknife with chi-square
rejected equal effects in 21% of null seeds (the placebo: 41%); with Hotelling's reference in 0%,
but it found quintile 1's 0.2 log larger effect in only 1.7% of seeds; with the wild reference
(null imposed) in 4% of null seeds, and found the difference in 27.5%. For an ordered breakdown a
**1-df linear trend test** (:mod:`joinedup.impact.subgroup_gradient`, same ``V``; the wild reference
or t(m - 1)) asks the one question an inequalities reader has: does the effect change from the
most to the least deprived? (t(6): 0.5% size, 12% power; wild: 1% size, 22% power.) With 3 or 4
sites the wild reference (WCR) found nothing, hence the fallback.

Example:
    >>> import numpy as np
    >>> from joinedup.impact.synthetic import _synthdid as sd
    >>> rng = np.random.default_rng(1)
    >>> Y = rng.normal(size=(12, 5)); Y[10:, 3:] += 1.0
    >>> ests = [sd.estimate(Y, 10, 3), sd.estimate(Y + rng.normal(size=Y.shape), 10, 3)]
    >>> joint_placebo(ests, 50, np.random.default_rng(0)).shape
    (50, 2)
    >>> jackknife_covariance(joint_jackknife(ests)).shape   # 12 units left out in turn, 2 groups
    (2, 2)
"""

from __future__ import annotations

import warnings
from typing import Literal, get_args

import numpy as np
import pandas as pd
from scipy.stats import norm

from joinedup.impact.synthetic import _synthdid as sd

REPLICATIONS = 200  # as the main design's synthetic DiD (placebo covariance only)
Covariance = Literal["jackknife", "placebo"]
COVARIANCES: tuple[str, ...] = get_args(Covariance)
Reference = Literal["hotelling", "wild"]  # of the jackknife's tests: Hotelling's T² / t(m - 1), or the wild bootstrap
REFERENCES: tuple[str, ...] = get_args(Reference)
DESIGN = {"jackknife": ("synthetic DiD, wave {wave}, sites as units, log rate, financial years "
                        "(joint jackknife covariance over units)"),
          "placebo": ("synthetic DiD, wave {wave}, sites as units, log rate, financial years "
                      "(joint placebo covariance, {replications} replications)")}
METHOD = "Synthetic DiD, wave {wave}"


def joint_placebo(estimates: list[sd.Estimate], replications: int, rng: np.random.Generator) -> np.ndarray:
    """Placebo estimates (replications x groups): each replication's one permutation of the
    controls applied to every group's fit, as synthdid's placebo SE does for one.

    Every fit must have the same controls in the same rows (``N0``) and the same ``N1``."""
    if not estimates:
        raise ValueError("no fits to draw placebos for")
    n0, n1 = estimates[0].N0, estimates[0].Y.shape[0] - estimates[0].N0
    if any(e.N0 != n0 or e.Y.shape[0] - e.N0 != n1 for e in estimates):
        raise ValueError("a joint placebo needs the same controls and treated count in every group: "
                         f"{[(e.N0, e.Y.shape[0] - e.N0) for e in estimates]}")
    if n0 <= n1:
        raise ValueError("the placebo SE needs more controls than treated units")
    # drawn exactly as sd.placebo_se draws them, so one group alone reproduces its own placebo SE
    inds = np.array([rng.permutation(n0) for _ in range(replications)])
    keep = n0 - n1
    taus = np.empty((replications, len(estimates)))
    for g, est in enumerate(estimates):
        omega = np.array([sd._sum_normalize(est.omega[ind[:keep]]) for ind in inds])
        lam = np.broadcast_to(est.lambda_, (replications, est.T0))
        taus[:, g] = sd.synthdid_batch(est.Y[inds], keep, est.T0, est.opts, omega, lam)[0]
    return taus


def joint_jackknife(estimates: list[sd.Estimate], names: list[str] | None = None) -> np.ndarray:
    """Leave-one-unit-out estimates (units x groups): row ``i`` leaves unit ``i`` out of every
    group's fit (weights fixed and renormalised, as synthdid's jackknife, Algorithm 3).

    Every fit must hold the same units in the same rows, so that row ``i`` is one unit throughout."""
    if not estimates:
        raise ValueError("no fits to jackknife")
    shapes = {(e.Y.shape[0], e.N0) for e in estimates}
    if len(shapes) != 1:
        raise ValueError(f"a joint jackknife needs the same units in every group: {sorted(shapes)}")
    names = names or [str(g) for g in range(len(estimates))]
    cols = []
    for name, est in zip(names, estimates):
        u = sd.jackknife_estimates(est)
        if u is None:  # synthdid's jackknife SE is NaN here too: no variance to test with
            raise ValueError(f"the jackknife is undefined in group {name!r}: one site, or one comparison "
                             "area with positive weight")
        cols.append(u)
    return np.column_stack(cols)


def jackknife_covariance(u: np.ndarray) -> np.ndarray:
    """``(N - 1)/N * sum_i d_i d_i'``, ``d_i`` unit ``i``'s leave-one-out estimates less their mean:
    synthdid's jackknife variance on the diagonal, extended off it.

    Example:
        >>> jackknife_covariance(np.array([[1.0, 2.0], [3.0, 5.0], [2.0, 2.0]]))  # d: (-1,-1), (1,2), (0,-1)
        array([[1.33333333, 2.        ],
               [2.        , 4.        ]])
    """
    u = np.asarray(u, dtype=float)
    d = u - u.mean(axis=0)
    return (len(u) - 1) / len(u) * (d.T @ d)


def placebo_covariance(taus: np.ndarray) -> np.ndarray:
    """``(R - 1)/R`` times the sample covariance of the placebo estimates: synthdid's placebo
    variance (``sqrt((R-1)/R) * sd``, squared) on the diagonal, extended off it."""
    taus = np.asarray(taus, dtype=float)
    return np.atleast_2d(np.cov(taus, rowvar=False, ddof=0))


def group_site_panels(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str,
                      groups: list[str], common: bool = True) -> dict[str, pd.DataFrame]:
    """Each group's site panel (``unit, t, y, first_treated, wave``: sites as units beside
    comparison areas), restricted to the units usable in every group (``common=False``: each
    group's own usable units, for a caller that restricts and reports what it left out itself)."""
    from joinedup.impact.evaluate import site_panel
    from joinedup.impact.panel import area_panel
    from joinedup.impact.subgroups import PERIOD, _group_indicators
    from joinedup.indicators.catalogue import CATALOGUE

    multiplier = CATALOGUE[outcome].multiplier if outcome in CATALOGUE else 1.0
    exclude = tuple(programme.exclude)
    if getattr(programme, "co_interventions", "exclude") == "covariate":  # the synthetic designs take no
        exclude += tuple(o for o in programme.others if o not in exclude)  # covariates: out of the pool
    panels = {}
    for group in groups:
        indicators = _group_indicators(breakdowns, outcome, breakdown, group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            panel = area_panel(indicators, programme.table, outcome, PERIOD, programme=programme.key,
                               exclude=exclude, scale="log", zeros="drop_area")
        panel = panel[~panel["programme_area"] | panel["treated"]]
        counts = panel.groupby("area_code")["t"].nunique()  # synthetic control weighs every period
        panel = panel[panel["area_code"].isin(counts[counts == panel["t"].nunique()].index)]
        panels[group] = site_panel(panel, "log", multiplier)
    if not common:
        return panels
    shared = set.intersection(*(set(p["unit"]) for p in panels.values()))
    return {g: p[p["unit"].isin(shared)].reset_index(drop=True) for g, p in panels.items()}


def sdid_groups(panels: dict[str, pd.DataFrame], wave: int, replications: int = REPLICATIONS,
                seed: int = 0, covariance: Covariance = "jackknife"
                ) -> tuple[pd.DataFrame, np.ndarray, dict[str, pd.DataFrame]]:
    """SDID of ``wave``'s sites on each group's site panel, with the joint jackknife (default) or
    placebo covariance (``replications`` and ``seed`` are the placebo's only).

    Returns one row per group (``group, estimate, n_sites, n_comparison_areas``), the covariance
    and each group's block (``unit, t, y, d``) as :func:`joinedup.impact.synthetic.sdid` takes it."""
    return sdid_groups_fits(panels, wave, replications, seed, covariance)[:3]


def sdid_groups_fits(panels: dict[str, pd.DataFrame], wave: int, replications: int = REPLICATIONS,
                     seed: int = 0, covariance: Covariance = "jackknife"):
    """:func:`sdid_groups` and, fourth, each group's fit (:class:`~joinedup.impact.synthetic._synthdid.
    Estimate`, units in the same rows), for the wild reference (:mod:`.subgroups_sdid_wild`)."""
    from joinedup.impact.synthetic.sdid import panel_matrices

    if covariance not in COVARIANCES:
        raise ValueError(f"covariance must be one of {COVARIANCES}, not {covariance!r}")
    fits, blocks, rows, controls, units_seen = [], {}, [], None, None
    for group, sites in panels.items():
        treated = sites[sites["first_treated"] > 0].drop_duplicates("unit")
        units = sorted(treated.loc[treated["wave"] == wave, "unit"])
        if not units:
            raise ValueError(f"no site of wave {wave} in group {group!r}")
        start = int(treated.loc[treated["unit"].isin(units), "first_treated"].min())
        block = sites[sites["unit"].isin(units) | (sites["first_treated"] == 0)].copy()
        block["d"] = (block["unit"].isin(units) & (block["t"] >= start)).astype(int)
        blocks[group] = block[["unit", "t", "y", "d"]].reset_index(drop=True)
        Y, n0, t0 = panel_matrices(blocks[group], "unit", "t", "y", "d")
        if t0 < 2:
            raise ValueError(f"wave {wave} has {t0} period before its start; synthetic DiD needs two")
        if controls is not None and list(Y.index[:n0]) != controls:
            raise ValueError(f"group {group!r} has other comparison units than the first group")
        if fits and list(Y.index) != units_seen:  # the jackknife leaves unit i out of every group
            raise ValueError(f"group {group!r} has other sites than the first group")
        controls, units_seen = list(Y.index[:n0]), list(Y.index)
        fits.append(sd.estimate(Y.to_numpy(), n0, t0, "sdid"))
        rows.append({"group": group, "estimate": fits[-1].tau, "n_sites": len(units), "n_comparison_areas": n0})
    if covariance == "jackknife":
        cov = jackknife_covariance(joint_jackknife(fits, list(panels)))
    else:
        cov = placebo_covariance(joint_placebo(fits, replications, np.random.default_rng(seed)))
    out = pd.DataFrame(rows)
    out["std_error"] = np.sqrt(np.diag(cov))
    return out, cov, blocks, fits


def _equal_effects_test(out: pd.DataFrame, cov: np.ndarray, covariance: str) -> dict:
    """The test row: Hotelling's reference with ``m`` = the wave's sites for the jackknife (its
    covariance rests mostly on the sites' own leave-one-out moves), chi-square for the placebo; a
    "not run" row where Hotelling's reference does not exist (no more sites than differences)."""
    from joinedup.impact.subgroups_cs import joint_wald_equal_effects

    if covariance == "placebo":
        stat, df, p = joint_wald_equal_effects(out["estimate"], cov)
        return {"group": "difference", "group_label": "Test of equal effects across groups", "p_value": p,
                "test": f"Wald, {df} df, chi-square reference (equal effects; joint placebo covariance)",
                "statistic": stat, "df": df}
    m, q = int(out["n_sites"].min()), len(out) - 1
    if m <= q:  # Hotelling's F(q, m - q) does not exist; chi-square measured 34% size with 3 sites and q = 4
        return {"group": "not run", "group_label": f"Test of equal effects not run: {m} sites, {q} differences; "
                "Hotelling's reference needs more sites than differences"}
    try:
        stat, df, p = joint_wald_equal_effects(out["estimate"], cov, n_clusters=m)
    except ValueError as err:
        return {"group": "not run", "group_label": f"Test of equal effects not run: {err}"}
    return {"group": "difference", "group_label": "Test of equal effects across groups", "p_value": p,
            "test": (f"Wald, {df} df, Hotelling F reference, m = {m} sites "
                     "(equal effects; joint jackknife covariance)"),
            "statistic": stat, "df": df}


def _trend_test(out: pd.DataFrame, cov: np.ndarray, breakdown: str, covariance: str) -> dict | None:
    """The 1-df linear trend row for an ordered breakdown (:mod:`joinedup.impact.subgroup_gradient`):
    t(m - 1), m = the wave's sites, with the jackknife (it runs where the equal-effects test, with
    more differences than sites allow, cannot); the normal with the placebo (as its chi-square)."""
    from joinedup.impact.subgroup_gradient import gradient_row

    if covariance == "placebo":
        return gradient_row(breakdown, list(out["group"]), out["estimate"], cov, None, "normal reference",
                            "joint placebo covariance")
    m = int(out["n_sites"].min())
    return gradient_row(breakdown, list(out["group"]), out["estimate"], cov, m,
                        f"t({m - 1}) reference, m = {m} sites", "joint jackknife covariance")


def sdid_subgroup_effects(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str,
                          spec=None, replications: int = REPLICATIONS,
                          covariance: Covariance = "jackknife", reference: Reference = "wild",
                          wild_draws: int | None = None) -> pd.DataFrame:
    """Per wave: one row per group, a row with the joint Wald test and, for an ordered breakdown
    (deprivation quintile, age band), a row with the 1-df linear trend test, in the columns of
    :func:`joinedup.impact.subgroups.subgroup_effects`; a wave (or a wave's test) that cannot run
    gets a "not run" row saying why. ``spec`` (the protocol's ``[impact]``) supplies the seed of
    the placebo covariance (``covariance="placebo"``) and of the wild bootstrap. ``reference``: the
    jackknife's tests referred to the wild bootstrap simulated under equal effects (the default:
    :mod:`joinedup.impact.subgroups_sdid_wild`, ``wild_draws`` draws, by default its ``DRAWS``) in
    a wave with ``MIN_SITES`` (5) or more sites, and more sites than differences; otherwise (or with
    ``"hotelling"``) to Hotelling's T² and t(m - 1); the placebo's to chi-square and the normal. The
    ``test`` column names the reference used."""
    from joinedup.impact.subgroups import breakdown_groups
    from joinedup.impact.subgroups_sdid_wild import DRAWS, MIN_SITES, wild_test_rows

    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, not {reference!r}")

    groups, labels = breakdown_groups(breakdowns, outcome, breakdown)
    panels = group_site_panels(breakdowns, programme, outcome, breakdown, groups)
    seed = 0 if spec is None else spec.seed
    first = next(iter(panels.values()))
    waves = sorted(first.loc[first["first_treated"] > 0, "wave"].dropna().astype(int).unique())
    parts = []
    for wave in waves:
        design = DESIGN[covariance].format(wave=wave, replications=replications)
        method = METHOD.format(wave=wave)
        try:
            out, cov, _, fits = sdid_groups_fits(panels, wave, replications, seed, covariance)
        except ValueError as err:
            parts.append(pd.DataFrame([{"outcome": outcome, "breakdown": breakdown, "group": "not run",
                                        "group_label": f"{method} not run: {err}", "design": design,
                                        "method": method}]))
            continue
        z = norm.ppf(0.975)
        se = out["std_error"]
        m = int(out["n_sites"].min())
        if reference == "wild" and covariance == "jackknife" and m >= MIN_SITES and m > len(out) - 1:
            test, trend = wild_test_rows(out, cov, fits, breakdown, wild_draws or DRAWS, seed)
        else:
            test, trend = _equal_effects_test(out, cov, covariance), _trend_test(out, cov, breakdown, covariance)
        test = {"outcome": outcome, "breakdown": breakdown, **test}
        out = out.assign(outcome=outcome, breakdown=breakdown, group_label=out["group"].map(labels),
                         ci_low=out["estimate"] - z * se, ci_high=out["estimate"] + z * se,
                         p_value=2 * norm.sf(np.abs(out["estimate"] / se)), test="", statistic=np.nan,
                         df=np.nan, n_treated_areas=out["n_sites"])
        extra = [test] + ([{"outcome": outcome, "breakdown": breakdown, **trend}] if trend else [])
        out = pd.concat([out.drop(columns="n_sites"), pd.DataFrame(extra)], ignore_index=True)
        parts.append(out.assign(design=design, method=method))
    if not parts:
        raise ValueError(f"no wave of sites in the {breakdown!r} panels of {outcome!r}")
    return pd.concat(parts, ignore_index=True)
