"""One small run of the example protocol (0.3% of England, 2012-2015, fewer bootstrap draws), shared by
the tests that read a whole run's outputs: the disclosure back-calculation over every output table and
the accessibility checks of the report and the site dashboards."""

from __future__ import annotations

from pathlib import Path

from joinedup.protocol import example_protocol_path, load_protocol

_CACHE: dict[str, Path] = {}


def small_protocol_text() -> str:
    text = example_protocol_path().read_text()
    for old, new in (("scale = 0.02", "scale = 0.003"), ("years = [2010, 2019]", "years = [2012, 2015]"),
                     ("biters = 999", "biters = 99"), ("bootstrap = 2000", "bootstrap = 200"),
                     ("placebo_draws = 500", "placebo_draws = 99")):
        assert old in text, old  # the example protocol changed: update this small version
        text = text.replace(old, new)
    return text


def small_run(folder: Path) -> Path:
    """Run the small protocol into ``folder`` once per test session; return the output folder.

    The run is a separate process (`joinedup run`): its PDF step drives Playwright's sync API, which
    cannot start inside a test that already holds a Playwright browser (the accessibility tests)."""
    import subprocess
    import sys

    if "run" not in _CACHE:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "protocol.toml"
        path.write_text(small_protocol_text())
        load_protocol(path)  # a bad protocol fails here, with its message
        done = subprocess.run([sys.executable, "-m", "joinedup.cli", "run", str(path), "--out", str(folder / "out")],
                              capture_output=True, text=True, timeout=1800)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        _CACHE["run"] = folder / "out"
    return _CACHE["run"]
