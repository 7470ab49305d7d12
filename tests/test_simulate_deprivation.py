"""Simulated persons' LSOA deprivation and ethnic group: calibration to England and the programmed
deprivation gradient, recovered from the written tables.

Tolerances: on small_england (0.5% scale, about 290,000 persons) a share of 10% has a sampling SD of
about 0.06 percentage points and the area mix adds a little more; we allow 1 point for decile shares
and for the Census ethnic shares. The gradient check compares observed and programmed indirectly
standardised ratios of long-term conditions by deprivation quintile (each quintile holds ~150,000
conditions, so Poisson error is ~0.3%, and latent-risk sampling adds ~1%): 5% relative.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from joinedup.data import codes
from joinedup.simulate import params
from joinedup.simulate.deprivation import (
    ENGLAND_2021,
    ETHNIC_GROUPS,
    area_scores,
    decile_of,
    decile_share,
    ethnic_shares,
    relative_risk,
)
from joinedup.simulate.geography import read_reference


def test_ethnic_groups_match_the_schema_codes_and_census():
    assert codes.ETHNIC_GROUPS == ETHNIC_GROUPS
    london = ethnic_shares("London")
    rest = ethnic_shares("South West")
    assert london.sum() == pytest.approx(1) and rest.sum() == pytest.approx(1)
    assert (rest > 0).all() and rest[0] > 0.85 > london[0]


def test_area_scores_are_standard_normal_over_the_population():
    rows = read_reference("areas")
    pop = np.array([float(r["population_2013"]) for r in rows])
    z = area_scores(np.array([float(r["imd_score"]) for r in rows]), pop)
    assert np.average(z, weights=pop) == pytest.approx(0, abs=0.02)
    # Expected national decile shares, mixing the areas: a tenth each.
    shares = [np.average([decile_share(d, zi) for zi in z], weights=pop) for d in range(1, 11)]
    np.testing.assert_allclose(shares, 0.1, atol=0.005)
    most = z.argmin()
    assert float(rows[most]["imd_score"]) == max(float(r["imd_score"]) for r in rows)


def test_relative_risk_is_a_gradient_averaging_to_one():
    for z in (-1.5, 0.0, 1.2):
        rr = np.array([relative_risk(d, z) for d in range(1, 11)])
        share = np.array([decile_share(d, z) for d in range(1, 11)])
        assert np.all(np.diff(rr) < 0)
        assert float(share @ rr) == pytest.approx(1, rel=1e-9)
    assert decile_of(np.array([-0.01, 0.01])).tolist() == [5, 6]


@pytest.fixture(scope="module")
def persons(small_england) -> pd.DataFrame:
    con = duckdb.connect()
    frame = con.sql(f"""select area_code, birth_year, ltc_count, lsoa_imd_decile, ethnic_group
                        from '{small_england}/persons/*.parquet'""").df()
    areas = pd.read_parquet(small_england / "areas.parquet")[["area_code", "region"]]
    return frame.merge(areas, on="area_code")


def test_deciles_are_tenths_of_england_and_follow_area_deprivation(persons, small_england):
    shares = persons["lsoa_imd_decile"].value_counts(normalize=True).sort_index()
    assert shares.index.tolist() == list(range(1, 11))
    np.testing.assert_allclose(shares.to_numpy(), 0.1, atol=0.01)
    areas = pd.read_parquet(small_england / "areas.parquet")
    mean_decile = persons.groupby("area_code")["lsoa_imd_decile"].mean()
    joined = areas.set_index("area_code").join(mean_decile)
    assert joined["imd_score"].corr(joined["lsoa_imd_decile"], method="spearman") < -0.8


def test_ethnic_groups_match_census_2021(persons):
    shares = persons["ethnic_group"].value_counts(normalize=True)
    expected = ENGLAND_2021 / ENGLAND_2021.sum()
    for group, share in zip(ETHNIC_GROUPS, expected):
        assert shares[group] == pytest.approx(share, abs=0.01), group
    london = persons.loc[persons["region"] == "London", "ethnic_group"].value_counts(normalize=True)
    assert london["white"] == pytest.approx(0.538, abs=0.02)


def test_programmed_deprivation_gradient_is_recovered(persons):
    """Long-term conditions ~ Poisson(ltc_mean(age) exp(0.6 perm ...)): by quintile, observed over
    age-expected counts must follow the programmed relative risk (load LTC_RISK)."""
    rows = read_reference("areas")
    pop = np.array([float(r["population_2013"]) for r in rows])
    z = dict(zip([r["area_code"] for r in rows],
                 area_scores(np.array([float(r["imd_score"]) for r in rows]), pop)))
    data = persons.copy()
    age = np.maximum(0, 2012 - data["birth_year"] - 1)  # age at the start of follow-up
    data["expected"] = params.ltc_mean(age)
    rr = {(a, d): relative_risk(d, z[a], params.LTC_RISK) for a in data["area_code"].unique()
          for d in range(1, 11)}
    data["programmed"] = data["expected"] * [rr[k] for k in zip(data["area_code"],
                                                                  data["lsoa_imd_decile"])]
    data["quintile"] = (data["lsoa_imd_decile"] + 1) // 2
    by_q = data.groupby("quintile")[["ltc_count", "expected", "programmed"]].sum()
    observed = by_q["ltc_count"] / by_q["expected"]
    programmed = by_q["programmed"] / by_q["expected"]
    # the level is off a little (migrants' and babies' ages at entry); the gradient must not be
    ratio = observed / programmed
    np.testing.assert_allclose(ratio / ratio.mean(), 1, rtol=0.05)
    assert observed[1] / observed[5] > 1.2               # the gradient is there ...
    assert programmed[1] / programmed[5] == pytest.approx(observed[1] / observed[5], rel=0.05)
    # ... and ethnicity carries none (drawn independently)
    data["ethnic_group"] = persons["ethnic_group"]
    by_e = data.groupby("ethnic_group")[["ltc_count", "programmed"]].sum()
    np.testing.assert_allclose(by_e["ltc_count"] / by_e["programmed"],
                               by_q["ltc_count"].sum() / by_q["programmed"].sum(), rtol=0.06)
