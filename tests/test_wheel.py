"""joinedup as a user gets it: the wheel, installed into a fresh virtual environment with only its
declared dependencies (from the lock, offline from uv's cache), run from a folder outside the
repository: --version, doctor, a small evaluation end to end (HTML report written, the missing PDF
extra named in one line, no traceback), docs, and `serve` (login page 200, the key-informant
instrument found on a respondent's page)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _uv() -> str:
    uv = REPO / ".tools" / "bin" / "uv"  # made by `make env`, which `make test` runs first
    found = str(uv) if uv.is_file() else shutil.which("uv")
    assert found, "uv not found: run `make env` (make test does) to install it into .tools/"
    return found


def _run(cmd, cwd, timeout=600, env=None):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert out.returncode == 0, f"{cmd} failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    env = {k: v for k, v in os.environ.items() if k not in ("UV_PROJECT_ENVIRONMENT", "VIRTUAL_ENV")}
    _run([uv, "build", "--wheel", "--out-dir", str(tmp / "dist")], cwd=REPO, env=env)
    wheel = next((tmp / "dist").glob("joinedup-*.whl"))
    # the locked versions of the declared dependencies only (no extras, no dev group), offline from
    # the cache that `make env` filled; then the wheel itself, without resolving anything again
    venv = tmp / "venv"
    _run([uv, "venv", str(venv), "--python", sys.executable], cwd=tmp, env=env)
    _run([uv, "sync", "--frozen", "--offline", "--no-dev", "--no-install-project", "--python", sys.executable],
         cwd=REPO, env={**env, "UV_PROJECT_ENVIRONMENT": str(venv)})
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--offline", "--no-deps", "--python", str(python), str(wheel)], cwd=tmp, env=env)
    work = tmp / "elsewhere"  # a folder outside the repository
    work.mkdir()
    return {"bin": tmp / "venv" / "bin", "python": python, "work": work, "wheel": wheel}


def test_the_wheel_carries_no_dev_dependency_and_no_test_data(installed):
    import zipfile

    names = zipfile.ZipFile(installed["wheel"]).namelist()
    assert "joinedup/instruments/pioneer_ki_survey.xlsx" in names
    assert "joinedup/protocols/pioneer_evaluation.toml" in names
    assert not [n for n in names if n.startswith("tests/") or "/tests/data/" in n]
    probe = _run([str(installed["python"]), "-c", "import importlib.util as u; "
                  "print(bool(u.find_spec('playwright')), bool(u.find_spec('pytest')), bool(u.find_spec('psycopg')))"],
                 cwd=installed["work"])
    assert probe.stdout.split() == ["False", "False", "False"]  # pdf and postgres are extras, pytest dev-only


def test_version_and_doctor(installed):
    import joinedup

    out = _run([str(installed["bin"] / "joinedup"), "--version"], cwd=installed["work"])
    assert out.stdout.strip() == f"joinedup {joinedup.__version__}"
    doctor = _run([str(installed["bin"] / "joinedup"), "doctor"], cwd=installed["work"])
    assert "missing Playwright (PDF printing)" in doctor.stdout
    assert "pip install 'joinedup[pdf]'" in doctor.stdout and "pip install 'joinedup[postgres]'" in doctor.stdout
    assert "ok      DuckDB engine" in doctor.stdout


def test_a_small_evaluation_runs_from_the_wheel_and_names_the_pdf_extra(installed):
    work = installed["work"]
    example = _run([str(installed["bin"] / "joinedup"), "protocol-example"], cwd=work).stdout
    text = example.replace("scale = 0.02", "scale = 0.003").replace("years = [2010, 2019]", "years = [2012, 2015]")
    start = text.index("[indicators]")  # the indicator catalogue is tested elsewhere; keep this run short
    (work / "protocol.toml").write_text(text[:start] + text[text.index("[output]"):], encoding="utf-8")
    out = _run([str(installed["bin"] / "joinedup"), "run", "protocol.toml", "--out", "result"], cwd=work, timeout=900)
    assert "Traceback" not in out.stdout + out.stderr
    assert (work / "result" / "report.html").is_file()
    assert "PDF not written: the PDF needs the pdf extra (pip install 'joinedup[pdf]')" in out.stdout
    assert not (work / "result" / "report.pdf").exists()
    docs = _run([str(installed["bin"] / "joinedup"), "docs", "--out", "docs"], cwd=work)
    assert (work / "docs" / "protocol.md").is_file(), docs.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_from_the_wheel_finds_the_instrument(installed):
    work = installed["work"]
    db = work / "survey.db"
    token = _run([str(installed["python"]), "-c", "from joinedup.survey.demo import seed_demo; "
                  f"print(seed_demo('sqlite:///{db}')['try_token'])"], cwd=work).stdout.strip()
    port = _free_port()
    server = subprocess.Popen([str(installed["bin"] / "joinedup"), "serve", "--store", f"sqlite:///{db}",
                               "--port", str(port)], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                login = urllib.request.urlopen(f"{base}/admin/login", timeout=5)
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.5)
        else:
            raise AssertionError("joinedup serve did not answer within 60 s")
        assert login.status == 200
        page = urllib.request.urlopen(f"{base}/s/{token}", timeout=120)  # the first page loads the XLSForm
        body = page.read().decode()
        assert page.status == 200 and "Pioneer" in body and "<form" in body
    finally:
        server.terminate()
        server.wait(timeout=20)
