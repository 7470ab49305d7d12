"""One-line errors for a database that cannot be reached, naming the URL without its password.

A survey store (``--store postgresql://...``) or a data source (``[data] source = "postgres://..."``)
that is down, refuses the login or names a folder that does not exist should stop a command with one
line a person can act on, not a driver's traceback; and the line must not print the password that
the URL carries (logs and terminals are shared).

Example:
    >>> redact_url("postgresql://evaluator:s3cret@db.example.org:5432/survey")
    'postgresql://evaluator:***@db.example.org:5432/survey'
    >>> unreachable_message("survey store", "postgresql://u:pw@127.0.0.1:1/s", ConnectionRefusedError("refused"))
    'cannot connect to the survey store postgresql://u:***@127.0.0.1:1/s: refused'
    >>> missing_extra(ModuleNotFoundError("No module named 'psycopg'", name="psycopg"))
    "psycopg is not installed: pip install 'joinedup[postgres]'"
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

# DB-API errors raised when a connection cannot be made (PEP 249 names them OperationalError and
# InterfaceError); matched by name so that no driver has to be installed to recognise them.
_CONNECTION_ERROR_NAMES = {"OperationalError", "InterfaceError"}


def redact_url(url: str) -> str:
    """The URL with its password, if any, replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a malformed port or netloc: show nothing after the scheme's user part
        return url.split("@")[-1] if "@" in url else url
    if not password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _chain(exc: BaseException):
    """The exception, its DB-API original (SQLAlchemy's ``.orig``) and its causes, without repeats."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return seen


def is_connection_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says that a database could not be reached or opened."""
    return any(type(e).__name__ in _CONNECTION_ERROR_NAMES or isinstance(e, ConnectionError)
               for e in _chain(exc))


def _cause(exc: BaseException, url: str) -> str:
    """The driver's own words, on one line, with the password (should it appear) hidden."""
    chain = _chain(exc)
    driver = next((e for e in chain if type(e).__name__ in _CONNECTION_ERROR_NAMES
                   and type(e).__module__.split(".")[0] != "sqlalchemy"), None)
    text = str(driver or next((e for e in chain if isinstance(e, ConnectionError)), exc))
    text = "; ".join(line.strip() for line in text.splitlines() if line.strip())
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text


def unreachable_message(what: str, url: str, exc: BaseException) -> str:
    """``cannot connect to the <what> <url without password>: <cause>`` (one line)."""
    message = f"cannot connect to the {what} {redact_url(url)}: {_cause(exc, url)}"
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = Path(url.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            message += f" (the folder {folder} does not exist)"
    return message


#: optional capabilities and the extra that installs each (pyproject's [project.optional-dependencies])
EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pyspark": "spark", "playwright": "pdf"}


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """One line naming the extra to install when ``exc`` is an optional driver that is missing."""
    root = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(root)
    return f"{root} is not installed: pip install 'joinedup[{extra}]'" if extra else None
