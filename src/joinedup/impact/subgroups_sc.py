"""Synthetic control per site by subgroup, with a placebo-in-space test of equal effects.

The main design's synthetic control (:func:`joinedup.impact.evaluate.synthetic_control`: each
Pioneer site as one unit, its areas' events over their population, against comparison areas; the
outcome's block means before the first start as predictors, V equal) is fitted to each site on each
group's area x financial-year panel, built from ``indicator_breakdowns`` as
:mod:`joinedup.impact.subgroups_sdid` builds it (log rate), and, with ``[impact]
augmented_synthetic_control``, ridge ASCM (:func:`joinedup.impact.synthetic.ascm`) too. A group's
effect is its post-period average gap. Synthetic control has no standard error, so there is no
covariance for a Wald test; the test of equal effects is the rank-based analogue of the main
design's inference, placebo in space (Abadie, Diamond & Hainmueller 2010), applied to the
*between-group contrast*:

1. for the site and for every donor in turn (its pool: the other donors, never a site; the same
   pool in every group), fit each group and take each group's effect ``a_g`` (mean post-period gap);
2. its statistic is the heterogeneity of the group effects,

       H = sum_g (a_g - mean a)^2  (= (a_1 - a_2)^2 / 2 for two groups);

3. p = (1 + #placebos with H >= the site's H) / (1 + J), J donors: the smallest attainable p is
   1 / (J + 1), whatever the effects.

``statistic="scaled"`` replaces step 2 with a noise-weighted heterogeneity (Cochran's Q form),

       H_s = sum_g (a_g - abar_w)^2 / v_g,   abar_w = sum_g a_g / v_g / sum_g 1 / v_g,

where ``v_g`` is the noise of the unit's gap in group g: ``s_u^2 + sum_j w_j^2 s_j^2``, the unit's
own noise plus its synthetic control's (``w`` its weights on the donors in that group's fit), and a
unit's own noise ``s^2`` is half the mean squared first difference of its *own* outcome series
before the start (:func:`own_noise`; the site's start for its placebos too). The scale comes from
each unit's own series, not from how well the synthetic control fits the pre-period, so it cannot
collapse to zero as the pre-fit scalings below did (ASCM matches the pre-period exactly); it is zero
only for a series constant before the start (an error for the site; a donor then keeps its
synthetic control's noise). First differences, not deviations from the mean, so a unit's own trend
barely counts as noise; the mean square, not the variance, of the differences, so one difference
(two periods before the start, ``MIN_PRE_STATISTIC``) is enough. ``H_s`` does not depend on the
outcome's scale (every outcome times c: the same weights, effects times c, noise times c^2), and
with the same ``v`` in every group it is ``H / v``: a unit noisy in every group is scaled down, a
unit noisy in one group has that group down-weighted. Steps 1 and 3 are unchanged (the same fits).
``"scaled"`` is the default. Measured on simulated England's deprivation quintiles, 10 sites
(docs/inequalities.md, "New residual paths every run"): with each unit's residual paths another
unit's in every run, 4.55% / 4.75% (synthetic control / ASCM) of null site tests reject at 5%, at
most 10.5% at one site, against ``H``'s 5.1% / 5.65% and up to 12.5% / 16%; with quintile 1 0.2 log
apart 11.3% / 12.2% against 6.2% / 6.7%. Keeping each site's one realised residual path instead,
some sites over-reject with either statistic (``H_s`` 31% at one, ``H`` 24-32% at three).

Why not scaled by the pre-period fit, as ADH's post/pre MSPE ratio: measured on the tests'
simulated England (sex, the three wave-2 sites, 81 donors, two years before the start), dividing
by the pre-period heterogeneity of the groups' gaps or by their pre-period MSPE gave some placebos
near-zero denominators (ratios up to 1e9; ASCM, whose ridge fit matches two pre-periods exactly for
68 of 82 units, infinite) and cost the test its power: with one group's post-period outcome
raised by 1 (log) the sites ranked 13-16 (contrast-scaled) or 2-6 (MSPE-scaled) of 82 against 1
unscaled; by 0.3, 19-39 and 9-36 against 6-17. The Pioneers have three or four years before their
starts, so the same would hold. The scaling guards against placebos being noisier than the site
(a donor is one area, a site several) or fitting worse; both only make a placebo's unscaled ``H``
larger, which makes the test conservative. The converse, a site noisier than the donors in some
group (few events in its slice of that group), makes it anti-conservative: measured on simulated
England's deprivation quintiles (docs/inequalities.md, "Size and power"), 8.8% of null site-tests
rejected at 5% pooled over 10 sites, 24-32% at three of them; the scaled ``H_s`` is the measured
answer to that (docs/inequalities.md gives its size and power). ``H`` is written with pairwise
differences so identical groups give exactly 0. No pre-fit filter is applied to this test (every
placebo counts, as above). Each group's own p-value (``p_value`` on a group row, synthetic control
only) is the main design's test of the site's effect on that group's panel: the rank of its
post/pre MSPE ratio, with the protocol's ``placebo_prefit`` filter
(:class:`joinedup.impact.synthetic.PlaceboResult`).

Every group's panel keeps only the donors usable (observed, with events, in every period) in
*every* group, so a placebo is the same donor against the same pool in every group; a site missing
from a group, or (ASCM, whose cross-validation leaves a period out) with fewer than two periods
before its start, is not run.

Example:
    >>> import numpy as np
    >>> round(float(heterogeneity(np.array([0.5, 0.1]))), 6)  # (0.5 - 0.1)^2 / 2
    0.08
    >>> placebo_p([0.08, 0.01, 0.2, 0.0])  # one of three placebos at least as large
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_DONORS = 3  # placebo_in_space's floor: fewer leaves no rank worth reading
MIN_PRE = {"synth": 1, "ascm": 2}  # ASCM's cross-validation leaves one pre-period out
# the test's statistic: "raw" H, or "scaled" H_s (each group's effect weighted by its gap's noise, from
# the units' own first differences before the start, which need two periods)
STATISTICS = {"raw": "heterogeneity of the group effects",
              "scaled": "noise-weighted heterogeneity of the group effects (Cochran's Q form)"}
MIN_PRE_STATISTIC = {"raw": 1, "scaled": 2}
# the donor count differs by breakdown, so the design (one text per method) gives the floor of p as a
# formula and each test row's ``test`` its number
DESIGN = ("{what} per site, sites as units, log rate, financial years; test of equal effects: placebo in "
          "space on the {statistic}, smallest attainable p = 1/(J + 1) for J donors "
          "(n_comparison_areas)")
METHODS = {"synth": "Synthetic control", "ascm": "Augmented synthetic control"}
WHAT = {"synth": "synthetic control (block-mean predictors, V equal, as the main design)",
        "ascm": "ridge-augmented synthetic control (lambda by cross-validation, as the main design)"}


def heterogeneity(x: np.ndarray) -> np.ndarray:
    """``sum_g (x_g - mean x)^2`` over axis 0 (groups), as pairwise differences: exactly 0 when
    the groups are identical (a mean would leave rounding)."""
    x = np.asarray(x, dtype=float)
    g = x.shape[0]
    return sum(((x[i] - x[j]) ** 2 for i in range(g) for j in range(i + 1, g)), np.zeros(x.shape[1:])) / g


def placebo_p(statistics) -> float:
    """``(1 + #placebos >= the first) / (1 + #placebos)``: the first statistic is the treated unit's."""
    s = np.asarray(statistics, dtype=float)
    if s.ndim != 1 or len(s) < 2 or np.isnan(s).any():
        raise ValueError(f"need the treated unit's statistic and at least one placebo's, none missing; got {s}")
    return float((1 + (s[1:] >= s[0]).sum()) / len(s))


def min_pre(method: str, statistic: str) -> int:
    """Periods a site needs before its start: the method's (``MIN_PRE``) or the statistic's, whichever
    is more; an unknown statistic is an error naming the choices.

    Example:
        >>> min_pre("synth", "raw"), min_pre("synth", "scaled"), min_pre("ascm", "scaled")
        (1, 2, 2)
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(map(repr, STATISTICS))}; got {statistic!r}")
    return max(MIN_PRE[method], MIN_PRE_STATISTIC[statistic])


def scaled_heterogeneity(x: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """Cochran's Q over axis 0 (groups): ``sum_g w_g (x_g - xbar_w)^2``, ``w_g = 1 / variances_g``
    and ``xbar_w`` the ``w``-weighted mean, written as ``sum_{i<j} w_i w_j (x_i - x_j)^2 / sum w`` so
    that identical groups give exactly 0. Equal variances ``v`` give ``heterogeneity(x) / v``."""
    x, v = np.asarray(x, dtype=float), np.asarray(variances, dtype=float)
    if x.shape != v.shape:
        raise ValueError(f"effects {x.shape} and variances {v.shape} differ in shape")
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise ValueError("every variance must be positive and finite")
    w = 1 / v
    g = x.shape[0]
    pairs = sum((w[i] * w[j] * (x[i] - x[j]) ** 2 for i in range(g) for j in range(i + 1, g)), np.zeros(x.shape[1:]))
    return pairs / w.sum(axis=0)


def own_noise(panel: pd.DataFrame, units: list, start) -> pd.Series:
    """Each unit's noise from its own outcome series before ``start``: half the mean squared first
    difference of ``y`` over the periods before ``start`` (``sigma^2`` for white noise around a level
    or a slow trend; zero only for a series constant before the start). Needs two such periods."""
    wide = panel.pivot(index="t", columns="unit", values="y").sort_index()
    pre = wide.loc[wide.index < start, list(units)]
    if len(pre) < 2:
        raise ValueError(f"the scaled statistic needs two periods before the start ({start}); got {len(pre)}")
    return (pre.diff().iloc[1:] ** 2).mean() / 2


@dataclass(frozen=True)
class SiteGroups:
    """One site's fits in every group and its placebo test of equal effects (frozen)."""

    site: object
    method: str                    # "synth" or "ascm"
    start: int
    groups: tuple
    effects: np.ndarray            # each group's post-period average gap
    group_p: np.ndarray            # each group's own placebo-in-space p (synth); NaN for ascm
    units: tuple                   # the site, then each placebo donor
    statistics: np.ndarray         # heterogeneity of the group effects (``statistic``), in ``units`` order
    statistic: str = "scaled"      # "scaled": H_s, noise-weighted; "raw": H (see ``STATISTICS``)
    unit_effects: np.ndarray | None = None  # groups x units: every unit's group effects (the site first)
    noise: np.ndarray | None = None         # groups x units: each gap's noise variance ("scaled" only)
    unit_pre_gaps: np.ndarray | None = None  # groups x units: every unit's mean gap before the start

    @property
    def n_placebos(self) -> int:
        return len(self.units) - 1

    @property
    def rank(self) -> int:
        """1 + placebos at least as large as the site (1 = the largest)."""
        return int(1 + (self.statistics[1:] >= self.statistics[0]).sum())

    @property
    def p_value(self) -> float:
        return placebo_p(self.statistics)

    def tidy(self) -> pd.DataFrame:
        """One row per group (effect, own p) and a last row ``difference`` (statistic, rank, p)."""
        rows = pd.DataFrame({"group": list(self.groups), "estimate": self.effects, "p_value": self.group_p,
                             "statistic": np.nan, "rank": pd.NA})
        test = {"group": "difference", "estimate": np.nan, "p_value": self.p_value,
                "statistic": float(self.statistics[0]), "rank": self.rank}
        out = pd.concat([rows, pd.DataFrame([test])], ignore_index=True)
        return out.assign(site=self.site, method=self.method, n_placebos=self.n_placebos)


def _check(panels: dict[str, pd.DataFrame], starts: dict, donors: list, min_pre: int,
           needs: str = "this method") -> None:
    if not starts:
        raise ValueError("no site to fit")
    if len(panels) < 2:
        raise ValueError(f"need two or more groups' panels; got {list(panels)}")
    if len(donors) < MIN_DONORS:
        raise ValueError(f"the placebo test needs at least {MIN_DONORS} donors usable in every group; got "
                         f"{len(donors)}")
    clash = sorted(set(starts) & set(donors), key=str)
    if clash:
        raise ValueError(f"site {clash[0]!r} is also listed among the donors")
    for group, panel in panels.items():
        units = set(panel["unit"])
        for site in starts:
            if site not in units:
                raise ValueError(f"site {site!r} is not in group {group!r}'s panel")
        missing = [d for d in donors if d not in units]
        if missing:
            raise ValueError(f"donor(s) {missing[:5]} not in group {group!r}'s panel")
        times = sorted(panel["t"].unique())
        for site, start in starts.items():
            if sum(t < start for t in times) < min_pre:
                raise ValueError(f"site {site!r} has {sum(t < start for t in times)} period(s) before its start "
                                 f"({start}) in group {group!r}'s panel; {needs} needs {min_pre}")


def _synth_gaps(panel: pd.DataFrame, starts: dict, donors: list, prefit_filter, predictor_starts: dict) -> dict:
    """Per site: (its gap, own placebo p, {donor: placebo gap}, times, {unit: its weights by donor}),
    with the main design's fit."""
    from joinedup.impact.evaluate import site_predictors
    from joinedup.impact.synthetic import placebo_in_space

    special, v = site_predictors(predictor_starts)
    results = placebo_in_space(panel[["unit", "t", "y"]], "unit", "t", "y", list(starts), starts, v=v,
                               special_predictors=special, donors=donors, prefit_filter=prefit_filter)
    return {site: (res.treated_fit.gap, res.p_value, {f.treated_unit: f.gap for f in res.placebo_fits},
                   res.treated_fit.times,
                   {f.treated_unit: f.weights for f in (res.treated_fit, *res.placebo_fits)})
            for site, res in results.items()}


def _ascm_gaps(panel: pd.DataFrame, starts: dict, donors: list) -> dict:
    """Per site: (its gap, NaN, {donor: placebo gap}, times, {unit: its weights by donor}); placebos
    fitted once per start."""
    from joinedup.impact.synthetic import ascm

    data = panel[["unit", "t", "y"]]
    placebos = {start: {d: ascm(data, "unit", "t", "y", d, start, donors=[x for x in donors if x != d])
                        for d in donors} for start in sorted(set(starts.values()))}
    out = {}
    for site, start in starts.items():
        fit = ascm(data, "unit", "t", "y", site, start, donors=donors)
        fits = {site: fit, **placebos[start]}
        out[site] = (fit.gap, np.nan, {d: f.gap for d, f in placebos[start].items()}, fit.times,
                     {u: f.weights for u, f in fits.items()})
    return out


def _gap_noise(panel: pd.DataFrame, group, site, start, donors: list, weights: dict) -> np.ndarray:
    """Each unit's (the site, then each placebo donor) gap noise in one group: its own noise plus its
    synthetic control's, ``s_u^2 + sum_j w_uj^2 s_j^2`` (:func:`own_noise`; ``w_u`` the unit's weights
    on the donors). A site whose own series is constant before its start is an error naming it and
    the group; a donor's may be (few events, two years: the same count twice), and then its placebo's
    noise is its synthetic control's alone, which only makes that placebo's statistic larger."""
    units = [site, *donors]
    own = own_noise(panel, units, start)
    if not own[site] > 0:
        raise ValueError(f"site {site!r} has a constant outcome before {start} in group {group!r}: its noise "
                         "(mean squared first difference) is 0, so the scaled statistic is undefined")
    out = []
    for u in units:
        w = weights[u]
        v = own[u] + float((w.to_numpy() ** 2 * own[w.index].to_numpy()).sum())
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"donor {u!r} and its synthetic control are constant before {start} in group "
                             f"{group!r}: its gap's noise is 0, so the scaled statistic is undefined")
        out.append(v)
    return np.array(out)


