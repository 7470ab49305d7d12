"""Subgroup mode of benchmarks/impact_coverage.py for synthetic DiD and the four-group design by
subgroup (``--design subgroups-sdid-four``): size and power of their tests of equal effects.

Unlike ``--design subgroups`` (benchmarks/coverage_robust.py, one area panel drawn five times),
the groups here are simulated England's own deprivation quintiles: one simulated England (null
scenario, built once), ``indicator_breakdowns`` by ``imd_quintile`` (financial years), and each
quintile's panels built exactly as the modules build them:

* synthetic DiD: :func:`joinedup.impact.subgroups_sdid.group_site_panels` (Pioneer sites as units
  beside comparison areas, log rate, the units usable in every quintile);
* four groups: :func:`joinedup.impact.subgroups_four.group_panels` (every area, log rate).

Each panel is split into two-way fixed effects (unit + financial year) and residuals, and each
seed draws

    y*_ugt = fit_ugt + effect_g * post_ugt + (sqrt(1 - rho) v_ug + sqrt(rho) c_u) * resid_ugt,

``v_ug`` and ``c_u`` standard normal (a wild cluster draw per unit; ``c_u`` is shared by the
quintiles, so ``rho`` is the share of residual variance that the groups of an area share:
``--rho``, by default 0 and 0.5 as ``--design subgroups``). ``post`` is a Pioneer site (SDID) or an area in the Pioneers
(four groups: "pioneer only" and "both") from its start; quintile 1's effect is
``effect + difference``, the others' ``effect`` (``difference`` 0: the null of equal effects).

Per seed and rho it records each quintile's estimate and the test of equal effects:
:func:`joinedup.impact.subgroups_sdid.sdid_groups` per wave (``--sdid-covariance``: the joint
jackknife over units, the module's default, or the joint placebo covariance with ``--replications``
draws seeded by the benchmark seed) with the chi-square and Hotelling's T² (m = the wave's sites)
references; :func:`joinedup.impact.subgroups_four.four_groups_fits` per
contrast with the module's Hotelling reference (m = the contrast's fewest areas in any quintile)
and, beside it, the chi-square reference; and for both designs the module's 1-df linear trend
across the quintiles (:mod:`joinedup.impact.subgroup_gradient`, t(m - 1)), its interval's coverage
of the programmed effects' own trend and its rejection rate (size under equal effects; power with
quintile 1 ``difference`` apart, a trend of -2 difference / 10 a quintile). With ``--wild-draws B``
(jackknife only) the SDID tests are also referred to the wild bootstrap of
:mod:`joinedup.impact.subgroups_sdid_wild`, null imposed (WCR) and not (WCU), B draws seeded by the
benchmark seed; the trend's interval there is the percentile-t one.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

_PANELS: dict[tuple, dict] = {}
BREAKDOWN = "imd_quintile"
OUTCOME = "emergency_admissions"


def _two_way(frame: pd.DataFrame, unit: str) -> np.ndarray:
    """The (unweighted) unit + period fixed-effects fit of ``y`` by alternating projections."""
    y, u, t = frame["y"].to_numpy(), frame[unit].to_numpy(), frame["t"].to_numpy()
    a, q = np.zeros(len(y)), np.zeros(len(y))
    for _ in range(500):
        a = pd.Series(y - q).groupby(u).transform("mean").to_numpy()
        q_new = pd.Series(y - a).groupby(t).transform("mean").to_numpy()
        done = np.abs(q_new - q).max() < 1e-12
        q = q_new
        if done:
            break
    return a + q


def quintile_panels(scale: float, years: tuple[int, int]) -> dict:
    """Simulated England's quintile panels for both designs, each with ``fit``, ``resid``, ``post``."""
    key = (scale, years)
    if key in _PANELS:
        return _PANELS[key]
    from joinedup.data import open_dataset
    from joinedup.impact.four_groups import group_and_post
    from joinedup.impact.subgroups import breakdown_groups
    from joinedup.impact.subgroups_four import group_panels
    from joinedup.impact.subgroups_sdid import group_site_panels
    from joinedup.indicators.breakdowns import compute_breakdowns
    from joinedup.programme import builtin_programme
    from joinedup.simulate import simulate

    folder = Path(tempfile.mkdtemp(prefix="joinedup-subgroups-synth-"))
    try:
        simulate(folder, scale=scale, seed=1, years=years, scenario="null")
        ds = open_dataset(folder)
        table = compute_breakdowns(ds, [OUTCOME], [BREAKDOWN])
        programme = builtin_programme(ds.execute(ds.table("programmes")))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    groups, _ = breakdown_groups(table, OUTCOME, BREAKDOWN)
    sdid = group_site_panels(table, programme, OUTCOME, BREAKDOWN, groups)
    four = group_panels(table, programme, OUTCOME, BREAKDOWN, groups)
    for p in sdid.values():
        p["fit"] = _two_way(p, "unit")
        p["resid"] = p["y"] - p["fit"]
        p["post"] = ((p["first_treated"] > 0) & (p["t"] >= p["first_treated"])).to_numpy()
        p["cluster"] = p["unit"]
    for p in four.values():
        p["fit"] = _two_way(p, "area_code")
        p["resid"] = p["y"] - p["fit"]
        group, post = group_and_post(p, programme.table, programme.key, programme.other)
        p["post"] = np.isin(group, [f"{programme.key}_only", "both"]) & post.to_numpy()
        p["cluster"] = p["area_code"]
    _PANELS[key] = {"groups": groups, "sdid": sdid, "four": four, "programme": programme}
    return _PANELS[key]


