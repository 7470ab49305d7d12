"""Outcome models for the matched sample: difference in differences for counts and for costs.

* :func:`matched_did`: the change (after minus before) compared between the arms, weighted by the
  matching weights, SE cluster-robust by matched set (CR1, as MatchIt's vignette) or, with
  replacement, HC1. The linear DiD of means.
* :func:`count_did`: Poisson or negative binomial (NB2) on the person-period rows (before and after
  each index date) with ``log(days at risk)`` as offset: ``log mu = a + b treat + c post + d treat:post``.
  ``exp(d)`` is the ratio of rate ratios, the relative effect on the rate of use. Counts are
  over-dispersed, so the point of NB2 is efficiency; the Poisson estimate is consistent whatever the
  dispersion (a quasi-likelihood) and its sandwich SE is valid. NB2's alpha is found by maximising
  the weighted likelihood (profile over alpha); beta and alpha are orthogonal, so the sandwich for
  beta at the profiled alpha is the usual one.
* :func:`two_part_cost`: costs are skewed with zeros. Part one: logit of any cost; part two: gamma
  GLM with log link on the positive costs (Manning & Mullahy); both adjusted for the cost before the
  index date. The effect on the treated is by recycled predictions: predict everyone treated as
  treated and as untreated, take the weighted mean difference over the treated. Its interval is a
  seeded bootstrap over matched sets (the two parts have no simple joint SE).

All fits are statsmodels GLMs with the matching weights as ``var_weights`` and a cluster sandwich.

Example:
    >>> est = count_did(md, "emergency_admissions", family="poisson")            # doctest: +SKIP
    >>> est.ratio, est.ci_ratio                                                  # doctest: +SKIP
"""

from __future__ import annotations

import gc
import warnings
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.tools.sm_exceptions import SpecificationWarning

from joinedup.economics.matching.estimate import att_frame
from joinedup.economics.outcomes import require_columns

CountFamily = Literal["poisson", "nb2"]
COUNT_FAMILIES = ("poisson", "nb2")


@dataclass(frozen=True)
class ModelEstimate:
    """One effect estimate: ``estimate`` on the model's scale with its interval, and the ratio
    (``exp``) for log-link models."""

    outcome: str
    model: str
    scale: str           # "difference" (same units as the outcome) or "log ratio"
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    clusters: int
    se_type: str
    extra: float = float("nan")  # NB2: alpha; two-part: mean untreated prediction

    @property
    def ratio(self) -> float:
        return float(np.exp(self.estimate)) if self.scale == "log ratio" else float("nan")

    @property
    def ci_ratio(self) -> tuple[float, float]:
        return (float(np.exp(self.ci_low)), float(np.exp(self.ci_high))) if self.scale == "log ratio" \
            else (float("nan"), float("nan"))

    def tidy(self) -> pd.DataFrame:
        row = asdict(self)
        row["ratio"], (row["ratio_low"], row["ratio_high"]) = self.ratio, self.ci_ratio
        return pd.DataFrame([row])


def _clusters(md: pd.DataFrame, cluster: str | None) -> tuple[np.ndarray, str]:
    """Matched-set codes (CR1 by subclass) or, without subclasses, one cluster per person (HC1)."""
    if cluster is not None and cluster in md.columns and md[cluster].notna().all():
        return pd.factorize(md[cluster])[0], f"CR1 by {cluster}"
    return np.arange(len(md)), "HC1"


def _check(md: pd.DataFrame, columns, what="matched data") -> None:
    require_columns(md, columns, what)
    for c in columns:
        bad = md[c].isna().to_numpy()
        if bad.any():
            raise ValueError(f"{what}: column {c!r} is missing at row {md.index[np.argmax(bad)]!r}")


def _wald(outcome, model, scale, b, se, n, g, se_type, level, extra=float("nan")) -> ModelEstimate:
    z = stats.norm.ppf(0.5 + level / 2)
    p = 2 * stats.norm.sf(abs(b / se)) if se > 0 else float("nan")
    return ModelEstimate(outcome, model, scale, float(b), float(se), float(b - z * se), float(b + z * se),
                         float(p), int(n), int(g), se_type, float(extra))


def matched_did(md: pd.DataFrame, outcome: str, treat: str = "treated", level: float = 0.95) -> ModelEstimate:
    """Weighted DiD of means: ``(after - before)`` of ``outcome`` regressed on ``treat``.

    ``md`` is matched data (``weights``; ``subclass`` when matched without replacement) with
    ``<outcome>_before`` and ``<outcome>_after`` (as from :func:`joinedup.economics.outcomes.outcomes`).
    The SE is that of :func:`joinedup.economics.matching.estimate.att` on the change: cluster-robust
    by matched set (CR1) without replacement, HC3 with replacement, as in MatchIt's vignette.

    Example:
        >>> md = pd.DataFrame({"treated": [1, 0, 1, 0], "weights": 1.0, "subclass": [1, 1, 2, 2],
        ...                    "y_before": [3, 3, 2, 2], "y_after": [1, 2, 1, 1]})
        >>> matched_did(md, "y").estimate
        -0.5
    """
    before, after = f"{outcome}_before", f"{outcome}_after"
    _check(md, [before, after, treat, "weights"])
    change = md.assign(_change=md[after] - md[before])
    a = att_frame(change, "_change", treat, level=level)
    return ModelEstimate(outcome, "matched DiD (linear)", "difference", a.estimate, a.se, a.ci_low, a.ci_high,
                         a.p_value, a.n, a.clusters or a.n, a.se_type)


