"""Read many years' published files at once: every GPPS practice CSV and ASCOF CSV in a folder, the
year taken from the published file name (``GPPS_2016_Practice_data...csv``; ``ascof_2016.csv`` or
any name with one four-digit year for ASCOF, the financial year it starts), into one long table and
one rejects table; :func:`write_experience_tables` writes them through the disclosure boundary.

Example:
    >>> read = read_published_folder("data/england/published_surveys")              # doctest: +SKIP
    >>> read.table.groupby(["source", "measure"]).size()                            # doctest: +SKIP
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from joinedup.experience._rejects import PublishedLayoutError, SurveyRead
from joinedup.experience.ascof import read_ascof
from joinedup.experience.gpps import read_gpps

_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


def year_from_name(path: Path) -> int:
    """The one four-digit year in a published file's name, or an error naming the file."""
    years = set(_YEAR.findall(Path(path).name))
    if len(years) != 1:
        raise PublishedLayoutError(f"{Path(path).name}: cannot tell the survey year from the file name "
                                   "(it needs exactly one year such as 2016)")
    return int(years.pop())


def read_published_folder(folder, gpps_measures=("preferred_gp",), ascof_codes=("1A", "3A", "3D"),
                          item_map: dict | None = None) -> SurveyRead:
    """Every ``gpps/*.csv`` and ``ascof/*.csv`` under ``folder`` (see the module docstring)."""
    folder = Path(folder)
    reads = [read_gpps(p, year_from_name(p), gpps_measures, item_map) for p in sorted((folder / "gpps").glob("*.csv"))]
    reads += [read_ascof(p, year_from_name(p), ascof_codes) for p in sorted((folder / "ascof").glob("*.csv"))]
    if not reads:
        raise PublishedLayoutError(f"{folder}: no gpps/*.csv or ascof/*.csv files")
    out = SurveyRead(pd.concat([r.table for r in reads], ignore_index=True),
                     pd.concat([r.rejects for r in reads], ignore_index=True), read=sum(r.read for r in reads))
    out.notes = [n for r in reads for n in r.notes]
    return out


def write_experience_tables(read: SurveyRead, out_dir, disclosure_control: bool = True) -> pd.DataFrame:
    """``tables/experience_measures`` (counts controlled: respondents and positive answers per unit are
    sub-national counts; a share whose
    numerator is 1-7 is suppressed like any rate) and
    ``rejects/experience_measures.csv``."""
    from joinedup.experience._rejects import write_rejects
    from joinedup.outputs import write_table

    write_rejects(read, Path(out_dir), "experience_measures")
    return write_table(read.table, Path(out_dir), "experience_measures", ["base", "positive"],
                       disclosure_control=disclosure_control, rates={"value": "positive"})