def _draws(panels: dict, effects: list[float], rho: float, rng: np.random.Generator) -> dict:
    """Each group's panel with a new ``y`` (module docstring); ``c_u`` shared by the groups."""
    units = sorted(set().union(*(set(p["cluster"]) for p in panels.values())))
    common = pd.Series(rng.standard_normal(len(units)), index=units)
    out = {}
    for (name, p), effect in zip(panels.items(), effects):
        own = pd.Series(rng.standard_normal(len(units)), index=units)
        weight = np.sqrt(1 - rho) * own[p["cluster"]].to_numpy() + np.sqrt(rho) * common[p["cluster"]].to_numpy()
        out[name] = p.assign(y=p["fit"].to_numpy() + effect * p["post"].to_numpy() + weight * p["resid"].to_numpy())
    return out


def _draws_iid(panels: dict, effects: list[float], rho: float, rng: np.random.Generator) -> dict:
    """``--sc-noise iid``: each group's panel with ``y = fit + effect * post + sd_ug * e_ugt``, ``sd_ug``
    the unit's root mean square residual in that group (its noise level, kept) and ``e_ugt =
    sqrt(1 - rho) z_ugt + sqrt(rho) c_ut`` standard normal, new every year (``c_ut`` shared by the
    groups): unlike :func:`_draws`, which keeps each unit's realised residual pattern over the years
    and only rescales it, the noise here is independent across years."""
    units = sorted(set().union(*(set(p["cluster"]) for p in panels.values())))
    times = sorted(set().union(*(set(p["t"]) for p in panels.values())))
    common = rng.standard_normal((len(units), len(times)))
    out = {}
    for (name, p), effect in zip(panels.items(), effects):
        own = rng.standard_normal((len(units), len(times)))
        sd = p.groupby("cluster")["resid"].transform(lambda r: np.sqrt(np.mean(r ** 2))).to_numpy()
        u, t = pd.Index(units).get_indexer(p["cluster"]), pd.Index(times).get_indexer(p["t"])
        e = np.sqrt(1 - rho) * own[u, t] + np.sqrt(rho) * common[u, t]
        out[name] = p.assign(y=p["fit"].to_numpy() + effect * p["post"].to_numpy() + sd * e)
    return out


