"""Provenance: what produced an output folder (protocol hash, data fingerprints, versions, seeds).

Example:
    >>> sorted(package_versions())[:3]
    ['altair', 'duckdb', 'ibis-framework']
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path

import joinedup
from joinedup.data.sources import TableFile

PACKAGES = ("altair", "duckdb", "ibis-framework", "numpy", "pandas", "pyarrow", "pydantic", "pyspark",
            "sqlglot", "vl-convert-python")


def package_versions() -> dict[str, str]:
    """Versions of the packages whose behaviour shapes the results."""
    out = {"python": platform.python_version(), "joinedup": joinedup.__version__}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return dict(sorted(out.items()))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(files: dict[str, TableFile], rows: dict[str, int]) -> dict[str, dict]:
    """Per table: rows and a SHA-256 over its files' names and bytes in sorted order."""
    out = {}
    for name, tf in sorted(files.items()):
        paths = sorted(tf.path.glob(f"*.{tf.format}")) if tf.path.is_dir() else [tf.path]
        digest = hashlib.sha256()
        for path in paths:
            digest.update(path.name.encode())
            digest.update(bytes.fromhex(file_sha256(path)))
        out[name] = {"rows": rows.get(name), "files": len(paths), "sha256": digest.hexdigest()}
    return out


def write_manifest(path: Path, manifest: dict) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
