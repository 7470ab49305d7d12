"""Site effects and their synthesis on simulated England (small scale): the pooled effect covers the
mean programmed site effect, placebo variances are larger than the (invalid) one-cluster sandwich for
single-area sites, and the closed-form placebo DiD equals the TWFE estimate on a balanced panel with
weights constant over time (the population weights change yearly, so the placebos approximate the
TWFE they stand for, to about 1% of the estimate on this panel).
"""

import json

import numpy as np
import pandas as pd
import pytest

from joinedup.data import open_dataset
from joinedup.impact.evaluate import outcome_panel
from joinedup.impact.twfe import twfe_did
from joinedup.protocol import Impact
from joinedup.synthesis.sites import _changes, synthesise_sites


@pytest.fixture(scope="module")
def panel(small_england):
    return outcome_panel(open_dataset(small_england), None, Impact())


def test_pooled_effect_covers_programmed(panel, small_england):
    truth = json.loads((small_england / "truth.json").read_text())
    schemes = pd.read_parquet(small_england / "schemes.parquet")
    res = synthesise_sites(panel, schemes, truth, B=200, seed=1)
    s = res.sites
    assert len(s) >= 5 and s["programmed"].notna().all()
    assert res.meta.ci_lower < s["programmed"].mean() < res.meta.ci_upper
    single = s[s["n_areas"] == 1]
    assert (single["se"] > single["cluster_se"]).all()
    again = synthesise_sites(panel, schemes, truth, B=200, seed=1)
    pd.testing.assert_frame_equal(s, again.sites)


def test_closed_form_equals_twfe(panel):
    site = panel[panel["site"].notna()]["site"].iloc[0]
    part = panel[panel["site"] == site]
    never = panel[panel["first_treated"] == 0]
    if never.groupby("area_code")["t"].nunique().nunique() != 1:
        pytest.fail("the test needs a balanced panel")
    t0 = int(part["first_treated"].max())
    d_c, w_c = _changes(never, t0)
    d_t, w_t = _changes(part.assign(first_treated=0), t0)
    closed = np.average(d_t, weights=w_t) - np.average(d_c, weights=w_c)
    sub = pd.concat([part, never], ignore_index=True)
    sub["weight"] = sub.groupby("area_code")["weight"].transform("mean")  # exact with time-constant weights
    sub.attrs = panel.attrs
    assert twfe_did(sub, weights="weight").tidy().iloc[0]["estimate"] == pytest.approx(closed, abs=1e-9)
