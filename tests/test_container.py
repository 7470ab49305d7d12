"""The container recipe (Containerfile): static checks that always run, and a real build when a builder exists.

The static checks read the Containerfile: every path it copies from the repository exists, it builds
the wheel with the pinned uv and installs that wheel (with the postgres and pdf extras at the lock's
versions) rather than the source tree, its runtime is Python 3.11 with Debian's Chromium, and it runs
`joinedup serve`. The build test runs `podman build` or `docker build` when either is on PATH and answers
(`info` succeeds: a docker client without a daemon cannot build), and otherwise skips with the reason shown in the test summary (pytest runs with -ra).
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "Containerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Containerfile, with continuation lines joined."""
    text = re.sub(r"\\\n", " ", RECIPE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_copied_paths_exist():
    copies = [rest for keyword, rest in instructions() if keyword == "COPY" and not rest.startswith("--from")]
    assert copies, "the Containerfile copies nothing from the repository"
    for rest in copies:
        *sources, _destination = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), f"Containerfile copies {source!r}, which is not in the repository"
    copied = {s for rest in copies for s in rest.split()[:-1]}
    # what `uv build` needs: the project, the lock, the package and the instrument the wheel force-includes
    assert {"pyproject.toml", "uv.lock", "src", "instruments"} <= copied | {s.rstrip("/") for s in copied}


def test_builds_the_wheel_and_installs_it_with_its_extras():
    steps = instructions()
    stages = [rest for keyword, rest in steps if keyword == "FROM"]
    assert len(stages) == 2 and all("python:3.11-slim" in s for s in stages), stages
    runs = " ".join(rest for keyword, rest in steps if keyword == "RUN")
    uv_version = re.search(r"^UV_VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.MULTILINE).group(1)
    assert f"uv=={uv_version}" in runs, "the Containerfile should pin the Makefile's uv"
    assert "uv build --wheel" in runs
    assert re.search(r"uv export --frozen .*--extra postgres --extra pdf", runs), "extras from the lock"
    assert re.search(r"pip install [^&]*joinedup-\*\.whl", runs), "the wheel is not installed"
    assert "pip install -e" not in runs and "pip install ." not in runs, "install the wheel, not the tree"
    assert "chromium" in runs
    assert any(k == "COPY" and r.startswith("--from=build /dist") for k, r in steps)


def test_runs_joinedup_serve_on_all_interfaces():
    steps = dict(instructions())
    assert steps["ENTRYPOINT"].startswith('["joinedup", "serve"') and '"0.0.0.0"' in steps["ENTRYPOINT"]
    assert "--store" in steps["CMD"]
    assert steps["USER"] != "root"


def available_builder() -> tuple[str | None, str]:
    """A container builder that answers (podman, else docker), or None and why not."""
    reasons = []
    for name in ("podman", "docker"):
        path = shutil.which(name)
        if path is None:
            reasons.append(f"{name} is not on PATH")
            continue
        info = subprocess.run([path, "info"], check=False, capture_output=True, text=True, timeout=60)
        if info.returncode == 0:
            return path, ""
        last = (info.stderr.strip() or info.stdout.strip()).splitlines()[-1:] or ["no output"]
        reasons.append(f"{name} is on PATH but `{name} info` fails ({last[0]})")
    return None, "; ".join(reasons)


def test_the_container_builds():
    builder, why_not = available_builder()
    if builder is None:
        pytest.skip(f"no container builder available, so the Containerfile build is not checked here "
                    f"(the static checks still ran): {why_not}")
    result = subprocess.run([builder, "build", "-t", "joinedup-test", "-f", str(RECIPE), str(ROOT)],
                            check=False, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    version = subprocess.run([builder, "run", "--rm", "--entrypoint", "joinedup", "joinedup-test", "--version"],
                             check=False, capture_output=True, text=True, timeout=300)
    assert version.returncode == 0 and "joinedup" in version.stdout, version.stdout + version.stderr