def person_periods(md: pd.DataFrame, outcome: str, treat: str = "treated", followup_days: int = 365,
                   exposure_after: str | None = "days_at_risk_after") -> pd.DataFrame:
    """Long format: a ``before`` and an ``after`` row per person with ``y``, ``post``, ``exposure``.

    The look-back year is fully at risk (people are alive at the index date); after it, time at risk
    is ``exposure_after`` when that column is there (deaths shorten it), else ``followup_days``.
    """
    before, after = f"{outcome}_before", f"{outcome}_after"
    _check(md, [before, after, treat])
    n = len(md)
    exp_after = (md[exposure_after].to_numpy(dtype=float) if exposure_after and exposure_after in md.columns
                 else np.full(n, float(followup_days)))
    exp_after = np.maximum(exp_after, 1.0)  # a death on the index date still had that day
    long = pd.concat([md.assign(y=md[before], post=0, exposure=float(followup_days)),
                      md.assign(y=md[after], post=1, exposure=exp_after)], ignore_index=True)
    long["treat_post"] = long[treat] * long["post"]
    return long


def _glm_fit(y, x, family, w, offset, groups):
    model = sm.GLM(y, x, family=family, var_weights=w, offset=offset)
    with warnings.catch_warnings():
        # statsmodels warns that robust covariances are "not fully supported" with var_weights; for
        # these families the cluster sandwich equals the hand-written one (tests/test_economics_models.py)
        warnings.simplefilter("ignore", SpecificationWarning)
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups})


def count_did(md: pd.DataFrame, outcome: str, family: CountFamily = "nb2", treat: str = "treated",
              weights: str = "weights", cluster: str | None = "subclass", followup_days: int = 365,
              adjust=(), level: float = 0.95) -> ModelEstimate:
    """Ratio of rate ratios of a count by Poisson or NB2 DiD (see the module docstring).

    ``adjust`` names baseline covariates entered with their interaction with ``post``: matching
    leaves some imbalance, and people with more prior use fall back further (regression to the
    mean), so this regression adjustment after matching (Ho et al. 2007) lets the change depend on
    them. Numeric columns only; centred, so the other coefficients keep their meaning.

    Returns the log ratio with its interval (``.ratio``, ``.ci_ratio`` on the ratio scale); for NB2,
    ``extra`` is the estimated alpha (variance = mu + alpha mu^2).

    Example:
        >>> est = count_did(md, "emergency_admissions", "poisson")               # doctest: +SKIP
        >>> round(est.ratio, 2)                                                   # doctest: +SKIP
        0.9
    """
    if family not in COUNT_FAMILIES:
        raise ValueError(f"family must be one of {', '.join(COUNT_FAMILIES)}; got {family!r}")
    _check(md, [treat, weights])
    long = person_periods(md, outcome, treat, followup_days)
    y = long["y"].to_numpy(dtype=float)
    if (y < 0).any() or (y != np.round(y)).any():
        raise ValueError(f"{outcome!r} is not a count (negative or fractional values)")
    x = np.column_stack([np.ones(len(long)), long[treat], long["post"], long["treat_post"]]).astype(float)
    if adjust:
        _check(md, list(adjust))
        z = long[list(adjust)].to_numpy(dtype=float)
        z = z - z.mean(axis=0)
        x = np.column_stack([x, z, z * long["post"].to_numpy(dtype=float)[:, None]])
    w = long[weights].to_numpy(dtype=float)
    offset = np.log(long["exposure"].to_numpy(dtype=float))
    codes, se_type = _clusters(md, cluster)
    groups = np.concatenate([codes, codes])  # both rows of a person are in the person's matched set
    alpha = float("nan")
    if family == "poisson":
        fam = sm.families.Poisson()
    else:
        def nll(log_alpha):
            f = sm.families.NegativeBinomial(alpha=float(np.exp(log_alpha)))
            llf = sm.GLM(y, x, family=f, var_weights=w, offset=offset).fit().llf
            # statsmodels' model and results refer to each other, so each fit's arrays (its IRLS
            # working copies of the design) wait for the cycle collector, which counts objects, not
            # bytes: at scale 1.0 the ~25 fits of each NB2 model held 2-3 GB until the step ended.
            # The fit's cycles are young: collecting generations 0-1 frees them at no measurable cost
            gc.collect(1)
            return -llf
        opt = optimize.minimize_scalar(nll, bounds=(np.log(1e-4), np.log(50.0)), method="bounded",
                                       options={"xatol": 1e-6})
        alpha = float(np.exp(opt.x))
        fam = sm.families.NegativeBinomial(alpha=alpha)
    fit = _glm_fit(y, x, fam, w, offset, groups)
    name = "Poisson DiD" if family == "poisson" else "negative binomial (NB2) DiD"
    if adjust:
        name += f", adjusted for {len(adjust)} baseline covariate(s)"
    return _wald(outcome, name, "log ratio", fit.params[3], fit.bse[3], len(md), codes.max() + 1,
                 se_type, level, alpha)


