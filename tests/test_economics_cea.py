"""Validation of the CEA layer against R BCEA 2.4.84 and of the CE bootstrap against references.

Tolerances and why:
- BCEA numbers (tests/data/external/README.md "Expected numbers") are asserted to the precision
  printed there, by rounding to that many places: the inputs are the same CSV files, so any
  difference beyond rounding would be a real discrepancy.
- The bootstrap draws the same indices as scipy.stats.bootstrap and as the plain loop below, so
  replicates agree to floating-point summation order (rtol 1e-9); intervals likewise.
- BCa: the reference is written out here from Efron & Tibshirani (1993) eqs 14.9-14.15 (jackknife
  acceleration centred on the mean of the leave-one-out estimates, as scipy does).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import ndtr, ndtri

from joinedup.economics.cea import bcea, bootstrap_ce, icer_quadrant, incremental_analysis

DATA = Path(__file__).resolve().parent / "data" / "external"
SMOKING = ["No treatment", "Self-help", "Individual counselling", "Group counselling"]


@pytest.fixture(scope="module")
def vaccine():
    psa = pd.read_csv(DATA / "bcea_vaccine_psa.csv")
    return bcea(psa[["e_status_quo", "e_vaccination"]], psa[["c_status_quo", "c_vaccination"]], ref="Vaccination",
                interventions=["Status Quo", "Vaccination"], wtp=25_000)


@pytest.fixture(scope="module")
def smoking():
    psa = pd.read_csv(DATA / "bcea_smoking_psa.csv")
    e = psa[[c for c in psa.columns if c.startswith("e_")]]
    c = psa[[c for c in psa.columns if c.startswith("c_")]]
    return bcea(e, c, ref="Group counselling", interventions=SMOKING, k=np.arange(0, 501), wtp=250)


# --- R BCEA: Vaccine -------------------------------------------------------------------------------

def test_vaccine_matches_bcea(vaccine):
    row = vaccine.tidy("summary").iloc[0]
    assert row["comparison"] == "Vaccination vs Status Quo"
    assert round(row["icer"], 2) == 20097.59 and row["quadrant"] == "NE"
    assert round(row["eib"], 6) == 1.228428
    assert round(row["ceac"], 3) == 0.529
    assert round(vaccine.evpi_at(25_000), 6) == 2.414467
    arms = vaccine.tidy("interventions").set_index("intervention")
    assert round(arms.loc["Status Quo", "expected_utility"], 6) == -36.054123
    assert round(arms.loc["Vaccination", "expected_utility"], 6) == -34.825695
    assert vaccine.kstar.tolist() == [20_100.0]
    assert vaccine.switches().to_dict("records") == [{"k": 20_100.0, "from": "Status Quo", "to": "Vaccination"}]


def test_vaccine_grid_agrees_with_exact_values(vaccine):
    i = int(np.flatnonzero(vaccine.k == 25_000)[0])
    row = vaccine.at(25_000).iloc[0]
    assert vaccine.eib[i, 0] == pytest.approx(row["eib"], rel=1e-12)
    assert vaccine.ceac[i, 0] == row["ceac"]
    assert vaccine.evpi[i] == pytest.approx(vaccine.evpi_at(25_000), rel=1e-12)
    # two arms: the CEAF is the CEAC of the optimal arm, and P(best) of Vaccination is the CEAC
    assert vaccine.mceac[i, 1] == pytest.approx(vaccine.ceac[i, 0])
    assert vaccine.ceaf[i] == pytest.approx(max(vaccine.ceac[i, 0], 1 - vaccine.ceac[i, 0]))
    # NMB at NICE thresholds = EIB there
    assert row["inmb_20000"] == pytest.approx(20_000 * row["inc_effect"] - row["inc_cost"])


# --- R BCEA: Smoking (4 strategies) ----------------------------------------------------------------

def test_smoking_matches_bcea(smoking):
    t = smoking.tidy("summary").set_index("comparator")
    expected = {"No treatment": (198.3347, 37.3292, 0.660), "Self-help": (224.6651, 11.0025, 0.528),
                "Individual counselling": (203.5735, 11.0338, 0.504)}
    for comp, (icer, eib, ceac) in expected.items():
        assert round(t.loc[comp, "icer"], 4) == icer, comp
        assert round(t.loc[comp, "eib"], 4) == eib, comp
        assert round(t.loc[comp, "ceac"], 3) == ceac, comp
        assert t.loc[comp, "quadrant"] == "NE"
    assert round(smoking.evpi_at(250), 6) == 45.774078
    assert smoking.kstar.tolist() == [159.0, 225.0]
    assert smoking.switches()["to"].tolist() == ["Self-help", "Group counselling"]


def test_smoking_frontier_agrees_with_kstar(smoking):
    front = smoking.tidy("frontier").set_index("intervention")
    assert front.loc["Individual counselling", "status"] == "extendedly dominated"
    icers = front.loc[front["status"] == "frontier", "icer"].dropna()
    # the decision switches at the first grid point above each frontier ICER
    assert np.ceil(icers.to_numpy()).tolist() == smoking.kstar.tolist()
    assert icers["Group counselling"] == pytest.approx(224.6651, abs=5e-5)


def test_multi_arm_acceptability(smoking):
    assert np.allclose(smoking.mceac.sum(axis=1), 1.0)
    best = smoking.tidy("ceaf")
    assert best.loc[best["k"] == 250, "optimal"].item() == "Group counselling"
    assert best.loc[best["k"] == 250, "ceaf"].item() == pytest.approx(smoking.interventions_at(250)["p_best"].iloc[3])
    assert smoking.tidy("ceac").shape == (501 * 3, 4) and smoking.tidy("evpi").shape == (501, 2)
    assert "k* = £159 (No treatment to Self-help)" in smoking.summary()


# --- quadrants and dominance -----------------------------------------------------------------------

@pytest.mark.parametrize("dc, de, quadrant, label, icer", [
    (2000.0, 0.1, "NE", "more costly, more effective", 20_000.0),
    (-500.0, 0.1, "SE", "dominant", np.nan),
    (500.0, -0.1, "NW", "dominated", np.nan),
    (-1000.0, -0.2, "SW", "less costly, less effective", 5_000.0),
    (0.0, 0.1, "SE", "dominant", np.nan),       # same cost, more effect
    (100.0, 0.0, "NW", "dominated", np.nan),    # same effect, more cost
    (0.0, 0.0, "origin", "no difference", np.nan),
])
def test_quadrants(dc, de, quadrant, label, icer):
    q = icer_quadrant(dc, de)
    assert (q.quadrant, q.label) == (quadrant, label)
    assert q.icer == pytest.approx(icer, nan_ok=True)
    assert not q.icer < 0  # never a bare negative ICER


def test_bcea_never_reports_a_negative_icer():
    rng = np.random.default_rng(4)
    e = np.column_stack([rng.normal(1, 0.01, 200)] * 3) + [0.0, 0.05, -0.05]
    c = np.column_stack([rng.normal(1000, 10, 200)] * 3) + [0.0, -300.0, -300.0]
    t = bcea(e, c, ref=0, interventions=["new", "cheaper+better", "cheaper+worse"]).tidy()
    # new vs cheaper+better: costs more, gains less -> dominated; new vs cheaper+worse: NE
    assert t["quadrant"].tolist() == ["NW", "NE"]
    assert np.isnan(t["icer"].iloc[0]) and t["icer"].iloc[1] == pytest.approx(300 / 0.05, rel=0.05)
    assert t["statement"].iloc[0].startswith("dominated")


def test_dominance_and_extended_dominance_by_hand():
    # Sorted by cost: A 10k/1.0, B 12k/1.5, C 14k/1.4, F 16k/1.6, D 20k/2.0, E 30k/2.2.
    # C: dearer than B and less effective -> dominated.
    # ICERs on A, B, F, D, E: B/A 2000/0.5 = 4,000; F/B 4000/0.1 = 40,000; D/F 4000/0.4 = 10,000;
    #   40,000 > 10,000 so F is extendedly dominated (a B-D mix beats it).
    # Again on A, B, D, E: 4,000; D/B 8000/0.5 = 16,000; E/D 10000/0.2 = 50,000: increasing, done.
    t = incremental_analysis([10_000, 12_000, 14_000, 16_000, 20_000, 30_000], [1.0, 1.5, 1.4, 1.6, 2.0, 2.2],
                             ["A", "B", "C", "F", "D", "E"]).set_index("intervention")
    assert t["status"].to_dict() == {"A": "frontier", "B": "frontier", "C": "dominated",
                                     "F": "extendedly dominated", "D": "frontier", "E": "frontier"}
    assert t.loc[["B", "D", "E"], "icer"].tolist() == pytest.approx([4_000, 16_000, 50_000])
    assert t.loc[["B", "D", "E"], "compared_with"].tolist() == ["A", "B", "D"]
    assert t.loc["C", "reason"] == "dominated by B" and "B and D" in t.loc["F", "reason"]


# --- bootstrap ---------------------------------------------------------------------------------------

def _matched_sets(n_sets=60, seed=11):
    """Matched sets of one treated and 1-3 controls, with matching weights (1/controls per set)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sets):
        k = rng.integers(1, 4)
        rows.append((s, 1, rng.gamma(2, 1200) + 300, rng.normal(0.72, 0.1), 1.0))
        rows += [(s, 0, rng.gamma(2, 1200), rng.normal(0.70, 0.1), 1 / k) for _ in range(k)]
    return pd.DataFrame(rows, columns=["set", "mdt", "cost", "qaly", "w"])


