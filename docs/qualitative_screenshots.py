"""Screenshots of the qualitative workbench for docs/qualitative.md, taken in Debian's Chromium with
Playwright against the app served on loopback with the demo's data (``seed_demo``: simulated
transcripts from the simulated sites). Writes docs/img/qualitative/*.png (viewport 1000 x 650).

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
        shots = [("1-projects", "/coding"), ("2-sources", f"/coding/{pid}"),
                 ("3-code-a-source", f"/coding/{pid}/sources/{sid}"), ("4-codebook", f"/coding/{pid}/codebook"),
                 ("5-agreement", f"/coding/{pid}/agreement"),
                 ("6-retrieve", f"/coding/{pid}/retrieve?code={barriers}&attribute=data&value=simulated"),
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
                    page.screenshot(path=str(OUT / f"{name}.png"))
                    print(OUT / f"{name}.png")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
