"""The simulated key-informant panel: its design, determinism, and the analysis recovering its truth."""

import numpy as np
import pandas as pd
import pytest

from joinedup.simulate.geography import read_reference
from joinedup.simulate.ki_panel import CHANGES, simulate_ki_panel
from joinedup.survey.analysis import analyse


@pytest.fixture(scope="module")
def sim():
    return simulate_ki_panel(1)


@pytest.fixture(scope="module")
def tables(sim):
    return analyse(sim["invitations"], sim["responses"], sim["codes"], sim["codebook"])


def odds(p):
    return p / (1 - p)


def test_deterministic_for_a_seed(sim):
    again = simulate_ki_panel(1)
    for name in sim:
        pd.testing.assert_frame_equal(sim[name], again[name])
    other = simulate_ki_panel(2)
    assert not other["responses"].equals(sim["responses"])


def test_panel_design(sim, tables):
    inv = sim["invitations"]
    sites = {r["site"] for r in read_reference("pioneers")}
    assert set(inv["pioneer"]) == sites and len(sites) == 25
    assert (inv.query("wave == 1").shape[0], inv["wave"].max()) == (360, 3)
    leads = inv.query("wave == 1 and is_lead == 'yes'")
    assert leads["pioneer"].nunique() == 25 and len(leads) == 25
    first = tables["respondents_by_pioneer"].query("wave == 1")["n"]
    assert first.between(1, 9).all() and 80 <= first.sum() <= 120
    participation = tables["panel_participation"].set_index("waves_answered")["panelists"]
    assert (participation > 0).all() and list(participation.index) == [3, 2, 1]
    # ineligible panelists are not invited again
    gone = set(inv.query("wave == 1 and disposition == 'ineligible'")["panelist_id"])
    assert gone and not gone & set(inv.query("wave > 1")["panelist_id"])


def test_answers_cluster_within_pioneers(sim, tables):
    # Pioneer random effects: the spread of Pioneer means is wider than binomial noise alone
    resp = sim["responses"].merge(sim["invitations"], on=["panelist_id", "wave"])
    resp = resp[resp["disposition"] == "complete"]
    score = resp[[c for c in resp.columns if c.startswith("prog_")]].isin(["substantial", "some"]).mean(axis=1)
    by_pioneer = score.groupby(resp["pioneer"])
    between = by_pioneer.mean().var()
    noise = (score.var() / by_pioneer.size()).mean()
    assert between > 1.5 * noise


def test_gee_recovers_the_programmed_changes(sim, tables):
    change = tables["change"].query("wave_from == 1 and wave_to == 3").set_index("item")
    truth = sim["truth"].set_index(["item", "wave"])["p_marginal"]
    for item in ("bar_it_ig", "prog_joined_up", "inv_gps"):
        row = change.loc[item]
        programmed_or = odds(truth[(item, 3)]) / odds(truth[(item, 1)])
        assert (row.estimate < 1) == (CHANGES[item][1] < CHANGES[item][0]), item
        assert row.ci_high < 1 or row.ci_low > 1, item  # a large change is detected
        assert row.ci_low < programmed_or < row.ci_high, item
    assert change.loc["bar_it_ig", "estimate"] < 1 < change.loc["prog_joined_up", "estimate"]
    nulls = change.drop(index=list(CHANGES))
    covered = ((nulls["ci_low"] < 1) & (nulls["ci_high"] > 1)).mean()
    assert len(nulls) == 32 and covered >= 0.85
    assert change.loc["bar_culture", "ci_low"] < 1 < change.loc["bar_culture", "ci_high"]
    assert change["method"].eq("gee_logit_exchangeable_pioneer_robust").all()


def test_paired_tests_detect_the_large_decline(tables):
    row = tables["change"].query("item == 'bar_it_ig' and wave_from == 1 and wave_to == 3").iloc[0]
    assert row.n_paired >= 30 and row.paired_p_value < 0.01 and row.sm_p_value < 0.05


def test_tables_follow_the_truth(sim, tables):
    bar = tables["barriers"].set_index(["wave", "item"])
    assert bar.loc[(1, "bar_financial"), "rank"] == 1  # programmed as the most common barrier
    assert bar.loc[(1, "bar_it_ig"), "pct_significant"] > bar.loc[(3, "bar_it_ig"), "pct_significant"] + 20
    truth = sim["truth"].set_index(["wave", "item"])["p_marginal"]
    prog = tables["progress"].query("group == 'all'").set_index(["wave", "item"])
    gap = (prog["pct_substantial_or_some"] / 100 - truth.reindex(prog.index)).abs()
    assert gap.mean() < 0.08


def test_coders_agree_about_80_percent(sim):
    codes = sim["codes"]
    a = codes[codes["coder"] == "A"].reset_index(drop=True)
    b = codes[codes["coder"] == "B"].reset_index(drop=True)
    assert len(a) == len(b) and 0.74 < (a["code"] == b["code"]).mean() < 0.86
    book = sim["codebook"]
    assert set(codes["code"]) <= set(book["code"]) and book["parent"].notna().sum() == 8


def test_csv_round_trip(sim, tmp_path):
    for name in ("invitations", "responses", "codes", "codebook"):
        sim[name].to_csv(tmp_path / f"{name}.csv", index=False)
    out = analyse(*(tmp_path / f"{n}.csv" for n in ("invitations", "responses", "codes", "codebook")),
                  out_dir=tmp_path / "out", change=False)
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.csv")) == sorted(out)
    assert np.isclose(out["response_rates"]["rr1"].iloc[0], 29.6)
