"""axe-core, from the npm registry (package.json / package-lock.json at the repository root, installed
by ``make node`` with ``npm ci``), injected by Playwright into Debian's Chromium.

A missing axe-core is an error, not a skip: the accessibility bar (zero violations) cannot be met by a
test that did not run.

Example:
    >>> # page.goto(url); assert violations(page) == []
"""

from __future__ import annotations

import json
from pathlib import Path

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
LOCK = Path(__file__).resolve().parents[1] / "package-lock.json"

# WCAG 2.0-2.2 A and AA plus axe's best practices (landmarks, headings, scrollable regions, empty
# table headers): every rule axe runs by default. No rule is disabled.
RUN_OPTIONS = {"resultTypes": ["violations"]}


def axe_source() -> str:
    """The text of axe.min.js, after checking it is the version package-lock.json pins."""
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} is missing: run `make node` (npm ci installs axe-core from package-lock.json)")
    pinned = json.loads(LOCK.read_text())["packages"]["node_modules/axe-core"]["version"]
    installed = json.loads((AXE.parent / "package.json").read_text())["version"]
    if installed != pinned:
        raise RuntimeError(f"axe-core {installed} installed but package-lock.json pins {pinned}: run `make node`")
    return AXE.read_text(encoding="utf-8")


def violations(page) -> list[str]:
    """Run axe-core on the page as it stands; one line per violation and node (rule, impact, target)."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate("options => axe.run(document, options)", RUN_OPTIONS)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {node['target']} {node.get('failureSummary', '')[:200]}"
            for v in result["violations"] for node in v["nodes"]]
