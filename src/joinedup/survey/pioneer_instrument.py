"""The Pioneer key-informant instrument (``instruments/pioneer_ki_survey.xlsx``), built from this spec.

Question names are an interface: analyses, exports and imports rely on them (see docs/survey.md).
Rebuild the workbook with ``python -m joinedup.survey.pioneer_instrument``; a test checks the committed
file equals what this module builds.

Example:
    >>> rows = survey_rows()
    >>> [r[1] for r in rows if r[1].startswith("bar_")][:2]
    ['bar_financial', 'bar_it_ig']
"""

from __future__ import annotations

import re
from pathlib import Path

PRIVACY_NOTICE = (
    "The evaluation team uses your answers only to evaluate the Integrated Care and Support Pioneer programme. "
    "Results are reported so that no person can be identified; your name and e-mail address are kept only to "
    "send you this survey and its reminders, and are erased after the retention period set for this survey "
    "wave, after which your answers are kept without them. You can ask to see or correct what we hold about "
    "you.")
CONSENT_STATEMENT = (
    "Taking part is voluntary. By answering and submitting this survey you agree to your answers being used "
    "as described above. You can withdraw at any time with the link at the bottom of this page: your answers "
    "are then deleted.")
HEADER = ["type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message", "appearance"]
PROGRESS = [("prog_joined_up", "Services are more joined up"), ("prog_quality", "The quality of care has improved"),
            ("prog_access", "Services are more accessible"), ("prog_qol", "People's quality of life has improved"),
            ("prog_independence", "People are living independently for longer"),
            ("prog_carers", "Carers' experience has improved"), ("prog_say", "People have a greater say in their care"),
            ("prog_self_manage", "People are better able to manage their own care"),
            ("prog_awareness", "People are more aware of the services available"),
            ("prog_gp_centre", "GPs are at the centre of coordinating care"),
            ("prog_responsive", "Services respond more quickly to changing needs"),
            ("prog_readmissions", "Readmissions have been reduced"),
            ("prog_unplanned", "Unplanned admissions have been reduced"),
            ("prog_staff_satisfaction", "Frontline staff job satisfaction has increased"),
            ("prog_costs", "Per-person health and social care costs have decreased")]
BARRIERS = [("bar_financial", "Financial pressures"), ("bar_it_ig", "IT systems and information governance"),
            ("bar_national_policy", "National policy"), ("bar_info_sharing", "Information sharing between organisations"),
            ("bar_payment", "Payment systems"), ("bar_procurement", "Procurement rules"),
            ("bar_workforce", "Workforce shortages"), ("bar_provider_viability", "Viability of providers"),
            ("bar_culture", "Organisational culture"), ("bar_engagement", "Engagement of partners")]
HELP = [("help_new_care_models", "New care models (Vanguards)"), ("help_bcf", "The Better Care Fund"),
        ("help_ipc", "Integrated Personal Commissioning"), ("help_stp", "Sustainability and transformation plans"),
        ("help_national_support", "Support from the national partners")]
INVOLVED = [("inv_acute", "Acute hospitals"), ("inv_community", "Community health services"), ("inv_gps", "GPs"),
            ("inv_social_care", "Adult social care"), ("inv_vcs", "Voluntary and community sector"),
            ("inv_public_health", "Public health"), ("inv_mental_health", "Mental health services")]
SCALES = {
    "progress": [("substantial", "Substantial progress"), ("some", "Some progress"), ("little", "Little progress"),
                 ("none", "No progress"), ("too_early", "Too early to say"), ("dont_know", "Don't know")],
    "barrier": [("significant", "A significant barrier"), ("minor", "A minor barrier"),
                ("not_barrier", "Not a barrier"), ("dont_know", "Don't know")],
    "extent": [("very", "Very"), ("fairly", "Fairly"), ("not_very", "Not very"), ("not_at_all", "Not at all"),
               ("dont_know", "Don't know")],
    "org": [("ccg", "Clinical commissioning group"), ("la", "Local authority"), ("nhs_provider", "NHS provider"),
            ("other", "Other")],
    "yesno": [("yes", "Yes"), ("no", "No")],
}


