"""Key-informant items the evaluation reported on and the Pioneer instrument lacked, as XLSForm rows.

Families (multiplicity is controlled across the items of one family, see :mod:`ki_analysis`):

* ``initiatives``: up to three of the site's initiatives, each with its implementation stage;
* ``objectives``: up to three of the site's own integration objectives and progress against each;
* ``facilitators``: leadership, relationships, shared vision, co-location;
* ``personalisation``: care and support planning, personal budgets, user control;
* ``system``: system-level (STP/ICS) governance;
* ``national_barriers``: the FT pipeline and other national barriers, each with whether it is
  national or local in origin.

The committed Pioneer instrument (``instruments/pioneer_ki_survey.xlsx``, version 2017.1) holds these
items before its free-text questions (:func:`joinedup.survey.pioneer_instrument.survey_rows`);
``load_form`` validates it with pyxform.

Example:
    >>> [r[1] for r in process_rows() if r[1].startswith("fac_")]
    ['fac_leadership', 'fac_relationships', 'fac_shared_vision', 'fac_co_location']
"""

from __future__ import annotations

from pathlib import Path

from joinedup.process.vocab import STAGES

SLOTS = 3
FACILITATORS = [("fac_leadership", "Leadership"), ("fac_relationships", "Relationships between partners"),
                ("fac_shared_vision", "A shared vision"), ("fac_co_location", "Co-location of staff")]
PERSONALISATION = [("pers_care_planning", "Care and support planning with people"),
                   ("pers_personal_budgets", "Personal budgets"),
                   ("pers_user_control", "People's control over their own care and support")]
SYSTEM = [("sys_ics_governance", "Joint governance across the system (STP / ICS)"),
          ("sys_ics_budgets", "Pooled or aligned budgets across the system (STP / ICS)")]
NATIONAL_BARRIERS = [("nb_ft_pipeline", "The foundation trust pipeline"),
                     ("nb_payment_by_results", "Payment by results"),
                     ("nb_regulation", "Regulation and inspection"),
                     ("nb_national_targets", "National performance targets")]
FAMILIES = {
    "objectives": [f"obj_{k}_progress" for k in range(1, SLOTS + 1)],
    "facilitators": [n for n, _ in FACILITATORS],
    "personalisation": [n for n, _ in PERSONALISATION],
    "system": [n for n, _ in SYSTEM],
    "national_barriers": [n for n, _ in NATIONAL_BARRIERS],
}
# the answer counted as "positive" in each family (tests compare shares of it)
POSITIVE = {"objectives": ("substantial", "some"), "facilitators": ("major",), "personalisation": ("very", "fairly"),
            "system": ("very", "fairly"), "national_barriers": ("significant",)}
SCALES_EXTRA = {
    "stage": [(s, s.replace("_", " ").capitalize()) for s in STAGES],
    "facilitator": [("major", "A major facilitator"), ("minor", "A minor facilitator"),
                    ("not_facilitator", "Not a facilitator"), ("dont_know", "Don't know")],
    "origin": [("national", "Mostly national"), ("local", "Mostly local"), ("both", "Both"), ("dont_know", "Don't know")],
}


def _row(kind, name, label, hint="", required="", relevant="", constraint="", message="", appearance=""):
    return [kind, name, label, hint, required, relevant, constraint, message, appearance]


def _matrix(name, label, items, scale):
    return ([_row("begin_group", name, label, appearance="field-list")]
            + [_row(f"select_one {scale}", n, t) for n, t in items] + [_row("end_group", "", "")])


def process_rows() -> list[list[str]]:
    """The new questions as survey-sheet rows (columns of the Pioneer instrument's HEADER)."""
    rows = [_row("begin_group", "initiatives", "Your Pioneer's main initiatives")]
    for k in range(1, SLOTS + 1):
        shown = "" if k == 1 else f"string-length(${{init_{k - 1}_name}}) > 0"
        rows += [_row("text", f"init_{k}_name", f"Initiative {k}: its name", relevant=shown,
                      constraint="string-length(.) <= 200", message="Please keep this to 200 characters."),
                 _row("select_one stage", f"init_{k}_stage", f"How far has initiative {k} got?",
                      relevant=f"string-length(${{init_{k}_name}}) > 0")]
    rows += [_row("end_group", "", ""), _row("begin_group", "objectives", "Your Pioneer's own integration objectives")]
    for k in range(1, SLOTS + 1):
        shown = "" if k == 1 else f"string-length(${{obj_{k - 1}_text}}) > 0"
        rows += [_row("text", f"obj_{k}_text", f"Objective {k}", relevant=shown,
                      constraint="string-length(.) <= 300", message="Please keep this to 300 characters."),
                 _row("select_one progress", f"obj_{k}_progress", f"How much progress against objective {k}?",
                      relevant=f"string-length(${{obj_{k}_text}}) > 0")]
    rows += [_row("end_group", "", "")]
    rows += _matrix("facilitators", "How far has each of these helped integration locally?", FACILITATORS,
                    "facilitator")
    rows += _matrix("personalisation", "How far has your Pioneer put these in place?", PERSONALISATION, "extent")
    rows += _matrix("system", "How far are these in place across your wider system?", SYSTEM, "extent")
    rows += _matrix("national_barriers", "How much of a barrier has each of these been?", NATIONAL_BARRIERS, "barrier")
    rows += _matrix("barrier_origin", "Is each of these barriers mostly national or local in origin?",
                    [(f"{n}_origin", t) for n, t in NATIONAL_BARRIERS], "origin")
    return rows


def build_extended(path: str | Path) -> Path:
    """The Pioneer instrument with the process items: since version 2017.1 the committed instrument
    itself (:func:`joinedup.survey.pioneer_instrument.build`) holds them, so this writes that
    workbook (kept for callers of the earlier separate extended form)."""
    from joinedup.survey.pioneer_instrument import build

    return build(path)
