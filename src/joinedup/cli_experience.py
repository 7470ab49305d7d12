"""`joinedup experience ...`: person-centred coordinated care measures (docs/person-centred.md).

Example:
    $ joinedup experience simulate data/england --effect 0.05
    $ joinedup experience estimate data/england/published_surveys --starts data/england/published_surveys/programme_starts.csv --out out/pcc
    $ joinedup experience p3ceq-form my_licensed_p3ceq.csv --out instruments/p3ceq.xlsx
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console(stderr=True)
experience_app = typer.Typer(help="Person-centred coordinated care: GPPS and ASCOF outcomes, the P3CEQ instrument.",
                             no_args_is_help=True, rich_markup_mode=None)


def _fail(exc: Exception) -> None:
    console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@experience_app.command("simulate")
def simulate_command(data: Path = typer.Argument(..., help="A simulated England dataset folder"),
                     out: Path = typer.Option(None, "--out", help="Default: DATA/published_surveys"),
                     effect: float = typer.Option(0.05, help="Programmed effect on the share (0: the null scenario)"),
                     seed: int = typer.Option(2013)) -> None:
    """Write GPPS-like and ASCOF-like files in the published layouts, with a programmed effect."""
    from joinedup.simulate.published_surveys import write_published_surveys

    paths = write_published_surveys(data, out, seed=seed, effect=effect)
    print(f"{len(paths['gpps'])} GPPS files, {len(paths['ascof'])} ASCOF files; truth: {paths['truth']}")


@experience_app.command("estimate")
def estimate_command(folder: Path = typer.Argument(..., help="Folder with gpps/*.csv and ascof/*.csv as published"),
                     starts: Path = typer.Option(..., "--starts", help="CSV: unit_code, start_year (0: never)"),
                     out: Path = typer.Option(..., "--out"),
                     era: str = typer.Option("2012-2017", help="GPPS questionnaire era (never compared across 2018)"),
                     item_map: Path = typer.Option(None, "--item-map", help="year,measure,question CSV for GPPS items "
                                                   "whose numbers this release does not carry")) -> None:
    """Import the published files (rejects to OUT/rejects) and run the DiD for each measure."""
    import pandas as pd

    from joinedup.experience._rejects import PublishedLayoutError
    from joinedup.experience.collect import read_published_folder, write_experience_tables
    from joinedup.experience.design import experience_did
    from joinedup.experience.gpps import read_item_map
    from joinedup.outputs import write_table

    try:
        mapping = read_item_map(item_map) if item_map else None
        measures = tuple(sorted({"preferred_gp", *(m for (m, _) in mapping or {})}))
        read = read_published_folder(folder, gpps_measures=measures, item_map=mapping)
        write_experience_tables(read, out)
        frame = pd.read_csv(starts, dtype={"unit_code": str})
        results = []
        for (source, measure), _ in read.table.groupby(["source", "measure"]):
            try:
                res = experience_did(read.table, measure, frame, era=era if source == "GPPS" else None)
            except ValueError as exc:  # said, not hidden: e.g. no pre-programme year in the era
                console.print(f"{measure}: no estimate: {exc}", markup=False, highlight=False, soft_wrap=True)
                continue
            results.append(res.tidy())
    except (PublishedLayoutError, ValueError, OSError) as exc:
        _fail(exc)
    print(read.summary())
    if results:
        table = pd.concat(results, ignore_index=True)
        write_table(table, out, "experience_estimates", ["n_units", "n_treated_units"])
        print(table[["measure", "era", "estimate", "ci_low", "ci_high"]].to_string(index=False))


@experience_app.command("p3ceq-form")
def p3ceq_form_command(licensed: Path = typer.Argument(..., help="Your licensed P3CEQ wording file (CSV)"),
                       out: Path = typer.Option(..., "--out", help="The XLSForm to write"),
                       paper: Path = typer.Option(None, "--paper", help="Also write a printable HTML questionnaire")) -> None:
    """Build the P3CEQ instrument for the survey service from your licensed wording file."""
    from joinedup.survey.instrument import FormError, load_form
    from joinedup.survey.p3ceq import (
        LicensedFileError,
        build_xlsform,
        paper_html,
        read_licensed_file,
    )

    try:
        form = load_form(build_xlsform(read_licensed_file(licensed), out))
    except (LicensedFileError, FormError) as exc:
        _fail(exc)
    if paper:
        Path(paper).write_text(paper_html(form), encoding="utf-8")
    print(f"{out}: {len(form.questions)} questions (serve it with `joinedup serve --instrument p3ceq={out}`)")
