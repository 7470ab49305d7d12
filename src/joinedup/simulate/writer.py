"""Chunked Parquet writing: one folder of part files per large table, one file per small table.

Chunks are buffered up to ``ROW_GROUP_ROWS`` rows and written as one row group; a part file is closed
and the next one opened after ``ROWS_PER_FILE`` rows. Files carry no timestamps, so the same rows give
the same bytes.

Example:
    >>> import tempfile, pyarrow as pa
    >>> from joinedup.data.tables import TABLES
    >>> folder = tempfile.mkdtemp()
    >>> w = PartWriter(folder, "unit_costs", TABLES["unit_costs"].arrow_schema())
    >>> w.close()
    1
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 262_144
ROWS_PER_FILE = 8_000_000
COMPRESSION = "zstd"


def write_table(path: Path | str, table: pa.Table) -> None:
    """Write a small table to one Parquet file."""
    pq.write_table(table, str(path), compression=COMPRESSION, row_group_size=ROW_GROUP_ROWS)


class PartWriter:
    """Write a large table as ``folder/name/part-00000.parquet``, ... chunk by chunk."""

    def __init__(self, folder: Path | str, name: str, schema: pa.Schema):
        self.folder = Path(folder) / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("part-*.parquet"):
            old.unlink()
        self.schema = schema
        self.buffer: list[pa.Table] = []
        self.buffered = 0
        self.part = 0
        self.in_file = 0
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None
        self.files = 0

    def write(self, table: pa.Table) -> None:
        if table.schema != self.schema:
            raise ValueError(f"{self.folder.name}: chunk schema differs from the declared schema")
        if table.num_rows == 0:
            return
        self.buffer.append(table)
        self.buffered += table.num_rows
        self.rows += table.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        table = pa.concat_tables(self.buffer)
        self.buffer, self.buffered = [], 0
        if self.writer is None:
            self._open()
        self.writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.in_file += table.num_rows
        if self.in_file >= ROWS_PER_FILE:
            self.writer.close()
            self.writer = None
            self.part += 1
            self.in_file = 0

    def _open(self) -> None:
        path = self.folder / f"part-{self.part:05d}.parquet"
        self.writer = pq.ParquetWriter(str(path), self.schema, compression=COMPRESSION)
        self.files += 1

    def close(self) -> int:
        """Flush and close; an empty table still gets one (empty) part file. Returns the file count."""
        self._flush()
        if self.writer is None and self.files == 0:
            self._open()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        return self.files


class BackgroundWriter:
    """Runs writes, in order, on one thread, so Parquet encoding overlaps the next chunk's simulation.

    At most ``depth`` writes wait in the queue, which bounds the memory held by pending chunks.
    """

    def __init__(self, depth: int = 8):
        self.jobs: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="joinedup-writer", daemon=True)
        self.thread.start()

    def submit(self, fn, *args) -> None:
        if self.error is not None:
            raise self.error
        self.jobs.put((fn, args))

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            if self.error is None:
                try:
                    job[0](*job[1])
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self.error = exc

    def close(self) -> None:
        """Wait for every write; raise the first error any of them hit."""
        self.jobs.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