def _draws_swap(panels: dict, effects: list[float], rho: float, rng: np.random.Generator) -> dict:
    """``--noise swap``: :func:`_draws`, but each unit's residual paths are another unit's (one
    random permutation of the units per draw, the same source for all of a unit's groups, so the
    groups' real correlation comes along), each rescaled to the receiving unit's own root mean square
    residual in that group. :func:`_draws` keeps every unit's realised path, so a site's rejection
    rate there is conditional on that one path; here a site gets a new realistic path (steps, trends
    and all) every draw, and its rate is the test's size over paths. A source whose path in a group is
    all zero (a constant series) gives way to the unit's own path there."""
    index = pd.Index(sorted(set().union(*(set(p["cluster"]) for p in panels.values())), key=str))
    source = rng.permutation(len(index))  # unit i takes unit source[i]'s paths (positions in index)
    common = rng.standard_normal(len(index))
    out = {}
    for (name, p), effect in zip(panels.items(), effects):
        own = rng.standard_normal(len(index))
        paths = p.pivot(index="cluster", columns="t", values="resid").reindex(index)
        if paths.isna().to_numpy().any():
            raise ValueError(f"--noise swap needs every unit in every year of group {name!r}")
        rms = np.sqrt((paths ** 2).mean(axis=1)).to_numpy()
        dest = index.get_indexer(p["cluster"])
        src = np.where(rms[source[dest]] > 0, source[dest], dest)
        scale = np.divide(rms[dest], rms[src], out=np.zeros(len(dest)), where=rms[src] > 0)
        path = paths.to_numpy()[src, paths.columns.get_indexer(p["t"])] * scale
        weight = np.sqrt(1 - rho) * own[dest] + np.sqrt(rho) * common[dest]
        out[name] = p.assign(y=p["fit"].to_numpy() + effect * p["post"].to_numpy() + weight * path)
    return out


DRAWS = {"pattern": _draws, "iid": _draws_iid, "swap": _draws_swap}  # --noise (alias --sc-noise)
NOISE_WORDS = {"iid": ", noise new every year", "swap": ", residual paths swapped between units"}  # design
NOISE_WHAT = {"iid": "noise new every year at each unit's residual level",  # the run's description
              "swap": "each unit's residual paths another unit's, rescaled to its own level"}


def _row(seed, design, estimator, estimand, estimate, se, p, target, ci=None) -> dict:
    lo, hi = ci if ci is not None else (-np.inf, np.inf)
    return {"seed": seed, "design": design, "estimator": estimator, "estimand": estimand, "estimate": estimate,
            "std_error": se, "ci_low": lo, "ci_high": hi, "p_value": p, "target": target}


def _test_rows(seed, design, name, equal, est, cov, m, module_reference) -> list[dict]:
    """The Wald test of equal effects with the chi-square and the Hotelling (m) references."""
    from joinedup.impact.subgroups_cs import joint_wald_equal_effects

    estimand = "equal effects (true)" if equal else "equal effects (false: power)"
    rows = []
    for reference, n_clusters in (("chi-square", None), (f"Hotelling F, m = {m}", m)):
        try:
            stat, df, p = joint_wald_equal_effects(est, cov, n_clusters=n_clusters)
        except ValueError:  # m <= G - 1: Hotelling's reference does not exist; no row
            continue
        tag = " [module]" if module_reference and reference.startswith(module_reference) else ""
        rows.append(_row(seed, design, f"{name}, Wald ({df} df), {reference} reference{tag}", estimand, stat,
                         np.nan, p, 0.0 if equal else 1.0))
    return rows


def _trend_target(effects) -> tuple[np.ndarray, float]:
    """The quintiles' centred positions and the programmed effects' own linear trend (0 under equal
    effects: the positions sum to zero, up to rounding)."""
    c = np.arange(len(effects)) - (len(effects) - 1) / 2
    target = float(c @ np.asarray(effects) / (c @ c))
    return c, 0.0 if abs(target) < 1e-12 else target