def pioneer_choices() -> list[tuple[str, str]]:
    """(name, label) of the 25 Pioneers: a slug of the site's name, and the name."""
    # imported here: joinedup.simulate pulls in the whole simulator (seconds of CPU), which the web
    # service, reading only the instrument's path, must not pay on its first respondent's save
    from joinedup.simulate.geography import read_reference

    sites = list(dict.fromkeys(r["site"] for r in read_reference("pioneers")))
    return [(re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_"), s) for s in sites]


def _row(kind, name, label, hint="", required="", relevant="", constraint="", message="", appearance=""):
    return [kind, name, label, hint, required, relevant, constraint, message, appearance]


def _matrix(name, label, items, scale):
    rows = [_row("begin_group", name, label, appearance="field-list")]
    rows += [_row(f"select_one {scale}", n, text) for n, text in items]
    return rows + [_row("end_group", "", "")]


def survey_rows() -> list[list[str]]:
    significant = " or ".join(f"selected(${{{n}}}, 'significant')" for n, _ in BARRIERS)
    return [
        _row("note", "intro", "Thank you for taking part. The survey asks about your Pioneer's progress, the "
             "barriers it has met and who is involved. It takes about 15 minutes."),
        _row("begin_group", "about", "About you"),
        _row("select_one pioneer", "pioneer", "Which Pioneer do you work in?", required="yes"),
        _row("select_one org", "org_type", "What type of organisation do you work for?", required="yes"),
        _row("select_one yesno", "is_lead", "Are you your Pioneer's lead?", required="yes"),
        _row("end_group", "", ""),
        *_matrix("progress", "How much progress has your Pioneer made towards each of these?", PROGRESS, "progress"),
        *_matrix("barriers", "How much of a barrier to integration has each of these been?", BARRIERS, "barrier"),
        _row("text", "bar_significant_detail", "Please describe the most significant barrier you have met.",
             hint="Shown because you marked a barrier as significant.", relevant=significant,
             constraint="string-length(.) <= 2000", message="Please keep this to 2,000 characters."),
        *_matrix("helpfulness", "How helpful have these national initiatives been?", HELP, "extent"),
        *_matrix("involvement", "How involved are these partners in your Pioneer?", INVOLVED, "extent"),
        # the process-evaluation items (initiatives and stages, objectives and progress, facilitators,
        # personalisation, system level, national barriers and their origin): joinedup.process.ki_items
        *_process_rows(),
        _row("text", "achievements", "What have been your Pioneer's main achievements in the past year?"),
        _row("text", "challenge", "What is the biggest challenge your Pioneer faces now?"),
    ]


def _process_rows() -> list[list[str]]:
    from joinedup.process.ki_items import process_rows  # imported here: ki_items reads this module

    return process_rows()


def choice_rows() -> list[list[str]]:
    from joinedup.process.ki_items import SCALES_EXTRA

    rows = [["pioneer", n, label] for n, label in pioneer_choices()]
    for list_name, items in {**SCALES, **SCALES_EXTRA}.items():
        rows += [[list_name, n, label] for n, label in items]
    return rows


def build(path: str | Path) -> Path:
    """Write the workbook (deterministic content)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    for r in [HEADER, *survey_rows()]:
        ws.append(r)
    ch = wb.create_sheet("choices")
    for r in [["list_name", "name", "label"], *choice_rows()]:
        ch.append(r)
    st = wb.create_sheet("settings")
    st.append(["form_id", "form_title", "version", "default_language", "privacy_notice", "consent_statement"])
    st.append(["pioneer_ki_survey", "Integrated Care and Support Pioneers: key-informant survey", "2017.1", "English",
               PRIVACY_NOTICE, CONSENT_STATEMENT])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def pioneer_instrument_path() -> Path:
    """The committed workbook (``instruments/pioneer_ki_survey.xlsx`` in the repository), or the copy
    an installed wheel carries (``joinedup/instruments/``, see pyproject's force-include)."""
    here = Path(__file__).resolve()
    repo = here.parents[3] / "instruments" / "pioneer_ki_survey.xlsx"
    for path in (repo, here.parents[1] / "instruments" / "pioneer_ki_survey.xlsx"):
        if path.is_file():
            return path
    raise FileNotFoundError(f"{repo} is missing: rebuild it with python -m joinedup.survey.pioneer_instrument")


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parents[3] / "instruments" / "pioneer_ki_survey.xlsx"))
