"""Issue 16, the report's PDF (Debian's Chromium via Playwright, read back with pypdf): page numbers
and a running header on every page, a tagged PDF (/MarkInfo /Marked, /StructTreeRoot) with an
outline, every table within the page width (the SPC matrix was 876 px too wide and cut off), and
translucent chart points printed without one PDF form XObject each (a 2,000-point scatter made most of
a 3 MB demo PDF)."""

import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
from pypdf import PdfReader
from tests.test_report_browser import _report

from joinedup.report.charts import Figure
from joinedup.report.html import ReportSection, render_report, table_html
from joinedup.report.pdf import chromium_path, html_to_pdf, print_overflow

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium (make browser)")


def _scatter_report(tmp_path, n=2000):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"cost": rng.normal(500, 200, n), "qaly": rng.normal(0.02, 0.01, n)})
    chart = alt.Chart(frame).mark_circle(opacity=0.35).encode(x="qaly:Q", y="cost:Q")
    fig = Figure.from_chart("plane", "Cost-effectiveness plane", f"{n} bootstrap draws.", chart, frame)
    path = tmp_path / "scatter.html"
    path.write_text(render_report("Scatter report", [ReportSection("ce", "Economics", "<p>Plane.</p>", (fig,))],
                                  {"Data": "random"}), encoding="utf-8")
    return path


def _xobjects(reader):
    names = set()
    for page in reader.pages:
        res = page.get("/Resources")
        res = res.get_object() if res is not None else {}
        xo = res.get("/XObject")
        if xo is not None:
            names |= {str(v.idnum) if hasattr(v, "idnum") else k for k, v in xo.get_object().items()}
    return len(names)


def test_pdf_has_page_numbers_header_tags_outline_and_fits_the_page(tmp_path):
    html = _report(tmp_path)
    # a table of 30 columns: its right-most column was cut off on paper (scrolling box, clipped)
    wide = pd.DataFrame({f"col{i:02d}": [f"cell{i:02d}"] * 3 for i in range(30)})
    text = html.read_text(encoding="utf-8").replace("</main>", f"<section><h2>Wide</h2>{table_html(wide, 'Thirty columns')}</section></main>")
    html.write_text(text, encoding="utf-8")
    pdf = html_to_pdf(html, tmp_path / "report.pdf")
    reader = PdfReader(pdf)
    n = len(reader.pages)
    assert n > 1
    for i, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert f"Page {i} of {n}" in text, i
        assert "Test report" in text, i  # the running header: the report's title
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root and "/Outlines" in root
    assert root["/Lang"] == "en-GB"
    # no text starts outside the page (pypdf's text positions against each page's mediabox)
    outside = []
    for i, page in enumerate(reader.pages):
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(text, cm, tm, font, size, i=i, width=width, height=height):
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and not (-1 <= x <= width and -1 <= y <= height):
                outside.append((i, text[:20], round(x), round(y)))
        page.extract_text(visitor_text=visit)
    assert outside == []
    printed = re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))
    assert all(f"cell{i:02d}" in printed for i in range(30))  # every column is on paper
    # the layout itself: nothing wider than the printable width (the report's SPC matrix was 876 px over)
    assert print_overflow(html) == []


def test_translucent_points_do_not_become_one_xobject_each(tmp_path):
    reader = PdfReader(html_to_pdf(_scatter_report(tmp_path), tmp_path / "scatter.pdf"))
    assert _xobjects(reader) < 50  # was one per point (2,000+) before the print moved opacity to fill-opacity
    size = (tmp_path / "scatter.pdf").stat().st_size
    assert size < 400_000, size
    assert re.search(r"Page 1 of \d", reader.pages[0].extract_text())
