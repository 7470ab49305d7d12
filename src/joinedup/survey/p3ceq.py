"""The Person-Centred Coordinated Care Experience Questionnaire (P3CEQ; Sugavanam, Lloyd et al.,
University of Plymouth / Exeter; Lloyd et al., Int J Person Centered Med 2019; Sugavanam et al.,
IJIC 2018) for a programme's own service-user survey, in the existing survey service.

**The wording is theirs, not ours.** The P3CEQ is free to use under licence from its developers, who
ask users to register and use their wording. This module ships only the structure and the scoring
rules we could verify in published sources, and loads every item's wording, response options and
option scores from a **licensed file the user supplies** (:func:`read_licensed_file`), transcribed
from their registered copy. Nothing in the repository pretends to be P3CEQ text: the tests use
placeholders marked as such.

Verified structure (sources named in docs/person-centred.md): a trigger question and 11 questions
(p3c.org.uk's measure compendium: "11+trigger question"); question 7 has four sub-questions on care
plans; two published subscales, person-centredness (items 1, 2, 3, 4, 5, 8, 9, 10) and care
coordination (items 5, 6, 7, 8, 9) (Mercadal-Orfila et al., Health Serv Insights 2024, following the
developers' two-factor validation). Scoring as published: each scored answer carries the score its
option has in the licensed scoring guide (the ``score`` column of the licensed file; options such as
"don't know" or "not relevant" have none); a (sub)scale is the sum of its items' scores, question 7
counting as the sum of its scored sub-questions. Where we could not verify the guide's handling of
missing answers we use a complete-case rule, and say so: a (sub)scale is computed only when each of
its scored items has a scored answer (the count left out is reported).

Our own questions (the wording here is ours): how the questionnaire was completed (online, on paper and
entered by staff, or by interview) and who answered (the person, the person with help, or a proxy
answering on the person's behalf, and the proxy's relationship). Paper copies print from
:func:`paper_html`; returned papers are entered through the same respondent page with
``completion_mode = paper``, so they pass the same checks.

Example:
    >>> licensed = read_licensed_file("p3ceq_licensed.csv")                          # doctest: +SKIP
    >>> build_xlsform(licensed, "instruments/p3ceq.xlsx")                            # doctest: +SKIP
    >>> scores = score_responses(responses, licensed)                                # doctest: +SKIP
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TRIGGER = "p3ceq_trigger"
ITEMS = ("p3ceq_q1", "p3ceq_q2", "p3ceq_q3", "p3ceq_q4", "p3ceq_q5", "p3ceq_q6", "p3ceq_q7a", "p3ceq_q7b",
         "p3ceq_q7c", "p3ceq_q7d", "p3ceq_q8", "p3ceq_q9", "p3ceq_q10", "p3ceq_q11")
QUESTION_OF = {name: name.removeprefix("p3ceq_").rstrip("abcd") for name in ITEMS}  # p3ceq_q7b -> q7
SUBSCALES = {"person_centred": ("q1", "q2", "q3", "q4", "q5", "q8", "q9", "q10"),
             "care_coordination": ("q5", "q6", "q7", "q8", "q9")}
FORM_ID = "p3ceq"
MODE_CHOICES = {
    "completion_mode": [("online", "Completed online"), ("paper", "Returned on paper and entered by staff"),
                        ("interview", "Asked in person or by telephone")],
    "respondent": [("self", "The person the questions are about"),
                   ("helped", "The person, with help from someone else"),
                   ("proxy", "Someone else, answering on the person's behalf")],
    "proxy_relationship": [("family_carer", "A family member or unpaid carer"), ("friend", "A friend"),
                           ("paid_carer", "A paid carer or care worker"), ("other", "Someone else")],
}


class LicensedFileError(ValueError):
    """The licensed wording file is missing, incomplete or malformed (names the row and field)."""


@dataclass(frozen=True)
class LicensedP3ceq:
    """What the user's licensed file supplies: wording, option lists and option scores."""

    items: dict[str, dict]                           # name -> {label, list_name, relevant}
    choices: dict[str, list[tuple[str, str]]]        # list_name -> [(choice, label)]
    scores: dict[str, dict[str, float]]              # list_name -> {choice: score} (scored options only)
    title: str = "P3CEQ"
    version: str = ""

    def scored_items(self) -> list[str]:
        """Items whose option list has scores: the ones that count in a (sub)scale."""
        return [n for n in ITEMS if self.scores.get(self.items[n]["list_name"])]


