"""Run the whole key-informant analysis and write one CSV per table.

Example:
    >>> # tables = analyse("invitations.csv", "responses.csv", "codes.csv", "codebook.csv", out_dir="out")
    >>> # sorted(tables)[:3] -> ['barriers', 'change', 'codes_by_org']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from joinedup.survey.analysis.change import change_table
from joinedup.survey.analysis.codes import codes_by_org
from joinedup.survey.analysis.inputs import read_inputs
from joinedup.survey.analysis.tables import (
    barriers_table,
    helpfulness_table,
    involvement_table,
    panel_participation,
    progress_table,
    respondents_by,
    response_rates_table,
)


# Disclosure control of each table, declared once next to the tables (DESIGN.md: the boundary cannot be
# bypassed by forgetting): (count columns, national). Only respondents by Pioneer are sub-national; the
# other tables cover the whole programme's panel, which the HES rule leaves as they are (as the
# original evaluation published them). A table missing here is refused by write_survey_tables.
OUTPUT_CONTROL: dict[str, tuple[list[str], bool]] = {
    "respondents_by_pioneer": (["n"], False),
    "response_rates": (["invited", "eligible", "complete", "partial"], True),
    "respondents_by_org": (["n"], True),
    "panel_participation": (["panelists"], True),
    "progress": (["n"], True),
    "barriers": (["n"], True),
    "helpfulness": (["n"], True),
    "involvement": (["n"], True),
    "process_items": (["n"], True),
    "process_answers": (["n"], True),
    "codes_by_org": ([], True),
    "change": ([], True),
}


def write_survey_tables(tables: dict[str, pd.DataFrame], out_dir, disclosure_control: bool = True) -> dict:
    """Write each table as ``tables/survey_<name>`` through the output boundary with its declared
    control (:data:`OUTPUT_CONTROL`); return what was written.

    Example:
        >>> # write_survey_tables(analyse(inv, resp), "out")["respondents_by_pioneer"]
    """
    from joinedup.outputs import write_table

    unknown = sorted(set(tables) - set(OUTPUT_CONTROL))
    if unknown:
        raise KeyError(f"survey table(s) {unknown} have no disclosure control declared in OUTPUT_CONTROL")
    return {name: write_table(frame, out_dir, f"survey_{name}", OUTPUT_CONTROL[name][0], OUTPUT_CONTROL[name][1],
                              disclosure_control=disclosure_control)
            for name, frame in tables.items()}


def controlled_survey_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each table after its declared disclosure control (:data:`OUTPUT_CONTROL`), without writing it:
    for ``joinedup survey analyse``, whose CSVs leave the program like the pipeline's tables.

    Example:
        >>> # controlled_survey_tables(analyse(inv, resp))["respondents_by_pioneer"]
    """
    from joinedup.disclosure import control_counts

    unknown = sorted(set(tables) - set(OUTPUT_CONTROL))
    if unknown:
        raise KeyError(f"survey table(s) {unknown} have no disclosure control declared in OUTPUT_CONTROL")
    return {name: control_counts(frame, *OUTPUT_CONTROL[name]) for name, frame in tables.items()}


def analyse(invitations, responses, codes=None, codebook=None, out_dir: str | Path | None = None,
            change: bool = True) -> dict[str, pd.DataFrame]:
    """Validate the inputs (paths or DataFrames) and build every table; write ``<name>.csv`` into
    ``out_dir`` when given. ``codes_by_org`` is there only when codes are given; ``change=False``
    skips the (slower) tests of change.

    Raises :class:`~joinedup.survey.analysis.inputs.SurveyInputError` naming file, line and column.

    Example:
        >>> # analyse(inv_df, resp_df, out_dir="ki")["response_rates"]
    """
    data = read_inputs(invitations, responses, codes, codebook)
    tables = {
        "response_rates": response_rates_table(data),
        "respondents_by_org": respondents_by(data, "org_type"),
        "respondents_by_pioneer": respondents_by(data, "pioneer"),
        "panel_participation": panel_participation(data),
        "progress": progress_table(data),
        "barriers": barriers_table(data),
        "helpfulness": helpfulness_table(data),
        "involvement": involvement_table(data),
    }
    from joinedup.survey.analysis.process_items import (
        has_process_items,
        process_answers_table,
        process_items_table,
    )

    if has_process_items(data):  # instrument 2017.1 and later
        tables["process_items"] = process_items_table(data)
        tables["process_answers"] = process_answers_table(data)
    if data.codes is not None:
        tables["codes_by_org"] = codes_by_org(data)
    if change:
        tables["change"] = change_table(data)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            frame.to_csv(out / f"{name}.csv", index=False)
    return tables
