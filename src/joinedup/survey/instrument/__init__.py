"""Survey instruments as XLSForm workbooks: loading and validation (pyxform), the form model, skip-logic
expressions, checks of submitted answers, and accessible HTML.

Example:
    >>> from joinedup.survey.instrument import load_form, render_form, validate_answers
    >>> form = load_form("instruments/pioneer_ki_survey.xlsx")                   # doctest: +SKIP
"""

from joinedup.survey.instrument.answers import validate_answers
from joinedup.survey.instrument.model import Choice, Form, FormError, Group, Question
from joinedup.survey.instrument.render import render_form
from joinedup.survey.instrument.xlsform import load_form

__all__ = ["Choice", "Form", "FormError", "Group", "Question", "load_form", "render_form", "validate_answers"]