def _two_part_predict(cost, base, t, w, focus):
    """Fit both parts; the weighted mean over ``focus`` of predictions as treated and as untreated."""
    x = np.column_stack([np.ones_like(t), t, np.log1p(base)])
    any_cost = (cost > 0).astype(float)
    if any_cost.min() == any_cost.max():  # everyone has a cost (e.g. the MDT's own): no first part
        def prob(xx):
            return np.ones(len(xx))
    else:
        prob = sm.GLM(any_cost, x, family=sm.families.Binomial(), var_weights=w).fit().predict
    pos = cost > 0
    start = np.r_[np.log(np.average(cost[pos], weights=w[pos])), np.zeros(x.shape[1] - 1)]  # IRLS from the mean
    p2 = sm.GLM(cost[pos], x[pos], family=sm.families.Gamma(sm.families.links.Log()),
                var_weights=w[pos]).fit(start_params=start, method="newton", maxiter=100)
    xt, xc = x[focus].copy(), x[focus].copy()
    xt[:, 1], xc[:, 1] = 1.0, 0.0
    wf = w[focus]
    as_treated = np.average(prob(xt) * p2.predict(xt), weights=wf)
    as_control = np.average(prob(xc) * p2.predict(xc), weights=wf)
    return as_treated - as_control, as_control


def two_part_cost(md: pd.DataFrame, cost: str = "total_cost", treat: str = "treated", weights: str = "weights",
                  cluster: str | None = "subclass", B: int = 200, seed=2013, level: float = 0.95) -> ModelEstimate:
    """Effect on the treated of ``<cost>_after`` by a two-part model (logit + gamma-log), adjusted
    for ``<cost>_before``; percentile interval from ``B`` bootstrap resamples of matched sets.

    ``extra`` is the mean predicted cost of the treated had they not been treated.

    Example:
        >>> est = two_part_cost(md, "total_cost", B=200, seed=1)                 # doctest: +SKIP
        >>> est.estimate, (est.ci_low, est.ci_high)                              # doctest: +SKIP
    """
    before, after = f"{cost}_before", f"{cost}_after"
    _check(md, [before, after, treat, weights])
    c = md[after].to_numpy(dtype=float)
    if (c < 0).any():
        raise ValueError(f"{after!r} has negative costs (row {md.index[np.argmax(c < 0)]!r})")
    if not (c > 0).any():
        raise ValueError(f"{after!r} is zero for everyone: nothing to model")
    base = md[before].to_numpy(dtype=float)
    t = md[treat].to_numpy(dtype=float)
    w = md[weights].to_numpy(dtype=float)
    estimate, untreated = _two_part_predict(c, base, t, w, t == 1)
    codes, se_type = _clusters(md, cluster)
    members = pd.Series(np.arange(len(md))).groupby(codes).apply(np.asarray).to_list()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    draws, failed = [], 0
    for _ in range(B):
        rows = np.concatenate([members[i] for i in rng.integers(0, len(members), len(members))])
        tb = t[rows]
        if tb.min() == tb.max():
            continue
        try:
            draws.append(_two_part_predict(c[rows], base[rows], tb, w[rows], tb == 1)[0])
        except ValueError:  # a replicate whose GLM does not converge is counted, not hidden
            failed += 1
    if len(draws) < 0.9 * B:
        raise ValueError(f"two-part cost model: {failed} of {B} bootstrap fits failed")
    draws = np.asarray(draws)
    lo, hi = np.quantile(draws, [0.5 - level / 2, 0.5 + level / 2])
    se = float(draws.std(ddof=1))
    p = float(min(1.0, 2 * min((draws <= 0).mean(), (draws >= 0).mean())))  # bootstrap p of no effect
    return ModelEstimate(cost, "two-part (logit + gamma log) on the treated", "difference", float(estimate), se,
                         float(lo), float(hi), p, len(md), len(members),
                         f"bootstrap of {'people' if se_type == 'HC1' else 'matched sets'} ({len(draws)} replicates, "
                         f"percentile; {failed} failed fits left out)",
                         float(untreated))
