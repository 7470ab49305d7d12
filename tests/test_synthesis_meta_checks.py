"""joinedup.synthesis.meta: input errors, boundary cases, tables, text and the forest plot."""

import numpy as np
import pandas as pd
import pytest

import joinedup.synthesis as synthesis
from joinedup.synthesis import meta_analysis, meta_regression

YI = [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79]
VI = [0.33, 0.19, 0.42, 0.02, 0.05, 0.007]


@pytest.mark.parametrize("method", ["REML", "DL", "PM", "ML", "FE"])
def test_homogeneous_data_give_tau2_zero(method):
    r = meta_analysis([0.2, 0.2, 0.2, 0.2], [0.01, 0.02, 0.03, 0.05], method)
    assert r.tau2 == 0 and r.i2 == 0
    assert r.h2 == pytest.approx(0 if method == "FE" else 1, abs=1e-12)  # FE: H^2 = Q / df; RE: (tau2 + s2) / s2
    assert r.estimate == pytest.approx(0.2, abs=1e-14) and r.q == pytest.approx(0, abs=1e-20)
    # with tau2 = 0 the random-effects fit is the fixed-effect fit
    assert r.se == pytest.approx(meta_analysis([0.2] * 4, [0.01, 0.02, 0.03, 0.05], "FE").se, rel=1e-12)


def test_dispersion_below_chance_truncates_tau2_at_zero():
    # Q < k - 1: every estimator would go negative; all are truncated at zero (metafor's default)
    yi, vi = [0.10, 0.12, 0.08, 0.11], [0.04, 0.05, 0.06, 0.05]
    for method in ("REML", "DL", "PM", "ML"):
        assert meta_analysis(yi, vi, method).tau2 == 0


@pytest.mark.parametrize(("yi", "vi", "message"), [
    ([0.1, 0.2], [0.1, 0.1, 0.1], r"yi has 2 values but vi has 3"),
    ([0.1, 0.2, 0.3, 0.4], [0.1, 0.1, 0.1, -0.2], r"vi\[3\] is negative"),
    ([0.1, 0.2], [0.0, 0.1], r"vi\[0\] is zero"),
    ([np.nan, 0.2], [0.1, 0.1], r"yi\[0\] is missing or not finite"),
    ([0.1, 0.2, 0.3], [0.1, np.inf, 0.1], r"vi\[1\] is missing or not finite"),
    ([0.1], [0.1], r"at least 2 estimates; got k = 1"),
    ([], [], r"at least 2 estimates; got k = 0"),
    (["a", "b"], [0.1, 0.1], r"yi and vi must be numeric"),
])
def test_bad_inputs_name_the_argument_and_position(yi, vi, message):
    with pytest.raises(ValueError, match=message):
        meta_analysis(yi, vi)


def test_bad_options_list_what_is_allowed():
    with pytest.raises(ValueError, match=r"method must be one of 'REML', 'DL', 'FE', 'PM', 'ML', 'HE', 'SJ', 'EB'; got 'HS'"):
        meta_analysis(YI, VI, "HS")
    with pytest.raises(ValueError, match="method must be one of"):
        meta_regression(YI, VI, pd.DataFrame({"x": range(6)}), method="reml")
    with pytest.raises(ValueError, match="knha must be True or False"):
        meta_analysis(YI, VI, knha="yes")
    with pytest.raises(ValueError, match="level must be a number strictly between 0 and 1"):
        meta_analysis(YI, VI, level=95)
    with pytest.raises(ValueError, match="tol must be a positive number"):
        meta_analysis(YI, VI, tol=0)
    with pytest.raises(ValueError, match="labels has 2 entries for 6 estimates"):
        meta_analysis(YI, VI, labels=["a", "b"])


