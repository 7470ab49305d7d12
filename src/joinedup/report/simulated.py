"""Honest labelling of simulated stand-ins: material the run simulated because the protocol gave no
real input for it (today: the key-informant survey panel when ``[survey]`` names no files).

Every table of such a stand-in carries a ``data_source`` column saying ``simulated`` (so the CSVs,
the workbook and the report's tables say it on every row), and the report's summary, key messages,
section title, captions and chart titles read :func:`is_simulated` to say it in words.

Example:
    >>> import pandas as pd
    >>> t = label_simulated({"rates": pd.DataFrame({"wave": [1]})})
    >>> t["rates"]["data_source"].tolist(), is_simulated(t["rates"])
    (['simulated'], True)
"""

from __future__ import annotations

import pandas as pd

COLUMN = "data_source"
SIMULATED = "simulated"
SURVEY_TITLE = "Key-informant survey (WP1): SIMULATED panel, not real responses"
SURVEY_NOTE = ("These survey results are simulated: the protocol's [survey] section names no response "
               "files, so a simulated key-informant panel stands in to show the analysis. They say nothing "
               "about the programme. Give invitations and responses files, or drop [survey], for a report "
               "without them.")


def label_simulated(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each table with a first column ``data_source`` = ``simulated``."""
    return {name: frame.assign(**{COLUMN: SIMULATED})[[COLUMN, *frame.columns]] for name, frame in tables.items()}


def is_simulated(frame: pd.DataFrame | None) -> bool:
    """Whether a (written, read back) table is a simulated stand-in."""
    return frame is not None and COLUMN in frame.columns and bool((frame[COLUMN] == SIMULATED).any())
