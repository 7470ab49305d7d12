"""Risk stratification as practices do it: who is most likely to have an emergency admission next year.

A logistic model of any emergency admission in the 12 months after a reference date, on prior use in
the 12 months before it (emergency admissions, emergency bed days, A&E attendances), age (at the
reference date, from year of birth), sex and the number of long-term conditions (``persons.ltc_count``),
fitted on everyone aged ``min_age``+ alive and registered on the reference date. Reported with
discrimination (C statistic, exact from ranks) and calibration (calibration-in-the-large, calibration
slope, observed against expected by decile, Hosmer-Lemeshow). :func:`top_share` picks the top k% of
each practice's list, as case-finding for an MDT does.

Example:
    >>> from joinedup.data import open_dataset
    >>> ds = open_dataset("out/sim")                                              # doctest: +SKIP
    >>> rm = risk_model(ds, "2013-01-01")                                         # doctest: +SKIP
    >>> print(rm.summary())                                                       # doctest: +SKIP
    >>> rm.calibration()                                                          # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from joinedup.data import Dataset
from joinedup.economics.outcomes import require_columns

PREDICTORS = ("emergency_admissions", "bed_days", "ae_attendances", "age", "male", "ltc_count")
INPUTS = ("emergency_admissions", "bed_days", "ae_attendances", "age", "sex", "ltc_count")
PREDICT_ROWS = 1 << 20  # rows per block of RiskModel.predict


def population(ds: Dataset, reference_date, min_age: int = 65) -> pd.DataFrame:
    """Persons aged ``min_age``+ (calendar year minus birth year) alive on ``reference_date``.

    Returns person_id, practice_code, area_code, sex, age, ltc_count, death_date, index_date.

    Example:
        >>> population(ds, "2015-04-01").shape                                    # doctest: +SKIP
    """
    ref = pd.Timestamp(reference_date)
    p = ds.table("persons")
    alive = p.death_date.isnull() | (p.death_date > ref.date())
    p = p.filter(alive & (ref.year - p.birth_year >= min_age))
    df = ds.execute(p.select("person_id", "practice_code", "area_code", "sex", "birth_year", "ltc_count",
                             "death_date"))
    df["age"] = (ref.year - df.pop("birth_year")).astype("int64")
    df["index_date"] = ref
    return df.sort_values("person_id", ignore_index=True)


def model_frame(ds: Dataset, reference_date, min_age: int = 65) -> pd.DataFrame:
    """The risk model's data, one row per person of :func:`population` (by person_id), built on the
    engine: the model's inputs and ``outcome`` (any emergency admission in the 365 days from the
    reference date), nothing else. Every person has the same windows, so the activity is counted per
    person on the engine and joined to the persons there: no cohort is uploaded, and no column the
    model does not use reaches pandas (at scale 1.0 some 11 million people aged 65+). The counts are
    those of :func:`joinedup.economics.outcomes.window_use` (``[ref - 365, ref)`` before,
    ``[ref, ref + 365)`` after).

    Example:
        >>> model_frame(ds, "2015-04-01").columns.tolist()                        # doctest: +SKIP
        ['emergency_admissions', 'bed_days', 'ae_attendances', 'age', 'sex', 'ltc_count', 'outcome']
    """
    ref = pd.Timestamp(reference_date)
    lo, hi = (ref - pd.Timedelta(days=365)).date(), (ref + pd.Timedelta(days=365)).date()
    p = ds.table("persons")
    alive = p.death_date.isnull() | (p.death_date > ref.date())
    p = p.filter(alive & (ref.year - p.birth_year >= min_age))
    p = p.select("person_id", "sex", "ltc_count", age=(ref.year - p.birth_year).cast("int16"))
    adm = ds.table("admissions")
    adm = adm.filter((adm.admission_method == "emergency") & (adm.admission_date >= lo) & (adm.admission_date < hi))
    before = adm.admission_date < ref.date()
    los = adm.discharge_date.delta(adm.admission_date, unit="day")
    use = adm.group_by(u_person=adm.person_id).aggregate(
        emergency_admissions=before.ifelse(1, 0).sum(), bed_days=before.ifelse(los, None).sum(),
        outcome=(~before).ifelse(1, 0).max())
    ae = ds.table("ae_attendances")
    ae = ae.filter((ae.arrival_date >= lo) & (ae.arrival_date < ref.date()))
    ae = ae.group_by(a_person=ae.person_id).aggregate(ae_attendances=ae.count())
    j = p.left_join(use, p.person_id == use.u_person).left_join(ae, p.person_id == ae.a_person)
    j = j.select(j.person_id, emergency_admissions=j.emergency_admissions.fill_null(0).cast("int32"),
                 bed_days=j.bed_days.fill_null(0).cast("int64"), ae_attendances=j.ae_attendances.fill_null(0).cast("int32"),
                 age=j.age, sex=j.sex, ltc_count=j.ltc_count, outcome=j.outcome.fill_null(0).cast("int8"))
    frame = ds.backend.to_pyarrow(j.order_by("person_id")).to_pandas()
    return frame.drop(columns="person_id")


def design(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's design matrix (constant first) from prior use, age, sex and LTCs."""
    require_columns(frame, INPUTS, "risk model input")
    x = pd.DataFrame({c: frame[c].astype(float) for c in INPUTS if c != "sex"}, index=frame.index)
    x["male"] = (frame["sex"] == "M").astype(float)
    return sm.add_constant(x[list(PREDICTORS)], has_constant="add")


