"""Assisted coding in the workbench with the real all-MiniLM-L6-v2 model: suggestions are learnt from
the project's codings, stored marked (status suggested, coder assistant) on uncoded turns only, left
out of retrieval until accepted, and an accepted one becomes the accepting coder's own coding; a
rejection is counted in the acceptance rate.
"""

import pytest

from joinedup.qual.projects import QualError, Workbench
from joinedup.qual.retrieve import segments
from joinedup.qual.suggestions import acceptance, suggest_for_source
from joinedup.survey.store import SurveyStore

CODED = [("We could not recruit enough home care staff.", "Workforce"),
         ("Nurses kept leaving for agency work.", "Workforce"),
         ("Vacancies in social work stayed open for months.", "Workforce"),
         ("The GP and hospital record systems could not share data.", "IT"),
         ("Our electronic records did not talk to the council's.", "IT"),
         ("Information governance blocked the shared care record.", "IT")]
NEW = "Interviewer: Anything else?\nLead: We lost many care workers and could not hire replacements.\nInterviewer: Systems?\nLead: The shared record between GP and hospital systems never worked."


@pytest.fixture
def wb(tmp_path):
    store = SurveyStore(f"sqlite:///{tmp_path / 'q.db'}")
    store.create()
    return Workbench(store)


def test_suggestions_are_marked_not_final_and_accepted_by_a_person(wb):
    pid = wb.create_project("P", "lead")
    codes = {n: wb.create_code(pid, n, "lead") for n in ("Workforce", "IT")}
    with pytest.raises(QualError, match="at least two coded segments"):
        sid0 = wb.add_source(pid, "empty", "Lead: nothing coded yet.\nX: none.", "transcript", "lead")
        suggest_for_source(wb, pid, sid0, "ann")
    for i, (text, code) in enumerate(CODED):
        sid = wb.add_source(pid, f"s{i}", text, "text", "lead")
        wb.add_coding(pid, sid, 0, len(text), codes[code], "ann", "ann")
    new = wb.add_source(pid, "new", NEW, "transcript", "lead")
    made = suggest_for_source(wb, pid, new, "ann")
    got = {(c["start"], c["code"]) for c in wb.visible_codings(pid, "ann", "coder", source_id=new)}
    assert made == len(got) and made >= 2
    turn2, turn4 = NEW.index("Lead: We lost"), NEW.index("Lead: The shared")
    assert (turn2, "Workforce") in got and (turn4, "IT") in got
    assert all(c["status"] == "suggested" and c["coder"] == "assistant" for c in wb.visible_codings(pid, "ann", "coder", source_id=new))
    assert [s for s in segments(wb, pid, "lead", "lead") if s["source"] == "new"] == []  # not final
    rows = {(c["start"], c["code"]): c["id"] for c in wb.visible_codings(pid, "ann", "coder", source_id=new)}
    accepted = wb.accept_suggestion(pid, rows[(turn2, "Workforce")], "ann")
    assert wb.coding(pid, accepted)["coder"] == "ann" and wb.coding(pid, accepted)["status"] == "blind"
    wb.remove_coding(pid, rows[(turn4, "IT")], "ann", "lead")
    rate = acceptance(wb, pid)
    assert rate["accepted"] == 1 and rate["rejected"] == 1 and rate["rate"] == 0.5
    assert [s["text"][:11] for s in segments(wb, pid, "lead", "lead") if s["source"] == "new"] == ["Lead: We lo"]


def test_heldout_agreement_is_the_engines_and_recorded(wb):
    import math

    from joinedup.qual.suggestions import heldout_agreement, last_heldout
    from joinedup.survey.coding.suggest import evaluate_heldout

    pid = wb.create_project("H", "lead")
    codes = {n: wb.create_code(pid, n, "lead") for n in ("Workforce", "IT")}
    with pytest.raises(QualError, match="at least four coded segments"):
        heldout_agreement(wb, pid, "lead")
    for i, (text, code) in enumerate(CODED):
        sid = wb.add_source(pid, f"s{i}", text, "text", "lead")
        wb.add_coding(pid, sid, 0, len(text), codes[code], "ann", "ann")
    assert last_heldout(wb, pid) is None
    got = heldout_agreement(wb, pid, "lead")
    # the same texts, code sets and seed through the engine directly
    micro = evaluate_heldout([t for t, _ in CODED], [{c} for _, c in CODED], seed=2013).set_index("code").loc["(micro)"]
    assert got["segments"] == 6 and got["held_out"] == 2
    assert got["f1"] == round(float(micro["f1"]), 4)
    assert (got["kappa"] is None and math.isnan(micro["kappa"])) or got["kappa"] == round(float(micro["kappa"]), 4)
    assert last_heldout(wb, pid) == got
