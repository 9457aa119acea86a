"""RFC 9457 problem+json for every non-2xx answer.

Domain errors subclass `ProblemError`; one set of handlers renders them, FastAPI's validation
errors, Starlette's HTTP errors (404 on unknown routes, 405, ...) and anything unexpected
(500, never with a stack trace).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import orjson
from asyncpg import PostgresError
from asyncpg.exceptions import InternalClientError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from shared.db import DatabaseUnreachable
from shared.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://inds.gov.dj/problems/"


class ProblemError(Exception):
    """An error the client can act on. Subclasses fix `status`, `type` and `title`."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        status: int | None = None,
        type: str | None = None,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        if status is not None:
            self.status = status
        if type is not None:
            self.type = type
        if title is not None:
            self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions

    def to_response(self, instance: str | None = None) -> Response:
        return problem_response(
            self.status,
            type=self.type,
            title=self.title,
            detail=self.detail,
            instance=instance,
            headers=self.headers,
            **self.extensions,
        )


class NotFound(ProblemError):
    status, type, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, type, title = 409, "conflict", "Conflict"


class PreconditionFailed(ProblemError):
    status, type, title = 412, "precondition-failed", "Precondition failed"


class PreconditionRequired(ProblemError):
    status, type, title = 428, "precondition-required", "Precondition required"


class Unauthorized(ProblemError):
    status, type, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        error = kwargs.pop("error", "invalid_token")
        challenge = f'Bearer realm="inds", error="{error}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge}, **kwargs)


class Forbidden(ProblemError):
    status, type, title = 403, "forbidden", "Forbidden"


class UnprocessableEntity(ProblemError):
    status, type, title = 422, "validation-error", "Invalid request"


class DatabaseUnavailable(ProblemError):
    status, type, title = 503, "database-unavailable", "Database unavailable"


def problem_body(
    status: int,
    *,
    type: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": _type_uri(type or _slug(status)),
        "title": title or _reason(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    request_id = current_request_id()
    if request_id:
        body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v is not None})
    return body


def problem_response(
    status: int, *, headers: Mapping[str, str] | None = None, **fields: Any
) -> Response:
    return Response(
        orjson.dumps(problem_body(status, **fields), default=str),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic/FastAPI errors as `{path, message, type}` without echoing the bad value
    (it may be personal data)."""
    return [
        {
            "path": ".".join(str(part) for part in err.get("loc", ())),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _handle_problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _handle_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _handle_http)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _handle_database)  # type: ignore[arg-type]
    app.add_exception_handler(PostgresError, _handle_database)  # type: ignore[arg-type]
    app.add_exception_handler(DatabaseUnreachable, _handle_unreachable)  # type: ignore[arg-type]


# Text PostgreSQL cannot store, whatever the column: a NUL character in text (22021) or a
# \u0000 escape in jsonb (22P05). Always the client's input, wherever it came in.
_UNSTORABLE_TEXT = {"22021", "22P05"}


# SQLSTATE classes of a server that is shutting down, restarting or dropping the connection
# (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now; 08 connection
# exceptions), or the driver losing the connection or the protocol as the server goes
# (PEP 249's InterfaceError, asyncpg's InternalClientError):
# the statement did not run, and the client may retry.
_SERVER_GOING_AWAY = ("57P", "08")


async def _handle_database(request: Request, exc: Exception) -> Response:
    """The client's text that PostgreSQL refuses is a 422 (the transaction is rolled back:
    nothing is saved); a connection the server dropped or is dropping (a restart, a
    failover) is a 503 to retry — SQLAlchemy has by then replaced the pool's connections,
    so the retry finds fresh ones (checking each connection before use would cost a round
    trip a request); any other database error stays a 500."""
    driver_error = getattr(exc, "orig", None)  # SQLAlchemy's wrapper of the driver's error
    causes = (exc, driver_error, getattr(driver_error, "__cause__", None))
    if getattr(exc, "connection_invalidated", False) or any(
        isinstance(cause, InternalClientError | InterfaceError)
        or str(getattr(cause, "sqlstate", None) or "").startswith(_SERVER_GOING_AWAY)
        for cause in causes
    ):
        problem: ProblemError = DatabaseUnavailable(
            "The connection to the database was lost; nothing was saved. Retry.",
            headers={"Retry-After": "1"},
        )
    elif any(getattr(cause, "sqlstate", None) in _UNSTORABLE_TEXT for cause in causes):
        problem = UnprocessableEntity("Text must not contain NUL characters (\\u0000).")
    else:
        raise exc
    return problem.to_response(request.url.path)


async def _handle_unreachable(request: Request, exc: DatabaseUnreachable) -> Response:
    """The database is down or restarting: a 503 to retry (nothing reached it)."""
    return DatabaseUnavailable(
        "The database cannot be reached just now; nothing was saved. Retry.",
        headers={"Retry-After": "1"},
    ).to_response(request.url.path)


async def _handle_problem(request: Request, exc: ProblemError) -> Response:
    return exc.to_response(request.url.path)


async def _handle_validation(request: Request, exc: RequestValidationError) -> Response:
    errors = list(exc.errors())
    if any(err.get("type") == "json_invalid" for err in errors):
        return problem_response(
            400,
            type="malformed-json",
            title="Malformed JSON",
            detail="The request body is not valid JSON.",
            instance=request.url.path,
            errors=validation_errors(errors),
        )
    return problem_response(
        422,
        type="validation-error",
        title="Invalid request",
        detail="One or more fields are invalid.",
        instance=request.url.path,
        errors=validation_errors(errors),
    )


async def _handle_http(request: Request, exc: StarletteHTTPException) -> Response:
    detail = (
        exc.detail
        if isinstance(exc.detail, str) and exc.detail != _reason(exc.status_code)
        else None
    )
    return problem_response(
        exc.status_code,
        detail=detail,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _slug(status: int) -> str:
    return _reason(status).lower().replace(" ", "-").replace("'", "")


def _type_uri(type_: str) -> str:
    if type_.startswith(("http://", "https://", "urn:", "about:")):
        return type_
    return TYPE_BASE + type_
