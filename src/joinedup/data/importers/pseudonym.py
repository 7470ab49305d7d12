"""Pseudonymised person identifiers: a keyed hash (HMAC-SHA256) of the extract's identifier.

The key is read from a file (``--key-file``) or the ``JOINEDUP_PSEUDONYM_KEY`` environment variable and
is never written next to the outputs: without the key the pseudonyms cannot be recomputed from NHS
numbers or HESIDs, and the same key gives the same ``person_id`` across extracts (HES APC, A&E, GP
registrations), so tables link. ``person_id`` is the first 63 bits of the HMAC, a non-negative int64.

Example:
    >>> pseudonym(b"a secret key of enough length", "0123456789")
    6640304308541069749
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pyarrow as pa

KEY_ENV = "JOINEDUP_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16


class PseudonymKeyError(ValueError):
    """The pseudonymisation key is missing, too short or stored where outputs are written."""


def load_key(key_file: str | Path | None, out: str | Path | None = None) -> bytes:
    """The key from ``key_file`` or, failing that, the environment; refuse a key inside ``out``."""
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise PseudonymKeyError(f"pseudonymisation key file {str(path)!r} does not exist")
        if out is not None and Path(out).resolve() in path.resolve().parents:
            raise PseudonymKeyError(f"the key file {str(path)!r} is inside the output folder {str(out)!r}; "
                                    "keep the key outside the outputs")
        key = path.read_bytes().strip()
        where = f"key file {str(path)!r}"
    else:
        key = os.environ.get(KEY_ENV, "").strip().encode()
        where = f"environment variable {KEY_ENV}"
        if not key:
            raise PseudonymKeyError(
                f"no pseudonymisation key: pass --key-file FILE or set {KEY_ENV} (a secret of at least "
                f"{MIN_KEY_BYTES} bytes, kept outside the outputs, e.g. `openssl rand -hex 32 > key.txt`)")
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"the pseudonymisation key in the {where} has {len(key)} bytes; "
                                f"at least {MIN_KEY_BYTES} are needed")
    return key


def pseudonym(key: bytes, identifier: str) -> int:
    """The int64 ``person_id`` of one identifier (surrounding blanks ignored)."""
    digest = hmac.new(key, identifier.strip().encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def build_person_map(con, key: bytes, source_sql: str, table: str = "person_map",
                     batch_rows: int = 200_000) -> int:
    """Create ``table(person_raw, person_id)`` for the distinct identifiers ``source_sql`` returns.

    Identifiers are hashed batch by batch, so memory holds one batch. Raises ValueError on a
    collision (two identifiers, one pseudonym), which 63 bits make vanishingly rare.
    """
    con.execute(f"CREATE OR REPLACE TABLE {table} (person_raw VARCHAR, person_id BIGINT)")
    reader = con.execute(f"SELECT DISTINCT person_raw FROM ({source_sql}) WHERE person_raw IS NOT NULL"
                         ).to_arrow_reader(batch_rows)
    writer = con.cursor()
    for batch in reader:
        raw = batch.column(0).to_pylist()
        ids = pa.array([pseudonym(key, r) for r in raw], pa.int64())
        chunk = pa.table({"person_raw": pa.array(raw, pa.string()), "person_id": ids})
        writer.register("__chunk", chunk)
        writer.execute(f"INSERT INTO {table} SELECT * FROM __chunk")
        writer.unregister("__chunk")
    n, distinct = con.execute(f"SELECT count(*), count(DISTINCT person_id) FROM {table}").fetchone()
    if n != distinct:
        raise ValueError(f"{n - distinct} pseudonym collision(s): two identifiers share a person_id")
    return int(n)
