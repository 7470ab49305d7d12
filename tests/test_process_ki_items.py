"""Process items of the key-informant instrument: pyxform-validated form, tables reproduced from the
microdata, lead vs non-lead and wave change with Holm / Benjamini-Hochberg per family.

Reference for BH: statsmodels.stats.multitest.multipletests(method="fdr_bh") (statsmodels 0.15.0).
Null tolerance: over 10 seeds and the null families (facilitators, personalisation,
national_barriers), a Holm-adjusted "finding" may occur in at most 5 of 30 family-seeds (FWER 5%
each: expected 1.5, P(>= 6) < 0.01).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests

from joinedup.process.ki_analysis import bh, item_table, lead_vs_nonlead, wave_change
from joinedup.process.ki_items import FAMILIES, build_extended
from joinedup.process.ki_sim import simulate_process_answers
from joinedup.survey.instrument import FormError, load_form, validate_answers


def test_extended_instrument_is_valid_xlsform_with_the_new_items(tmp_path):
    form = load_form(build_extended(tmp_path / "ki.xlsx"))  # load_form runs pyxform's checks
    names = {q.name for q in form.questions}
    for items in FAMILIES.values():
        assert set(items) <= names
    assert {"init_1_stage", "obj_1_text", "nb_ft_pipeline_origin", "pioneer", "prog_unplanned"} <= names
    _, errors = validate_answers(form, {"init_1_name": "Frailty MDT", "init_1_stage": "teleported"}, final=False)
    assert "init_1_stage" in errors


def test_a_broken_extension_is_named(tmp_path, monkeypatch):
    from joinedup.process import ki_items

    monkeypatch.setattr(ki_items, "SCALES_EXTRA", {k: v for k, v in ki_items.SCALES_EXTRA.items() if k != "origin"})
    with pytest.raises(FormError, match="origin"):
        load_form(build_extended(tmp_path / "broken.xlsx"))


def test_tables_are_reproduced_from_microdata():
    answers, _ = simulate_process_answers(seed=2)
    raw = item_table(answers, disclosure=False)
    for item in ("obj_2_progress", "sys_ics_budgets", "nb_regulation"):
        counts = pd.Series({a: int((answers[item] == a).sum()) for a in answers[item].unique()})
        got = raw[raw["item"] == item].set_index("answer")["n"]
        assert got.sort_index().to_dict() == counts.sort_index().to_dict()
    controlled = item_table(answers)
    small = raw["n"].between(1, 7)
    assert controlled.loc[small, "n"].isna().all()
    assert (controlled.loc[~small, "n"] % 5 == 0).all()


def test_bh_equals_statsmodels():
    rng = np.random.default_rng(3)
    for _ in range(20):
        p = rng.uniform(0, 0.2, 7)
        assert np.allclose(bh(p), multipletests(p, method="fdr_bh")[1])


def test_programmed_lead_difference_and_change_are_found_and_nulls_are_not():
    false_families = 0
    for seed in range(10):
        answers, truth = simulate_process_answers(seed=seed)
        lead, change = lead_vs_nonlead(answers), wave_change(answers)
        hit = lead.set_index("item")
        assert (hit.loc[truth["lead_effect_items"], "p_holm"] < 0.05).all()
        assert (hit.loc[truth["lead_effect_items"], "difference"] > 0).all()
        ch = change.set_index("item")
        assert (ch.loc[truth["wave_change_items"], "p_holm"] < 0.05).all()
        for table in (change,):
            null = table[table["family"].isin(["facilitators", "personalisation", "national_barriers"])]
            false_families += int((null.groupby("family")["p_holm"].min() < 0.05).sum())
        assert (lead["p_holm"] >= lead["p_value"] - 1e-15).all() and (lead["p_bh"] <= lead["p_holm"] + 1e-12).all()
        assert lead["adjustment"].str.contains("Holm and Benjamini-Hochberg").all()
    assert false_families <= 5, false_families
