"""A throwaway PostgreSQL server on loopback for the tests (Debian's postgresql; `make test` installs it).

Started once per test session in a temporary folder as the ``postgres`` user (the server refuses to run
as root), trust authentication on 127.0.0.1 and a free port; stopped at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run `make test` (it installs Debian's "
                           "postgresql) or `apt-get install postgresql`")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="joinedup-pg-"))
        self.port = _free_port()
        as_root = os.geteuid() == 0
        self.prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        if as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        data = self.dir / "data"
        subprocess.run(self.prefix + [_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                       check=True, capture_output=True)
        subprocess.run(self.prefix + [_bin("pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"), "-w", "-o",
                                      f"-k {self.dir} -h 127.0.0.1 -p {self.port}", "start"],
                       check=True, capture_output=True)
        self.data = data

    def create_database(self, name: str) -> str:
        subprocess.run(self.prefix + [_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                      name], check=True, capture_output=True)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run(self.prefix + [_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
