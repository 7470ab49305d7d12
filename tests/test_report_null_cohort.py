"""Issue 16, "the report on the null scenario says there is no clear effect, in every section": the
cohort (person-level, risk-set matched) section too. A run with a ``[cohort]`` table on the
simulator's null scheme (:func:`joinedup.simulate.cohort_scheme.add_triggered_scheme` with
``effect=0``: people enrolled after an emergency admission, their admissions untouched) on the small
simulated England of tests/conftest.py (0.5% scale), set up as tests/test_cohort_pipeline.py does.

The section's "Finding:" sentence must say there was no clear change, and its numbers must be the
pooled matched DiD of the written ``cohort_estimates`` table (so the words cannot drift from it).
"""

import re
import shutil
import warnings

import pandas as pd
import pytest
from tests.test_report_null import _section_text

from joinedup.pipeline import run_protocol
from joinedup.protocol import load_protocol
from joinedup.simulate.cohort_scheme import add_triggered_scheme

PROTOCOL = """
[evaluation]
name = "Care navigation after an emergency admission (null scheme)"

[data]
source = "data"

[cohort]
enrolments = "data/enrolled.csv"
eligibility = [
  {field = "age", op = ">=", value = 65},
  {field = "emergency_admissions", months = 1, op = ">=", value = 1},
  {field = "practice_code", op = "in_scheme"},
]
bootstrap = 100
outcomes = ["emergency_admissions", "bed_days"]
"""


@pytest.fixture(scope="module")
def null_cohort_run(small_england, tmp_path_factory):
    root = tmp_path_factory.mktemp("null_cohort")
    shutil.copytree(small_england, root / "data")
    add_triggered_scheme(root / "data", trigger="admission", effect=0.0, seed=5, months=12)
    (root / "cohort.toml").write_text(PROTOCOL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_protocol(load_protocol(root / "cohort.toml"), out=root / "out")
    return pd.read_csv(root / "out" / "tables" / "cohort_estimates.csv"), result.report.read_text(encoding="utf-8")


def test_cohort_section_says_no_clear_effect_on_the_null_scheme(null_cohort_run):
    est, html = null_cohort_run
    pooled = est[(est["group"] == "pooled") & (est["outcome"] == "emergency_admissions")
                 & (est["design"] == "matched DiD")].iloc[0]
    assert pooled["ci_low"] <= 0 <= pooled["ci_high"], pooled  # the null scheme: the design finds nothing
    text = _section_text(html, "cohort")
    found = re.search(r"Finding: (.*?) \(matched DiD: ([+-]\d+\.\d{3}) a person, 95% CI ([+-]\d+\.\d{3}) to "
                      r"([+-]\d+\.\d{3})\); (\d+) of (\d+) pooled estimates have intervals that exclude no effect\.",
                      text)
    assert found, text[:1500]
    assert found.group(1) == "there was no clear change in emergency admissions of the people enrolled"
    # every number in the sentence is the table's, rounded as shown
    assert [float(found.group(i)) for i in (2, 3, 4)] == [
        round(float(pooled[c]), 3) for c in ("estimate", "ci_low", "ci_high")]
    shown = est[(est["group"] == "pooled") & est["ci_low"].notna() & est["ci_high"].notna()]
    clear = int(((shown["ci_high"] < 0) | (shown["ci_low"] > 0)).sum())
    assert (int(found.group(5)), int(found.group(6))) == (clear, len(shown))
    # (on this seed the outcome-regression rows of both outcomes exclude zero, upwards, while the
    # matched DiD, the section's headline design, holds it: the count says so rather than hiding it)
    # the sentence is the section's first finding and comes before the tables
    assert html.index("Finding: there was no clear change in emergency admissions of the people enrolled") < \
        html.index("Effects per person over follow-up")


def test_cohort_finding_follows_the_interval_either_way():
    from joinedup.report.section_findings import cohort_finding_html

    def frame(lo, hi):
        return pd.DataFrame({"group": ["pooled", "Barnsley"], "outcome": ["emergency_admissions"] * 2,
                             "design": ["matched DiD"] * 2, "estimate": [(lo + hi) / 2, 9.0],
                             "ci_low": [lo, 8.0], "ci_high": [hi, 10.0]})
    assert "the scheme reduced emergency admissions" in cohort_finding_html(frame(-0.3, -0.1))
    assert "the scheme increased emergency admissions" in cohort_finding_html(frame(0.1, 0.3))
    assert "0 of 1 pooled" in cohort_finding_html(frame(-0.3, 0.1))  # a site's row is not counted
    assert cohort_finding_html(frame(-0.3, 0.1).assign(design="outcome regression")) == ""  # no headline: nothing
