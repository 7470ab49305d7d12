"""metafor parity: Q-profile ``confint()``, ``se.tau2``, the HE, SJ and EB estimators and R^2.

Reference: ``tests/data/reference/metafor_parity.csv``, written by ``metafor_parity.R`` beside it (R 4.2.2,
metafor 3.8-1 from Debian) on dat.bcg (RR; without and with ``mods = ~ ablat``), dat.hackshaw1998 (the
Q-profile lower bound is 0) and a 4-study toy set (Q(0) below the lower quantile: the interval is {0}).

Tolerances and why:

* ``TIGHT`` (1e-8 relative, 1e-10 absolute) against metafor run with ``threshold = tol = 1e-12`` (its
  converged values): joinedup converges to 1e-10 in tau^2 (Fisher scoring, EB) and Brent's method to
  1e-12 (PM, Q-profile bounds), so only the last iterations differ.
* ``SAME_PATH`` (1e-9 relative) against metafor's defaults with joinedup's ``tol = 1e-5``: the same
  iterations from the same start (Hedges' estimate), stopped by the same rule, so equal to rounding.
* ``UNIROOT`` (1.23e-4, i.e. .Machine$double.eps^0.25) in tau^2 for what metafor finds by ``uniroot()``
  at its default tolerance (PM's tau^2 and the Q-profile bounds): metafor's printed 4th decimal of a
  bound can differ from the exact root's (I^2 lower bound on dat.bcg: 81.9177 printed, 81.9206 at the
  root), so the default printout is checked to within that tolerance, and the exact roots above.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from joinedup.synthesis import meta_analysis, meta_regression
from joinedup.synthesis.meta_confint import generalised_q

REF_DIR = Path(__file__).resolve().parent / "data" / "reference"
TIGHT = {"rel": 1e-8, "abs": 1e-10}
SAME_PATH = {"rel": 1e-9, "abs": 1e-12}
UNIROOT = np.finfo(float).eps ** 0.25 + 1e-6

INPUTS = pd.read_csv(REF_DIR / "metafor_parity_data.csv")  # the yi, vi metafor fitted (17 digits)
DATA = {name: (g["yi"].to_numpy(), g["vi"].to_numpy()) for name, g in INPUTS.groupby("dataset")}
ABLAT = INPUTS.loc[INPUTS["dataset"] == "bcg", "ablat"].to_numpy(float)
CI_KEYS = [(row, col) for row in ("tau2", "tau", "I2", "H2") for col in ("estimate", "ci_low", "ci_high")]
ITERATIVE = {"REML", "ML", "EB"}  # Fisher-scoring loops, stopped by metafor's threshold


def _read(path: Path) -> dict:
    ref = pd.read_csv(path)
    return {tuple(r[:5]): r[5] for r in ref.itertuples(index=False)}


@pytest.fixture(scope="module")
def ref() -> dict:
    return _read(REF_DIR / "metafor_parity.csv")


def _fit(dataset, model, method, tol):
    yi, vi = DATA[dataset]
    if model == "RE":
        return meta_analysis(yi, vi, method, tol=tol)
    return meta_regression(yi, vi, pd.DataFrame({"ablat": ABLAT}), method, tol=tol)


def _ours(res, model) -> dict:
    """Our numbers under the reference's quantity names."""
    out = {"tau2": res.tau2, "se_tau2": res.tau2_se, "I2": res.i2, "H2": res.h2}
    if model == "RE":
        out |= {"b0": res.estimate, "se0": res.se, "QE": res.q}
    else:
        c = res.coefficients
        out |= {"b0": c["estimate"][0], "se0": c["se"][0], "b1": c["estimate"][1], "se1": c["se"][1],
                "QE": res.qe, "QM": res.qm, "R2": res.r2}
    if res.method != "FE":
        ci = res.confint()
        out |= {f"ci_{row}_{col.removeprefix('ci_')}": ci.loc[row, col] for row, col in CI_KEYS}
    return out


def _ref_cases():
    return sorted({k[:3] for k in _read(REF_DIR / "metafor_parity.csv") if k[0] in DATA})


@pytest.mark.parametrize(("dataset", "model", "method"), _ref_cases())
def test_converged_values_equal_metafor(ref, dataset, model, method):
    ours = _ours(_fit(dataset, model, method, tol=1e-10), model)
    checked = 0
    for (d, m, meth, control, quantity), want in ref.items():
        if (d, m, meth, control) != (dataset, model, method, "tight"):
            continue
        if np.isnan(want):  # metafor's NA: se.tau2 of FE
            assert np.isnan(ours[quantity]), quantity
        else:
            assert ours[quantity] == pytest.approx(want, **TIGHT), quantity
        checked += 1
    assert checked >= 7  # FE: b0, se0, tau2, se_tau2 (NA), I2, H2, QE


