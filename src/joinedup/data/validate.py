"""Check a dataset against the canonical schema, naming table, column, rows and rule.

Every rule of a table is counted in one pass (one aggregate query per table); only failed rules are
queried again for a few example rows. On DuckDB the examples name the file and the row in it; on
other engines they name the primary key. Nothing is dropped or coerced: a value that is not of its
declared type is reported, never read as missing.

Example:
    >>> report = validate_dataset("out/demo/data")            # doctest: +SKIP
    >>> report.ok                                               # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from joinedup.data import sources
from joinedup.data.duckdb_memory import duckdb_config
from joinedup.data.schema import IBIS_TYPES, Column, Table
from joinedup.data.tables import TABLES
from joinedup.options import Engine

MAX_EXAMPLES = 5
ROW, FILE, TEXT = "__row", "__file", "__text_"


@dataclass(frozen=True)
class Problem:
    """One broken rule: where, what, how many rows, and a few examples."""

    table: str
    column: str | None
    rule: str
    rows: int
    examples: tuple[str, ...] = ()
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{self.severity}: {where}: rule '{self.rule}' broken by {self.rows:,} row(s)"
        if self.examples:
            text += "; e.g. " + "; ".join(self.examples)
        return text


@dataclass(frozen=True)
class ValidationReport:
    """All problems found in a dataset, and what was checked."""

    location: str
    rows: dict[str, int]
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        head = f"{self.location}: {len(self.rows)} table(s), {sum(self.rows.values()):,} rows checked"
        if not self.problems:
            return head + ", no problems"
        return head + f", {len(self.problems)} problem(s):\n" + "\n".join(f"  {p}" for p in self.problems)

    def raise_for_errors(self) -> None:
        if not self.ok:
            raise DataValidationError(self)


class DataValidationError(ValueError):
    """Raised when a dataset breaks the schema; ``.report`` holds every problem."""

    def __init__(self, report: ValidationReport):
        self.report = report
        super().__init__(report.summary())


def validate_dataset(
    location, engine: Engine = "duckdb", tables: list[str] | None = None
) -> ValidationReport:
    """Validate the canonical tables in a dataset folder (or Ibis URL) and return a report.

    ``tables`` limits the check to some tables; by default every declared table must be present.
    """
    wanted = list(tables) if tables else list(TABLES)
    unknown = [t for t in wanted if t not in TABLES]
    if unknown:
        raise ValueError(f"unknown table(s) {unknown}; canonical tables are {sorted(TABLES)}")
    ds = _open_for_validation(location, engine)
    problems: list[Problem] = []
    rows: dict[str, int] = {}
    typed: dict[str, ibis.Table] = {}
    for name in wanted:
        if not ds.has(name):
            if TABLES[name].optional:
                continue
            problems.append(Problem(name, None, "table_present", 0, (f"no {name}.parquet, {name}/ or {name}.csv",)))
            continue
        found, table_typed, n = _check_table(ds, TABLES[name])
        problems += found
        rows[name] = n
        typed[name] = table_typed
    for name in typed:
        problems += _check_references(TABLES[name], typed)
    return ValidationReport(str(location), rows, tuple(problems))


def _open_for_validation(location, engine: Engine) -> sources.Dataset:
    """Open text-as-text and, on DuckDB, with the file name and row number of every row."""
    location = str(location)
    if engine != "duckdb" or "://" in location:
        return sources.open_dataset(location, engine, as_text=True)
    files = sources.find_table_files(location)
    con = ibis.duckdb.connect(**duckdb_config())
    tables = {}
    for name, tf in files.items():
        if tf.format == "parquet":
            scan = f"read_parquet('{tf.glob}', filename=true, file_row_number=true)"
            select = f"* EXCLUDE (filename, file_row_number), filename AS {FILE}, file_row_number + 1 AS {ROW}"
        else:  # insertion order is preserved, so row_number() is the data row (line minus header)
            scan = f"read_csv('{tf.glob}', all_varchar=true, header=true, filename=true)"
            select = f"* EXCLUDE (filename), filename AS {FILE}, row_number() OVER () AS {ROW}"
        try:
            con.raw_sql(f'CREATE VIEW "{name}" AS SELECT {select} FROM {scan}')
        except Exception as exc:
            raise sources.DataSourceError(f"cannot read table {name!r} from {tf.path}: {exc}") from exc
        tables[name] = con.table(name)
    return sources.Dataset(con, "duckdb", location, files, tables)


def _kind_ok(col: Column, found: dt.DataType) -> bool:
    """Whether a stored type holds the declared type without loss."""
    want = col.dtype
    if want == "string":
        return found.is_string()
    if want in ("int64", "int32"):
        return found.is_integer()
    if want == "float64":
        return found.is_floating() or found.is_integer() or found.is_decimal()
    if want == "date":
        return found.is_date()
    return found.is_boolean()


def _locator(t: ibis.Table, table: Table) -> list[str]:
    if ROW in t.columns:
        return [FILE, ROW]
    return [c for c in table.primary_key if c in t.columns]


def _fmt(value) -> str:
    """A value as the user wrote it: plain Python repr, dates as ISO text, missing as None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "None"
    if isinstance(value, pd.Timestamp):
        return repr(value.date().isoformat())
    if hasattr(value, "item"):
        value = value.item()
    return repr(value)


