"""The Making Data Count matrix (issue 16): icons drawn as SVG (not text) following MDC's definitions,
each with a text alternative, a sparkline per cell, and a page that stays within the screen in Chromium."""

import re

import numpy as np
import pandas as pd
import pytest

from joinedup.report.html import ReportSection, render_report
from joinedup.report.mdc_icons import (
    ASSURANCE,
    VARIATION,
    assurance_icon,
    sparkline,
    variation_icon,
)
from joinedup.report.pdf import chromium_path
from joinedup.report.spc_matrix import legend_html, spc_cells, spc_matrix_html


@pytest.mark.parametrize("code", list(VARIATION))
def test_variation_icons_follow_mdc(code):
    svg = variation_icon(code)
    words, colour, letter, _ = VARIATION[code]
    assert svg.startswith("<svg") and 'role="img"' in svg and f'aria-label="{words}"' in svg
    assert f"<title>{words}</title>" in svg and "<desc>" in svg  # what the report's outline check asks of every image
    assert f'stroke="{colour}"' in svg
    kind = "improvement" if "improvement" in code else "concern" if "concern" in code else "neutral" if "neutral" in code else "common"
    assert colour == {"improvement": "#289DE0", "concern": "#FAB428", "neutral": "#361475", "common": "#7B7D7D"}[kind]
    assert (f">{letter}</text>" in svg) == bool(letter)
    assert letter == ("H" if code.endswith("_high") else "L" if code.endswith("_low") else "")


def test_assurance_icons_and_unknown_codes():
    for code, (words, colour, letter) in ASSURANCE.items():
        svg = assurance_icon(code)
        assert f'aria-label="{words}"' in svg and f">{letter}</text>" in svg and f'stroke="{colour}"' in svg
    assert assurance_icon(None) == "" and assurance_icon(float("nan")) == ""
    with pytest.raises(ValueError, match="unknown variation icon 'bogus'"):
        variation_icon("bogus")
    with pytest.raises(ValueError, match="unknown assurance icon"):
        assurance_icon("pass")


def test_sparkline_marks_special_cause_points():
    svg = sparkline([1, 2, 3, 10], ["common_cause"] * 3 + ["special_cause_concern"], label="Admissions")
    assert svg.count("<circle") == 1 and "#FAB428" in svg and "from 1 to 10 over 4 periods" in svg
    assert sparkline([1]) == ""


def _table():
    """Two sites' monthly series of emergency admissions (lower is better) and the rest of England:
    Site A falls far below the rest of England in its last months; Site B is flat at the same level."""
    months = pd.date_range("2012-04-01", periods=30, freq="MS")
    rng = np.random.default_rng(2)
    rows = []
    series = {"Site A": np.r_[rng.normal(800, 5, 24), rng.normal(700, 5, 6)],
              "Site B": rng.normal(800, 5, 30), "Rest of England": np.full(30, 800.0)}
    for unit, values in series.items():
        for m, v in zip(months, values):
            rows.append({"indicator": "emergency_admissions", "period": "month", "unit_name": unit, "value": v,
                         "level": "programme" if unit == "Rest of England" else "pioneer_site",
                         "period_start": m, "period_end": m + pd.offsets.MonthEnd(0)})
    return pd.DataFrame(rows)


def test_cells_get_the_icons_the_data_call_for():
    cells = spc_cells(_table(), "month").set_index("site")
    assert cells.loc["Site A", "variation_icon"] == "special_cause_improvement_low"
    assert cells.loc["Site B", "variation_icon"] == "common_cause"
    assert cells.loc["Site B", "assurance_icon"] == "inconsistent"  # the target sits inside its limits
    assert cells.loc["Site A", "target"] == 800.0 and len(cells.loc["Site A", "values"]) == 30


def test_matrix_is_drawn_with_text_alternatives():
    cells = spc_cells(_table(), "month")
    html = spc_matrix_html(cells, "SPC matrix")
    assert "<caption>SPC matrix</caption>" in html
    assert html.count('class="mdc-icon"') == 4 and html.count('class="sparkline"') == 2
    assert 'aria-label="Special cause improving variation, low"' in html
    assert '<th scope="row">Site A</th>' in html
    text = re.sub(r"<svg.*?</svg>", "", html, flags=re.DOTALL)  # no icon is text: without the SVG no icon words remain
    assert "improv" not in text.lower()


@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (make browser)")
def test_matrix_in_chromium(tmp_path):
    from joinedup.report.browser_checks import check_report

    cells = spc_cells(_table(), "month")
    many = pd.concat([cells.assign(site=f"{s} {i}", indicator=ind) for i in range(12)
                      for s, ind in [("Site", "emergency_admissions"), ("Site", "acsc_chronic"), ("Site", "ae_attendances"),
                                     ("Site", "bed_days"), ("Site", "delayed_days"), ("Site", "falls_65")]],
                     ignore_index=True).drop_duplicates(["site", "indicator"])
    from joinedup.indicators.catalogue import CATALOGUE

    many = many[many["indicator"].isin(CATALOGUE)]
    body = legend_html() + spc_matrix_html(many, "SPC variation and assurance by site and indicator")
    path = tmp_path / "r.html"
    path.write_text(render_report("Matrix", [ReportSection("key-messages", "Key messages", "<ul class='key-messages'>"
                                                            + "<li>a</li>" * 5 + "</ul>"),
                                             ReportSection("spc", "SPC", body)], {}), encoding="utf-8")
    found = check_report(path, screenshots=tmp_path)
    for width, r in found.items():
        assert r["console_errors"] == [] and r["uncaptioned"] == 0, width
        assert r["overflow"] <= 0, (width, r["overflow"])
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(path.as_uri())
        boxes = page.eval_on_selector_all("svg.mdc-icon", "els => els.map(e => e.getBoundingClientRect().width)")
        names = page.eval_on_selector_all("table.mdc svg.mdc-icon", "els => els.map(e => e.getAttribute('aria-label'))")
        browser.close()
    assert len(boxes) > 20 and min(boxes) >= 20  # drawn and visible, not collapsed
    assert all(names) and len(set(names)) >= 2