@pytest.mark.parametrize(("dataset", "model", "method"), _ref_cases())
def test_metafor_defaults_reproduced_with_its_threshold(ref, dataset, model, method):
    # tol=1e-5 is metafor's default threshold: the iterative estimators take the same steps
    ours = _ours(_fit(dataset, model, method, tol=1e-5), model)
    by_uniroot = 0
    for (d, m, meth, control, quantity), want in ref.items():
        if (d, m, meth, control) != (dataset, model, method, "default") or np.isnan(want):
            continue
        if method == "PM" or quantity.startswith("ci_") and not quantity.endswith("_estimate"):
            by_uniroot += 1
            continue  # found by uniroot() at ~1.2e-4: checked in tau^2 by the next test
        assert ours[quantity] == pytest.approx(want, **SAME_PATH), quantity


@pytest.mark.parametrize(("dataset", "model", "method"), _ref_cases())
def test_metafor_uniroot_results_within_its_tolerance(ref, dataset, model, method):
    ours = _ours(_fit(dataset, model, method, tol=1e-10), model)
    keys = ["ci_tau2_low", "ci_tau2_high"] + (["tau2"] if method == "PM" else [])
    for quantity in keys:
        want = ref.get((dataset, model, method, "default", quantity))
        if want is None or quantity not in ours:
            continue
        assert abs(ours[quantity] - want) <= UNIROOT, quantity


def test_bcg_printed_values():
    # metafor's printout for rma(yi, vi, data = dat) and confint() at 4 decimals (converged bounds)
    res = meta_analysis(*DATA["bcg"])
    ci = res.confint().round(4)
    assert ci.loc["tau2"].tolist() == [0.3132, 0.1197, 1.1115]
    assert ci.loc["tau"].tolist() == [0.5597, 0.3460, 1.0543]
    assert ci.loc["I2"].tolist() == [92.2214, 81.9206, 97.6781]
    assert ci.loc["H2"].tolist() == [12.8558, 5.5311, 43.0677]
    assert list(ci.index) == ["tau2", "tau", "I2", "H2"] and list(ci.columns) == ["estimate", "ci_low", "ci_high"]


def test_r2_fixed_effect_meta_regression_is_78():
    # the 78.0: rma(yi, vi, mods = ~ ablat, data = dat, method = "FE") prints R^2 77.98%;
    # with REML metafor prints 75.62% (the default model)
    yi, vi = DATA["bcg"]
    fe = meta_regression(yi, vi, pd.DataFrame({"ablat": ABLAT}), "FE")
    assert round(fe.r2, 1) == 78.0 and round(fe.r2, 2) == 77.98
    assert round(meta_regression(yi, vi, pd.DataFrame({"ablat": ABLAT}), tol=1e-5).r2, 2) == 75.62


def test_fixed_effect_r2_is_weighted_least_squares_adjusted_r2():
    # independent: statsmodels' WLS with weights 1/vi, adjusted R^2 (what metafor takes from lm())
    import statsmodels.api as sm

    yi, vi = DATA["bcg"]
    wls = sm.WLS(yi, sm.add_constant(ABLAT), weights=1 / vi).fit()
    fe = meta_regression(yi, vi, pd.DataFrame({"ablat": ABLAT}), "FE")
    assert fe.r2 == pytest.approx(100 * wls.rsquared_adj, rel=1e-12)
    # a moderator that explains nothing: adjusted R^2 is -0.5 and is floored at 0, as metafor does
    z = np.array([0.0, 0.0, 1.0, 1.0])
    wls = sm.WLS([0.1, 0.3, 0.1, 0.3], sm.add_constant(z), weights=[100.0] * 4).fit()
    assert wls.rsquared_adj == pytest.approx(-0.5)
    assert meta_regression([0.1, 0.3, 0.1, 0.3], [0.01] * 4, pd.DataFrame({"z": z}), "FE").r2 == 0