def _trend_row(seed, design, name, effects, est, cov, m, module: bool = True) -> list[dict]:
    """The module's 1-df linear trend across the quintiles (t(m - 1); ``m`` None: the normal, as the
    module refers the placebo covariance's trend); its target is the programmed effects' own trend
    (0 under equal effects; quintile 1 ``difference`` more: -2 difference / 10)."""
    from joinedup.impact.subgroup_gradient import linear_trend

    try:
        r = linear_trend(est, cov, range(len(est)), n_clusters=m)
    except ValueError:
        return []
    reference = "normal" if m is None else f"t({m - 1})"
    _, target = _trend_target(effects)
    estimand = "no linear trend (true)" if target == 0 else "linear trend (false null: power)"
    tag = " [module]" if module else ""
    return [_row(seed, design, f"{name}, linear trend (1 df), {reference} reference{tag}", estimand,
                 r["estimate"], r["std_error"], r["p_value"], target, (r["ci_low"], r["ci_high"]))]


def _wild_rows(seed, design, name, effects, equal, est, cov, fits, draws, module: bool) -> list[dict]:
    """The wild bootstrap references (:mod:`joinedup.impact.subgroups_sdid_wild`), null imposed (WCR)
    and not (WCU), of the Wald test of equal effects and of the linear trend, from one set of draws
    seeded by the benchmark seed; the trend's interval is its percentile-t one. ``module``: the
    module refers this wave's tests to WCR (more sites than differences), so those rows are tagged."""
    from joinedup.impact.subgroups_sdid_wild import wild_equal_effects

    c, target = _trend_target(effects)
    slope, se = float(c @ est / (c @ c)), float(np.sqrt(c @ cov @ c) / (c @ c))
    rows = []
    for impose_null, kind in ((True, "WCR"), (False, "WCU")):
        tag = f"{kind} reference (B = {draws})" + (" [module]" if module and impose_null else "")
        try:
            r = wild_equal_effects(fits, B=draws, seed=seed, scores=np.arange(len(est)), impose_null=impose_null)
        except (ValueError, np.linalg.LinAlgError):
            continue
        rows.append(_row(seed, design, f"{name}, Wald ({len(est) - 1} df), wild bootstrap {tag}",
                         "equal effects (true)" if equal else "equal effects (false: power)", r.statistic, np.nan,
                         r.p_value, 0.0 if equal else 1.0))
        rows.append(_row(seed, design, f"{name}, linear trend (1 df), wild bootstrap {tag}",
                         "no linear trend (true)" if target == 0 else "linear trend (false null: power)", slope, se,
                         r.trend_p_value, target, (slope - r.trend_crit * se, slope + r.trend_crit * se)))
    return rows