def test_bad_moderators():
    with pytest.raises(ValueError, match="moderators has 5 rows for 6 estimates"):
        meta_regression(YI, VI, pd.DataFrame({"x": range(5)}))
    with pytest.raises(ValueError, match=r"moderators\['x'\]\[2\] is missing or not numeric"):
        meta_regression(YI, VI, pd.DataFrame({"x": [1, 2, np.nan, 4, 5, 6]}))
    with pytest.raises(ValueError, match=r"moderators\['kind'\]\[0\] is missing or not numeric \('urban'\)"):
        meta_regression(YI, VI, pd.DataFrame({"kind": ["urban", "rural"] * 3}))
    with pytest.raises(ValueError, match="collinear"):
        meta_regression(YI, VI, pd.DataFrame({"x": range(6), "y": [2 * i for i in range(6)]}))
    with pytest.raises(ValueError, match="3 estimates cannot support 3 coefficients"):
        meta_regression(YI[:3], VI[:3], pd.DataFrame({"x": [1, 2, 4], "z": [0, 1, 0]}))
    with pytest.raises(ValueError, match="moderators must be a pandas DataFrame; got list"):
        meta_regression(YI, VI, [1, 2, 3, 4, 5, 6])


def test_series_moderator_and_level():
    x = pd.Series([44, 55, 42, 52, 13, 44], name="ablat")
    fit = meta_regression(YI, VI, x, level=0.9)
    c = fit.coefficients.set_index("term")
    assert list(c.index) == ["intrcpt", "ablat"]
    half = c.loc["ablat", "ci_upper"] - c.loc["ablat", "estimate"]
    assert half == pytest.approx(1.6448536269514722 * c.loc["ablat", "se"], rel=1e-12)


def test_weights_and_tidy_table():
    r = meta_analysis(YI, VI, labels=list("abcdef"))
    t = r.tidy()
    assert list(t["study"]) == [*"abcdef", "Pooled (REML)"]
    assert t["weight_pct"].iloc[:-1].sum() == pytest.approx(100)
    w = 1 / (np.array(VI) + r.tau2)
    assert t["weight_pct"].iloc[:-1].to_numpy() == pytest.approx(100 * w / w.sum(), rel=1e-12)
    assert t["yi"].iloc[:-1].tolist() == YI and t["vi"].iloc[:-1].tolist() == VI
    assert t["ci_lower"].iloc[0] == pytest.approx(YI[0] - 1.959963984540054 * np.sqrt(VI[0]), rel=1e-12)
    assert t.iloc[-1]["estimate"] == r.estimate and t.iloc[-1]["ci_upper"] == r.ci_upper


def test_summary_frame_and_text():
    r = meta_analysis(YI, VI, "DL", knha=True)
    s = r.summary_frame()
    assert len(s) == 1 and s.loc[0, "df"] == 5 and s.loc[0, "method"] == "DL" and s.loc[0, "knha"]
    assert s.loc[0, "estimate"] == r.estimate and s.loc[0, "pi_upper"] == r.pi_upper
    text = r.summary()
    assert "tau^2 estimator: DL" in text and "t(df = 5)" in text and f"{r.estimate:.4f}" in text
    assert meta_analysis(YI, VI, "FE").summary().startswith("Fixed-effect model (k = 6)")


def test_forest_plot_alt_text_states_the_pooled_estimate():
    r = meta_analysis(YI, VI, labels=[f"site {i}" for i in range(1, 7)])
    fig = r.plot(title="Sites")
    assert f"{r.estimate:.3f} (95% CI {r.ci_lower:.3f} to {r.ci_upper:.3f})" in fig.alt_text
    assert "Pooled (REML)" in fig.alt_text and fig.title == "Sites"
    assert fig.svg.startswith("<svg") and "site 6" in fig.svg
    assert len(fig.data) == 7


def test_result_is_frozen():
    r = meta_analysis(YI, VI)
    with pytest.raises(AttributeError):
        r.estimate = 0.0


def test_package_exports_lazily():
    assert {"meta_analysis", "meta_regression"} <= set(synthesis.__all__) and "meta_analysis" in dir(synthesis)
    assert synthesis.meta_analysis is meta_analysis
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        synthesis.nope  # noqa: B018
