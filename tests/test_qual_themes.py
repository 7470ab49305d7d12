"""Coded themes per site (joinedup.qual.themes) as typology features: a programmed theme difference
between two groups of sites puts them in two clusters (adjusted Rand index 1 with the themes, and
the same sites without themes are not so divided); a site whose coded themes are swapped moves to
the other group; the longitudinal portfolios gain theme:<name> columns; the matrix is read from the
workbench's Excel export (segments counted) and from CSVs, and bad input is named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from joinedup.data.codes import SCHEME_TYPES, TARGET_GROUPS
from joinedup.qual.retrieve import matrix_to_excel
from joinedup.qual.themes import (
    ThemeMatrixError,
    read_theme_matrix,
    theme_features,
    with_theme_features,
)
from joinedup.survey.typology import typology

GROUP_A = ["Shared vision", "Co-location", "Leadership", "Relationships", "Pooled budget", "Voluntary sector"]
GROUP_B = ["Workforce shortage", "IT barriers", "Financial pressure", "FT pipeline", "Data sharing", "Turnover"]


def _world(seed=7, sites=12):
    rng = np.random.default_rng(seed)
    names = [f"Site {k:02d}" for k in range(sites)]
    rows = []
    for s in names:  # the same random mix of schemes everywhere: no structure by group
        for j, t in enumerate(rng.choice(SCHEME_TYPES, size=4, replace=False)):
            rows.append({"scheme_id": f"{s}-{j}", "site": s, "scheme_type": t,
                         "target_group": str(rng.choice(TARGET_GROUPS))})
    group = np.array([0] * (sites // 2) + [1] * (sites - sites // 2))
    counts = pd.DataFrame(0, index=pd.Index(names, name="site"), columns=GROUP_A + GROUP_B)
    for s, g in zip(names, group):
        counts.loc[s, GROUP_A if g == 0 else GROUP_B] = rng.integers(1, 6, 6)
    return pd.DataFrame(rows), counts, group


def test_a_programmed_theme_difference_divides_the_sites():
    registry, counts, group = _world()
    with_themes = typology(registry, k=2, B=20, seed=1, themes=counts)
    assert any(c.startswith("theme:") for c in with_themes.features.columns)
    assert adjusted_rand_score(group, with_themes.clusters["cluster"]) == 1.0
    without = typology(registry, k=2, B=20, seed=1)
    assert adjusted_rand_score(group, without.clusters["cluster"]) < 0.5


def test_a_site_whose_themes_change_moves_with_them():
    registry, counts, _ = _world()
    swapped = counts.copy()
    site = counts.index[0]  # a group-A site now coded with group B's themes
    swapped.loc[site] = 0
    swapped.loc[site, GROUP_B] = 3
    clusters = typology(registry, k=2, B=20, seed=1, themes=swapped).clusters.set_index("site")["cluster"]
    assert clusters[site] == clusters[counts.index[-1]]  # now with group B
    assert clusters[site] != clusters[counts.index[1]]


def test_longitudinal_portfolios_take_theme_features():
    panel = pd.DataFrame({"site": ["A", "A", "B"], "year": [2014, 2015, 2014], "breadth": [5, 4, 3]})
    counts = pd.DataFrame({"Workforce": [2, 0]}, index=["A", "C"])
    out = with_theme_features(panel, counts)
    assert out["theme:Workforce"].tolist() == [1, 1, 0]  # B has no coded material: 0
    assert theme_features(counts, min_segments=3)["theme:Workforce"].tolist() == [0, 0]


def test_read_from_the_workbench_export_and_csvs(tmp_path):
    m = {"by": "site", "rows": ["A", "B"], "themes": [{"id": 1, "name": "Workforce"}, {"id": 2, "name": "=cmd()"}],
         "cells": {("A", 1): [{"code": "Workforce", "source": "t1", "start": 0, "end": 4, "coder": "ann",
                               "status": "final", "text": "text"}] * 3,
                   ("B", 2): [{"code": "x", "source": "t2", "start": 0, "end": 4, "coder": "ann", "status": "final",
                               "text": "text"}]},
         "summaries": {}}
    counts = read_theme_matrix(matrix_to_excel(m, tmp_path / "matrix.xlsx"))
    assert counts.loc["A", "Workforce"] == 3 and counts.loc["B", "Workforce"] == 0
    assert counts.loc["B"].sum() == 1  # the formula-like theme name comes back neutralised, still counted
    (tmp_path / "wide.csv").write_text("site,Workforce,Leadership\nA,2,0\nB,0,1\n")
    assert read_theme_matrix(tmp_path / "wide.csv").loc["B", "Leadership"] == 1
    (tmp_path / "long.csv").write_text("site,theme,segments\nA,Workforce,2\nB,Leadership,1\n")
    assert read_theme_matrix(tmp_path / "long.csv").loc["A", "Workforce"] == 2
    (tmp_path / "bad.csv").write_text("site,Workforce\nA,2\nB,lots\n")
    with pytest.raises(ThemeMatrixError, match=r"bad.csv, line 3, column 'Workforce': 'lots' is not a count"):
        read_theme_matrix(tmp_path / "bad.csv")
    with pytest.raises(ThemeMatrixError, match="does not exist"):
        read_theme_matrix(tmp_path / "none.csv")
