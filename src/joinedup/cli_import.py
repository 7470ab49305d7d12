"""`joinedup import ...`: NHS extracts to canonical tables (a thin layer over joinedup.data.importers).

Example:
    $ joinedup import hes-apc --in hes_apc_1415.txt --in hes_apc_1516.txt --out data/mine --key-file ~/k
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

import_app = typer.Typer(help="Import NHS extracts (HES APC, HES A&E/ECDS, ONS populations, GP registrations, delayed transfers) "
                              "into canonical tables.", no_args_is_help=True, rich_markup_mode=None)
console = Console(stderr=True)

IN = typer.Option(..., "--in", help="Extract file(s): CSV, pipe-delimited text or Parquet (`--in a b c` or "
                  "`--in a --in b`)")
MORE = typer.Argument(None, hidden=True, help="More extract files after --in (so `--in FILE...` works)")
OUT = typer.Option(..., "--out", help="Dataset folder to write the canonical table (and rejects/) into")
KEY = typer.Option(None, "--key-file", help="File holding the pseudonymisation key (default: the "
                   "JOINEDUP_PSEUDONYM_KEY environment variable); keep it outside the outputs")


def _progress(stage: str, rows: int, seconds: float) -> None:
    rate = rows / seconds if seconds > 0 else float("inf")
    console.print(f"  {stage:<28} {rows:>12,} rows  {seconds:7.1f} s  {rate:>12,.0f} rows/s",
                  markup=False, highlight=False)


def _fail(exc: Exception) -> None:
    console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(2) from None


def _finish(report, out: Path) -> None:
    console.print(report.summary(), markup=False, highlight=False, soft_wrap=True)
    rejects = out / "rejects" / f"{report.table}.csv"
    if rejects.exists():
        console.print(f"Rejected records, with file, row, field and reason: {rejects}", markup=False)
    console.print(f"Wrote {out / (report.table + '.parquet')}", markup=False)


@import_app.command("hes-apc")
def hes_apc(
    files: list[Path] = IN,
    more: list[Path] | None = MORE,
    out: Path = OUT,
    key_file: Path | None = KEY,
    memory_limit: str = typer.Option("2GB", help="DuckDB memory limit; beyond it work spills to disk"),
    threads: int | None = typer.Option(None, help="DuckDB threads (default: all cores)"),
) -> None:
    """HES Admitted Patient Care episodes -> `admissions` (provider spells with their CIPS)."""
    from joinedup.data.importers import ImportError_, PseudonymKeyError, import_hes_apc, load_key

    files = [*files, *(more or [])]
    try:
        key = load_key(key_file, out)
        console.print(f"Importing {len(files)} HES APC file(s) into {out}", markup=False)
        report = import_hes_apc(files, out, key, memory_limit=memory_limit, threads=threads, progress=_progress)
    except (ImportError_, PseudonymKeyError) as exc:
        _fail(exc)
    _finish(report, out)


@import_app.command("hes-ae")
def hes_ae(files: list[Path] = IN, more: list[Path] | None = MORE, out: Path = OUT, key_file: Path | None = KEY,
           memory_limit: str = typer.Option("2GB", help="DuckDB memory limit")) -> None:
    """HES A&E attendances and ECDS (either field names, file by file) -> `ae_attendances`."""
    from joinedup.data.importers import ImportError_, PseudonymKeyError, load_key
    from joinedup.data.importers.hes_ae import import_hes_ae

    try:
        report = import_hes_ae([*files, *(more or [])], out, load_key(key_file, out), memory_limit=memory_limit,
                               progress=_progress)
    except (ImportError_, PseudonymKeyError) as exc:
        _fail(exc)
    _finish(report, out)


@import_app.command("ons-population")
def ons_population(files: list[Path] = IN, more: list[Path] | None = MORE, out: Path = OUT) -> None:
    """ONS mid-year estimates by local authority, single year of age and sex -> `population`."""
    from joinedup.data.importers import ImportError_
    from joinedup.data.importers.ons_population import import_ons_population

    try:
        report = import_ons_population([*files, *(more or [])], out, progress=_progress)
    except ImportError_ as exc:
        _fail(exc)
    _finish(report, out)


@import_app.command("gp-registrations")
def gp_registrations(files: list[Path] = IN, more: list[Path] | None = MORE, out: Path = OUT) -> None:
    """NHS Digital "Patients Registered at a GP Practice" (five-year bands) -> `practice_population`."""
    from joinedup.data.importers import ImportError_
    from joinedup.data.importers.gp_registrations import import_gp_registrations

    try:
        report = import_gp_registrations([*files, *(more or [])], out, progress=_progress)
    except ImportError_ as exc:
        _fail(exc)
    _finish(report, out)


@import_app.command("delayed-transfers")
def delayed_transfers(files: list[Path] = IN, more: list[Path] | None = MORE, out: Path = OUT) -> None:
    """NHS England Delayed Transfers of Care, local authority table (to Feb 2020) -> `delayed_transfers`."""
    from joinedup.data.importers import ImportError_
    from joinedup.data.importers.delayed_transfers import import_delayed_transfers

    try:
        report = import_delayed_transfers([*files, *(more or [])], out, progress=_progress)
    except ImportError_ as exc:
        _fail(exc)
    _finish(report, out)


@import_app.command("persons")
def persons(files: list[Path] = IN, more: list[Path] | None = MORE, out: Path = OUT, key_file: Path | None = KEY,
            memory_limit: str = typer.Option("2GB", help="DuckDB memory limit")) -> None:
    """GP registration / PDS extract (one row a person) -> `persons`, the linkage spine (same key as hes-apc)."""
    from joinedup.data.importers import ImportError_, PseudonymKeyError, load_key
    from joinedup.data.importers.persons import import_persons

    try:
        report = import_persons([*files, *(more or [])], out, load_key(key_file, out), memory_limit=memory_limit,
                                progress=_progress)
    except (ImportError_, PseudonymKeyError) as exc:
        _fail(exc)
    _finish(report, out)


@import_app.command("enrolments")
def enrolments(files: list[Path] = IN, more: list[Path] | None = MORE, out: Path = OUT,
               key_file: Path | None = KEY) -> None:
    """A scheme's enrolment list by NHS number -> `enrolled.csv` with the same pseudonyms as `import persons`."""
    from joinedup.data.importers import ImportError_, PseudonymKeyError, load_key
    from joinedup.data.importers.enrolments import pseudonymise_enrolments

    try:
        written, rejected = pseudonymise_enrolments([*files, *(more or [])], out, load_key(key_file, out))
    except (ImportError_, PseudonymKeyError) as exc:
        _fail(exc)
    console.print(f"enrolled.csv: wrote {written:,} rows, rejected {rejected:,} (no identifier)"
                  + (f"; reasons in {out / 'rejects' / 'enrolled.csv'}" if rejected else ""),
                  markup=False, highlight=False, soft_wrap=True)
