"""Survey tables leave the pipeline through the output boundary with their declared control (issue 15):
respondents by Pioneer (sub-national) have no count of 1-7, others are rounded to 5; a table with no
declared control is refused rather than written uncontrolled."""

import numpy as np
import pandas as pd
import pytest

from joinedup.simulate.ki_panel import simulate_ki_panel
from joinedup.survey.analysis import analyse
from joinedup.survey.analysis.run import OUTPUT_CONTROL, write_survey_tables


def test_respondents_by_pioneer_are_controlled_on_disk(tmp_path):
    sim = simulate_ki_panel(2013)
    tables = analyse(sim["invitations"], sim["responses"], sim["codes"], sim["codebook"], change=False)
    raw = tables["respondents_by_pioneer"]["n"]
    assert raw.between(1, 7).any()  # the simulated panel has small sites: the control has work to do
    write_survey_tables(tables, tmp_path)
    for read, ext in ((pd.read_csv, "csv"), (pd.read_parquet, "parquet")):
        got = read(tmp_path / "tables" / f"survey_respondents_by_pioneer.{ext}")
        n = got["n"].to_numpy(dtype=float)
        assert np.isnan(n[raw.between(1, 7).to_numpy()]).all()
        shown = n[~np.isnan(n)]
        assert (shown % 5 == 0).all() and got["suppressed"].sum() == raw.between(1, 7).sum()
    assert set(tables) <= set(OUTPUT_CONTROL)


def test_a_table_without_declared_control_is_refused(tmp_path):
    with pytest.raises(KeyError, match="no disclosure control declared"):
        write_survey_tables({"new_table": pd.DataFrame({"n": [3]})}, tmp_path)
    assert not (tmp_path / "tables").exists()
