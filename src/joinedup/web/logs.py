"""Access logs without survey tokens: the personal link's token is a credential (whoever has it can
read and change the answers), so uvicorn's access log records the route, ``/s/<token>``, not the
token itself (as the unsubscribe and withdrawal links).

Example:
    >>> redact("/s/AbC123_-x/autosave?x=1")
    '/s/<token>/autosave'
    >>> redact("/admin/roster")
    '/admin/roster'
"""

from __future__ import annotations

import copy
import logging
import re

_TOKEN_ROUTE = re.compile(r"^/(s|unsubscribe)/[^/?#]+")


def redact(path: str) -> str:
    """The path with a token replaced by ``<token>`` (and the query string dropped on token routes)."""
    if not _TOKEN_ROUTE.match(path):
        return path
    return _TOKEN_ROUTE.sub(r"/\1/<token>", path.split("?", 1)[0])


class RedactTokens(logging.Filter):
    """A logging filter for ``uvicorn.access``: its records carry ``(client, method, path, http
    version, status)`` as args; the path is redacted before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        elif isinstance(record.msg, str):
            record.msg = re.sub(r"/(s|unsubscribe)/[^/?#\s\"]+", r"/\1/<token>", record.msg)
        return True


def uvicorn_log_config() -> dict:
    """uvicorn's own logging configuration with :class:`RedactTokens` on the access log."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": "joinedup.web.logs.RedactTokens"}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    return config