def read_licensed_file(path) -> LicensedP3ceq:
    """Read the user's licensed CSV: ``row_type,name,label,list_name,score,relevant`` with rows
    ``item`` (the trigger and each of :data:`ITEMS`: wording and option list), ``choice`` (an option
    of a list: its code in ``name``, wording in ``label``, its published score or blank) and one
    ``meta`` row (``name`` version, ``label`` the title as licensed). Every problem names its row."""
    path = Path(path)
    if not path.is_file():
        raise LicensedFileError(f"{path}: no such file. The P3CEQ wording is licensed by its developers: register "
                                "with them and transcribe your licensed copy into this file (docs/person-centred.md)")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.columns = [c.strip().lower() for c in raw.columns]
    need = {"row_type", "name", "label", "list_name", "score"}
    if need - set(raw.columns):
        raise LicensedFileError(f"{path.name}: columns {', '.join(sorted(need - set(raw.columns)))} missing")
    items, choices, scores, title, version = {}, {}, {}, "P3CEQ", ""
    for i, r in raw.iterrows():
        row, kind, name = i + 2, r["row_type"].strip(), r["name"].strip()
        if kind == "meta":
            title, version = r["label"].strip() or title, name
        elif kind == "item":
            if name not in (TRIGGER, *ITEMS):
                raise LicensedFileError(f"{path.name}: row {row}: unknown item {name!r}; expected {TRIGGER} and "
                                        f"{', '.join(ITEMS)}")
            if not r["label"].strip() or not r["list_name"].strip():
                raise LicensedFileError(f"{path.name}: row {row}: item {name} needs its wording (label) and list_name")
            items[name] = {"label": r["label"].strip(), "list_name": r["list_name"].strip(),
                           "relevant": r.get("relevant", "").strip()}
        elif kind == "choice":
            lst = r["list_name"].strip()
            if not lst or not name or not r["label"].strip():
                raise LicensedFileError(f"{path.name}: row {row}: a choice needs list_name, name and label")
            choices.setdefault(lst, []).append((name, r["label"].strip()))
            if r["score"].strip():
                try:
                    scores.setdefault(lst, {})[name] = float(r["score"])
                except ValueError:
                    raise LicensedFileError(f"{path.name}: row {row}: score {r['score']!r} is not a number") from None
        else:
            raise LicensedFileError(f"{path.name}: row {row}: row_type must be item, choice or meta; got {kind!r}")
    missing = [n for n in (TRIGGER, *ITEMS) if n not in items]
    if missing:
        raise LicensedFileError(f"{path.name}: no wording for {', '.join(missing)}")
    lists = {v["list_name"] for v in items.values()} - set(choices)
    if lists:
        raise LicensedFileError(f"{path.name}: option list(s) {', '.join(sorted(lists))} have no choice rows")
    return LicensedP3ceq(items, choices, scores, title, version)


def survey_rows(licensed: LicensedP3ceq) -> list[list[str]]:
    """The XLSForm ``survey`` sheet: our mode and proxy questions, then the licensed items."""
    rows = [
        ["select_one completion_mode", "completion_mode", "How was this questionnaire completed?", "yes", "", "", ""],
        ["select_one respondent", "respondent", "Who is answering the questions?", "yes", "", "", ""],
        ["select_one proxy_relationship", "proxy_relationship", ("How is the person answering related to the person "
         "the questions are about?"), "yes", "${respondent} = 'proxy'", "", ""],
        ["text", "proxy_relationship_other", "Please say how (in a few words).", "", "${proxy_relationship} = 'other'",
         "string-length(.) <= 200", "Please keep this to 200 characters."],
    ]
    for name in (TRIGGER, *ITEMS):
        item = licensed.items[name]
        rows.append([f"select_one {item['list_name']}", name, item["label"], "", item["relevant"], "", ""])
    return rows


def build_xlsform(licensed: LicensedP3ceq, path) -> Path:
    """Write the instrument as an XLSForm the survey service serves (``WebSettings.instruments``)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    ws.append(["type", "name", "label", "required", "relevant", "constraint", "constraint_message"])
    for r in survey_rows(licensed):
        ws.append(r)
    ch = wb.create_sheet("choices")
    ch.append(["list_name", "name", "label"])
    for lst, options in {**MODE_CHOICES, **licensed.choices}.items():
        for name, label in options:
            ch.append([lst, name, label])
    st = wb.create_sheet("settings")
    st.append(["form_id", "form_title", "version"])
    st.append([FORM_ID, licensed.title, licensed.version or "licensed"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def score_responses(responses: pd.DataFrame, licensed: LicensedP3ceq) -> pd.DataFrame:
    """Per response: each question's score, ``total``, the two subscales, and ``items_scored``.

    A question is the sum of its scored sub-answers (only question 7 has several); a (sub)scale
    needs every one of its scored questions answered with a scored option (complete case), else
    it is blank.
    """
    scored = licensed.scored_items()
    per_item = pd.DataFrame(index=responses.index)
    for name in scored:
        table = licensed.scores[licensed.items[name]["list_name"]]
        col = responses[name] if name in responses.columns else pd.Series(np.nan, index=responses.index)
        per_item[name] = col.map(lambda v, t=table: t.get(str(v)) if isinstance(v, str) else np.nan).astype(float)
    questions = {}
    for name in scored:
        questions.setdefault(QUESTION_OF[name], []).append(name)
    out = responses.drop(columns=[c for c in responses.columns if c in ITEMS or c == TRIGGER]).copy()
    for q, names in questions.items():
        out[q] = per_item[names].sum(axis=1, min_count=len(names))  # every sub-answer scored, or blank
    out["items_scored"] = per_item.notna().sum(axis=1)
    for scale, members in {"total": tuple(questions), **SUBSCALES}.items():
        cols = [q for q in members if q in questions]
        out[scale] = out[cols].sum(axis=1, min_count=len(cols)) if cols else np.nan
    return out


def paper_html(form) -> str:
    """A printable questionnaire from the built form: every question with a box per option, the
    routing written out (``relevant`` shown as an instruction), all text escaped."""
    head = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(form.title)}</title>"
            "<style>body{font:12pt sans-serif;max-width:42em}li{margin:.3em 0}.box{display:inline-block;width:1em;"
            "height:1em;border:1px solid #000;margin-right:.5em}</style></head><body>")
    parts = [head,
             f"<h1>{html.escape(form.title)}</h1><p>Please put a cross in one box for each question.</p><ol>"]
    for q in form.questions:
        route = f"<p><em>Answer only if: {html.escape(q.relevant)}</em></p>" if q.relevant else ""
        opts = "".join(f"<li><span class='box'></span>{html.escape(c.label)}</li>" for c in q.choices)
        body = f"<ul style='list-style:none'>{opts}</ul>" if q.choices else "<p>______________________________</p>"
        parts.append(f"<li><p><strong>{html.escape(q.label)}</strong></p>{route}{body}</li>")
    return "".join(parts) + "</ol></body></html>"
