"""Free-text survey answers into a workbench project: each respondent of a wave who answered at
least one of the instrument's ``text`` questions becomes a case (with the respondent's attributes)
and one source holding their answers, one block per question, ready to be coded.

What travels (data minimisation, UK GDPR Article 5(1)(c)): the answers to text questions and the
attributes ``site`` (the Pioneer), ``org_type``, ``role``, ``is_lead`` and ``wave``. Never the name,
e-mail address, survey token or panelist id: a case is named by a pseudonym, the first 10 hex digits
of SHA-256 over the project id and the panelist id (``respondent 3f9a0c21de``), stable within the
project (the same person in two waves has the same ``respondent`` attribute) but not the roster id.
Withdrawn respondents (:func:`joinedup.survey.retention.withdraw`) have no answers in the store, and
the store keeps it so (a later response import rejects their rows); the query still leaves out anyone
the store marks withdrawn (:func:`joinedup.survey.store.withdrawn_panelists`), as a second guard.
Partial (unsubmitted) responses are left out unless ``include_partial``.

Importing the same wave again adds only respondents not imported yet (a source of the same name is
skipped), so a retry or two racing imports give each respondent once.

Example:
    >>> report = import_survey(wb, pid, store, form, wave=1, actor="lead")       # doctest: +SKIP
    >>> report["imported"], report["skipped"]                                     # doctest: +SKIP
    (42, 0)
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from joinedup.survey.store import PANELISTS, RESPONSES, withdrawn_panelists

MAX_ANSWER_CHARS = 20_000  # a free-text answer longer than this is cut (the survey caps answers lower)


def pseudonym(project_id: int, panelist_id: str) -> str:
    """The case name of a respondent in a project (see the module docstring).

    Example:
        >>> pseudonym(1, "P0001")
        'respondent d7021a27ca'
    """
    return "respondent " + hashlib.sha256(f"{project_id}|{panelist_id}".encode()).hexdigest()[:10]


def text_questions(form) -> list:
    """The instrument's free-text questions, in form order."""
    return [q for q in form.questions if q.type == "text"]


def survey_text(answers: dict, questions) -> str:
    """One respondent's answers as a source's text: a ``[name] label`` line, the answer, a blank
    line, for each text question answered (unanswered ones are left out)."""
    blocks = []
    for q in questions:
        value = answers.get(q.name)
        if isinstance(value, str) and value.strip():
            answer = value.strip().replace("\x00", "")[:MAX_ANSWER_CHARS]
            blocks.append(f"[{q.name}] {' '.join(q.label.split())}\n{answer}")
    return "\n\n".join(blocks)


def _respondents(store, wave: int, include_partial: bool) -> list[dict]:
    q = (sa.select(RESPONSES.c.panelist_id, RESPONSES.c.answers, RESPONSES.c.status, PANELISTS.c.pioneer,
                   PANELISTS.c.org_type, PANELISTS.c.role, PANELISTS.c.is_lead)
         .join(PANELISTS, PANELISTS.c.panelist_id == RESPONSES.c.panelist_id)
         .where(RESPONSES.c.wave == wave, RESPONSES.c.panelist_id.not_in(withdrawn_panelists()))
         .order_by(RESPONSES.c.panelist_id))
    if not include_partial:
        q = q.where(RESPONSES.c.status == "complete")

    with store.engine.connect() as c:
        return [{**dict(r), "answers": json.loads(r["answers"])} for r in c.execute(q).mappings()]


def import_survey(wb, project_id: int, store, form, wave: int, actor: str, questions: list[str] | None = None,
                  include_partial: bool = False) -> dict:
    """Import wave ``wave``'s free-text answers (see the module docstring). ``form`` is the wave's
    instrument; ``questions`` names the text questions to take (all of them when None).

    Returns ``{"imported", "skipped", "empty", "questions"}``: sources made, respondents already in
    the project, respondents who answered none of the questions.
    """
    from joinedup.qual.projects import QualError

    store.wave(wave)  # SurveyError (a ValueError) naming the wave when there is none
    wb.project(project_id)
    available = text_questions(form)
    if questions:
        names = {q.name for q in available}
        unknown = [q for q in questions if q not in names]
        if unknown:
            raise QualError(f"not free-text questions of instrument {form.id!r}: {', '.join(unknown)[:300]} "
                            f"(its text questions: {', '.join(sorted(names)) or 'none'})")
        available = [q for q in available if q.name in set(questions)]
    if not available:
        raise QualError(f"instrument {form.id!r} has no free-text question to import")
    imported = skipped = empty = 0
    for r in _respondents(store, wave, include_partial):
        text = survey_text(r["answers"], available)
        if not text:
            empty += 1
            continue
        case = f"W{wave} {pseudonym(project_id, r['panelist_id'])}"
        attributes = {"site": r["pioneer"], "org_type": r["org_type"], "role": r["role"] or "",
                      "is_lead": "yes" if r["is_lead"] else "no", "wave": str(wave),
                      "respondent": pseudonym(project_id, r["panelist_id"]).split()[1]}
        try:
            wb.add_source(project_id, f"survey wave {wave} {case[len(f'W{wave} '):]}", text, "survey", actor,
                          case=case, attributes=attributes)
            imported += 1
        except (QualError, sa.exc.IntegrityError):  # already imported (maybe by a racing import a moment ago)
            skipped += 1
    with wb.engine.begin() as c:
        wb.audit(c, project_id, actor, "survey imported",
                 f"wave {wave}: {imported} new, {skipped} already there, {empty} without an answer "
                 f"({', '.join(q.name for q in available)})")
    return {"imported": imported, "skipped": skipped, "empty": empty, "questions": [q.name for q in available]}


def form_for_wave(store, wave: int, instruments: dict | None = None):
    """The instrument of a wave: the Pioneer instrument, or a configured XLSForm (``{id: path}``)."""
    from joinedup.survey.instrument import load_form
    from joinedup.survey.pioneer_instrument import pioneer_instrument_path

    instrument = store.wave(wave)["instrument"]
    path = (instruments or {}).get(instrument)
    if path is None:
        if instrument != "pioneer_ki_survey":
            raise LookupError(f"wave {wave} uses instrument {instrument!r}: give its XLSForm (--instrument)")
        path = pioneer_instrument_path()
    return load_form(path)
