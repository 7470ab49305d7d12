"""Triangulation of self-reported progress with routine indicators: self-reports that track the data
are found to (Spearman rho < 0, p < 0.05); self-reports unrelated to the data are not (null, in at
most 2 of 10 seeds per measure at the 5% level: P(>= 3 | 0.05, 10) = 0.012)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from joinedup.process.triangulation import (
    reported_progress,
    triangulate,
    triangulation_figure,
    triangulation_summary,
)

LEVELS = ["substantial", "some", "little", "none"]


def _world(seed, tracks: bool):
    rng = np.random.default_rng(seed)
    sites = [f"S{k:02d}" for k in range(25)]
    change = pd.Series(rng.normal(0, 5, 25), index=sites)
    rows = []
    for s in sites:
        p = 1 / (1 + np.exp(change[s] / 2)) if tracks else 0.6
        for _ in range(8):
            rows.append({"pioneer": s, **{i: (str(rng.choice(LEVELS[:2])) if rng.random() < p else str(rng.choice(LEVELS[2:])))
                                         for i in ("prog_unplanned", "prog_readmissions", "prog_costs")}})
    routine = pd.concat([pd.DataFrame({"site": sites, "measure": m, "routine_change": change.to_numpy()})
                         for m in ("emergency_admissions", "readmissions", "costs")])
    impact = routine.rename(columns={"routine_change": "impact_estimate"}).assign(
        ci_low=lambda d: d["impact_estimate"] - 3, ci_high=lambda d: d["impact_estimate"] + 3)
    return pd.DataFrame(rows), routine, impact


def test_self_reports_that_track_the_data_are_verified():
    answers, routine, impact = _world(1, tracks=True)
    table = triangulate(reported_progress(answers), routine, impact)
    s = triangulation_summary(table).set_index("measure")
    assert (s["spearman_rho"] < 0).all() and (s["p_value"] < 0.05).all()
    assert (s["agreement"] > 0.7).all()
    assert table["agree_impact"].notna().all()
    fig = triangulation_figure(table)
    assert fig.svg.startswith("<svg") and "Spearman" in fig.alt_text


def test_unverifiable_self_reports_are_not_confirmed():
    found = pd.Series(0, index=["emergency_admissions", "readmissions", "costs"])
    for seed in range(10):
        answers, routine, impact = _world(100 + seed, tracks=False)
        s = triangulation_summary(triangulate(reported_progress(answers), routine, impact)).set_index("measure")
        found += (s["p_value"] < 0.05).astype(int)
    assert (found <= 2).all(), found.to_dict()


def test_reported_share_from_microdata_and_missing_sites_kept():
    answers = pd.DataFrame({"pioneer": ["A", "A", "A", "B"], "prog_unplanned": ["some", "none", "dont_know", "little"],
                            "prog_readmissions": ["", "some", "some", "too_early"], "prog_costs": ["none"] * 4})
    rep = reported_progress(answers).set_index(["site", "measure"])
    assert rep.loc[("A", "emergency_admissions"), "reported_share"] == 0.5
    assert rep.loc[("A", "emergency_admissions"), "informants"] == 2
    assert ("B", "readmissions") not in rep.index
    routine = pd.DataFrame({"site": ["C"], "measure": ["costs"], "routine_change": [-1.0]})
    table = triangulate(rep.reset_index(), routine)
    assert ("C", "costs") in set(zip(table["site"], table["measure"]))
    with pytest.raises(ValueError, match="routine table is missing column\\(s\\) routine_change"):
        triangulate(rep.reset_index(), routine.drop(columns="routine_change"))
