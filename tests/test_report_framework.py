"""[report] framework_matrix: the workbench's framework matrix (summaries only) in the report,
HTML-escaped, chosen cells only, never the coded segments' text, no segment counts."""

from __future__ import annotations

import pytest

from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol
from joinedup.qual.retrieve import matrix_to_excel
from joinedup.qual.themes import ThemeMatrixError
from joinedup.report.framework_section import framework_section

SECRET = "SECRET TRANSCRIPT: my neighbour Mrs Jones at 12 High Street"


def _export(path):
    seg = {"code": "Workforce", "source": "interview 1", "start": 0, "end": 10, "coder": "ann", "status": "final",
           "text": SECRET}
    m = {"by": "site", "rows": ["Leeds", "Kent"],
         "themes": [{"id": 1, "name": "Workforce"}, {"id": 2, "name": "Leadership"}],
         "cells": {("Leeds", 1): [seg] * 3, ("Kent", 2): [seg]},
         "summaries": {("Leeds", 1): "Shortages of <b>district nurses</b> <script>alert(1)</script> slowed MDTs",
                       ("Kent", 1): "=HYPERLINK(\"http://x\") strong & stable"}}
    return matrix_to_excel(m, path)


def test_summaries_escaped_segments_and_counts_never_shown(tmp_path):
    section = framework_section(str(_export(tmp_path / "matrix.xlsx")))
    html = section.body_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html and "<b>" not in html
    assert "<td>=HYPERLINK(\"http://x\") strong &amp; stable</td>" in html  # the text itself, escaped
    assert "Mrs Jones" not in html and "SECRET" not in html
    assert "segment" not in html.split("</p>", 1)[1]  # no "(3 segments, no summary yet)" in the table
    assert html.count("no summary") == 2  # Leeds x Leadership, Kent x Leadership
    assert "2 rows by 2 themes, 2 cells with a summary" in html


def test_chosen_cells_only_and_unknown_names_named(tmp_path):
    path = str(_export(tmp_path / "matrix.xlsx"))
    html = framework_section(path, themes=["Workforce"], rows=["Kent"]).body_html
    assert "strong &amp; stable" in html and "district nurses" not in html and "Leadership" not in html
    with pytest.raises(ThemeMatrixError, match="framework_themes: 'Finance' not in the matrix"):
        framework_section(path, themes=["Finance"])
    with pytest.raises(ThemeMatrixError, match="framework_rows: 'York' not in the matrix"):
        framework_section(path, rows=["York"])


def test_the_pipeline_puts_it_in_the_report(tiny, tmp_path):
    _export(tmp_path / "matrix.xlsx")
    path = tmp_path / "protocol.toml"
    path.write_text(f'[evaluation]\nname = "T"\n[data]\nsource = "{tiny}"\n'
                    f'[report]\nframework_matrix = "matrix.xlsx"\nframework_themes = ["Workforce"]\n'
                    f'[output]\nfolder = "{tmp_path / "out"}"\n')
    html = run_protocol(load_protocol(path)).report.read_text()
    assert 'id="framework-matrix"' in html and "district nurses" in html and "SECRET" not in html
