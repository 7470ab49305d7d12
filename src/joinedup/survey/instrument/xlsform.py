"""Read an XLSForm workbook (``survey``, ``choices``, ``settings`` sheets) into a :class:`Form`.

The workbook is first converted by pyxform (the ODK/KoboToolbox reference implementation), so a form
that loads here also loads in ODK and Kobo; pyxform's errors ("[row : 5] List name not in choices
sheet: zz") come back as :class:`FormError` naming the file, the sheet and the row. Then the sheets
are read with openpyxl into the model, and every ``relevant``/``constraint`` is parsed so the page and
the server evaluate the same logic (an expression outside the supported subset is an error here, not
a surprise in the browser).

Example:
    >>> form = load_form("instruments/pioneer_ki_survey.xlsx")                   # doctest: +SKIP
    >>> form.question("org_type").choice_names                                   # doctest: +SKIP
    ('ccg', 'la', 'nhs_provider', 'other')
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl

from joinedup.survey.instrument import expr
from joinedup.survey.instrument.model import QUESTION_TYPES, Choice, Form, FormError, Group, Question

_ROW = re.compile(r"\[row : (\d+)\]")


def _rows(ws) -> list[tuple[int, dict]]:
    """(row number, {header: value}) for non-empty rows; headers lower-cased, label::English -> label."""
    it = ws.iter_rows(values_only=True)
    try:
        header = [str(h).strip().lower() if h is not None else "" for h in next(it)]
    except StopIteration:
        return []
    header = [h.split("::")[0] for h in header]
    out = []
    for n, row in enumerate(it, start=2):
        values = {h: ("" if v is None else str(v).strip()) for h, v in zip(header, row) if h}
        if any(values.values()):
            out.append((n, values))
    return out


def _validate_with_pyxform(path: Path) -> None:
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    try:
        convert(str(path), warnings=[])
    except PyXFormError as exc:
        text = str(exc)
        m = _ROW.search(text)
        where = f"sheet 'survey', row {m.group(1)}" if m else "the workbook"
        sheet = re.search(r"On the '(\w+)' sheet", text)
        if sheet and m:
            where = f"sheet '{sheet.group(1)}', row {m.group(1)}"
        raise FormError(f"{path.name}: {where}: {_ROW.sub('', text).strip()}") from None


def load_form(path: str | Path) -> Form:
    """Validate an XLSForm with pyxform and read it into a :class:`Form` (see the module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise FormError(f"{path}: no such file")
    _validate_with_pyxform(path)
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    for sheet in ("survey", "choices"):
        if sheet not in wb.sheetnames:
            raise FormError(f"{path.name}: no '{sheet}' sheet")
    choices: dict[str, list[Choice]] = {}
    for _, r in _rows(wb["choices"]):
        choices.setdefault(r.get("list_name", "") or r.get("list name", ""), []).append(
            Choice(r.get("name", ""), r.get("label", "")))
    settings = dict(_rows(wb["settings"])[0][1]) if "settings" in wb.sheetnames and _rows(wb["settings"]) else {}
    stack: list[tuple[dict, list]] = [({}, [])]
    names: list[str] = []
    for n, r in _rows(wb["survey"]):
        kind = r.get("type", "")
        if kind in ("begin group", "begin_group"):
            stack.append((dict(r, row=n), []))
            continue
        if kind in ("end group", "end_group"):
            g, items = stack.pop()
            stack[-1][1].append(Group(g.get("name", ""), g.get("label", ""), g.get("appearance", ""),
                                      _expr(path, n, g.get("name", ""), g.get("relevant", ""), "relevant"), tuple(items)))
            continue
        base, _, list_name = kind.partition(" ")
        if base not in QUESTION_TYPES:
            continue  # metadata (start, end, deviceid, calculate...) is not asked
        if base in ("select_one", "select_multiple") and list_name not in choices:
            raise FormError(f"{path.name}: sheet 'survey', row {n}: no choice list {list_name!r}")
        group = tuple(g.get("name", "") for g, _ in stack[1:])
        q = Question(r.get("name", ""), base, r.get("label", ""), r.get("hint", ""), list_name or None,
                     tuple(choices.get(list_name, ())) if list_name else (),
                     r.get("required", "").lower() in ("yes", "true", "true()", "1"), r.get("required_message", ""),
                     _expr(path, n, r.get("name", ""), r.get("relevant", ""), "relevant"),
                     _expr(path, n, r.get("name", ""), r.get("constraint", ""), "constraint"), r.get("constraint_message", ""),
                     r.get("appearance", ""), group, n)
        names.append(q.name)
        stack[-1][1].append(q)
    known = set(names)
    form = Form(str(settings.get("form_id") or path.stem), str(settings.get("form_title") or settings.get("title")
                                                             or path.stem),
                str(settings.get("version", "")), tuple(stack[0][1]),
                {k: tuple(v) for k, v in choices.items()},
                privacy_notice=str(settings.get("privacy_notice") or ""),
                consent_statement=str(settings.get("consent_statement") or ""))
    for q in form.questions:
        for field in ("relevant", "constraint"):
            text = getattr(q, field)
            missing = expr.references(expr.parse(text)) - known if text else set()
            if missing:
                raise FormError(f"{path.name}: sheet 'survey', row {q.row}, column '{field}' of {q.name!r}: refers to unknown "
                                f"question(s) {', '.join(sorted(missing))}")
    return form


def _expr(path: Path, row: int, name: str, text: str, what: str) -> str:
    """``text`` if it parses, else a FormError naming the row, the question and the expression."""
    if text:
        try:
            expr.parse(text)
        except FormError as exc:
            raise FormError(f"{path.name}: sheet 'survey', row {row}, column '{what}' of {name!r}: "
                            f"{what} {text!r}: {exc}") from None
    return text