def _wmean_diff(df, col):
    t, c = df[df.mdt == 1], df[df.mdt == 0]
    return np.average(t[col], weights=t.w) - np.average(c[col], weights=c.w)


def _reference_bca(df, cols, B, seed, level=0.95):
    """Plain clustered BCa: resample sets in a loop, leave each set out in a loop (E&T 14.3, 14.15)."""
    rng = np.random.default_rng(seed)
    rows = [np.flatnonzero(df["set"].to_numpy() == s) for s in df["set"].unique()]
    y, w, t = df[cols].to_numpy(), df["w"].to_numpy(), df["mdt"].to_numpy() == 1

    def diff(i):  # weighted mean treated - control on rows i, per column
        return np.average(y[i][t[i]], weights=w[i][t[i]], axis=0) - np.average(y[i][~t[i]], weights=w[i][~t[i]], axis=0)

    t0 = diff(np.arange(len(df)))
    reps = np.array([diff(np.concatenate([rows[g] for g in rng.integers(0, len(rows), len(rows))]))
                     for _ in range(B)])
    jack = np.array([diff(np.concatenate(rows[:g] + rows[g + 1:])) for g in range(len(rows))])
    out = []
    for q in range(len(cols)):
        u = (len(rows) - 1) * (jack[:, q].mean() - jack[:, q])
        a = np.sum(u**3) / (6 * np.sum(u**2) ** 1.5)
        z0 = ndtri(((reps[:, q] < t0[q]).sum() + (reps[:, q] <= t0[q]).sum()) / (2 * B))
        z = ndtri(np.array([(1 - level) / 2, (1 + level) / 2]))
        out.append((t0[q], reps[:, q], a, np.quantile(reps[:, q], ndtr(z0 + (z0 + z) / (1 - a * (z0 + z))))))
    return out