def _describe(row, locator: list[str], shown: list[str]) -> str:
    if locator and locator[0] == FILE:
        where = f"row {int(row[ROW])} of {row[FILE]}"
    else:
        where = ", ".join(f"{k}={_fmt(row[k])}" for k in locator) or "a row"
    values = ", ".join(f"{c.removeprefix(TEXT)}={_fmt(row[c])}" for c in shown if c not in locator)
    return f"{where}: {values}" if values else where


def _check_table(ds: sources.Dataset, table: Table) -> tuple[list[Problem], ibis.Table, int]:
    raw = ds.table(table.name)
    problems: list[Problem] = []
    present = [c for c in table.columns if c.name in raw.columns]
    for col in table.columns:
        if col.name not in raw.columns:
            problems.append(Problem(table.name, col.name, "column_present", 0,
                                    (f"columns found: {', '.join(c for c in raw.columns if not c.startswith('__'))}",)))
    # Type: stored types must match; text (CSV) must cast. Failed casts are errors, never NULLs.
    violations: dict[tuple[str | None, str], tuple[ibis.Expr, list[str]]] = {}
    casts, texts = {}, {}
    for col in present:
        found = raw[col.name].type()
        if found.is_string() and col.dtype != "string":
            casts[col.name] = raw[col.name].try_cast(IBIS_TYPES[col.dtype])
            texts[TEXT + col.name] = raw[col.name]  # kept so a failed cast can be shown as written
        elif not _kind_ok(col, found):
            problems.append(Problem(table.name, col.name, f"type {col.dtype}", 0, (f"stored as {found}",)))
        elif col.dtype in ("int32", "int64", "float64") and found != dt.dtype(IBIS_TYPES[col.dtype]):
            casts[col.name] = raw[col.name].cast(IBIS_TYPES[col.dtype])
    typed = raw.mutate(**texts, **casts) if casts else raw
    for text in texts:
        name = text.removeprefix(TEXT)
        flag = typed[text].notnull() & typed[name].isnull()
        violations[(name, f"type {table.column(name).dtype}")] = (flag, [text])
    for col in present:
        v = typed[col.name]
        if col.required:  # a value that failed its cast is a type error, not a missing value
            stored = typed[TEXT + col.name] if TEXT + col.name in typed.columns else v
            violations[(col.name, "required")] = (stored.isnull(), [col.name])
        if col.allowed is not None:
            violations[(col.name, "allowed values")] = (v.notnull() & ~v.isin(list(col.allowed)), [col.name])
        for bound, op in ((col.minimum, "__lt__"), (col.maximum, "__gt__")):
            if bound is not None:
                limit = ibis.date(bound) if col.dtype == "date" else bound
                rule = f"{'>=' if op == '__lt__' else '<='} {bound}"
                violations[(col.name, rule)] = (v.notnull() & getattr(v, op)(limit), [col.name])
        if col.pattern is not None:
            violations[(col.name, f"pattern {col.pattern}")] = (v.notnull() & ~v.re_search(col.pattern), [col.name])
    columns_ok = len(present) == len(table.columns)
    if columns_ok:
        for check in table.checks:
            violations[(None, check.name)] = (~check.rule(typed).fill_null(True), [])
    keys = list(violations)
    counts = typed.aggregate(
        __n=typed.count(),
        **{f"v{i}": violations[k][0].cast("int64").sum() for i, k in enumerate(keys)},
    ).execute().iloc[0]
    n_rows = int(counts["__n"])
    locator = _locator(typed, table)
    for i, (column, rule) in enumerate(keys):
        broken = int(counts[f"v{i}"] or 0)
        if broken:
            flag, shown = violations[(column, rule)]
            extra = [] if column else [c for c in table.column_names if c in typed.columns][:6]
            cols = list(dict.fromkeys(locator + shown + extra))
            sample = typed.mutate(__bad=flag).filter(ibis._.__bad).select(*cols)
            if ROW in cols:
                sample = sample.order_by(ROW)
            examples = tuple(_describe(r, locator, cols) for _, r in sample.limit(MAX_EXAMPLES).execute().iterrows())
            problems.append(Problem(table.name, column, rule, broken, examples))
    if columns_ok and table.primary_key:
        problems += _check_unique(typed, table, list(table.primary_key), "primary key unique")
    for col in present:
        if col.unique and (col.name,) != table.primary_key:
            problems += _check_unique(typed, table, [col.name], "unique")
    clean = typed.drop(*[c for c in typed.columns if c in (ROW, FILE) or c.startswith(TEXT)])
    return problems, clean, n_rows