def one_seed_subgroups_synth(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float,
                             difference: float = 0.0, replications: int = 200,
                             rhos: tuple[float, ...] = (0.0, 0.5), covariance: str = "jackknife",
                             wild_draws: int = 0, wave1_sites: int | None = None,
                             noise: str = "pattern") -> list[dict]:
    """One seed: SDID by quintile per wave and the four-group design by quintile per contrast
    (``wave1_sites``: only the first that many wave-1 sites, by unit id, and no four-group design;
    ``noise`` the draws' noise model, as in :func:`one_seed_subgroups_sc`)."""
    from joinedup.impact.subgroups_four import four_groups_fits
    from joinedup.impact.subgroups_sdid import sdid_groups_fits
    from joinedup.impact.subgroups_sdid_wild import MIN_SITES

    data = quintile_panels(scale, years)
    groups, programme = data["groups"], data["programme"]
    sdid_base = data["sdid"]
    if wave1_sites is not None:
        first = next(iter(sdid_base.values()))
        wave1 = sorted(first.loc[first["wave"] == 1, "unit"].unique())
        drop = set(wave1[wave1_sites:])
        sdid_base = {g: p[~p["unit"].isin(drop)].reset_index(drop=True) for g, p in sdid_base.items()}
    effects = [effect + difference] + [effect] * (len(groups) - 1)
    equal = difference == 0
    z = stats.norm.ppf(0.975)
    rows = []
    for rho in rhos:
        rng = np.random.default_rng([seed, 13, round(rho * 100)])
        design = f"quintiles, shared area share rho = {rho:g}" + ("" if equal else f", difference {difference:+g}")
        design += NOISE_WORDS.get(noise, "")
        draw = DRAWS[noise]
        sdid_panels = draw(sdid_base, effects, rho, rng)
        first = next(iter(sdid_panels.values()))
        for wave in sorted(first.loc[first["first_treated"] > 0, "wave"].dropna().astype(int).unique()):
            name = f"SDID wave {wave}"
            try:
                out, cov, _, fits = sdid_groups_fits(sdid_panels, wave, replications, seed, covariance)
            except ValueError:  # fewer than two years before its start, or no jackknife: not run
                continue
            sites = int(first.loc[first["wave"] == wave, "unit"].nunique())
            se_name = "joint jackknife SE" if covariance == "jackknife" else f"joint placebo SE, {replications} reps"
            for g, r in enumerate(out.itertuples()):
                rows.append(_row(seed, design, f"{name} by quintile ({se_name})",
                                 f"quintile {r.group} ATT", r.estimate, r.std_error,
                                 2 * stats.norm.sf(abs(r.estimate / r.std_error)), effects[g],
                                 (r.estimate - z * r.std_error, r.estimate + z * r.std_error)))
            # the placebo runs tagged chi-square, the module's reference then; the jackknife runs chose the
            # module's reference from their own measured size, so they tag neither (docs/inequalities.md)
            rows += _test_rows(seed, design, name, equal, out["estimate"].to_numpy(), cov, sites,
                               "chi-square" if covariance == "placebo" else None)
            wild = bool(wild_draws) and covariance == "jackknife"
            module_wild = wild and sites >= MIN_SITES and sites > len(groups) - 1  # the module's rule
            rows += _trend_row(seed, design, name, effects, out["estimate"].to_numpy(), cov,
                               None if covariance == "placebo" else sites, module=not module_wild)
            if wild:
                rows += _wild_rows(seed, design, name, effects, equal, out["estimate"].to_numpy(), cov, fits,
                                   wild_draws, module_wild)
        if wave1_sites is not None:
            continue
        fits, cov = four_groups_fits(draw(data["four"], effects, rho, rng), programme.table, programme.key,
                                     programme.other)
        for contrast in dict.fromkeys(fits["contrast"]):
            idx = np.flatnonzero(fits["contrast"] == contrast)
            part = fits.iloc[idx]
            if len(part) < len(groups):
                continue
            targets = effects if contrast != f"{programme.other}_only" else [0.0] * len(groups)
            name = f"four groups, {contrast.replace('_', ' ')} vs neither"
            for g, r in enumerate(part.itertuples()):
                crit = stats.t.ppf(0.975, r.n_clusters - 1)
                rows.append(_row(seed, design, f"{name} by quintile (cluster-robust)", f"quintile {r.group} ATT",
                                 r.estimate, r.std_error,
                                 2 * stats.t.sf(abs(r.estimate / r.std_error), r.n_clusters - 1), targets[g],
                                 (r.estimate - crit * r.std_error, r.estimate + crit * r.std_error)))
            truth_equal = equal or contrast == f"{programme.other}_only"
            rows += _test_rows(seed, design, name, truth_equal, part["estimate"].to_numpy(),
                               cov[np.ix_(idx, idx)], int(part["n_areas"].min()), "Hotelling")
            rows += _trend_row(seed, design, name, targets, part["estimate"].to_numpy(), cov[np.ix_(idx, idx)],
                               int(part["n_areas"].min()))
    return rows


