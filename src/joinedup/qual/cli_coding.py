"""`joinedup coding ...`: the qualitative workbench from the command line (the same store as
``joinedup serve``): REFI-QDA import and export, the codebook as CSV, the framework matrix to Excel,
and project membership.

Example:
    $ joinedup coding export-refi --store sqlite:///survey.db --project "Interviews" --out interviews.qdpx
    $ joinedup coding import-refi --store sqlite:///survey.db --file nvivo.qdpx --project "From NVivo"
    $ joinedup coding matrix --store sqlite:///survey.db --project "Interviews" --by site --out matrix.xlsx
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)
coding_app = typer.Typer(help="The qualitative workbench: REFI-QDA exchange, codebook, framework matrix.",
                         no_args_is_help=True, rich_markup_mode=None)
STORE = typer.Option("sqlite:///survey.db", "--store", help="Survey database URL (SQLite or PostgreSQL)")


def _workbench(store: str):
    from joinedup.qual.projects import Workbench
    from joinedup.survey.store import SurveyStore

    s = SurveyStore(store)
    s.create()
    return Workbench(s)


def _fail(exc) -> None:
    console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@coding_app.command("export-refi")
def export_refi_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
                    out: Path = typer.Option(..., "--out", help="The .qdpx file to write")) -> None:
    """Write a project as a REFI-QDA .qdpx file (NVivo, ATLAS.ti, MAXQDA, QualCoder)."""
    from joinedup.qual.exchange import export_refi

    try:
        wb = _workbench(store)
        print(export_refi(wb, wb.project_id(project), out))
    except ValueError as exc:
        _fail(exc)


@coding_app.command("import-refi")
def import_refi_cmd(store: str = STORE, file: Path = typer.Option(..., "--file", exists=True, dir_okay=False),
                    project: str = typer.Option(..., "--project", help="Name of the new project"),
                    actor: str = typer.Option("cli", "--actor", help="Who is importing (for the audit log)")) -> None:
    """Read a REFI-QDA .qdpx file into a new project."""
    import zipfile

    from joinedup.qual.exchange import import_refi

    try:
        pid = import_refi(_workbench(store), file, project, actor)
    except (ValueError, KeyError, zipfile.BadZipFile) as exc:
        _fail(f"{file.name}: {exc}")
    print(f"project {project!r} (id {pid}) imported from {file}")


@coding_app.command("codebook")
def codebook_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
                 out: Path = typer.Option(..., "--out", help="CSV: code, label, parent, description")) -> None:
    """Write a project's codebook as CSV (the engine's codebook layout)."""
    import pandas as pd

    from joinedup.web.csv_safe import neutralise

    try:
        wb = _workbench(store)
        tree = wb.codes(wb.project_id(project))
    except ValueError as exc:
        _fail(exc)
    names = {c["id"]: c["name"] for c in tree}
    frame = pd.DataFrame({"code": [c["name"] for c in tree], "label": [c["name"] for c in tree],
                          "parent": [names.get(c["parent_id"], "") for c in tree],
                          "description": [c["description"] for c in tree]})
    neutralise(frame).to_csv(out, index=False)
    print(out)


@coding_app.command("matrix")
def matrix_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
               by: str = typer.Option("case", "--by", help="case, or a case attribute such as site"),
               out: Path = typer.Option(..., "--out", help="The .xlsx file to write")) -> None:
    """Export the framework matrix (rows x themes, summaries and segments) to Excel, as the lead sees it."""
    from joinedup.qual.retrieve import matrix, matrix_to_excel

    try:
        wb = _workbench(store)
        pid = wb.project_id(project)
        if by != "case" and by not in wb.attribute_names(pid):
            raise ValueError(f"--by {by!r} is neither 'case' nor an attribute of the project's cases")
        print(matrix_to_excel(matrix(wb, pid, "cli", "lead", by), out))
    except ValueError as exc:
        _fail(exc)


@coding_app.command("add-member")
def add_member_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
                   username: str = typer.Option(..., "--username"),
                   role: str = typer.Option("coder", "--role", help="coder or lead")) -> None:
    """Give a coder or lead login access to a project (create the login with `joinedup survey add-user`)."""
    try:
        wb = _workbench(store)
        wb.add_member(wb.project_id(project), username, role, "cli")
    except ValueError as exc:
        _fail(exc)


@coding_app.command("import-survey")
def import_survey_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
                      wave: int = typer.Option(..., "--wave", help="The survey wave whose answers to import"),
                      question: list[str] = typer.Option(None, "--question",
                                                         help="A text question to take (repeat; default: all)"),
                      instrument: Path = typer.Option(None, "--instrument", exists=True, dir_okay=False,
                                                      help="The wave's XLSForm, if not the Pioneer instrument"),
                      include_partial: bool = typer.Option(False, "--include-partial",
                                                           help="Also take unsubmitted (partial) responses"),
                      actor: str = typer.Option("cli", "--actor", help="Who is importing (for the audit log)")) -> None:
    """Import a wave's free-text survey answers as sources and cases (site, org type, role, wave; never
    names, e-mails or tokens; withdrawn respondents left out)."""
    from joinedup.qual.survey_import import form_for_wave, import_survey
    from joinedup.survey.instrument.model import FormError

    try:
        wb = _workbench(store)
        pid = wb.project_id(project)
        found = wb.store.wave(wave)
        form = form_for_wave(wb.store, wave, {found["instrument"]: instrument} if instrument else None)
        report = import_survey(wb, pid, wb.store, form, wave, actor, questions=question or None,
                               include_partial=include_partial)
    except (ValueError, LookupError, FormError) as exc:
        _fail(exc)
    print(f"wave {wave} into {project!r}: {report['imported']} respondent(s) imported, {report['skipped']} already "
          f"there, {report['empty']} without a free-text answer (questions: {', '.join(report['questions'])})")


@coding_app.command("codebook-export")
def codebook_export_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
                        out: Path = typer.Option(..., "--out", help="The .qdc file to write")) -> None:
    """Write a project's codebook as a REFI-QDA codebook (.qdc)."""
    from joinedup.qual.codebook_exchange import export_qdc

    try:
        wb = _workbench(store)
        out.write_bytes(export_qdc(wb, wb.project_id(project)))
    except ValueError as exc:
        _fail(exc)
    print(out)


@coding_app.command("codebook-import")
def codebook_import_cmd(store: str = STORE, project: str = typer.Option(..., "--project"),
                        file: Path = typer.Option(..., "--file", exists=True, dir_okay=False, help="A .qdc file"),
                        actor: str = typer.Option("cli", "--actor", help="Who is importing (for the audit log)")) -> None:
    """Add the codes of a REFI-QDA codebook (.qdc) to a project (codes already there are matched by name)."""
    from joinedup.qual.codebook_exchange import import_qdc

    try:
        wb = _workbench(store)
        report = import_qdc(wb, wb.project_id(project), file.read_bytes(), actor)
    except ValueError as exc:
        _fail(f"{file.name}: {exc}")
    print(f"{file.name} into {project!r}: {report['created']} code(s) created, {report['matched']} already there"
          + (f", {report['not_codable']} marked not codable in the file (made codable)" if report["not_codable"] else "")
          + (f", {report['sets_ignored']} set(s) ignored" if report["sets_ignored"] else ""))

from joinedup.qual import cli_coding_work  # noqa: F401  (registers the project, source, retrieval and agreement commands)
