"""The respondent's form as accessible HTML (a fragment: the web app wraps it in its page).

Every input has a label; groups and choice questions are fieldsets with legends; hints are tied to
inputs by ``aria-describedby``; errors appear next to the field (``aria-invalid``, ``role="alert"``) and
in a summary at the top linking to each field; required questions say "(required)" in text. A matrix
(field-list group of select_one rows with one choice list) is one fieldset per row, its statement the
legend and every choice a labelled radio button (as GOV.UK and REDCap render grids on a phone: no
table to scroll sideways at 390 px). Skip logic and constraints travel as
``data-relevant``/``data-constraint`` syntax trees (JSON of ``expr.parse``) that ``static/survey.js``
evaluates with the same rules as the server (no ``eval``: the page's Content-Security-Policy forbids
it); the script also autosaves to ``data-autosave-url``.

Example:
    >>> html = render_form(form, {}, {}, "/s/TOKEN", csrf_token="abc")            # doctest: +SKIP
"""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from joinedup.survey.instrument import expr
from joinedup.survey.instrument.model import Form, Group, Question

_ENV = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                   autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def _js(text: str) -> str:
    return json.dumps(expr.parse(text)) if text else ""


def render_form(form: Form, answers: dict, errors: dict, action_url: str, csrf_token: str | None = None,
                autosave_url: str | None = None) -> str:
    """HTML of the form with ``answers`` filled in and ``errors`` shown (see the module docstring)."""
    def selected(q: Question, value: str) -> bool:
        a = answers.get(q.name)
        return value in a if isinstance(a, (list, tuple)) else a == value

    labels = {q.name: q.label for q in form.questions}
    return _ENV.get_template("form.html").render(
        form=form, answers=answers, errors=errors, action_url=action_url, csrf_token=csrf_token,
        autosave_url=autosave_url, js=_js, selected=selected, labels=labels, Group=Group, isgroup=lambda i: isinstance(i, Group))
