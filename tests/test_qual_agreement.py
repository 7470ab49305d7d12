"""Span-level and source-level agreement of the workbench against values computed by hand.

Hand computation (written out so it can be checked on paper), one source of 10 characters, code A:
coder x codes [0, 5), coder y codes [2, 6):

    x = 1111100000, y = 0011110000
    observed agreement p_o = 7/10 (characters 0, 1 and 5 differ)
    Cohen's kappa: p_x = .5, p_y = .4, p_e = .5*.4 + .5*.6 = .5, kappa = (.7 - .5) / (1 - .5) = 0.4
    Krippendorff's alpha (nominal, 2 coders, no missing): coincidences o_00 = 8, o_11 = 6,
    o_01 = o_10 = 3; n_0 = 11, n_1 = 9, n = 20; alpha = 1 - (n - 1) o_01 / (n_0 n_1) = 1 - 19*3/99 = 42/99

Tolerance 1e-12: floating-point rounding only.
"""

import math

import pandas as pd

from joinedup.qual.agreement import disagreements, source_agreement, span_agreement

LINEAGE = {"A": ["A"], "B": ["B", "A"]}  # B is a sub-code of A: it counts for A too


def test_span_kappa_and_alpha_equal_the_hand_computed_values():
    codings = [(1, 0, 5, "A", "x"), (1, 2, 6, "A", "y")]
    row = {r["code"]: r for r in span_agreement({1: 10}, codings, ["x", "y"], LINEAGE)}["A"]
    assert row["units"] == 10 and abs(row["observed_agreement"] - 0.7) < 1e-12
    assert abs(row["kappa"] - 0.4) < 1e-12
    assert abs(row["alpha"] - 42 / 99) < 1e-12


def test_a_sub_code_counts_for_its_parent_and_sources_one_coder_skipped_are_left_out():
    # y codes the same characters with sub-code B: perfect agreement on A; source 2 only x looked at
    codings = [(1, 0, 5, "A", "x"), (1, 0, 5, "B", "y"), (2, 0, 3, "A", "x")]
    rows = {r["code"]: r for r in span_agreement({1: 10, 2: 8}, codings, ["x", "y"], LINEAGE)}
    assert rows["A"]["units"] == 10 and rows["A"]["kappa"] == 1.0 and rows["A"]["alpha"] == 1.0
    # B: x never used it, y on 5 of 10: p_o = .5, p_e = 0*.5 + 1*.5 = .5, kappa = 0 (chance level)
    assert rows["B"]["kappa"] == 0.0


def test_one_value_only_is_undefined_as_in_the_engine():
    rows = span_agreement({1: 4}, [(1, 0, 4, "A", "x"), (1, 0, 4, "A", "y")], ["x", "y"], {"A": ["A"]})
    assert math.isnan(rows[0]["kappa"]) and math.isnan(rows[0]["alpha"])


def test_disagreeing_spans_are_the_runs_that_differ():
    codings = [(1, 0, 5, "A", "x"), (1, 2, 6, "A", "y")]
    got = disagreements({1: 10}, codings, ["x", "y"], {"A": ["A"]}, "A")
    assert got == [{"source_id": 1, "start": 0, "end": 2, "coded_by": ["x"]},
                   {"source_id": 1, "start": 5, "end": 6, "coded_by": ["y"]}]


def test_per_source_agreement_is_the_engines():
    # four sources; x applies A in 1, 2, 3; y in 2, 3, 4 (both looked at all four through code B noise)
    texts = {i: "some text here" for i in (1, 2, 3, 4)}
    codings = [(s, 0, 4, "A", "x") for s in (1, 2, 3)] + [(s, 0, 4, "A", "y") for s in (2, 3, 4)]
    codings += [(4, 5, 9, "B2", "x"), (1, 5, 9, "B2", "y")]
    book = pd.DataFrame({"code": ["A", "B2"], "label": ["A", "B2"], "parent": [None, None], "description": ["", ""]})
    row = source_agreement(texts, codings, ["x", "y"], book).set_index("code").loc["A"]
    # by hand: x = 1110, y = 0111: p_o = .5, p_x = p_y = .75, p_e = .75^2 + .25^2 = .625, kappa = -1/3
    assert abs(row["kappa"] - (-1 / 3)) < 1e-12
    # alpha: o_01 = o_10 = 2, n_1 = 6, n_0 = 2, n = 8: alpha = 1 - 7*2/12 = -1/6
    assert abs(row["alpha"] - (-1 / 6)) < 1e-12
