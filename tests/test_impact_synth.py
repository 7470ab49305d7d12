"""Synthetic control (joinedup.impact.synthetic) against published and reference results.

Tolerances and why:
- Inner QP: 1e-8 on the loss (and weights off the degenerate interior case) against two independent
  exact solvers, scipy's NNLS on the simplex identity and SLSQP; both are exact up to rounding.
- Basque (Abadie & Gardeazabal 2003, R Synth's example; pysyncon's test reproduces the same
  numbers, 0.850816306 and 0.149183694): 1e-3. The outer optimum is flat in V, so V itself is not
  compared; the weights are well determined.
- ADH 2010 Table 2 (Utah 0.334, Nevada 0.234, Montana 0.199, Colorado 0.164, Connecticut 0.069):
  0.006 absolute, since the published weights come from other software and a slightly different
  data vintage; our pre-period MSPE 3.0767 is the lowest we found with any start (multi-start
  searches in development found nothing lower than 3.07666).
- Placebo-in-space on Proposition 99 with the ADH specification: California ranks first of 39
  (p = 1/39), exactly as ADH 2010 report.
- Known truth: a factor-model panel whose treated unit is a convex combination of donors, with
  effect 5 and noise sd 0.3, 30 pre and 10 post periods: the ATT within 0.5 (seeds 0-3 all land
  within 0.4; with fewer pre periods regularised weights leave a trend bias, a property of the
  estimators, not a bug).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from joinedup.impact import leave_one_out, placebo_in_space, synth
from joinedup.impact.synthetic._qp import _nnls_cold, simplex_min_norm
from joinedup.report.charts import Figure

EXT = Path(__file__).resolve().parent / "data" / "external"
ADH_SPECIAL = [("lnincome", range(1980, 1989)), ("retprice", range(1980, 1989)),
               ("age15to24", range(1980, 1989)), ("beer", range(1984, 1989)),
               ("cigsale", 1975), ("cigsale", 1980), ("cigsale", 1988)]
ADH_TABLE2 = {"Utah": 0.334, "Nevada": 0.234, "Montana": 0.199, "Colorado": 0.164,
              "Connecticut": 0.069}
BASQUE_SPECIAL = [("gdpcap", range(1960, 1970))] + [
    (f"sec.{s}", range(1961, 1970, 2)) for s in
    ("agriculture", "energy", "industry", "construction", "services.venta", "services.nonventa")
] + [("popdens", 1969)]
BASQUE_PREDICTORS = ["school.illit", "school.prim", "school.med", "school.high",
                     "school.post.high", "invest"]


@pytest.fixture(scope="module")
def smoking():
    return pd.read_csv(EXT / "smoking_adh2010.csv")


@pytest.fixture(scope="module")
def prop99():
    return pd.read_csv(EXT / "california_prop99.csv", sep=";")


@pytest.fixture(scope="module")
def adh(smoking):
    return synth(smoking, "state", "year", "cigsale", "California", 1989,
                 special_predictors=ADH_SPECIAL, time_optimize_ssr=range(1970, 1989))


def factor_panel(seed=3, n=25, periods=40, start=31, effect=5.0, noise=0.3):
    """Units with two latent factors; unit 'T' mixes donors d0-d2, so a synthetic control exists."""
    rng = np.random.default_rng(seed)
    f = np.column_stack([np.linspace(0, 3, periods), np.sin(np.arange(periods) / 3)])
    load = rng.uniform(0, 2, size=(n, 2))
    mix = np.array([0.5, 0.3, 0.2])
    treated_load = mix @ load[:3]
    ids = [f"d{i}" for i in range(n)] + ["T"]
    mu = np.vstack([load, treated_load]) @ f.T + 10
    y = mu + rng.normal(0, noise, size=mu.shape)
    y[-1, start - 1:] += effect
    t = np.arange(1, periods + 1)
    return pd.DataFrame({"unit": np.repeat(ids, periods), "t": np.tile(t, n + 1), "y": y.ravel(),
                         "d": np.r_[np.zeros(n * periods), (t >= start).astype(float)]})


# --- the inner problem ------------------------------------------------------------------------------


def test_qp_matches_two_exact_solvers():
    rng = np.random.default_rng(1)
    for _ in range(60):
        K, J = int(rng.integers(2, 15)), int(rng.integers(3, 60))
        X0 = rng.normal(size=(K, J)) * rng.uniform(0.1, 10, size=(K, 1))
        x1 = rng.normal(size=K) * 3
        v = rng.uniform(size=K)
        v /= v.sum()
        M = np.sqrt(v)[:, None] * (X0 - x1[:, None])
        loss = lambda w: float(np.sum((M @ w) ** 2))  # noqa: E731
        w = simplex_min_norm(M)
        assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12
        ref = minimize(loss, np.full(J, 1 / J), method="SLSQP", bounds=[(0, 1)] * J,
                       constraints={"type": "eq", "fun": lambda z: z.sum() - 1},
                       options={"ftol": 1e-15, "maxiter": 2000})
        assert loss(w) <= ref.fun + 1e-8 * max(1, ref.fun)
        w_nnls = _nnls_cold(M / np.abs(M).max())
        assert abs(loss(w) - loss(w_nnls)) <= 1e-8 * max(1e-8, loss(w_nnls))
        # warm start from a wrong support still lands on the same optimum
        w_warm = simplex_min_norm(M, np.arange(min(J, K + 1)))
        assert abs(loss(w_warm) - loss(w)) <= 1e-8 * max(1e-8, loss(w))
        if loss(w) > 1e-6:  # off the interior case the minimiser is unique
            np.testing.assert_allclose(w_warm, w, atol=1e-8)


# --- published examples -----------------------------------------------------------------------------


def test_basque_weights_match_synth_example():
    b = pd.read_csv(EXT / "basque.csv")
    res = synth(b, "regionno", "year", "gdpcap", 17, 1970, predictors=BASQUE_PREDICTORS,
                time_predictors_prior=range(1964, 1970), special_predictors=BASQUE_SPECIAL,
                time_optimize_ssr=range(1960, 1970), donors=[u for u in range(2, 19) if u != 17])
    assert res.weights[10] == pytest.approx(0.850816306, abs=1e-3)   # Cataluna
    assert res.weights[14] == pytest.approx(0.149183694, abs=1e-3)   # Madrid
    assert res.weights.drop([10, 14]).max() < 1e-3
    assert res.v.sum() == pytest.approx(1.0)
    assert len(res.v) == 14


def test_adh_weights_match_table_2(adh):
    w = adh.weights
    for state, published in ADH_TABLE2.items():
        assert w[state] == pytest.approx(published, abs=0.006), state
    assert w.drop(list(ADH_TABLE2)).max() < 1e-3
    assert adh.loss_v == pytest.approx(3.07666, abs=2e-4)
    assert adh.weights.sum() == pytest.approx(1.0, abs=1e-12)
    # the synthetic path is the weighted donors and the ATT is the mean post gap
    g = adh.gaps()
    assert g["gap"].to_numpy() == pytest.approx(g["treated"] - g["synthetic"])
    assert adh.att == pytest.approx(g.loc[g["post"], "gap"].mean())
    assert adh.att == pytest.approx(-19.0, abs=0.3)
    assert adh.pre_mspe == pytest.approx(adh.loss_v)   # optimised over every pre period here


def test_adh_balance_table(adh):
    bal = adh.balance.set_index("predictor")
    assert bal.loc["cigsale (1975)", "treated"] == pytest.approx(127.1, abs=1e-4)
    assert bal.loc["cigsale (1975)", "synthetic"] == pytest.approx(127.1, abs=0.05)
    assert list(adh.v.index) == list(bal.index)


@pytest.mark.slow
def test_placebo_in_space_prop99_ranks_california_first(smoking):
    res = placebo_in_space(smoking, "state", "year", "cigsale", "California", 1989,
                           special_predictors=ADH_SPECIAL, time_optimize_ssr=range(1970, 1989))
    assert res.rank == 1
    assert res.n_placebos == 38
    assert res.p_value == pytest.approx(1 / 39)
    t = res.tidy()
    assert all("California" not in f.weights.index for f in res.placebo_fits)
    assert t.loc[0, "mspe_ratio"] == pytest.approx(res.treated_fit.post_mspe / res.treated_fit.pre_mspe)
    # the pre-fit filter drops placebos but California stays first
    for k in (20, 5, 2):
        f = res.with_filter(k)
        assert f.rank == 1 and f.n_placebos < 38
        kept = f.tidy()
        assert (kept.loc[kept["kept"], "pre_mspe"] <= k * res.treated_fit.pre_mspe).all()
    fig = res.plot()
    assert isinstance(fig, Figure) and "California" in fig.alt_text and fig.title


def test_placebo_outcome_only_prop99(prop99):
    res = placebo_in_space(prop99, "State", "Year", "PacksPerCapita", "California", 1989,
                           v="outcome")
    assert res.n_placebos == 38
    assert 1 <= res.rank <= 39 and res.p_value == pytest.approx(res.rank / 39)
    assert res.treated_fit.att == pytest.approx(-19.5, abs=0.5)


def test_placebos_shared_between_treated_units():
    df = factor_panel(n=15)
    df2 = df[df["unit"] == "T"].assign(unit="T2", y=lambda d: d["y"] + 0.1)
    data = pd.concat([df, df2], ignore_index=True)
    out = placebo_in_space(data, "unit", "t", "y", ["T", "T2"], 31, v="outcome")
    assert set(out) == {"T", "T2"}
    assert out["T"].placebo_fits is out["T2"].placebo_fits
    assert all("T2" not in f.weights.index and "T" not in f.weights.index
               for f in out["T"].placebo_fits)
    single = placebo_in_space(data[data["unit"] != "T2"], "unit", "t", "y", "T", 31, v="outcome",
                              n_jobs=2)
    assert out["T"].rank == single.rank
    assert out["T"].treated_fit.weights.to_dict() == pytest.approx(single.treated_fit.weights.to_dict())


# --- known truth -----------------------------------------------------------------------------------


@pytest.mark.parametrize("v", ["outcome", "nested"])
def test_factor_model_recovers_effect(v):
    df = factor_panel()
    kw = {} if v == "outcome" else {"special_predictors": [("y", t) for t in (1, 8, 15, 22, 30)]}
    res = synth(df, "unit", "t", "y", "T", 31, v=v, **kw)
    assert res.att == pytest.approx(5.0, abs=0.5)
    assert res.pre_mspe < 2 * 0.3 ** 2     # the pre-period fit is within the noise


def test_custom_v_and_equivalence(adh, smoking):
    res = synth(smoking, "state", "year", "cigsale", "California", 1989,
                special_predictors=ADH_SPECIAL, time_optimize_ssr=range(1970, 1989),
                v=adh.v.to_numpy() * 7)     # V is normalised, as Synth's custom.v
    np.testing.assert_allclose(res.weights.to_numpy(), adh.weights.to_numpy(), atol=1e-6)
    assert res.loss_v == pytest.approx(adh.loss_v, rel=1e-6)


def test_leave_one_out(adh, smoking):
    res = leave_one_out(smoking, "state", "year", "cigsale", "California", 1989,
                        special_predictors=ADH_SPECIAL, time_optimize_ssr=range(1970, 1989),
                        methods=("nelder-mead",), starts=("equal",), restarts=2)
    assert set(res.dropped) == set(res.fit.weights.index[res.fit.weights > 0])
    for d, r in zip(res.dropped, res.refits):
        assert d not in r.weights.index and r.weights.sum() == pytest.approx(1.0)
    t = res.tidy()
    assert (t["att"] < -10).all()      # no single donor carries the effect
    assert isinstance(res.plot(), Figure)
    assert set(res.paths()["series"]) >= {"California", "synthetic"}


# --- results objects ---------------------------------------------------------------------------------


def test_result_objects(adh):
    t = adh.tidy()
    assert list(t["estimand"]) == ["att"] and t.loc[0, "n_donors"] == 38
    s = adh.summary()
    assert "Utah" in str(s) and "<table" in s._repr_html_()
    for fig in (adh.plot(), adh.gap_plot()):
        assert isinstance(fig, Figure)
        assert fig.svg.startswith("<svg") and fig.title and "California" in fig.alt_text
        assert 'role="img"' in fig.accessible_svg()


def test_the_package_exports_the_functions():
    import joinedup.impact as impact
    from joinedup.impact import synth as by_name
    from joinedup.impact.synthetic import synth as fit

    assert by_name is fit and impact.sdid.__module__ == "joinedup.impact.synthetic.sdid"


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    (dict(outcome="packs"), "'packs'"),
    (dict(unit="county"), "'county'"),
    (dict(treated_unit="Atlantis"), "'Atlantis'"),
    (dict(treatment_time=1960), "treatment_time"),
    (dict(treatment_time=2050), "treatment_time"),
    (dict(donors=["Utah", "Narnia"]), "'Narnia'"),
    (dict(v="magic"), "'magic'"),
    (dict(time_optimize_ssr=[1950]), "1950"),
])
def test_bad_input_names_the_problem(prop99, change, message):
    kw = dict(data=prop99, unit="State", time="Year", outcome="PacksPerCapita",
              treated_unit="California", treatment_time=1989)
    kw.update(change)
    with pytest.raises(ValueError, match=message):
        synth(**kw)


def test_unbalanced_and_missing(prop99):
    gone = prop99.drop(prop99.index[(prop99["State"] == "Utah") & (prop99["Year"] == 1980)])
    with pytest.raises(ValueError, match="unbalanced.*'Utah'"):
        synth(gone, "State", "Year", "PacksPerCapita", "California", 1989)
    holed = prop99.copy()
    holed.loc[(holed["State"] == "Iowa") & (holed["Year"] == 1975), "PacksPerCapita"] = np.nan
    with pytest.raises(ValueError, match="'PacksPerCapita'.*'Iowa'"):
        synth(holed, "State", "Year", "PacksPerCapita", "California", 1989)
    with pytest.raises(ValueError, match="predictors"):
        synth(prop99, "State", "Year", "PacksPerCapita", "California", 1989,
              special_predictors=[("PacksPerCapita", 1980)], v="outcome")
    with pytest.raises(ValueError, match="prefit_filter"):
        placebo_in_space(prop99, "State", "Year", "PacksPerCapita", "California", 1989,
                         v="outcome", prefit_filter=-1)


def test_predictor_without_values_names_it(smoking):
    with pytest.raises(ValueError, match="'beer'.*1970"):
        synth(smoking, "state", "year", "cigsale", "California", 1989,
              special_predictors=[("beer", range(1970, 1972))])
