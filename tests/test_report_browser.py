"""Issue 16, in Chromium (Debian's /usr/bin/chromium via Playwright): the report opens with no console
errors, every table has a caption, key messages come first, and the page is never wider than the
screen at 1280 px or 390 px, even with a table as wide as the SPC matrix (25 sites by 20 indicators)."""

import pandas as pd
import pytest
from tests.test_report_wording import tables

from joinedup.indicators.catalogue import CATALOGUE
from joinedup.report.browser_checks import check_report
from joinedup.report.html import ReportSection, render_report, table_html
from joinedup.report.key_messages import key_messages_section
from joinedup.report.pdf import chromium_path
from joinedup.report.summary import summary_section

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (make browser)")


def _report(tmp_path):
    t = tables()
    ids = list(CATALOGUE)[:20]
    spc = pd.DataFrame({"site": [f"Pioneer site number {i}" for i in range(25)],
                        **{i: ["special_cause_improvement_low"] * 25 for i in ids}})
    long = pd.DataFrame({"period": range(450), "value": [0.5] * 450})
    body = table_html(spc, "SPC variation by site and indicator") + table_html(long, "A long table")
    sections = [key_messages_section(t), summary_section(t), ReportSection("wide", "Wide tables", body)]
    path = tmp_path / "report.html"
    path.write_text(render_report("Test report", sections, {"Data": "hand-made"}), encoding="utf-8")
    return path


def test_report_in_chromium(tmp_path):
    found = check_report(_report(tmp_path), screenshots=tmp_path)
    for width, r in found.items():
        assert r["console_errors"] == [], width
        assert r["tables"] >= 3 and r["uncaptioned"] == 0, width
        assert r["first_h2"] == "Key messages", width
        assert 5 <= r["key_messages"] <= 8, width
        assert r["overflow"] <= 0, (width, r["overflow"])
    assert (tmp_path / "report-390.png").stat().st_size > 10_000
