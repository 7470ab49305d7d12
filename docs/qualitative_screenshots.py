"""Screenshots of the qualitative workbench for docs/qualitative.md, taken in Debian's Chromium with
Playwright against the app served on loopback with the demo's data (``seed_demo``: simulated
transcripts from the simulated sites). Writes docs/img/qualitative/*.png (viewport 1000 x 650; the retrieve page whole). The suggestions
step runs the real all-MiniLM-L6-v2 model.

Run: .venv/bin/python docs/qualitative_screenshots.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

OUT = Path(__file__).parent / "img" / "qualitative"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> int:
    from playwright.sync_api import sync_playwright

    from joinedup.qual.demo import PROJECT
    from joinedup.survey.demo import DEMO_PASSWORD, seed_demo
    from joinedup.web.app import create_app
    from joinedup.web.config import WebSettings

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        seed_demo(url)
        app = create_app(WebSettings(store_url=url))
        wb = app.state.ctx.workbench
        pid = wb.project_id(PROJECT)
        sid = next(s["id"] for s in wb.sources(pid) if s["kind"] == "transcript")
        barriers = next(c["id"] for c in wb.codes(pid) if c["name"] == "Barriers")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        site = next(c["attributes"]["site"] for c in wb.cases(pid) if "site" in c["attributes"])
        shots = [("1-projects", "/coding"), ("2-sources", f"/coding/{pid}"),
                 ("3-code-a-source", f"/coding/{pid}/sources/{sid}"), ("4-codebook", f"/coding/{pid}/codebook"),
                 ("5-agreement", f"/coding/{pid}/agreement"),
                 ("6-retrieve", f"/coding/{pid}/retrieve?code={barriers}&attribute=data&value=simulated"
                                f"&attribute2=site&value2={site}"),
                 ("7-framework-matrix", f"/coding/{pid}/matrix?by=site"),
                 ("8-frequencies", f"/coding/{pid}/frequencies?by=site")]
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1000, "height": 650})
                page.goto(f"{base}/admin/login")
                page.fill("#username", "demo")
                page.fill("#password", DEMO_PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                for name, path in shots:
                    page.goto(base + path)
                    page.screenshot(path=str(OUT / f"{name}.png"), full_page=name == "6-retrieve")  # form and results
                    print(OUT / f"{name}.png")
                # 9: REFI-QDA exchange: the import form (projects page) and the lead's download link
                page.goto(f"{base}/coding")
                page.locator("h2:has-text('Import a project')").scroll_into_view_if_needed()
                page.screenshot(path=str(OUT / "9-exchange-import.png"))
                page.goto(f"{base}/coding/{pid}")
                page.locator("#export-qdpx").scroll_into_view_if_needed()
                page.screenshot(path=str(OUT / "9-exchange-export.png"))
                # 10: suggestions (the real all-MiniLM-L6-v2 model), marked as not final in the margin
                # a survey answer: the transcripts' uncoded turns are interviewer questions the model
                # (threshold 0.5) finds nothing for
                survey = next(s["id"] for s in wb.sources(pid) if s["kind"] == "survey")
                page.goto(f"{base}/coding/{pid}/sources/{survey}")
                page.click("#suggest")
                page.wait_for_selector("text=Suggestion — not final", timeout=300_000)
                page.locator("text=Suggestion — not final").first.scroll_into_view_if_needed()
                page.screenshot(path=str(OUT / "10-suggestions.png"))
                print(OUT / "9-exchange-import.png", OUT / "9-exchange-export.png", OUT / "10-suggestions.png")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
