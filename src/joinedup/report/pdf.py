"""The report as PDF, printed by Chromium (Debian's ``chromium``, driven by Playwright; no browser
download) with the report's print stylesheet.

Example:
    >>> html_to_pdf("out/demo/report.html", "out/demo/report.pdf")              # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


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
            page.emulate_media(media="print")
            page.pdf(path=str(pdf_path), format="A4", print_background=True,
                     margin={"top": "15mm", "bottom": "15mm", "left": "12mm", "right": "12mm"})
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
            for scale in ((1.0, 0.85, 0.7, 0.6, 0.5, 0.45, 0.4) if one_page else (1.0,)):
                data = page.pdf(format="A4", print_background=True, scale=scale,
                                margin={"top": "10mm", "bottom": "10mm", "left": "10mm", "right": "10mm"})
                if len(PdfReader(BytesIO(data)).pages) == 1:
                    break
        finally:
            browser.close()
    Path(pdf_path).write_bytes(data)
    return Path(pdf_path)
