"""Read an initiative register from CSV or Excel and write its rejects file.

Example:
    >>> reg = read_register("register.xlsx", rejects="register_rejects.csv")     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.process.register import Register, RegisterError, validate_register


def read_register(path: str | Path, rejects: str | Path | None = None, sheet: str | int = 0) -> Register:
    """The register in ``path`` (``.csv``, ``.xlsx``), checked; rejected rows go to ``rejects`` (CSV)
    when given. Every cell is read as text so that nothing is reinterpreted before the checks."""
    path = Path(path)
    if not path.is_file():
        raise RegisterError(f"register file {str(path)!r} does not exist")
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False)
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raise RegisterError(f"{path}: a register is a .csv or .xlsx file")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, RegisterError):
            raise
        raise RegisterError(f"{path}: not a readable register: {exc}") from None
    # Excel hands dates typed as dates back as 'YYYY-MM-DD 00:00:00'
    for col in ("start_date", "end_date", "period"):
        if col in frame.columns:
            frame[col] = frame[col].astype(str).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True)
    reg = validate_register(frame, what=str(path))
    if rejects is not None:
        reg.rejects.to_csv(rejects, index=False)
    return reg


def register_text(reg_rows: pd.DataFrame) -> pd.DataFrame:
    """Typed register rows back in the register layout as text (dates YYYY-MM-DD, yes/no, whole
    scales), as a team writes them in a spreadsheet."""
    from joinedup.process.register import REGISTER_COLUMNS

    out = reg_rows[list(REGISTER_COLUMNS)].copy()
    for col in ("start_date", "end_date", "period"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d").fillna("")
    for col in ("prevention", "personalisation"):
        out[col] = out[col].map({True: "yes", False: "no"})
    out["scale"] = out["scale"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    return out.fillna("")


def write_register(reg_rows: pd.DataFrame, path: str | Path) -> None:
    """Write accepted rows in the register layout (dates as YYYY-MM-DD, yes/no), CSV or Excel."""
    out = register_text(reg_rows)
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            out.to_excel(writer, index=False)
            # openpyxl stores text starting with "=" as a formula, which Excel would run and which
            # reads back as something else: such cells are kept as text
            for row in writer.sheets["Sheet1"].iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        cell.data_type = "s"
    else:
        out.to_csv(path, index=False)
