"""More `joinedup coding ...` commands: the researcher's steps for scripts and batch work, over the same
store as ``joinedup serve`` (what the browser does, without it): create a project, add sources (plain
text, DOCX, PDF, read as the upload form reads them), retrieve segments by code and by case attributes,
code frequencies, and agreement between coders. Tables are written as CSV with formula-like cells
neutralised (OWASP CSV injection, :mod:`joinedup.web.csv_safe`); they are the lead's view (every
coder's codings), for the evaluation team only.

Example:
    $ joinedup coding new-project --project "Interviews" --lead ann
    $ joinedup coding add-source --project "Interviews" --file leeds.docx --case "Leeds lead" --attribute site=Leeds
    $ joinedup coding retrieve --project "Interviews" --code Workforce --where org_type=ccg --where wave=2017 --out seg.csv
    $ joinedup coding agreement --project "Interviews" --out kappa.csv
"""

from __future__ import annotations

from pathlib import Path

import typer

from joinedup.qual.cli_coding import STORE, _fail, _workbench, coding_app

PROJECT = typer.Option(..., "--project", help="The project's name")


def _pairs(items: list[str], option: str) -> dict[str, str]:
    """``name=value`` options to a dict; anything else is a clear error."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{option} {item!r} is not name=value (e.g. site=Leeds)")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip()
    return out


def _write(frame, out: Path) -> None:
    from joinedup.web.csv_safe import neutralise

    neutralise(frame).to_csv(out, index=False)
    print(out)


@coding_app.command("new-project")
def new_project_cmd(store: str = STORE, project: str = PROJECT,
                    description: str = typer.Option("", "--description"),
                    lead: str = typer.Option(None, "--lead", help="A lead login to make the project's lead"),
                    not_blind: bool = typer.Option(False, "--not-blind", help="Coders see each other's codings")) -> None:
    """Create a coding project (blind coding unless --not-blind)."""
    try:
        wb = _workbench(store)
        pid = wb.create_project(project, "cli", description=description, blind=not not_blind)
        if lead:
            wb.add_member(pid, lead, "lead", "cli")
    except ValueError as exc:
        _fail(exc)
    print(f"project {project!r} (id {pid}) created")


@coding_app.command("add-source")
def add_source_cmd(store: str = STORE, project: str = PROJECT,
                   file: Path = typer.Option(..., "--file", exists=True, dir_okay=False,
                                             help="Plain text, DOCX or PDF (speaker lines make a transcript)"),
                   name: str = typer.Option(None, "--name", help="Source name (default: the file's name)"),
                   case: str = typer.Option(None, "--case", help="The case it belongs to"),
                   attribute: list[str] = typer.Option([], "--attribute", help="A case attribute, name=value (repeat)"),
                   actor: str = typer.Option("cli", "--actor", help="Who is adding it (for the audit log)")) -> None:
    """Add a source to a project, read as the browser's upload reads it."""
    from joinedup.qual.reading import read_upload

    try:
        wb = _workbench(store)
        pid = wb.project_id(project)
        attrs = _pairs(attribute, "--attribute")
        if attrs and not case:
            raise ValueError("--attribute needs --case (attributes belong to a case)")
        text, kind = read_upload(file.name, file.read_bytes())
        sid = wb.add_source(pid, name or file.stem, text, kind, actor, case=case, attributes=attrs or None)
    except ValueError as exc:
        _fail(exc)
    print(f"source {name or file.stem!r} (id {sid}, {kind}, {len(text):,} characters) added")


@coding_app.command("retrieve")
def retrieve_cmd(store: str = STORE, project: str = PROJECT,
                 code: str = typer.Option(None, "--code", help="A code's name (its sub-codes count too)"),
                 where: list[str] = typer.Option([], "--where", help="A case attribute condition, name=value (repeat: all must hold)"),
                 limit: int = typer.Option(100_000, "--limit", min=1),
                 out: Path = typer.Option(..., "--out", help="CSV: source, case, start, end, code, coder, status, text")) -> None:
    """Coded segments by code and case attributes (e.g. Workforce from CCG respondents in 2017)."""
    import pandas as pd

    from joinedup.qual.retrieve import segments

    try:
        wb = _workbench(store)
        pid = wb.project_id(project)
        code_id = None
        if code is not None:
            code_id = {c["name"]: c["id"] for c in wb.codes(pid)}.get(code)
            if code_id is None:
                raise ValueError(f"--code {code!r} is not a code of project {project!r}")
        found = segments(wb, pid, "cli", "lead", code_id=code_id, where=_pairs(where, "--where"), limit=limit)
    except ValueError as exc:
        _fail(exc)
    cols = ["source", "case", "start", "end", "code", "coder", "status", "text"]
    _write(pd.DataFrame(found, columns=[*cols, "id", "source_id", "code_id"])[cols], out)


@coding_app.command("frequencies")
def frequencies_cmd(store: str = STORE, project: str = PROJECT,
                    by: str = typer.Option("case", "--by", help="case, or a case attribute such as site"),
                    out: Path = typer.Option(..., "--out", help="CSV: code, value, codings, segments, sources")) -> None:
    """Code frequencies (a code counts its sub-codes) per case or attribute value, as the frequencies page."""
    import pandas as pd

    from joinedup.qual.frequencies import code_frequencies

    try:
        wb = _workbench(store)
        pid = wb.project_id(project)
        if by != "case" and by not in wb.attribute_names(pid):
            raise ValueError(f"--by {by!r} is neither 'case' nor an attribute of the project's cases")
        freq = code_frequencies(wb, pid, "cli", "lead", by)
    except ValueError as exc:
        _fail(exc)
    rows = [{"code": r["code"], by: v, **cell} for r in freq["rows"]
            for v, cell in [*r["cells"].items(), ("(all)", r["total"])]]
    _write(pd.DataFrame(rows, columns=["code", by, "codings", "segments", "sources"]), out)


@coding_app.command("agreement")
def agreement_cmd(store: str = STORE, project: str = PROJECT,
                  coders: str = typer.Option(None, "--coders", help="Comma-separated coders (default: all with blind codings)"),
                  out: Path = typer.Option(..., "--out", help="CSV: per code, character-level kappa and alpha")) -> None:
    """Agreement per code between coders at the character-span level (the lead's agreement page)."""
    import pandas as pd

    from joinedup.qual.agreement import project_agreement

    try:
        wb = _workbench(store)
        pid = wb.project_id(project)
        result = project_agreement(wb, pid, [c.strip() for c in coders.split(",")] if coders else None)
        if len(result["coders"]) < 2:
            raise ValueError(f"agreement needs two coders with blind codings; project {project!r} has "
                             f"{', '.join(result['all_coders']) or 'none'}")
    except ValueError as exc:
        _fail(exc)
    _write(pd.DataFrame(result["span"]), out)
