"""The service's secret key from the environment or a file: a bad one stops `joinedup serve` with one
line that names where it came from and never prints the value (docs/deployment.md)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from joinedup.web.config import WebSettings


def _serve(tmp_path, **env):
    return subprocess.run([sys.executable, "-m", "joinedup.cli", "serve", "--store", f"sqlite:///{tmp_path}/s.db",
                           "--port", "1"], capture_output=True, text=True, timeout=120,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("JOINEDUP_SECRET")}, **env})


@pytest.mark.parametrize("value, words", [("not-hex-at-all-zz", "must be hexadecimal"),
                                           ("ab" * 16, "is 16 bytes; it must be at least 32")])
def test_a_bad_secret_is_one_line_without_the_value(tmp_path, value, words):
    out = _serve(tmp_path, JOINEDUP_SECRET=value)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr and words in out.stderr and "JOINEDUP_SECRET" in out.stderr
    assert value not in out.stderr + out.stdout
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_secret_can_come_from_a_file(tmp_path, monkeypatch):
    key = tmp_path / "secret"
    key.write_text("cd" * 32 + "\n", encoding="utf-8")
    monkeypatch.delenv("JOINEDUP_SECRET", raising=False)
    monkeypatch.setenv("JOINEDUP_SECRET_FILE", str(key))
    assert WebSettings.from_env("sqlite://", "http://x").secret == bytes.fromhex("cd" * 32)
    monkeypatch.setenv("JOINEDUP_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="JOINEDUP_SECRET_FILE .* cannot be read"):
        WebSettings.from_env("sqlite://", "http://x")
    monkeypatch.delenv("JOINEDUP_SECRET_FILE")
    a, b = WebSettings.from_env("sqlite://", "http://x"), WebSettings.from_env("sqlite://", "http://x")
    assert a.secret != b.secret and len(a.secret) == 32  # none set: a random one per process
