"""joinedup's ATT(g,t) against the Python ports ``csdid`` (0.4.3) and ``differences`` (0.3.0).

Tolerances and why: identical estimates to 1e-8 on ATT(g,t) and aggregations (measured: 1e-16
without covariates; up to 5e-13 with a logit propensity score, where each package's iterations stop
at their own tolerance) and 1e-6 relative on analytic SEs. Skipped when the packages are absent.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from joinedup.impact import att_gt
from test_impact_did import EXT, KEYS

csdid = pytest.importorskip("csdid.att_gt")

CASES = [
    dict(),
    dict(control_group="notyettreated"),
    dict(est_method="reg", xformla="~ lpop"),
    dict(est_method="ipw", xformla="~ lpop"),
    dict(est_method="dr", xformla="~ lpop"),
    dict(base_period="universal"),
    dict(anticipation=1),
    dict(anticipation=1, control_group="notyettreated", xformla="~ lpop"),
    dict(base_period="universal", control_group="notyettreated", xformla="~ lpop"),
]


@pytest.fixture(scope="module")
def mpdta() -> pd.DataFrame:
    return pd.read_csv(EXT / "mpdta.csv")


def _csdid(mpdta, case):
    xf = case.get("xformla")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = csdid.ATTgt(data=mpdta, **KEYS, control_group=case.get("control_group", "nevertreated"),
                         xformla=None if xf is None else "lemp" + xf.replace(" ", ""),
                         anticipation=case.get("anticipation", 0))
        return cs.fit(est_method=case.get("est_method", "dr"), base_period=case.get("base_period", "varying"),
                      bstrap=False)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_same_att_gt_as_csdid(mpdta, case):
    cs = _csdid(mpdta, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = att_gt(mpdta, **KEYS, **case, bstrap=False)
    np.testing.assert_array_equal(np.asarray(cs.results["group"], float), res.group)
    np.testing.assert_array_equal(np.asarray(cs.results["year"], float), res.t)
    np.testing.assert_allclose(res.att, np.asarray(cs.results["att"], float), rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.se, np.asarray(cs.results["se"], float), rtol=1e-6)
    for kind in ("simple", "group", "dynamic", "calendar"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = cs.aggte(typec=kind, bstrap=False, cband=False).atte
        ours = res.aggregate(kind, cband=False, na_rm=True)
        assert ours.overall_att == pytest.approx(float(theirs["overall_att"]), abs=1e-8)
        assert ours.overall_se == pytest.approx(float(theirs["overall_se"]), rel=1e-6)
        if kind != "simple":
            np.testing.assert_allclose(ours.att_egt, np.asarray(theirs["att_egt"], float), atol=1e-8)


def test_same_att_gt_as_differences(mpdta):
    differences = pytest.importorskip("differences")
    panel = mpdta.assign(cohort=mpdta["first.treat"].where(mpdta["first.treat"] > 0))
    model = differences.ATTgt(data=panel.set_index(["countyreal", "year"]), cohort_column="cohort")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = model.fit(formula="lemp", est_method="dr", control_group="never_treated",
                           progress_bar=False).to_pandas()
    res = att_gt(mpdta, **KEYS, bstrap=False)
    np.testing.assert_allclose(res.att, theirs[("ATTgtElements", "", "ATT")].to_numpy(), atol=1e-8)
    np.testing.assert_allclose(res.se, theirs[("ATTgtElements", "analytic", "std_error")].to_numpy(), rtol=1e-6)