def _programmed(args) -> tuple[float, float, str]:
    """The programmed effect, quintile 1's difference and their words, for a job's description."""
    effect = -0.04 if args.effect is None else args.effect
    truth = ("equal programmed effects" if args.difference == 0 else
             f"programmed effects equal except quintile 1's, {args.difference:+.2f} log more")
    return effect, args.difference, truth


def synth_job(args):
    """(job, extra arguments, description) for impact_coverage.py's ``main``."""
    effect, difference, truth = _programmed(args)
    rhos = tuple(args.rho)
    covariance = args.sdid_covariance
    what = ("joint jackknife covariance over units" if covariance == "jackknife" else
            f"joint placebo covariance, {args.replications} replications")
    wild = args.wild_draws if covariance == "jackknife" else 0
    what += f"; wild bootstrap references of the SDID tests, B = {wild}" if wild else ""
    sites = args.wave1_sites
    what += f"; only {sites} wave-1 sites, no four-group design" if sites is not None else ""
    noise = getattr(args, "sc_noise", "pattern")
    what += f"; {NOISE_WHAT[noise]}" if noise in NOISE_WHAT else ""
    return one_seed_subgroups_synth, (effect, difference, args.replications, rhos, covariance, wild, sites,
                                      noise), (
        f"deprivation quintiles with {truth} ({effect:+.2f} log on the Pioneers), synthetic DiD per wave "
        f"({what}) and the four-group design per contrast "
        "(stacked cluster-robust covariance), resampled from simulated England's quintile panels; coverage of "
        "each quintile's effect, and the tests of equal effects' rejection rate (size where the effects are "
        "equal, power where they differ)")


