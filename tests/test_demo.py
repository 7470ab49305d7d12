"""The demo path end to end: the example protocol (at a smaller scale) through the CLI."""

import json
import re

import pandas as pd
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.protocol import example_protocol_path

runner = CliRunner()


def small_protocol(tmp_path, seed=2013, indicators=True):
    text = example_protocol_path().read_text()
    if not indicators:  # the [indicators] table runs up to the next table header
        start = text.index("[indicators]")
        text = text[:start] + text[text.index("[output]"):]
    text = text.replace("scale = 0.02", "scale = 0.003").replace("seed = 2013", f"seed = {seed}")
    text = text.replace("years = [2010, 2019]", "years = [2012, 2015]")
    path = tmp_path / "protocol.toml"
    path.write_text(text)
    return path


def test_example_protocol_runs_end_to_end_and_is_reproducible(tmp_path):
    protocol = small_protocol(tmp_path)
    outs = []
    for name in ("first", "second"):
        result = runner.invoke(app, ["run", str(protocol), "--out", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outs.append(tmp_path / name)
    first, second = outs
    assert (first / "data" / "truth.json").is_file()
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["seeds"] == {"simulation": 2013, "impact": 2013, "synthesis": 2013, "survey": 2013,
                                 "economics": 2013, "process": 2013}
    assert set(manifest["timings_seconds"]) == {"simulate", "validate", "overview", "indicators", "impact",
                                                 "synthesis", "survey", "economics", "process", "report"}
    assert (first / "tables" / "survey_change.csv").is_file() and (first / "tables" / "typology_clusters.csv").is_file()
    for path in sorted((first / "tables").iterdir()):
        assert path.read_bytes() == (second / "tables" / path.name).read_bytes(), path.name
    html = [re.sub(r"Generated .* UTC\.", "", (o / "report.html").read_text()) for o in outs]
    assert html[0] == html[1]
    # the summary's numbers are the tables' numbers
    est = pd.read_parquet(first / "tables" / "impact_estimates.parquet").iloc[0]
    assert f"{est['pct_change']:+.1f}% (95% CI {est['pct_low']:+.1f}% to {est['pct_high']:+.1f}%)" in html[0]
    assert "Limitations found in the results" in html[0]
    _renders_without_console_errors(first / "report.html")
    pooled = pd.read_parquet(first / "tables" / "synthesis_pooled.parquet").iloc[0]
    assert f"Across {int(pooled['k'])} sites (random-effects meta-analysis)" in html[0]
    assert f"I-squared {pooled['i2']:.0f}%" in html[0]
    from pypdf import PdfReader

    assert manifest["pdf"] == "report.pdf"
    import unicodedata

    pages = " ".join(page.extract_text() for page in PdfReader(first / "report.pdf").pages)
    pdf_text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", pages))  # NFKC undoes ligatures (ﬀ)
    for heading in ("Summary", "Limitations found in the results", "Key-informant survey",
                    "Cost-effectiveness of community", "Impact: Pioneer areas against comparison areas"):
        assert heading in pdf_text, heading
    monthly = pd.read_parquet(first / "tables" / "emergency_by_month.parquet")
    assert monthly["rate_per_1000"].between(3, 15).all()
    counted = monthly["admissions"].dropna()
    assert (counted % 5 == 0).all()


def test_a_different_seed_gives_different_data(tmp_path):
    a = runner.invoke(app, ["run", str(small_protocol(tmp_path, 1, False)), "--out", str(tmp_path / "a")])
    b = runner.invoke(app, ["run", str(small_protocol(tmp_path, 2, False)), "--out", str(tmp_path / "b")])
    assert a.exit_code == 0 and b.exit_code == 0
    rows = [pd.read_csv(tmp_path / o / "tables" / "emergency_by_month.csv")["rate_per_1000"] for o in "ab"]
    assert not rows[0].equals(rows[1])


def _renders_without_console_errors(report):
    """The report opens in Debian's Chromium (no network) with no console errors, every chart has a
    text alternative, and headings form an outline a screen reader can walk (one h1, then h2s)."""
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.resolve().as_uri())
        svgs = page.locator("svg[role=img]").count()
        unlabelled = page.evaluate("[...document.querySelectorAll('svg[role=img]')].filter("
                                   "s => !s.querySelector('title') || !s.querySelector('desc')).length")
        levels = page.evaluate("[...document.querySelectorAll('h1,h2,h3')].map(h => Number(h.tagName[1]))")
        browser.close()
    assert errors == []
    assert svgs >= 10 and unlabelled == 0
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:]))  # no skipped heading levels
