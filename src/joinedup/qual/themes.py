"""Coded themes by site, from the workbench's framework matrix, for the typologies and the report.

Three ways in, one shape out (a site x theme table of segment counts, index = site):

* :func:`theme_counts` from a workbench project (the matrix by a case attribute, default ``site``:
  segments of each top-level code, as :func:`joinedup.qual.retrieve.matrix` groups them);
* :func:`read_theme_matrix` from the matrix's Excel export (:func:`~joinedup.qual.retrieve.matrix_to_excel`:
  its "Segments" sheet is counted per row and theme) or from a CSV, either wide (first column the
  site, one column of counts per theme) or long (``site, theme, segments``).

:func:`theme_features` turns counts into 0/1 ``theme:<name>`` features (a theme is *present* at a
site with at least ``min_segments`` coded segments; sites with no coded material get 0, i.e. "not
found", which the typologies treat like any absent feature). The framework method's unit is the
case or site (Gale et al. 2013); presence rather than counts, because counts follow how much was
collected at a site (interviews, documents), not how much the theme mattered.

:func:`read_framework_summaries` reads the researcher's cell summaries for the report
(:mod:`joinedup.report.framework_section`).

Example:
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"Workforce": [3, 0], "Leadership": [0, 2]}, index=["A", "B"])
    >>> theme_features(counts).loc["A"].tolist()
    [1, 0]
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class ThemeMatrixError(ValueError):
    """A theme matrix that cannot be read (the message names the file and the problem)."""


def theme_counts(wb, project_id: int, username: str, role: str = "lead", by: str = "site") -> pd.DataFrame:
    """Site (the ``by`` attribute's values) x theme segment counts of a workbench project.

    Example:
        >>> theme_counts(wb, pid, "lead", by="site")                              # doctest: +SKIP
    """
    from joinedup.qual.retrieve import matrix

    m = matrix(wb, project_id, username, role, by=by)
    names = {t["id"]: t["name"] for t in m["themes"]}
    frame = pd.DataFrame(0, index=pd.Index(m["rows"], name="site"), columns=list(names.values()), dtype=int)
    for (row, tid), items in m["cells"].items():
        frame.loc[row, names[tid]] = len(items)
    return frame


def _from_long(frame: pd.DataFrame, what: str, row: str, theme: str, count: str | None) -> pd.DataFrame:
    d = frame.assign(_n=1 if count is None else pd.to_numeric(frame[count], errors="coerce"))
    if d["_n"].isna().any() or (d["_n"] < 0).any():
        line = int(d.index[d["_n"].isna() | (d["_n"] < 0)][0]) + 2
        raise ThemeMatrixError(f"{what}, line {line}: {count} is not a count >= 0")
    out = d.pivot_table(index=row, columns=theme, values="_n", aggfunc="sum", fill_value=0).astype(int)
    out.index.name, out.columns.name = "site", None
    return out


def read_theme_matrix(path: str | Path) -> pd.DataFrame:
    """Site x theme counts from a framework-matrix export (``.xlsx``) or a CSV (module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise ThemeMatrixError(f"theme matrix {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
            if "Segments" not in sheets:
                raise ThemeMatrixError(f"{path}: no 'Segments' sheet (export the framework matrix from the workbench)")
            seg = sheets["Segments"]
            if not {"row", "theme"} <= set(seg.columns):
                raise ThemeMatrixError(f"{path}: the 'Segments' sheet needs columns row and theme")
            return _from_long(seg, str(path), "row", "theme", None)
        if suffix != ".csv":
            raise ThemeMatrixError(f"{path}: a theme matrix is a .xlsx export or a .csv")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, ThemeMatrixError):
            raise
        raise ThemeMatrixError(f"{path}: not a readable theme matrix: {exc}") from None
    if {"site", "theme", "segments"} <= set(frame.columns):
        return _from_long(frame, str(path), "site", "theme", "segments")
    if frame.shape[1] < 2:
        raise ThemeMatrixError(f"{path}: need a site column and at least one theme column")
    wide = frame.set_index(frame.columns[0])
    counts = wide.apply(pd.to_numeric, errors="coerce")
    bad = counts.isna() | (counts < 0)
    if bad.any().any():
        i, col = next((i, c) for c in counts.columns for i in range(len(counts)) if bad[c].iloc[i])
        raise ThemeMatrixError(f"{path}, line {i + 2}, column {col!r}: {wide[col].iloc[i]!r} is not a count >= 0")
    counts.index.name = "site"
    return counts.astype(int)


def theme_features(counts: pd.DataFrame, min_segments: int = 1) -> pd.DataFrame:
    """0/1 ``theme:<name>`` columns per site: present with at least ``min_segments`` coded segments."""
    out = (counts >= min_segments).astype(int)
    out.columns = [f"theme:{c}" for c in counts.columns]
    return out


def with_theme_features(panel: pd.DataFrame, counts: pd.DataFrame, min_segments: int = 1) -> pd.DataFrame:
    """A site (x year) frame with the sites' ``theme:`` features joined on ``site`` (absent sites: 0)."""
    feats = theme_features(counts, min_segments)
    out = panel.merge(feats, left_on="site", right_index=True, how="left")
    out[feats.columns] = out[feats.columns].fillna(0).astype(int)
    return out


def read_framework_summaries(path: str | Path) -> pd.DataFrame:
    """The "Framework matrix" sheet of an export: index = row (case or site), columns = themes, cells =
    the researcher's summaries (empty where none was written: the export's "(n segments, no summary
    yet)" placeholder is dropped, so no count of anything reaches a reader)."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".xlsx":
        raise ThemeMatrixError(f"framework matrix {str(path)!r} is not an existing .xlsx export of the workbench")
    try:
        sheet = pd.read_excel(path, sheet_name="Framework matrix", dtype=str, keep_default_na=False)
    except ValueError as exc:
        raise ThemeMatrixError(f"{path}: no 'Framework matrix' sheet ({exc})") from None
    if sheet.shape[1] < 2:
        raise ThemeMatrixError(f"{path}: the 'Framework matrix' sheet has no theme columns")
    frame = sheet.set_index(sheet.columns[0])
    frame = frame.apply(lambda s: s.str.replace(r"^\(\d+ segments?, no summary yet\)$", "", regex=True))
    # the export neutralises formula-like text with a leading ' (OWASP); the report shows the text itself
    frame = frame.apply(lambda s: s.str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True))
    frame.index = frame.index.str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
    frame.columns = [str(c)[1:] if str(c)[:2] in ("'=", "'+", "'-", "'@") else str(c) for c in frame.columns]
    return frame
