"""Checks of a rendered report in Chromium (issue 16): console errors, tables without a caption,
the key messages first, and horizontal overflow at a desktop and a phone width. Used by the tests
and usable on any run's ``report.html``.

Example:
    >>> check_report("out/demo/report.html", screenshots="out/shots")          # doctest: +SKIP
    {'1280': {...}, '390': {...}}
"""

from __future__ import annotations

from pathlib import Path

from joinedup.report.pdf import ARGS, chromium_path

WIDTHS = (1280, 390)

_PROBE = """() => {
  const doc = document.documentElement;
  const h2 = [...document.querySelectorAll('main h2')].map(h => h.textContent.trim());
  return {
    overflow: doc.scrollWidth - doc.clientWidth,
    tables: document.querySelectorAll('table').length,
    uncaptioned: [...document.querySelectorAll('table')].filter(t => !t.querySelector('caption')
                   || !t.querySelector('caption').textContent.trim()).length,
    first_h2: h2[0] || null,
    key_messages: document.querySelectorAll('#key-messages ~ ul.key-messages li, ul.key-messages li').length,
  };
}"""


def check_report(html_path: str | Path, screenshots: str | Path | None = None) -> dict[str, dict]:
    """Open the report at each width; return what was measured (and console errors) per width."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("no Chromium: install Debian's chromium or set JOINEDUP_CHROMIUM")
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=ARGS)
        try:
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                errors: list[str] = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(Path(html_path).resolve().as_uri())
                found = page.evaluate(_PROBE)
                found["console_errors"] = errors
                if screenshots is not None:
                    Path(screenshots).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(screenshots) / f"report-{width}.png"))
                results[str(width)] = found
                page.close()
        finally:
            browser.close()
    return results