def sc_groups(panels: dict[str, pd.DataFrame], starts: dict, donors: list, method: str = "synth",
              prefit_filter: float | None = None, predictor_starts: dict | None = None,
              statistic: str = "scaled") -> dict[object, SiteGroups]:
    """Each site of ``starts`` (site -> first treated period, periods numbered from 1) fitted on every
    group's panel (``unit, t, y``) against ``donors``, with the placebo test of equal effects across
    the groups. Each site needs a period before its start (ASCM two: see ``MIN_PRE``; the scaled
    statistic two).

    ``statistic`` (``STATISTICS``): ``"raw"``, ``H = sum_g (a_g - mean a)^2``; ``"scaled"``, each
    group's effect weighted by its gap's noise, ``H_s = sum_g (a_g - abar_w)^2 / v_g`` (module
    docstring). Both are computed for the site and every placebo alike and ranked the same way.
    ``prefit_filter`` applies to each group's own placebo p-value only (see the module docstring);
    ``predictor_starts`` (default ``starts``): the sites whose first start bounds the synthetic
    control's predictors, as in the main design (every site, also those not tested here)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    need = min_pre(method, statistic)
    donors = list(donors)
    _check(panels, starts, donors, need,
           "this method" if need == MIN_PRE[method] else f"the {statistic} statistic")
    predictor_starts = starts if predictor_starts is None else predictor_starts
    fits = {g: (_synth_gaps(p, starts, donors, prefit_filter, predictor_starts) if method == "synth"
                else _ascm_gaps(p, starts, donors)) for g, p in panels.items()}
    groups = tuple(panels)
    out = {}
    for site, start in starts.items():
        times = fits[groups[0]][site][3]
        if any(not np.array_equal(fits[g][site][3], times) for g in groups):
            raise ValueError(f"the groups' panels cover different periods for site {site!r}")
        pre = times < start
        # each unit's group effects (groups x units: the site, then each placebo donor)
        effects = np.array([[np.mean(fits[g][site][0][~pre])] + [np.mean(fits[g][site][2][d][~pre]) for d in donors]
                            for g in groups])
        pre_gaps = np.array([[np.mean(fits[g][site][0][pre])] + [np.mean(fits[g][site][2][d][pre]) for d in donors]
                             for g in groups])
        noise = None
        if statistic == "scaled":
            noise = np.array([_gap_noise(panels[g], g, site, start, donors, fits[g][site][4]) for g in groups])
            stats_ = scaled_heterogeneity(effects, noise)
        else:
            stats_ = heterogeneity(effects)
        out[site] = SiteGroups(site, method, int(start), groups, effects[:, 0],
                               np.array([fits[g][site][1] for g in groups], dtype=float),
                               (site, *donors), stats_, statistic, effects, noise, pre_gaps)
    return out


def _not_run(outcome: str, breakdown: str, method: str, why: str, design: str = "") -> dict:
    return {"outcome": outcome, "breakdown": breakdown, "group": "not run",
            "group_label": f"{method} not run: {why}", "design": design, "method": method}


def sc_subgroup_effects(breakdowns: pd.DataFrame, programme, outcome: str, breakdown: str,
                        spec=None, statistic: str = "scaled") -> pd.DataFrame:
    """Per site (and per method: synthetic control, and ASCM with ``spec.augmented_synthetic_control``):
    one row per group and a last row with the placebo test, in the columns of
    :func:`joinedup.impact.subgroups.subgroup_effects` (no interval: ``ci_low``/``ci_high`` empty;
    ``df`` empty: a rank test has none). A site missing from a group's panel, or with fewer than
    ``MIN_PRE`` years before its start, gets a "not run" row saying why.
    ``spec`` (the protocol's ``[impact]``) supplies ``placebo_prefit`` and the ASCM switch;
    ``statistic`` the test's statistic (:func:`sc_groups`: ``"scaled"`` H_s, the default, which
    needs two years before a site's start, or ``"raw"`` H); the report takes it from the protocol's
    ``[impact] sc_subgroup_statistic``."""
    min_pre("synth", statistic)  # an unknown statistic, before any data are read
    from joinedup.impact.subgroups import breakdown_groups
    from joinedup.impact.subgroups_sdid import group_site_panels

    groups, labels = breakdown_groups(breakdowns, outcome, breakdown)
    panels = group_site_panels(breakdowns, programme, outcome, breakdown, groups, common=False)
    donors = sorted(set.intersection(*(set(p.loc[p["first_treated"] == 0, "unit"]) for p in panels.values())),
                    key=str)
    sites = {}
    for p in panels.values():  # a site's start, from whichever group has it
        treated = p[p["first_treated"] > 0].drop_duplicates("unit")
        sites.update(zip(treated["unit"], treated["first_treated"].astype(int)))
    if not sites:
        raise ValueError(f"no site in the {breakdown!r} panels of {outcome!r}")
    methods = ["synth"] + (["ascm"] if getattr(spec, "augmented_synthetic_control", False) else [])
    prefit = getattr(spec, "placebo_prefit", None)
    rows = []
    times = sorted(set.union(*(set(p["t"]) for p in panels.values())))
    for method in methods:
        name = METHODS[method]
        design = DESIGN.format(what=WHAT[method], statistic=STATISTICS[statistic])
        need = min_pre(method, statistic)
        why = {}  # a site that cannot be tested, and why
        for site, start in sites.items():
            absent = [str(g) for g, p in panels.items() if site not in set(p["unit"])]
            pre = sum(t < start for t in times)
            if absent:
                why[site] = f"no usable panel (every year, with events) in group(s) {', '.join(absent)}"
            elif pre < need:
                needs = name.lower() if need == MIN_PRE[method] else f"{name.lower()} with the {statistic} statistic"
                why[site] = f"{pre} financial year(s) before its start; {needs} needs {need}"
        for site in sorted(why, key=str):
            rows.append(_not_run(outcome, breakdown, f"{name}, {site}", why[site], design))
        starts = {s: sites[s] for s in sorted(sites, key=str) if s not in why}
        usable = {g: p[p["unit"].isin(set(starts) | set(donors))] for g, p in panels.items()}
        if not starts:
            continue
        try:
            results = sc_groups(usable, starts, donors, method, prefit, predictor_starts=sites, statistic=statistic)
        except ValueError as err:
            rows.append(_not_run(outcome, breakdown, name, str(err), design))
            continue
        for site, res in results.items():
            base = {"outcome": outcome, "breakdown": breakdown, "design": design, "method": f"{name}, {site}",
                    "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n_treated_areas": 1,
                    "n_comparison_areas": len(donors)}
            for g, est, p in zip(res.groups, res.effects, res.group_p):
                rows.append({**base, "group": g, "group_label": labels[g], "estimate": est, "p_value": p,
                             "test": "", "statistic": np.nan, "df": np.nan})
            rows.append({**base, "group": "difference", "group_label": "Test of equal effects across groups",
                         "estimate": np.nan, "p_value": res.p_value, "statistic": float(res.statistics[0]),
                         "df": np.nan, "n_treated_areas": np.nan,
                         "test": (f"Placebo in space, {STATISTICS[statistic]}: rank {res.rank} of "
                                  f"{res.n_placebos + 1} (smallest attainable p = 1/{res.n_placebos + 1})")})
    return pd.DataFrame(rows)
