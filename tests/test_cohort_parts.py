"""The cohort design's parts: eligibility rules as data, the enrolment file's checks, clustered SEs, the MDE.

References: the CR1 cluster-robust SE is checked against statsmodels' WLS with cov_type="cluster"
(same G/(G-1) x (N-1)/(N-K) correction, to 1e-10); the MDE formula against a Monte Carlo of the
design it describes (power within 0.03 of the nominal 0.8 over 4,000 draws: 3 binomial SEs).
"""

import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from joinedup.cohort.eligibility import EligibilityError, eligible, parse_conditions, top_share_mask
from joinedup.cohort.enrolments import EnrolmentError, read_enrolments
from joinedup.cohort.estimate import did, wls_cluster
from joinedup.cohort.power import mde

HEADER = "person_id,enrolment_date,scheme,site\n"
PERIOD = (pd.Timestamp("2012-01-01"), pd.Timestamp("2017-01-01"))


@pytest.mark.parametrize("item, message", [
    ({"field": "care_home", "op": "==", "value": False}, "no care-home flag"),
    ({"field": "age", "op": "~", "value": 65}, "op '~' is not allowed for age"),
    ({"field": "age", "op": "between", "value": [90, 65]}, "low <= high"),
    ({"field": "emergency_admissions", "op": ">=", "value": 1}, "needs months = 1..36"),
    ({"field": "age", "op": ">=", "value": 65, "months": 3}, "months applies only to"),
    ({"field": "risk_score", "op": "top_share", "value": 2}, "top_share needs a value in (0, 1]"),
    ({"field": "age", "op": ">=", "value": "old"}, "needs a number"),
    ({"field": "age", "op": ">=", "value": 65, "colour": "red"}, "unknown key(s) colour"),
])
def test_a_bad_condition_is_refused_naming_it_and_the_reason(item, message):
    with pytest.raises(EligibilityError) as err:
        parse_conditions([{"field": "age", "op": ">=", "value": 65}, item])
    assert "eligibility condition 2" in str(err.value) and message in str(err.value)


def test_conditions_apply_in_order_and_top_share_ranks_those_still_in():
    rule = parse_conditions([{"field": "age", "op": ">=", "value": 65},
                             {"field": "risk_score", "op": "top_share", "value": 0.5},
                             {"field": "practice_code", "op": "not_in_scheme"}])
    data = {"alive": np.array([True, True, True, True, False]), "age": np.array([70., 80, 50, 66, 90]),
            "risk_score": np.array([.2, .9, .99, .5, .95]), "practice_code": np.array(["A", "A", "B", "B", "B"])}
    got = eligible(rule, lambda f, m: data[f], scheme_practices={"A"})
    # 65+ and alive: rows 0, 1, 3; top half (round(1.5) = 2) by risk: rows 1, 3; not at A: row 3
    assert got.tolist() == [False, False, False, True, False]
    assert top_share_mask(np.array([1., 2, 3]), np.array([True, True, True]), 0.01).tolist() == [False, False, True]


def test_a_good_enrolment_file_is_read_typed():
    got = read_enrolments(io.StringIO(HEADER + "3,2014-05-02,frailty,Leeds\n1,2014-06-01,frailty,Kent\n"),
                          known_ids=np.array([1, 2, 3]), period=PERIOD)
    assert got["person_id"].tolist() == [3, 1] and got["enrolment_date"].dt.month.tolist() == [5, 6]


def test_every_problem_of_an_enrolment_file_is_named_with_line_and_value(tmp_path):
    path = tmp_path / "enrolled.csv"
    path.write_text(HEADER + "1,2014-05-02,s,A\n9,2014-05-02,s,A\n2,2019-01-01,s,A\n1,2014-07-01,s,A\n"
                    "x,2014-05-02,s,A\n3,05/02/2014,s,A\n3,2014-05-02,,A\n")
    with pytest.raises(EnrolmentError) as err:
        read_enrolments(path, known_ids=np.array([1, 2, 3]), period=PERIOD)
    text = str(err.value)
    assert str(path) in text and "nothing was read" in text
    for expected in ("line 3: person_id '9' is not a person", "line 4: enrolment_date '2019-01-01' is outside the data",
                     "line 5: person_id '1' is enrolled more than once", "line 6: person_id 'x' is not a whole",
                     "line 7: enrolment_date '05/02/2014' is not a date", "line 8: scheme '' is empty"):
        assert expected in text, expected


