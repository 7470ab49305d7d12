"""The main report's P3CEQ section (``[report] p3ceq_responses`` / ``p3ceq_licensed``): descriptive
change within the programme, its sentence re-derived from the disclosure-controlled table it shows,
never worded as an impact estimate; bad files refused with the file and the problem named.
The licensed file is the tests' placeholder (tests/p3ceq_placeholder.py): no P3CEQ wording here."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd
import pytest
from tests.p3ceq_placeholder import write_placeholder

from joinedup.protocol import ProtocolError, load_protocol
from joinedup.report.p3ceq_section import p3ceq_sentences, p3ceq_step
from joinedup.survey.p3ceq import ITEMS
from joinedup.survey.p3ceq_report import STATEMENT


def _responses(n_per_wave: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for wave, shift in ((1, 0), (2, 1), (10, 1)):  # later waves answer one option higher on q1-q3
        for i in range(n_per_wave):
            s = rng.integers(0, 3, len(ITEMS))
            s[:3] += shift
            rows.append({"wave": wave, "respondent": "proxy" if i % 10 == 0 else "self",
                         "p3ceq_trigger": "yes", **{n: str(v) for n, v in zip(ITEMS, s)}})
    return pd.DataFrame(rows)


def _protocol(folder, responses: pd.DataFrame | None, extra: str = ""):
    write_placeholder(folder / "licensed.csv")
    if responses is not None:
        responses.to_csv(folder / "p3ceq.csv", index=False)
    (folder / "p.toml").write_text(f"""
[evaluation]
name = "p3ceq"
[report]
p3ceq_responses = "p3ceq.csv"
p3ceq_licensed = "licensed.csv"
{extra}
""", encoding="utf-8")
    return load_protocol(folder / "p.toml")


def test_section_sentence_comes_from_the_controlled_table(tmp_path):
    section = p3ceq_step(_protocol(tmp_path, _responses(60)), tmp_path / "out")
    written = pd.read_parquet(tmp_path / "out" / "tables" / "p3ceq_change.parquet")
    assert section.id == "person-centred-own-survey" and html.escape(STATEMENT) in section.body_html
    total = written[written["scale"] == "total"].sort_values("wave")
    assert list(total["wave"]) == [1, 2, 10]  # numbered waves in number order
    assert (written["respondents"] % 5 == 0).all()  # counts rounded to 5 at the boundary
    (sentence,) = p3ceq_sentences(written)
    assert html.escape(sentence) in section.body_html
    first, last = total.iloc[0], total.iloc[-1]
    assert f"{first['mean']:.1f} in wave 1 ({int(first['respondents'])} respondents)" in sentence
    assert f"{last['mean']:.1f} in wave 10" in sentence
    change = float(re.search(r"change of ([+-][0-9.]+) points", sentence).group(1))
    assert change == pytest.approx(last["change_from_first_wave"], abs=0.05)
    assert 1.5 < change < 4.5  # programmed: one option higher on three questions = 3 points
    assert "not an estimate of the programme's impact" in sentence
    words = re.sub(r"not an estimate of the programme's impact|not a comparative impact estimate", "",
                   section.body_html.lower())
    assert "impact estimate" not in words and "effect" not in words


def test_small_waves_stay_suppressed_in_the_words(tmp_path):
    section = p3ceq_step(_protocol(tmp_path, _responses(3)), tmp_path / "out")
    written = pd.read_parquet(tmp_path / "out" / "tables" / "p3ceq_change.parquet")
    assert written["mean"].isna().all()
    (sentence,) = p3ceq_sentences(written)
    assert "suppressed in wave 1" in sentence and "change between them is suppressed" in sentence
    assert not re.search(r"\d+\.\d", sentence)  # no number from a suppressed cell


def test_bad_files_are_refused_by_name(tmp_path):
    bad = _responses(10).drop(columns=["wave"])
    with pytest.raises(ValueError, match=r"p3ceq\.csv needs a 'wave' column"):
        p3ceq_step(_protocol(tmp_path, bad), tmp_path / "out")
    blank = _responses(10)
    blank.loc[4, "wave"] = None
    with pytest.raises(ValueError, match=r"1 row\(s\) without a wave \(first at data row 6\)"):
        p3ceq_step(_protocol(tmp_path, blank), tmp_path / "out")
    (tmp_path / "alone.toml").write_text('[evaluation]\nname = "x"\n[report]\np3ceq_responses = "p3ceq.csv"\n')
    with pytest.raises(ProtocolError, match="go together"):
        load_protocol(tmp_path / "alone.toml")


def test_joinedup_run_puts_the_section_in_the_main_report(small_england, tmp_path):
    from joinedup.pipeline import run_protocol

    protocol = _protocol(tmp_path, _responses(60), extra=f'[data]\nsource = "{small_england}"\n'
                         f'[output]\nfolder = "{tmp_path / "out"}"\n')
    run_protocol(protocol, tmp_path / "out")
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    written = pd.read_parquet(tmp_path / "out" / "tables" / "p3ceq_change.parquet")
    assert 'id="person-centred-own-survey"' in report or "id='person-centred-own-survey'" in report
    (sentence,) = p3ceq_sentences(written)
    assert html.escape(sentence) in report and html.escape(STATEMENT) in report
    import openpyxl

    sheets = openpyxl.load_workbook(tmp_path / "out" / "tables.xlsx", read_only=True).sheetnames
    assert any(name.startswith("p3ceq_change") for name in sheets), sheets  # in the download too
