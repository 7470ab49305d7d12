"""The output boundary: every results table leaves through here, with disclosure control applied.

Example:
    >>> import pandas as pd, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> out = write_table(pd.DataFrame({"area": ["a"], "n": [6]}), folder, "t", ["n"])
    >>> bool(out["n"].isna().all()), sorted(p.name for p in folder.glob("tables/*"))
    (True, ['t.csv', 't.parquet'])
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.disclosure import control_counts


def write_table(frame: pd.DataFrame, out_dir: Path, name: str, count_columns: list[str],
                national=False, disclosure_control: bool = True) -> pd.DataFrame:
    """Write ``tables/{name}.parquet`` and ``.csv`` after disclosure control; return what was written.

    ``national``: True if every row is for England as a whole, or a boolean per row.
    """
    controlled = control_counts(frame, count_columns, national) if disclosure_control else frame.copy()
    folder = Path(out_dir) / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    controlled.to_parquet(folder / f"{name}.parquet", index=False)
    controlled.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    return controlled