def test_clustered_bca_matches_plain_reference():
    df = _matched_sets()
    boot = bootstrap_ce(df, "cost", "qaly", "mdt", cluster="set", weights="w", B=400, seed=7, ci="bca")
    reference = _reference_bca(df, ["cost", "qaly"], 400, 7)
    for q, (name, (t0, reps, a, (lo, hi))) in enumerate(zip(["inc_cost", "inc_effect"], reference)):
        assert boot.estimate[q] == pytest.approx(t0, rel=1e-12)
        assert t0 == pytest.approx(_wmean_diff(df, ["cost", "qaly"][q]), rel=1e-12)
        assert boot.replicates[name].to_numpy() == pytest.approx(reps, rel=1e-9)
        assert boot.acceleration[q] == pytest.approx(a, rel=1e-9)
        assert boot.interval(name) == pytest.approx((lo, hi), rel=1e-9)


def _two_arm(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"pair": np.repeat(np.arange(n), 2), "mdt": np.tile([1, 0], n),
                         "cost": rng.gamma(2, 1000, 2 * n) + np.tile([150.0, 0.0], n),
                         "qaly": rng.normal(0.7, 0.1, 2 * n)})


def _diff(x, y, axis=-1):
    return x.mean(axis=axis) - y.mean(axis=axis)


