"""A database that cannot be reached stops a command with one line: the URL without its password, the
driver's cause, a non-zero exit, no traceback (issue 21). Real drivers against a closed loopback port
(psycopg) and a SQLite file in a folder that does not exist."""

import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.connection import redact_url

PASSWORD = "s3cret-Pa55"


def closed_port() -> int:
    # a port the OS just handed out and nobody listens on any more: connecting is refused at once
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def joinedup(*args, cwd=None):
    """The command in a process of its own, as a person runs it (its real stderr and exit code)."""
    return subprocess.run([sys.executable, "-m", "joinedup.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def in_process(*args):
    """The same command in this process (faster); an uncaught exception would be result.exception."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    result.returncode = result.exit_code
    return result


def assert_one_line_error(result, url_shown: str, cause: str):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert url_shown in errors[0] and cause in errors[0]
    assert PASSWORD not in result.stderr + result.stdout


@pytest.fixture(scope="module")
def pg_url():
    return f"postgresql://evaluator:{PASSWORD}@127.0.0.1:{closed_port()}/survey"


def test_redact_url():
    assert redact_url(f"postgresql://u:{PASSWORD}@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact_url("sqlite:///out/survey.db") == "sqlite:///out/survey.db"
    assert PASSWORD not in redact_url(f"mssql://u:{PASSWORD}@h:notaport/db")


@pytest.mark.parametrize("command", [["serve"], ["survey", "serve"], ["survey", "analyse", "--out", "ki"],
                                     ["survey", "add-user", "--username", "a", "--password", "b"]])
def test_unreachable_store(command, pg_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = in_process(*command, "--store", pg_url)
    assert_one_line_error(result, pg_url.replace(PASSWORD, "***"), "Connection refused")


def test_store_in_a_missing_folder(tmp_path):
    result = joinedup("serve", "--store", "sqlite:///nowhere/survey.db", cwd=tmp_path)
    assert_one_line_error(result, "sqlite:///nowhere/survey.db", "the folder nowhere does not exist")


def test_unreachable_data_source_in_a_protocol(tmp_path):
    url = f"postgres://analyst:{PASSWORD}@127.0.0.1:{closed_port()}/nhs"
    protocol = tmp_path / "p.toml"
    protocol.write_text(f'[evaluation]\nname = "x"\n\n[data]\nsource = "{url}"\n')
    result = joinedup("run", str(protocol), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, url.replace(PASSWORD, "***"), "Connection refused")
    for command in (["validate-data", url], ["indicators", "--data", url, "--out", str(tmp_path / "i")]):
        assert_one_line_error(in_process(*command), url.replace(PASSWORD, "***"), "Connection refused")
