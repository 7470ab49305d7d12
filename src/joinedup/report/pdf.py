"""The report as PDF, printed by Chromium (Debian's ``chromium``, driven by Playwright; no browser
download) with the report's print stylesheet.

The PDF is tagged (``page.pdf(tagged=True)``: a structure tree from the HTML's headings, lists and
tables, ``/MarkInfo`` and ``/StructTreeRoot``, so screen readers and reflow work, as PDF/UA asks),
has an outline (bookmarks from the headings, ``outline=True``), and every page carries a running
header (the report's title) and a footer "Page n of N" (Chromium's ``headerTemplate`` and
``footerTemplate``, filled in with its ``title``, ``pageNumber`` and ``totalPages`` classes).
Charts stay vector (inline SVG); the data behind each chart is left out of the print (it is in the
report's tables.xlsx and CSVs), so no data is printed twice.

Example:
    >>> html_to_pdf("out/demo/report.html", "out/demo/report.pdf")              # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


# Chromium prints these templates in the page margins at a default font size of 0: set one. The
# classes are Chromium's (title, pageNumber, totalPages); the text is escaped by Chromium.
_MARGIN_STYLE = "font: 8pt system-ui, Arial, sans-serif; color: #505a5f; width: 100%; margin: 0 12mm;"
HEADER = f'<div style="{_MARGIN_STYLE} border-bottom: 0.5pt solid #b1b4b6; padding-bottom: 1mm;"><span class="title"></span></div>'
FOOTER = (f'<div style="{_MARGIN_STYLE} text-align: right;">Page <span class="pageNumber"></span> of '
          '<span class="totalPages"></span></div>')
# An SVG shape with ``opacity`` below 1 is printed by Chromium (Skia) as a transparency group, one
# PDF form XObject per shape: a scatter of 2,000 bootstrap points became 2,000 XObjects and most of a
# 3 MB report. For a single shape (no children) the same look comes from fill- and stroke-opacity,
# which PDF applies directly, so the print moves the value there before printing.
FLATTEN_OPACITY = """() => {
  let n = 0;
  for (const el of document.querySelectorAll('svg [opacity]')) {
    const a = parseFloat(el.getAttribute('opacity'));
    if (el.children.length || !(a < 1)) continue;
    for (const k of ['fill-opacity', 'stroke-opacity']) {
      const own = parseFloat(el.getAttribute(k) ?? '1');
      el.setAttribute(k, String((isNaN(own) ? 1 : own) * a));
    }
    el.removeAttribute('opacity'); n++;
  }
  return n;
}"""
# Print-only rules added to whatever the page's own print stylesheet says: every table within the
# page width (cells wrap anywhere), figures scaled to the page, and the data behind each
# chart left out of the print even where a stylesheet opens <details> (it is in tables.xlsx and the CSVs).
PRINT_CSS = """@media print {
  figure details { display: none !important; }
  .table-wrap { overflow: visible !important; max-width: 100% !important; }
  table { max-width: 100% !important; }
  table.data th, table.data td { overflow-wrap: anywhere; min-width: 0 !important; }
  svg { max-width: 100% !important; height: auto; }
  figure, tr { break-inside: avoid; }
  pre, code { white-space: pre-wrap; overflow-wrap: anywhere; }
}"""


def prepare_print(page) -> None:
    """Print media, :data:`PRINT_CSS` and :data:`FLATTEN_OPACITY`: what the PDF and the layout check see."""
    page.emulate_media(media="print")
    page.add_style_tag(content=PRINT_CSS)
    page.evaluate(FLATTEN_OPACITY)


def chromium_path() -> str | None:
    """``JOINEDUP_CHROMIUM``, else Debian's /usr/bin/chromium, else chromium on the PATH (None if none)."""
    for candidate in (os.environ.get("JOINEDUP_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def html_to_pdf(html_path: str | Path, pdf_path: str | Path) -> Path:
    """Print a local HTML file to A4 PDF; RuntimeError naming what to install when there is no Chromium."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium to print the PDF with: install Debian's chromium (make demo does) "
                           "or set JOINEDUP_CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(Path(html_path).resolve().as_uri())
            prepare_print(page)
            page.pdf(path=str(pdf_path), format="A4", print_background=True, tagged=True, outline=True,
                     display_header_footer=True, header_template=HEADER, footer_template=FOOTER,
                     margin={"top": "18mm", "bottom": "16mm", "left": "12mm", "right": "12mm"})
        finally:
            browser.close()
    return Path(pdf_path)


def html_string_to_pdf(html: str, pdf_path: str | Path, css: str = "", one_page: bool = False) -> Path:
    """Print an HTML string (with ``css`` added) to A4 PDF; ``one_page`` shrinks it (down to 40%)
    until it fits on one page (if it never fits, the smallest print is kept)."""
    from io import BytesIO

    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium to print the PDF with: install Debian's chromium or set JOINEDUP_CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=ARGS)
        try:
            page = browser.new_page()
            page.set_content(html)
            if css:
                page.add_style_tag(content=css)
            page.emulate_media(media="print")
            page.evaluate(FLATTEN_OPACITY)
            for scale in ((1.0, 0.85, 0.7, 0.6, 0.5, 0.45, 0.4) if one_page else (1.0,)):
                data = page.pdf(format="A4", print_background=True, scale=scale, tagged=True, outline=True,
                                margin={"top": "10mm", "bottom": "10mm", "left": "10mm", "right": "10mm"})
                if len(PdfReader(BytesIO(data)).pages) == 1:
                    break
        finally:
            browser.close()
    Path(pdf_path).write_bytes(data)
    return Path(pdf_path)


# What the layout check measures: any table, chart, figure or code block wider than the page's
# printable width, or scrolling inside its box (so cut off on paper): [tag, caption or id, px over].
_OVERFLOW_JS = """() => { const out = [];
  for (const el of document.querySelectorAll('table, svg, pre, figure, .table-wrap')) {
    const r = el.getBoundingClientRect(); if (r.width === 0) continue;
    const over = Math.max(r.right - document.documentElement.clientWidth, el.scrollWidth - el.clientWidth);
    if (over > 1) out.push([el.tagName, (el.querySelector('caption') || {}).textContent || el.id || '', Math.round(over)]);
  }
  return out; }"""
A4_PRINT_WIDTH_PX = 703  # 210 mm less the 12 mm margins each side, at 96 px per inch


def print_overflow(html_path: str | Path) -> list[list]:
    """What would be cut off at the PDF's page width: every table, chart or figure wider than the
    printable A4 width in print media with :data:`PRINT_CSS` (an empty list when all fit).

    Example:
        >>> print_overflow("out/demo/report.html")                               # doctest: +SKIP
        []
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": A4_PRINT_WIDTH_PX, "height": 1000})
            page.goto(Path(html_path).resolve().as_uri())
            prepare_print(page)
            return page.evaluate(_OVERFLOW_JS)
        finally:
            browser.close()