def binomial_glm(y, x, offset=None):
    """Logistic regression of 0/1 ``y`` on ``x`` (n x k) fitted on its distinct covariate patterns.

    The rows of a risk model's data take far fewer distinct values than there are people (small
    counts, age in years, sex, conditions): the binomial likelihood of the rows is that of each
    pattern's events out of its people, so the fit on ``(events, non-events)`` per pattern has the
    same estimates and standard errors (statsmodels' two-column binomial endog), with working copies
    the size of the patterns, not of the people (at scale 1.0, 11 million people aged 65+: the
    row-level fit's IRLS copies peaked at 9 GB). Returns the statsmodels results and the predicted
    probability of each row.

    Example:
        >>> x = np.column_stack([np.ones(6), [0, 0, 1, 1, 1, 0]])
        >>> fit, p = binomial_glm(np.array([0, 1, 1, 1, 0, 0]), x)
        >>> np.round(p, 3).tolist()
        [0.333, 0.333, 0.667, 0.667, 0.667, 0.333]
    """
    names = x.columns if isinstance(x, pd.DataFrame) else None
    x = np.asarray(x, dtype=float)
    key = x if offset is None else np.column_stack([x, np.asarray(offset, dtype=float)])
    patterns, row_pattern = np.unique(key, axis=0, return_inverse=True)
    row_pattern = row_pattern.ravel()
    y = np.asarray(y, dtype=float)
    people = np.bincount(row_pattern, minlength=len(patterns))
    events = np.bincount(row_pattern, weights=y, minlength=len(patterns))
    exog = patterns[:, :x.shape[1]]
    if names is not None:
        exog = pd.DataFrame(exog, columns=names)
    # converged to a deviance change of 1e-10 (statsmodels' default 1e-8): a few more iterations
    # over the patterns, and the estimates then agree with the row-level fit's to about 1e-9
    fit = sm.GLM(np.column_stack([events, people - events]), exog, family=sm.families.Binomial(),
                 offset=None if offset is None else patterns[:, -1]).fit(tol=1e-10)
    return fit, np.asarray(fit.predict(exog, offset=None if offset is None else patterns[:, -1]))[row_pattern]


