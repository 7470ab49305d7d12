import os
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
