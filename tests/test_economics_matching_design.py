"""The matching's model matrices built without formulaic for plain column names
(``design._plain_model_matrix``, for memory at scale 1.0) against formulaic's own, exactly: the same
column names (R's), order, values and index, with and without full rank; and what is not plain
(transforms, interactions, booleans, pandas categoricals, missing values) still goes to formulaic."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from formulaic import model_matrix

from joinedup.economics.matching import design
from joinedup.economics.matching.design import r_names

DATA = Path(__file__).resolve().parent / "data" / "external"


def _formulaic(rhs: str, data: pd.DataFrame, full_rank: bool) -> pd.DataFrame:
    mm = model_matrix(rhs, data, ensure_full_rank=full_rank, na_action="raise")
    return pd.DataFrame(np.asarray(mm, dtype=float), index=data.index, columns=r_names(mm.columns))


def _cohort_like(n: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame({
        "age": rng.integers(65, 100, n), "sex": pd.array(rng.choice(["M", "F"], n), dtype="str"),
        "ltc_count": rng.integers(0, 6, n).astype("int32"), "risk_score": rng.random(n),
        "programme_group": rng.choice(["none", "pioneer wave 1", "pioneer wave 1 + vanguard", "vanguard"], n),
    }, index=pd.RangeIndex(1000, 1000 + n))


@pytest.mark.parametrize("full_rank", [True, False])
@pytest.mark.parametrize("case", ["lalonde", "cohort", "cohort_exact"])
def test_plain_columns_give_formulaics_matrix(case, full_rank):
    if case == "lalonde":
        data = pd.read_csv(DATA / "lalonde_matchit_614.csv", index_col=0)
        rhs = "age + educ + race + married + nodegree + re74 + re75"
    else:
        data = _cohort_like()
        rhs = "age + sex + ltc_count + risk_score" if case == "cohort" else "programme_group + sex"
    assert design._plain_columns(rhs, data) is not None
    got = design._model_matrix(rhs, data, full_rank)
    want = _formulaic(rhs, data, full_rank)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("rhs", ["age + I(age ** 2)", "age:risk_score", "age + flag", "age + cat",
                                 "age + gap", "age + missing_column"])
def test_anything_else_goes_to_formulaic(rhs):
    data = _cohort_like().assign(flag=lambda d: d["age"] > 80,
                                 cat=lambda d: pd.Categorical(d["sex"], categories=["M", "F"]),
                                 gap=lambda d: d["risk_score"].where(d["age"] > 66))
    assert design._plain_columns(rhs, data) is None


def test_the_design_of_a_cohort_is_unchanged():
    data = _cohort_like().assign(treated=lambda d: (d["risk_score"] > 0.8).astype(int))
    d = design.parse_design("treated ~ age + sex + ltc_count + risk_score", data)
    assert list(d.ps_matrix.columns) == ["(Intercept)", "age", "sexM", "ltc_count", "risk_score"]
    assert list(d.covariates.columns) == ["age", "sexF", "sexM", "ltc_count", "risk_score"]
    pd.testing.assert_frame_equal(d.ps_matrix, _formulaic("1 + age + sex + ltc_count + risk_score", data, True))
