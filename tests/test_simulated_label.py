"""Honest labelling: a run on data from a folder (as imported data is: no `simulate`, no truth.json)
whose [survey] names no files shows the simulated key-informant panel as simulated in every place it
appears: section title, note, summary, key messages, table captions, chart titles and every written
survey table. With survey files the label is absent (so the check can fail)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol
from joinedup.report.simulated import SURVEY_NOTE, SURVEY_TITLE
from tiny_dataset import write_tiny_dataset


def _run(tmp_path, survey_lines: str):
    data = write_tiny_dataset(tmp_path / "imported")
    path = tmp_path / "p.toml"
    path.write_text(f"""
[evaluation]
name = "real data"
[data]
source = "{data}"
[survey]
typology = false
{survey_lines}
""", encoding="utf-8")
    run = run_protocol(load_protocol(path), out=tmp_path / "out")
    return run, run.report.read_text(encoding="utf-8")


def _survey_section(html: str) -> str:
    start = html.index('id="survey"')
    end = html.find("<section", start)
    return html[start:end if end > 0 else len(html)]


@pytest.fixture(scope="module")
def simulated_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("sim"), "")


def test_every_place_the_simulated_panel_appears_says_simulated(simulated_run):
    run, html = simulated_run
    assert not (run.out_dir / "data").exists()          # the dataset itself was not simulated
    assert SURVEY_TITLE in html and SURVEY_NOTE in html
    section = _survey_section(html)
    captions = re.findall(r"<caption>(.*?)</caption>", section, flags=re.DOTALL)
    assert len(captions) >= 3 and all(c.startswith("Simulated (not real responses): ") for c in captions), captions
    titles = re.findall(r"<figcaption[^>]*>(.*?)</figcaption>", section, flags=re.DOTALL)
    assert titles and all("Simulated (not real responses)" in t for t in titles), titles
    # Summary and key messages: every sentence on the survey is labelled, none unlabelled.
    assert "Simulated key-informant survey (not real responses): wave" in html
    assert re.search(r"(?<!Simulated )[Kk]ey-informant survey: wave", html) is None
    for phrase in ("Local leaders", "Progress most often reported", "The barrier most often called"):
        assert phrase in html  # the key messages and summary do speak of the survey
        for m in re.finditer(phrase, html):
            assert html[max(0, m.start() - 46):m.start()].endswith("Simulated survey panel (not real responses): "), \
                html[m.start() - 80:m.start() + 40]
    tables = sorted((run.out_dir / "tables").glob("survey_*.csv"))
    assert len(tables) >= 4
    for path in tables:
        frame = pd.read_csv(path)
        assert (frame["data_source"] == "simulated").all(), path.name


def test_with_survey_files_there_is_no_label(tmp_path):
    from joinedup.simulate.ki_panel import simulate_ki_panel

    sim = simulate_ki_panel(2013)
    for name in ("invitations", "responses"):
        sim[name].to_csv(tmp_path / f"{name}.csv", index=False)
    run, html = _run(tmp_path, f'invitations = "{tmp_path / "invitations.csv"}"\n'
                               f'responses = "{tmp_path / "responses.csv"}"')
    assert "Simulated" not in _survey_section(html) and SURVEY_NOTE not in html
    assert "Key-informant survey: wave" in html
    assert "data_source" not in pd.read_csv(run.out_dir / "tables" / "survey_response_rates.csv").columns
