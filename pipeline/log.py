"""Logging with structlog: readable lines by default, JSON lines on request.

`configure("json")` or `SEAWORTHY_LOG_FORMAT=json` switches to JSON. A redaction processor replaces the
value of any key that looks like it carries a credential, as a second line of defence: Seaworthy never
passes secret values to the logger in the first place (findings carry rule and place, never the match).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any, Literal, TextIO

import structlog

LogFormat = Literal["console", "json"]

_SENSITIVE = (
    "password",
    "passwd",
    "secret",
    "token",
    "private_key",
    "credential",
    "authorization",
    "api_key",
)
REDACTED = "[redacted]"


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: blank the value of credential-like keys."""
    for key in list(event):
        lowered = key.lower()
        if any(word in lowered for word in _SENSITIVE) and event[key] not in (None, ""):
            event[key] = REDACTED
    return event


def configure(fmt: str | None = None, *, level: str = "info", stream: TextIO | None = None) -> LogFormat:
    """Configure structlog once for the process. Returns the format in use."""
    chosen = (fmt or os.environ.get("SEAWORTHY_LOG_FORMAT") or "console").strip().lower()
    if chosen not in ("console", "json"):
        chosen = "console"
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if chosen == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    return "json" if chosen == "json" else "console"


def get(name: str = "seaworthy") -> Any:
    return structlog.get_logger(name)
