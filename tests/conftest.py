import fcntl
import os
import shutil
import sys
from pathlib import Path

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
sys.path.insert(0, str(Path(__file__).parent))

from tiny_dataset import write_tiny_dataset  # noqa: E402


@pytest.fixture
def tiny(tmp_path) -> Path:
    """A valid tiny Parquet dataset in a fresh folder."""
    return write_tiny_dataset(tmp_path / "tiny")


@pytest.fixture(scope="session")
def spark_backend():
    """One Spark session for the whole run (it takes seconds to start)."""
    from joinedup.data.sources import spark_session

    return spark_session()


@pytest.fixture(scope="session")
def small_england(tmp_path_factory) -> Path:
    """A small simulated England (0.5% scale, 2012-2016), simulated once per test run."""
    from joinedup.simulate import simulate

    return _built_once(tmp_path_factory, "england",
                       lambda folder: simulate(folder, scale=0.005, seed=11, years=(2012, 2016)))


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on loopback for the whole run (see tests/pg_server.py)."""
    from tests.pg_server import PgServer

    server = PgServer()
    yield server
    server.stop()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback collecting messages; ``refuse`` holds addresses to 550."""
    from tests.smtp_server import SmtpServer

    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def small_run_out(tmp_path_factory) -> Path:
    """The outputs of one small run of the example protocol (tests/small_run.py), once per test run."""
    from tests.small_run import small_run

    return small_run(tmp_path_factory.mktemp("small_run"))


def _built_once(tmp_path_factory, name: str, build) -> Path:
    """``build(folder)`` once per test run; under pytest-xdist each worker gets its own copy.

    Workers of one run share the parent of their base temp folders: the first worker to take the lock
    builds there while the others wait, and each then copies the result, so no worker sees another's
    writes (as isolated as a serial run). Serially it builds straight into a fresh temp folder.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = tmp_path_factory.mktemp(name) / "data"
        build(folder)
        return folder
    shared = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    with open(shared.parent / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if build fails
        if not (shared / "complete").exists():
            shutil.rmtree(shared, ignore_errors=True)  # a half-built folder from a failed build
            build(shared / "data")
            (shared / "complete").touch()
    folder = tmp_path_factory.mktemp(name) / "data"
    shutil.copytree(shared / "data", folder)
    return folder