def test_q_profile_bounds_solve_their_equations():
    yi, vi = DATA["bcg"]
    x = np.ones((len(yi), 1))
    for method in ("REML", "DL", "SJ"):
        ci = meta_analysis(yi, vi, method, level=0.9).confint()
        lo, hi = ci.loc["tau2", "ci_low"], ci.loc["tau2", "ci_high"]
        assert generalised_q(lo, yi, vi, x) == pytest.approx(stats.chi2.isf(0.05, 12), rel=1e-10)
        assert generalised_q(hi, yi, vi, x) == pytest.approx(stats.chi2.ppf(0.05, 12), rel=1e-10)
        # the bounds do not depend on the estimator, only the estimate column does
        assert ci.loc["tau2", "estimate"] == meta_analysis(yi, vi, method).tau2


def test_q_profile_null_interval_and_zero_lower_bound():
    ci = meta_analysis(*DATA["toy"]).confint()
    assert ci["ci_low"].tolist() == [0, 0, 0, 1] and ci["ci_high"].tolist() == [0, 0, 0, 1]
    # few and homogeneous enough that Q(0) is below the upper quantile: lower bound 0, upper bound positive
    yi, vi = [0.1, 0.3, 0.5, 0.2, 0.6], [0.02, 0.03, 0.02, 0.04, 0.03]
    ci = meta_analysis(yi, vi).confint()
    assert ci.loc["tau2", "ci_low"] == 0 and ci.loc["I2", "ci_low"] == 0 and ci.loc["H2", "ci_low"] == 1
    assert ci.loc["tau2", "ci_high"] > 0


def test_eb_converges_to_the_paule_mandel_solution():
    # EB's fixed point solves y'Py = k - p, the Paule-Mandel equation; the two differ only by tolerance
    yi, vi = DATA["bcg"]
    eb, pm = meta_analysis(yi, vi, "EB"), meta_analysis(yi, vi, "PM")
    assert eb.tau2 == pytest.approx(pm.tau2, abs=1e-9) and eb.tau2_se == pytest.approx(pm.tau2_se, rel=1e-8)


def test_hedges_and_sidik_jonkman_by_hand():
    yi, vi = DATA["bcg"]
    k = len(yi)
    # (RSS - tr(P0 V)) / (k - 1) with P0 = I - J/k: tr(P0 V) = sum(vi) (k - 1) / k
    he = (np.sum((yi - yi.mean()) ** 2) - np.sum(vi) * (k - 1) / k) / (k - 1)
    assert meta_analysis(yi, vi, "HE").tau2 == pytest.approx(he, rel=1e-12)
    t0 = np.mean((yi - yi.mean()) ** 2)
    w = 1 / (vi + t0)
    mu = np.sum(w * yi) / np.sum(w)
    assert meta_analysis(yi, vi, "SJ").tau2 == pytest.approx(t0 * np.sum(w * (yi - mu) ** 2) / (k - 1), rel=1e-12)


def test_confint_errors():
    yi, vi = DATA["bcg"]
    with pytest.raises(ValueError, match="confint\\(\\) needs a random-effects model: method='FE'"):
        meta_analysis(yi, vi, "FE").confint()
    with pytest.raises(ValueError, match="confint\\(\\) needs a random-effects model"):
        meta_regression(yi, vi, pd.DataFrame({"ablat": ABLAT}), "FE").confint()
    with pytest.raises(ValueError, match="level must be a number strictly between 0 and 1"):
        meta_analysis(yi, vi).confint(level=95)


def _metafor_available() -> str | None:
    """None when Rscript and metafor can run, otherwise why not (the skip reason)."""
    if shutil.which("Rscript") is None:
        return "Rscript is not installed (apt-get install r-base-core r-cran-metafor)"
    probe = subprocess.run(["Rscript", "-e", "library(metafor)"], capture_output=True, text=True, timeout=120,
                           check=False)
    if probe.returncode != 0:
        return "R package metafor is not installed (apt-get install r-cran-metafor)"
    return None


def test_reference_script_reproduces_the_stored_csv_live(tmp_path):
    reason = _metafor_available()
    if reason:
        pytest.skip(f"live metafor check not run: {reason}; the stored-reference tests above still ran")
    run = subprocess.run(["Rscript", str(REF_DIR / "metafor_parity.R"), str(tmp_path)], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "LC_ALL": "C"}, check=False)
    assert run.returncode == 0, run.stderr
    live, stored = _read(tmp_path / "metafor_parity.csv"), _read(REF_DIR / "metafor_parity.csv")
    assert pd.read_csv(tmp_path / "metafor_parity_data.csv").equals(INPUTS)
    assert live.keys() == stored.keys()
    for key, want in stored.items():
        got = live[key]
        assert (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want, rel=1e-9, abs=1e-12), key