def test_an_enrolment_file_without_its_columns_says_which_are_missing():
    with pytest.raises(EnrolmentError, match="missing column\\(s\\) enrolment_date, site"):
        read_enrolments(io.StringIO("person_id,scheme\n1,s\n"))


def test_cluster_robust_se_matches_statsmodels():
    rng = np.random.default_rng(3)
    n = 400
    g = rng.integers(0, 120, n)
    x = np.column_stack([np.ones(n), rng.integers(0, 2, n), rng.normal(size=n)])
    w = rng.uniform(0.2, 1.0, n)
    y = x @ [1.0, -0.5, 0.3] + rng.normal(size=n) + rng.normal(size=120)[g]
    beta, cov = wls_cluster(y, x, w, g)
    ref = sm.WLS(y, x, weights=w).fit(cov_type="cluster", cov_kwds={"groups": g})
    np.testing.assert_allclose(beta, ref.params, rtol=1e-10)
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-10)


def test_did_is_the_weighted_change_difference_with_person_clusters():
    md = pd.DataFrame({"set_id": [0, 0, 0, 1, 1], "person_id": [1, 2, 3, 4, 2], "treated": [1, 0, 0, 1, 0],
                       "weight": [1, .5, .5, 1, 1], "y_before": [3., 2, 4, 2, 1], "y_after": [1., 2, 2, 1, 1]})
    est = did(md, "y", bootstrap=200)
    # set 0: -2 - mean(0, -2) = -1; set 1: -1 - 0 = -1
    assert est.estimate == pytest.approx(-1.0) and est.persons == 4 and est.controls == 2
    assert est.boot_low == pytest.approx(-1.0) and est.boot_high == pytest.approx(-1.0)


def test_the_mde_gives_the_nominal_power_in_a_monte_carlo_of_its_design():
    n, sd, rho, base = 300, 1.0, 0.4, 1.0
    plan = mde(n=n, k=1, sd=sd, rho=rho, baseline=base)
    rng = np.random.default_rng(7)
    cov = sd**2 * np.array([[1, rho], [rho, 1]])
    hits = 0
    reps = 4000
    for _ in range(reps):
        t = rng.multivariate_normal([0, 0], cov, n)
        c = rng.multivariate_normal([0, 0], cov, n)
        dt, dc = t[:, 1] - t[:, 0] + plan["mde_absolute"], c[:, 1] - c[:, 0]
        z = (dt.mean() - dc.mean()) / np.sqrt(2 * sd**2 * (1 - rho) * 2 / n)
        hits += abs(z) > 1.959964
    assert abs(hits / reps - 0.8) < 0.03
    assert plan["mde_relative"] == pytest.approx(plan["mde_absolute"] / base)
    assert mde(n=4 * n, k=1, sd=sd, rho=rho, baseline=base)["mde_absolute"] == pytest.approx(plan["mde_absolute"] / 2)


def test_a_bad_cohort_eq5d_file_names_each_line_and_value():
    from joinedup.cohort.economics import CohortEq5dError, read_cohort_eq5d

    text = ("person_id,index_date,wave,utility\n7,2015-02-01,0,0.7\nx,2015-02-01,1,0.7\n"
            "8,2015-13-01,1,0.7\n9,2015-02-01,3,0.7\n10,2015-02-01,2,1.4\n")
    with pytest.raises(CohortEq5dError) as err:
        read_cohort_eq5d(io.StringIO(text))
    message = str(err.value)
    for expected in ("line 3: person_id 'x'", "line 4: index_date '2015-13-01'", "line 5: wave '3'",
                     "line 6: utility '1.4'"):
        assert expected in message, message
    assert "line 2" not in message
    with pytest.raises(CohortEq5dError, match="missing column"):
        read_cohort_eq5d(io.StringIO("person_id,wave\n1,0\n"))