def _check_unique(t: ibis.Table, table: Table, key: list[str], rule: str) -> list[Problem]:
    dupes = t.filter([t[k].notnull() for k in key]).group_by(key).aggregate(__copies=ibis._.count())
    dupes = dupes.filter(dupes.__copies > 1)
    n = int(dupes.count().execute())
    if not n:
        return []
    sample = dupes.order_by(key).limit(MAX_EXAMPLES).execute()
    examples = tuple(
        ", ".join(f"{k}={_fmt(r[k])}" for k in key) + f" appears {int(r['__copies'])} times"
        for _, r in sample.iterrows()
    )
    column = key[0] if len(key) == 1 else ", ".join(key)
    return [Problem(table.name, column, rule, n, examples)]


def _check_references(table: Table, typed: dict[str, ibis.Table]) -> list[Problem]:
    out = []
    t = typed[table.name]
    for col in table.columns:
        if col.references is None or col.name not in t.columns:
            continue
        ref_table, ref_col = col.references.split(".")
        if ref_table not in typed:
            out.append(Problem(table.name, col.name, f"exists in {col.references}", 0,
                               (f"table {ref_table!r} is absent, so this was not checked",), "warning"))
            continue
        ref = typed[ref_table].select(ref_col).distinct()
        orphans = t.filter(t[col.name].notnull()).anti_join(ref, t[col.name] == ref[ref_col])
        n = int(orphans.count().execute())
        if n:
            values = orphans.select(col.name).distinct().order_by(col.name).limit(MAX_EXAMPLES).execute()
            examples = tuple(f"{col.name}={_fmt(v)} not in {col.references}" for v in values[col.name])
            out.append(Problem(table.name, col.name, f"exists in {col.references}", n, examples))
    return out
