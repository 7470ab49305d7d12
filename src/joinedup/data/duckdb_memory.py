"""How much memory DuckDB may hold before it spills to disk, for the connections joinedup opens.

DuckDB's own default is 80% of the machine's memory. At national scale (simulated England at scale
1.0: about 170 million admissions and 240 million A&E attendances) that lets the indicator queries'
joins and aggregates take most of a 24 GB machine, when issue 21's goal is a whole run under 8 GB. With
a cap DuckDB's out-of-core operators (hash join, hash aggregate, sort, window) write what does not
fit to a spill folder on disk instead; the answers are the same, only slower once it spills.

The cap comes from, first to last: the protocol's ``[data] memory_limit`` (set for the run by the
pipeline with :func:`configure`), the environment variable ``JOINEDUP_DUCKDB_MEMORY_LIMIT`` (for
commands run outside a protocol), and the default of 4 GB. The spill folder is a fresh temporary
folder per process (DuckDB's own default, ``.tmp`` in the working directory, would litter wherever
a command is run and is shared by processes started there), removed when the process ends.

Example:
    >>> parse_memory_limit("4GB"), parse_memory_limit("512 MiB")
    ('4GB', '512MiB')
    >>> import duckdb
    >>> con = duckdb.connect(config=duckdb_config("1GB"))
    >>> con.sql("select current_setting('memory_limit')").fetchone()[0]
    '953.6 MiB'
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile

DEFAULT_MEMORY_LIMIT = "4GB"
ENVIRONMENT_VARIABLE = "JOINEDUP_DUCKDB_MEMORY_LIMIT"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
_UNITS = {u.lower(): u for u in ("KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB")}

_configured: str | None = None
_spill_folder: str | None = None


def parse_memory_limit(text: str) -> str:
    """``text`` as DuckDB writes a size (``4GB``, ``512MiB``); a clear error for anything else."""
    match = _SIZE.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"memory limit {text!r} is not a size such as '4GB' or '512MiB' "
                         f"(units KB, MB, GB, TB, KiB, MiB, GiB, TiB)")
    return f"{match.group(1)}{_UNITS[match.group(2).lower()]}"


def configure(memory_limit: str | None) -> None:
    """Set the cap for connections opened from now on in this process (``None``: environment or default)."""
    global _configured
    _configured = parse_memory_limit(memory_limit) if memory_limit is not None else None


def memory_limit() -> str:
    """The cap in force: the configured one, else ``$JOINEDUP_DUCKDB_MEMORY_LIMIT``, else 4 GB."""
    if _configured is not None:
        return _configured
    from_env = os.environ.get(ENVIRONMENT_VARIABLE)
    if from_env:
        try:
            return parse_memory_limit(from_env)
        except ValueError as exc:
            raise ValueError(f"environment variable {ENVIRONMENT_VARIABLE}: {exc}") from None
    return DEFAULT_MEMORY_LIMIT


def spill_folder() -> str:
    """This process's spill folder (made on first use, removed at exit)."""
    global _spill_folder
    if _spill_folder is None or not os.path.isdir(_spill_folder):
        _spill_folder = tempfile.mkdtemp(prefix="joinedup-duckdb-spill-")
        atexit.register(shutil.rmtree, _spill_folder, True)
    return _spill_folder


def duckdb_config(limit: str | None = None) -> dict[str, str]:
    """The settings for ``duckdb.connect(config=...)`` or ``ibis.duckdb.connect(**...)``."""
    # allocator_background_threads: DuckDB's allocator otherwise keeps the memory its queries freed
    # until a later query runs, so the process carries gigabytes of a finished query into the pandas
    # work that follows (economics at scale 1.0); with them the freed memory goes back to the system
    # enable_external_file_cache off: DuckDB (1.3+) otherwise keeps the bytes of the Parquet files it
    # read in its own memory, a second copy of what the kernel's page cache already holds for local
    # files; a run carried it from the indicators step into every later one (some 370 MB at scale 1.0).
    # Measured at scale 0.1 (benchmarks/results/duckdb_file_cache.txt): indicators as fast without it.
    return {"memory_limit": parse_memory_limit(limit) if limit else memory_limit(),
            "temp_directory": spill_folder(), "allocator_background_threads": "true",
            "enable_external_file_cache": "false"}
