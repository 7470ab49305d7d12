"""The example protocol turns on [indicators] breakdowns: the small run of it (tests/small_run.py) has
an inequalities section whose sentences are the ones written from its own output tables."""

from __future__ import annotations

import html

import pandas as pd

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.protocol import example_protocol_path, load_protocol
from joinedup.report.inequalities_section import sii_sentences, subgroup_sentences

TITLES = {k: v.title for k, v in CATALOGUE.items()}


def test_example_protocol_breaks_indicators_down():
    assert load_protocol(example_protocol_path()).indicators.breakdowns == ["imd_quintile"]


def test_small_run_report_has_the_inequalities_section_from_its_tables(small_run_out):
    tables = small_run_out / "tables"
    sii = pd.read_parquet(tables / "indicator_inequalities.parquet")
    sub = pd.read_parquet(tables / "impact_subgroups.parquet")
    report = (small_run_out / "report.html").read_text(encoding="utf-8")
    assert 'id="inequalities"' in report
    sentences = sii_sentences(sii, TITLES) + subgroup_sentences(sub, TITLES)
    assert len(sentences) >= 1 + 1  # an SII sentence per indicator, the Wald sentences of the breakdown
    for s in sentences:
        assert html.escape(s) in report, s
    tests = sub[sub["group"] == "difference"]
    assert set(tests["breakdown"]) == {"imd_quintile"}
    # one test per design (synthetic DiD per wave, synthetic control per site, four groups per contrast)
    methods = tests["method"].tolist()
    assert len(methods) == len(set(methods)) and {"Callaway & Sant'Anna", "TWFE DiD"} <= set(methods)
    others = set(methods) - {"Callaway & Sant'Anna", "TWFE DiD"}
    assert all(m.startswith(("Synthetic DiD, wave ", "Synthetic control, ", "Four groups: ")) for m in others), others
    assert any(m.startswith("Synthetic control, ") for m in others)  # the example protocol turns it on
    assert sii["indicator"].nunique() >= 2