def one_seed_subgroups_sc(seed: int, scale: float, years: tuple[int, int], biters: int, effect: float,
                          difference: float = 0.0, rhos: tuple[float, ...] = (0.0, 0.5),
                          methods: tuple[str, ...] = ("synth",), scaled: bool = False,
                          noise: str = "pattern") -> list[dict]:
    """One seed of ``--design subgroups-sc``: synthetic control per site by quintile
    (:func:`joinedup.impact.subgroups_sc.sc_groups`, the module's placebo-in-space test of equal
    effects on ``H``) on the synthetic DiD panels' draws (the same ``y*`` as
    :func:`one_seed_subgroups_synth`: same panels, same rng stream). Every Pioneer site with a year
    before its start is tested; donors are the panels' comparison areas (usable in every quintile).
    Per site: one row per quintile (its effect against the programmed one; ``p_value`` the site's
    own placebo test on that quintile's panel, no pre-fit filter) and one row for the test
    (``estimate`` = H, ``p_value`` the rank p), with ``site``, ``rank``, ``n_placebos`` and
    ``statistic`` ("raw"). With ``scaled`` (``--sc-scaled``) the fits are made once with
    ``statistic="scaled"`` and each site gets three test rows from the same fits: "raw" (H, from
    the same group effects), "scaled" (the module's H_s: each gap's noise, the unit's own plus its
    synthetic control's), "scaled, own noise" (H_s with each unit's own noise only), and "raw,
    demeaned" / "scaled, demeaned" (H and H_s on each unit's post-start mean gap less its pre-start
    mean gap), so their size and power come from identical draws. ``noise`` "iid" (``--noise iid``)
    draws the noise with :func:`_draws_iid` instead of :func:`_draws` (each unit's noise level kept,
    new every year), and "swap" (``--noise swap``) with :func:`_draws_swap` (another unit's realised
    paths)."""
    from joinedup.impact import subgroups_sc as sc

    data = quintile_panels(scale, years)
    groups = data["groups"]
    effects = [effect + difference] + [effect] * (len(groups) - 1)
    equal = difference == 0
    rows = []
    for rho in rhos:
        rng = np.random.default_rng([seed, 13, round(rho * 100)])
        design = f"quintiles, shared area share rho = {rho:g}" + ("" if equal else f", difference {difference:+g}")
        design += NOISE_WORDS.get(noise, "")
        panels = DRAWS[noise](data["sdid"], effects, rho, rng)
        first = next(iter(panels.values()))
        treated = first[first["first_treated"] > 0].drop_duplicates("unit")
        sites = dict(zip(treated["unit"], treated["first_treated"].astype(int)))
        donors = sorted(set.intersection(*(set(p.loc[p["first_treated"] == 0, "unit"]) for p in panels.values())),
                        key=str)
        times = sorted(first["t"].unique())
        statistic = "scaled" if scaled else "raw"
        for method in methods:
            need = sc.min_pre(method, statistic)
            starts = {s: t for s, t in sorted(sites.items(), key=lambda x: str(x[0]))
                      if sum(x < t for x in times) >= need}
            if not starts:
                continue
            data_method = {g: p[["unit", "t", "y", "first_treated"]] for g, p in panels.items()}
            results = sc.sc_groups(data_method, starts, donors, method, None, predictor_starts=sites,
                                statistic=statistic)
            name = "synthetic control" if method == "synth" else "ASCM"
            for site, res in results.items():
                extra = {"site": str(site), "start": res.start, "n_placebos": res.n_placebos}
                for g, (est, p) in enumerate(zip(res.effects, res.group_p)):
                    rows.append({**_row(seed, design, f"{name} per site by quintile, site {site}",
                                        f"quintile {res.groups[g]} effect", est, np.nan, p, effects[g]), **extra,
                                 "rank": np.nan, "statistic": ""})
                tests = {"raw": ("H", sc.heterogeneity(res.unit_effects))}
                if scaled:
                    own = np.array([sc.own_noise(data_method[g], list(res.units), res.start).to_numpy()
                                    for g in res.groups])
                    tests["scaled"] = ("H_s", res.statistics)
                    tests["scaled, own noise"] = ("H_s own", sc.scaled_heterogeneity(res.unit_effects, own))
                    # each unit's post-period mean gap less its pre-period mean gap (Ferman & Pinto's
                    # demeaned synthetic control), from the same fits
                    demeaned = res.unit_effects - res.unit_pre_gaps
                    tests["raw, demeaned"] = ("H demeaned", sc.heterogeneity(demeaned))
                    tests["scaled, demeaned"] = ("H_s demeaned", sc.scaled_heterogeneity(demeaned, res.noise))
                for kind, (label, values) in tests.items():
                    rank = int(1 + (values[1:] >= values[0]).sum())
                    rows.append({**_row(seed, design,
                                        f"{name} per site, placebo test of equal effects ({label}), site {site}",
                                        "equal effects (true)" if equal else "equal effects (false: power)",
                                        float(values[0]), np.nan, sc.placebo_p(values), 0.0 if equal else 1.0),
                                 **extra, "rank": rank, "statistic": kind})
    return rows


def sc_job(args):
    """(job, extra arguments, description) of ``--design subgroups-sc`` for impact_coverage.py's ``main``."""
    effect, difference, truth = _programmed(args)
    methods = tuple(args.sc_methods)
    scaled = bool(getattr(args, "sc_scaled", False))
    noise = getattr(args, "sc_noise", "pattern")
    return one_seed_subgroups_sc, (effect, difference, tuple(args.rho), methods, scaled, noise), (
        f"deprivation quintiles with {truth} ({effect:+.2f} log on the Pioneers), "
        f"{' and '.join('synthetic control' if m == 'synth' else 'ASCM' for m in methods)} per site "
        "with the placebo-in-space test of equal effects ("
        + ("H, the noise-weighted H_s, H_s with own noise only, and H and H_s on demeaned effects, from the "
           "same fits" if scaled else "H")
        + "), on the synthetic DiD quintile panels' draws"
        + (f" ({NOISE_WHAT[noise]})" if noise in NOISE_WHAT else "") + "; "
        "the test's rejection rate (size where the effects are equal, power where they differ); no intervals "
        "(coverage column meaningless)")