def auc(y, p) -> float:
    """C statistic (area under the ROC curve), exactly: the Mann-Whitney U from mid-ranks over n1*n0.

    Example:
        >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        0.75
    """
    y = np.asarray(y, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("the C statistic needs both outcomes present")
    ranks = stats.rankdata(np.asarray(p, dtype=float))  # ties share the mean rank: count one half
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def calibration_table(y, p, groups: int = 10) -> pd.DataFrame:
    """Observed against expected events by group of predicted risk (deciles by default)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    g = np.empty(len(p), dtype=np.int64)
    g[order] = np.arange(len(p)) * groups // len(p) + 1  # equal-sized groups by rank
    df = pd.DataFrame({"group": g, "y": y, "p": p}).groupby("group")
    out = df.agg(n=("y", "size"), observed=("y", "sum"), expected=("p", "sum"),
                 mean_predicted=("p", "mean"), observed_rate=("y", "mean")).reset_index()
    out["observed"] = out["observed"].astype("int64")
    return out


def calibration_stats(y, p, groups: int = 10) -> dict[str, float]:
    """Calibration-in-the-large (intercept with logit(p) as offset), slope (on logit(p)), and the
    Hosmer-Lemeshow statistic over ``groups`` groups (df = groups - 2)."""
    y, p = np.asarray(y, dtype=float), np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    lp = np.log(p / (1 - p))
    citl = binomial_glm(y, np.ones((len(y), 1)), offset=lp)[0].params[0]
    slope = binomial_glm(y, sm.add_constant(lp))[0].params[1]
    t = calibration_table(y, p, groups)
    hl = float((((t.observed - t.expected) ** 2) / (t.expected * (1 - t.expected / t.n))).sum())
    return {"citl": float(citl), "slope": float(slope), "hosmer_lemeshow": hl,
            "hl_df": groups - 2, "hl_p": float(stats.chi2.sf(hl, groups - 2))}


@dataclass(frozen=True)
class RiskSummary:
    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre>{self.text}</pre>"


@dataclass(frozen=True)
class RiskModel:
    """A fitted risk model: coefficients, the fitting data's outcomes and predictions, C statistic."""

    reference_date: pd.Timestamp
    min_age: int
    params: pd.Series
    coef: pd.DataFrame
    auc: float
    y: np.ndarray = field(repr=False)
    p: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.y)

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """Predicted probability of an emergency admission in 12 months for each row of ``frame``
        (columns: emergency_admissions, bed_days, ae_attendances, age, sex, ltc_count)."""
        # a block of rows at a time: the design is float copies of six columns plus a constant, and
        # for the 10 million controls of scale 1.0 it and its array took 1.3 GB at once; each row's
        # score is the same product either way
        beta = self.params.to_numpy()
        out = np.empty(len(frame))
        for start in range(0, len(frame), PREDICT_ROWS):
            x = design(frame.iloc[start:start + PREDICT_ROWS]).to_numpy()
            out[start:start + len(x)] = 1 / (1 + np.exp(-(x @ beta)))
        return pd.Series(out, index=frame.index, name="risk_score")

    def calibration(self, groups: int = 10) -> pd.DataFrame:
        """Observed against expected by decile of predicted risk, on the fitting data (tidy)."""
        return calibration_table(self.y, self.p, groups)

    def calibration_stats(self, groups: int = 10) -> dict[str, float]:
        return calibration_stats(self.y, self.p, groups)

    def summary(self) -> RiskSummary:
        cs = self.calibration_stats()
        lines = [f"Risk of any emergency admission in 12 months from {self.reference_date.date()} "
                 f"(aged {self.min_age}+; n = {self.n:,}, events = {int(self.y.sum()):,})",
                 f"C statistic {self.auc:.3f}; calibration-in-the-large {cs['citl']:.3f}, slope "
                 f"{cs['slope']:.3f}; Hosmer-Lemeshow {cs['hosmer_lemeshow']:.1f} on {cs['hl_df']} df "
                 f"(p = {cs['hl_p']:.3f})", "", self.coef.to_string(index=False, float_format="%.4f")]
        return RiskSummary("\n".join(lines))


def risk_model(ds: Dataset, reference_date, min_age: int = 65) -> RiskModel:
    """Fit the risk model on everyone aged ``min_age``+ alive on ``reference_date``.

    The outcome window (12 months from the reference date) must lie inside the data; deaths without
    an admission count as no admission, as in a practice's tool.

    Example:
        >>> rm = risk_model(ds, "2013-01-01")                                     # doctest: +SKIP
        >>> round(rm.auc, 2)                                                      # doctest: +SKIP
        0.74
    """
    ref = pd.Timestamp(reference_date)
    frame = model_frame(ds, ref, min_age)
    if frame.empty:
        raise ValueError(f"no persons aged {min_age}+ alive on {ref.date()}")
    y = frame.pop("outcome").to_numpy(dtype=float)
    x = design(frame)
    del frame  # only the design matrix and the outcome stay in memory for the fit
    fit, p = binomial_glm(y, x)
    del x
    ci = fit.conf_int()
    coef = pd.DataFrame({"term": fit.params.index, "estimate": fit.params.to_numpy(), "std_error": fit.bse.to_numpy(),
                         "odds_ratio": np.exp(fit.params.to_numpy()), "or_low": np.exp(ci[0].to_numpy()),
                         "or_high": np.exp(ci[1].to_numpy()), "p_value": fit.pvalues.to_numpy()})
    return RiskModel(ref, min_age, fit.params, coef, auc(y, p), y, p)


def top_share(scores, k: float = 0.02, by=None) -> pd.Series:
    """Flag the top ``k`` share (rounded, at least 1) of ``scores`` in each group of ``by``.

    ``by`` is a column of the same length (e.g. practice codes); None: one group. Ties at the cut-off
    are broken by position, first come first served. Returns a boolean Series aligned with ``scores``.

    Example:
        >>> top_share(pd.Series([0.1, 0.9, 0.5, 0.7]), k=0.5, by=["a", "a", "b", "b"]).tolist()
        [False, True, False, True]
    """
    if not 0 < k <= 1:
        raise ValueError(f"k must be in (0, 1], got {k}")
    s = pd.Series(scores).reset_index(drop=True)
    g = pd.Series(0 if by is None else np.asarray(by), index=s.index)
    rank = s.groupby(g).rank(method="first", ascending=False)
    size = g.map(g.value_counts())
    keep = rank <= np.maximum(1, np.round(k * size))
    return pd.Series(keep.to_numpy(), index=pd.Series(scores).index, name="top")