@pytest.mark.parametrize("paired", [False, True])
def test_bootstrap_matches_scipy_with_the_same_draws(paired):
    df = _two_arm()
    boot = bootstrap_ce(df, "cost", "qaly", "mdt", cluster="pair" if paired else None, B=2000, seed=5)
    t, c = df[df.mdt == 1], df[df.mdt == 0]
    for col, name in (("cost", "inc_cost"), ("qaly", "inc_effect")):
        for method in ("bca", "percentile"):
            ref = stats.bootstrap((t[col].to_numpy(), c[col].to_numpy()), _diff, paired=paired, n_resamples=2000,
                                  method=method, rng=np.random.default_rng(5), vectorized=True)
            assert boot.replicates[name].to_numpy() == pytest.approx(ref.bootstrap_distribution, rel=1e-9, abs=1e-12)
            assert boot.interval(name, method) == pytest.approx(tuple(ref.confidence_interval), rel=1e-9)
            assert boot.tidy(method).set_index("quantity").loc[name, "se"] == pytest.approx(ref.standard_error)


def test_bootstrap_reproducible_and_feeds_bcea():
    df = _matched_sets()
    a = bootstrap_ce(df, "cost", "qaly", "mdt", cluster="set", B=500, seed=2015)
    b = bootstrap_ce(df, "cost", "qaly", "mdt", cluster="set", B=500, seed=np.random.default_rng(2015))
    c = bootstrap_ce(df, "cost", "qaly", "mdt", cluster="set", B=500, seed=2016)
    pd.testing.assert_frame_equal(a.replicates, b.replicates)
    assert not np.allclose(a.replicates["inc_cost"], c.replicates["inc_cost"])
    res = a.bcea(wtp=20_000)
    row = res.tidy().iloc[0]
    assert row["comparison"] == "treated vs control"
    assert row["inc_cost"] == pytest.approx(a.replicates["inc_cost"].mean())
    assert row["ceac"] == pytest.approx(np.mean(20_000 * a.replicates["inc_effect"] - a.replicates["inc_cost"] > 0))


def test_bootstrap_rejects_bad_input():
    df = _two_arm(20)
    with pytest.raises(ValueError, match="ci must be one of 'percentile', 'bca'"):
        bootstrap_ce(df, "cost", "qaly", "mdt", ci="normal")
    with pytest.raises(ValueError, match="say which group is treated"):
        bootstrap_ce(df.assign(mdt=df.mdt.map({1: "MDT", 0: "usual"})), "cost", "qaly", "mdt")
    with pytest.raises(ValueError, match="column 'cost' is missing a value at row 3"):
        bootstrap_ce(df.assign(cost=df.cost.where(df.index != 3)), "cost", "qaly", "mdt")
