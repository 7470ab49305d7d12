"""Issue 16: the report on the simulator's null scenario (no programmed effects) says there is no clear
effect, in every section: key messages, summary, impact, synthesis, economics and WP3; and every
number in the words comes from the output tables.

One small run (scale 0.003, 2012-2015, seed 2013, as tests/test_demo.py). With eleven impact
estimates, one may exclude no effect by chance (a 5% test, eleven times, on correlated designs): the
test asserts the wording of each follows its own interval, that such false positives are few, and that
the headline (first) estimate and every section's finding say "no clear change". The cohort section
needs an enrolment file and is not part of this run (see tests/test_cohort_simulated.py for its null).
"""

import re
import warnings

import pandas as pd
import pytest

from joinedup.pipeline import run_protocol
from joinedup.protocol import example_protocol_path, load_protocol
from joinedup.report.key_messages import glance_table, key_messages
from joinedup.report.numbers import underived
from joinedup.report.summary import read_tables
from joinedup.report.wp3_section import WORDING_CONSTANTS, wp3_sentences


@pytest.fixture(scope="module")
def null_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("null")
    text = example_protocol_path().read_text()
    text = (text.replace("scale = 0.02", "scale = 0.003").replace("years = [2010, 2019]", "years = [2012, 2015]")
            .replace('scenario = "default"', 'scenario = "null"'))
    assert 'scenario = "null"' in text
    path = folder / "protocol.toml"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_protocol(load_protocol(path), out=folder / "out")
    html = result.report.read_text(encoding="utf-8")
    return read_tables(folder / "out" / "tables"), html


def _section_text(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.find("<h2", start + 10)
    part = html[start:end if end > 0 else len(html)]
    part = re.sub(r"<svg.*?</svg>|<table.*?</table>|<details.*?</details>", " ", part, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", part)).replace("&#x27;", "'").replace("&amp;", "&")


def _clear(lo, hi) -> bool:
    return bool(hi < 0 or lo > 0)


def test_key_messages_and_glance_say_no_clear_effect(null_run):
    t, html = null_run
    est = t["impact_estimates"]
    clear = [_clear(lo, hi) for lo, hi in zip(est["ci_low"], est["ci_high"])]
    assert sum(clear) <= 2, est[["design", "estimator", "ci_low", "ci_high"]]  # false positives are few
    messages = key_messages(t, "emergency_admissions")
    effect = [m for m in messages if "Confidence:" in m]
    assert len(effect) == 3  # impact headline, pooled sites, MDT
    for m in effect:
        assert "no clear change" in m and "Confidence: low" in m, m
    glance = glance_table(t, "emergency_admissions")
    for finding, conf in zip(glance["Finding"], glance["Confidence"]):
        says_effect = finding.startswith(("the programme", "case management"))
        assert says_effect == (conf != "low"), (finding, conf)
    impact = glance[glance["Work package"] == "WP1 impact"]
    assert [not f.startswith("there was no clear") for f in impact["Finding"]] == clear  # words follow intervals


def test_every_section_says_no_clear_effect(null_run):
    _, html = null_run
    summary = _section_text(html, "summary").split("Limitations found")[0]
    for sentence in re.findall(r"Impact \(.*?\): [^:]*:", summary):
        assert "no clear change" in sentence, sentence
    assert "Across 13 sites (random-effects meta-analysis) there was no clear change" in summary or \
        re.search(r"Across \d+ sites \(random-effects meta-analysis\) there was no clear change", summary)
    assert "Community MDTs: against matched controls, there was no clear change" in summary
    assert "Finding: there was no clear change in emergency admissions" in _section_text(html, "impact")
    assert re.search(r"Across \d+ sites there was no clear change in emergency admissions",
                     _section_text(html, "synthesis"))
    assert "Finding: against matched controls, there was no clear change" in _section_text(html, "economics")
    wp3 = _section_text(html, "wp3")
    moderators = re.findall(r"(?:Typology group|Reported progress on unplanned admissions|Barriers rated significant)"
                            r"(?: \(\d+ sites\))?: [^.]*\.", wp3)
    assert len(moderators) == 3
    for sentence in moderators:
        assert any(w in sentence for w in ("no clear relation", "nothing to compare", "too few")), sentence
    assert "Warning:" in wp3 or "each moderator is tried alone" in wp3


def test_every_number_in_the_null_report_words_comes_from_the_tables(null_run):
    t, _ = null_run
    for sentence in key_messages(t, "emergency_admissions"):
        assert underived(sentence, t) == [], sentence
    for part in wp3_sentences(t, "emergency_admissions").values():
        for sentence in part:
            assert underived(sentence, t, allowed=WORDING_CONSTANTS) == [], sentence
    assert isinstance(t["wp3_sites"], pd.DataFrame) and len(t["wp3_sites"]) == int(t["synthesis_pooled"]["k"].iloc[0])
