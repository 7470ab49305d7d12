"""``matchit``: nearest-neighbour propensity-score matching modelled on R MatchIt 4.5.

With MatchIt's defaults (``distance="glm"`` logistic propensity score, 1:1, no replacement,
``m_order`` largest score first) it makes the same matches as ``MatchIt::matchit`` and its
``summary()`` reproduces MatchIt's balance tables; see docs/economics-matching.md.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import pandas as pd

from joinedup.economics.matching import distance as dist
from joinedup.economics.matching.design import covariate_matrix, parse_design, variable_list
from joinedup.economics.matching.nearest import match_on_covariates, match_on_score
from joinedup.economics.matching.result import MatchResult
from joinedup.economics.matching.weights import matching_weights, pair_subclass

Method = Literal["nearest", "subclass", "exact", "cem"]
Distance = Literal["glm", "gbm", "mahalanobis", "prognostic"]
MOrder = Literal["largest", "smallest", "random", "data"]
Estimand = Literal["ATT", "ATC"]
Discard = Literal["none", "both", "control", "treated"]
Link = Literal["logit", "probit", "cloglog", "linear.logit", "linear.probit", "linear.cloglog"]


def _check(option: str, value, kind) -> None:
    allowed = get_args(kind)
    if value not in allowed:
        raise ValueError(f"{option} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def matchit(formula: str, data: pd.DataFrame, method: str = "nearest", distance="glm",
            ratio: int = 1, replace: bool = False, caliper: float | None = None,
            std_caliper: bool = True, exact=None, m_order: str | None = None, mahvars=None,
            estimand: str = "ATT", discard: str = "none", link: str = "logit",
            reestimate: bool = False, outcome: str | None = None, seed=None, subclass: int | None = None,
            cutpoints="sturges") -> MatchResult:
    """Greedy nearest-neighbour matching of treated units to controls (MatchIt's ``matchit``).

    ``formula`` is ``"treat ~ covariates"``; text columns expand to dummies. ``distance``:
    ``"glm"`` (logistic regression fitted as R's ``glm``), ``"gbm"`` (gradient boosting, needs
    scikit-learn), ``"mahalanobis"`` (on the formula's covariates), ``"prognostic"`` (the
    ``outcome`` predicted from the covariates by least squares on controls) or an array of scores.
    ``caliper`` is in SDs of the distance (over units not discarded) when ``std_caliper``;
    ``exact`` and ``mahvars`` name columns; ``m_order=None`` means MatchIt's default (largest score
    first for the ATT, smallest for the ATC, data order without a score); ``"random"`` uses ``seed``.

    Example:
        >>> lalonde = pd.read_csv("lalonde_matchit_614.csv", index_col=0)      # doctest: +SKIP
        >>> m = matchit("treat ~ age + educ + race + married + nodegree + re74 + re75", lalonde)  # doctest: +SKIP
        >>> m.match_data().shape[0]                                            # doctest: +SKIP
        370
    """
    _check("method", method, Method)
    _check("estimand", estimand, Estimand)
    _check("discard", discard, Discard)
    _check("link", link, Link)
    if m_order is not None:
        _check("m_order", m_order, MOrder)
    if isinstance(distance, str):
        _check("distance", distance, Distance)
    if not (isinstance(ratio, (int, np.integer)) and ratio >= 1):
        raise ValueError(f"ratio must be a whole number >= 1; got {ratio!r}")
    if caliper is not None and not (np.isfinite(caliper) and caliper > 0):
        raise ValueError(f"caliper must be a positive number; got {caliper!r}")

    design = parse_design(formula, data)
    treat = design.treat
    if method != "nearest":
        return _stratify(method, design, data, distance, estimand, discard, link, outcome, seed, subclass,
                         cutpoints)
    exact_vars = variable_list(exact, data, "exact")
    mah_vars = variable_list(mahvars, data, "mahvars")
    score, model, kind = _score(distance, design, data, link, outcome, seed)
    discarded = _discard(treat, score, discard)
    if reestimate and discarded.any() and kind in ("glm", "gbm"):
        keep = ~discarded
        sub = _Sub(design, keep)
        score = score.copy()
        score[keep], model, _ = _score(distance, sub, data.loc[keep], link, outcome, seed)

    cal = None
    if caliper is not None:
        if score is None:
            raise ValueError("a caliper needs a score to measure it on; with distance='mahalanobis' "
                             "use distance='glm' and mahvars=[...] for Mahalanobis matching within a "
                             "propensity-score caliper")
        cal = caliper * (float(np.std(score[~discarded], ddof=1)) if std_caliper else 1.0)

    focal = treat if estimand == "ATT" else (1 - treat).astype(np.int8)
    order_kind = m_order or ("data" if score is None else "largest" if estimand == "ATT" else "smallest")
    if score is None and order_kind in ("largest", "smallest"):
        raise ValueError(f"m_order={order_kind!r} needs a score; use 'data' or 'random' with "
                         "distance='mahalanobis'")
    covs_mah = None
    if kind == "mahalanobis" or mah_vars:
        covs_mah = dist.mahalanobis_transform(
            design.covariates.to_numpy() if kind == "mahalanobis" else covariate_matrix(mah_vars, data).to_numpy(),
            focal, discarded)

    strata = _strata(data, exact_vars, focal)
    rng = np.random.default_rng(seed)
    f_idx = np.flatnonzero(focal == 1)
    mm = np.full((len(f_idx), ratio), -1, dtype=np.int64)
    for members in strata:
        sub_focal = focal[members]
        sub_score = None if score is None else score[members]
        order = _order(order_kind, sub_score, sub_focal, rng)
        if covs_mah is None:
            sub_mm = match_on_score(sub_focal, sub_score, order, ratio, replace, cal, discarded[members])
        else:
            sub_mm = match_on_covariates(sub_focal, covs_mah[members], order, ratio, replace,
                                         sub_score if cal is not None else None, cal, discarded[members])
        rows = np.searchsorted(f_idx, members[sub_focal == 1])
        mm[rows] = np.where(sub_mm >= 0, members[np.maximum(sub_mm, 0)], -1)
    del covs_mah  # n x k: not held while the balance covariates are built (memory at scale 1.0)

    if not (mm >= 0).any():
        reason = (f"the caliper ({caliper} SD = {cal:.6g} on the distance) leaves no control close "
                  "enough to any treated unit; widen it or drop it" if cal is not None
                  else "no stratum has both treated and control units available")
        raise ValueError(f"No units were matched: {reason}")
    weights = matching_weights(mm, focal)
    subclass = None if replace else pair_subclass(mm, focal)

    balance_covs = design.covariates
    extra = [v for v in exact_vars + mah_vars if v not in design.variables]
    if extra:
        more = covariate_matrix(list(dict.fromkeys(extra)), data)
        balance_covs = pd.concat([balance_covs, more.loc[:, ~more.columns.isin(balance_covs.columns)]], axis=1)

    settings = dict(method=method, distance=kind, link=link if kind == "glm" else None, ratio=ratio,
                    replace=replace, caliper=caliper, caliper_absolute=cal, std_caliper=std_caliper,
                    exact=exact_vars or None, mahvars=mah_vars or None, m_order=order_kind,
                    discard=discard, reestimate=reestimate, seed=seed)
    return MatchResult(formula=formula, data=data, treat_name=design.treat_name, treat=treat,
                       estimand=estimand, distance=score, discarded=discarded, match_matrix=mm,
                       weights=weights, subclass=subclass, covariates=balance_covs, model=model,
                       ps_columns=tuple(design.ps_matrix.columns), settings=settings)


def _stratify(method, design, data, distance, estimand, discard, link, outcome, seed, n_sub, cutpoints):
    """Subclassification, exact and coarsened exact matching (MatchIt's ``matchit2subclass``,
    ``matchit2exact``, ``matchit2cem``)."""
    from joinedup.economics.matching.stratified import match_strata

    score = model = kind = None
    if method == "subclass":
        score, model, kind = _score(distance, design, data, link, outcome, seed)
    discarded = _discard(design.treat, score, discard) if score is not None else np.zeros(len(design.treat), bool)
    if discard != "none" and score is None:
        raise ValueError(f"discard={discard!r} needs a score; method={method!r} uses none (use discard='none')")
    settings = {"method": method, "distance": kind, "link": link if kind == "glm" else None, "ratio": None,
                "replace": False, "caliper": None, "caliper_absolute": None, "discard": discard, "seed": seed}
    return match_strata(method, design, data, score, model, discarded, estimand, n_sub, cutpoints, settings)


class _Sub:
    """The design restricted to kept units (for ``reestimate``)."""

    def __init__(self, design, keep):
        self.ps_matrix = design.ps_matrix.loc[keep]
        self.treat = design.treat[keep]
        self.covariates = design.covariates.loc[keep]


def _score(distance, design, data, link, outcome, seed):
    """The 1-D distance (None for Mahalanobis), the fitted model, and the kind of distance."""
    if not isinstance(distance, str):
        s = np.asarray(distance, dtype=float).ravel()
        if len(s) != len(design.treat):
            raise ValueError(f"distance has {len(s)} values; the data has {len(design.treat)} rows")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"distance has {int((~np.isfinite(s)).sum())} missing or non-finite value(s)")
        return s, None, "user"
    x = design.ps_matrix.to_numpy()
    if distance == "glm":
        s, fit = dist.propensity_glm(x, design.treat, link)
        return s, fit, "glm"
    if distance == "gbm":
        s, model = dist.propensity_gbm(design.covariates.to_numpy(), design.treat, seed)
        return s, model, "gbm"
    if distance == "prognostic":
        if outcome is None or outcome not in data.columns:
            raise ValueError("distance='prognostic' needs outcome='<column>' naming an outcome in the data")
        y = data[outcome].to_numpy(dtype=float)
        if np.isnan(y[design.treat == 0]).any():
            raise ValueError(f"outcome {outcome!r} has missing values among controls")
        s, beta = dist.prognostic_score(x, design.treat, y)
        return s, beta, "prognostic"
    return None, None, "mahalanobis"


def _discard(treat, score, option: str) -> np.ndarray:
    """MatchIt ``discard``: drop units outside the common support of the score."""
    if option == "none":
        return np.zeros(len(treat), bool)
    if score is None:
        raise ValueError("discard needs a score; with distance='mahalanobis' use discard='none'")
    s0, s1 = score[treat == 0], score[treat == 1]
    if option == "both":
        return (score < max(s0.min(), s1.min())) | (score > min(s0.max(), s1.max()))
    if option == "control":
        return (treat == 0) & ((score < s1.min()) | (score > s1.max()))
    return (treat == 1) & ((score < s0.min()) | (score > s0.max()))


def _strata(data, exact_vars, focal) -> list[np.ndarray]:
    """Row positions of each ``exact`` stratum that holds both groups (all rows without ``exact``)."""
    if not exact_vars:
        return [np.arange(len(focal))]
    codes = data[exact_vars].astype("string").agg("\x1f".join, axis=1) if len(exact_vars) > 1 else data[exact_vars[0]]
    ids, _ = pd.factorize(codes, sort=True)
    out = [np.flatnonzero(ids == g) for g in np.unique(ids)]
    out = [m for m in out if focal[m].any() and (focal[m] == 0).any()]
    if not out:
        raise ValueError(f"No matches were found: no stratum of exact={exact_vars} holds both "
                         "treated and control units")
    return out


def _order(kind, score, focal, rng) -> np.ndarray:
    """The order in which focal units choose (R's ``order`` is stable, ties in data order)."""
    n1 = int(focal.sum())
    if kind == "data":
        return np.arange(n1)
    if kind == "random":
        return rng.permutation(n1)
    s = score[focal == 1]
    return np.argsort(-s if kind == "largest" else s, kind="stable")
