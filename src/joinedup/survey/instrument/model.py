"""The form model: questions, groups (matrices are field-list groups of select_one rows), choices.

Example:
    >>> q = Question("org_type", "select_one", "Organisation", list_name="org", choices=(Choice("ccg", "CCG"),))
    >>> q.choice_names
    ('ccg',)
"""

from __future__ import annotations

from dataclasses import dataclass, field

QUESTION_TYPES = ("select_one", "select_multiple", "text", "integer", "decimal", "date", "note")


class FormError(ValueError):
    """A broken XLSForm: the message names the file, sheet, row and the problem."""


@dataclass(frozen=True)
class Choice:
    name: str
    label: str


@dataclass(frozen=True)
class Question:
    name: str
    type: str
    label: str
    hint: str = ""
    list_name: str | None = None
    choices: tuple[Choice, ...] = ()
    required: bool = False
    required_message: str = ""
    relevant: str = ""
    constraint: str = ""
    constraint_message: str = ""
    appearance: str = ""
    group: tuple[str, ...] = ()  # names of the enclosing groups, outermost first
    row: int = 0                 # row on the survey sheet (for messages)

    @property
    def choice_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.choices)


@dataclass(frozen=True)
class Group:
    name: str
    label: str
    appearance: str = ""
    relevant: str = ""
    items: tuple = ()  # Questions and Groups in order

    @property
    def is_matrix(self) -> bool:
        """A field-list group whose questions are all select_one of one list: rendered as a table."""
        qs = [i for i in self.items if isinstance(i, Question) and i.type != "note"]
        return ("field-list" in self.appearance and len(qs) > 1 and all(isinstance(i, Question) for i in self.items)
                and all(q.type == "select_one" for q in qs) and len({q.list_name for q in qs}) == 1)


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    version: str
    items: tuple = ()
    choices: dict[str, tuple[Choice, ...]] = field(default_factory=dict)
    # shown on the respondent's first page; from the settings sheet's privacy_notice and
    # consent_statement columns (extra settings columns, which pyxform accepts and ignores)
    privacy_notice: str = ""
    consent_statement: str = ""

    @property
    def questions(self) -> list[Question]:
        out: list[Question] = []

        def walk(items):
            for i in items:
                if isinstance(i, Group):
                    walk(i.items)
                else:
                    out.append(i)
        walk(self.items)
        return out

    def question(self, name: str) -> Question:
        for q in self.questions:
            if q.name == name:
                return q
        raise KeyError(f"form {self.id!r} has no question {name!r}")

    def groups(self) -> list[Group]:
        out: list[Group] = []

        def walk(items):
            for i in items:
                if isinstance(i, Group):
                    out.append(i)
                    walk(i.items)
        walk(self.items)
        return out

    def codebook(self):
        """Question, type, label, choice value and label (see :func:`joinedup.survey.exchange.codebook`)."""
        from joinedup.survey.exchange import codebook

        return codebook(self)
