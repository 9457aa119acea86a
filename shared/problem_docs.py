"""The OpenAPI document says what errors really look like: every error answer is an RFC 9457
problem (`application/problem+json`), a 422 included, not FastAPI's default
`HTTPValidationError` body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.etag import IF_MATCH

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An error, as RFC 9457 problem details. Some problems add members of "
    "their own (e.g. `existing_id` on a 409).",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri", "description": "What kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "instance": {"type": "string", "description": "The path of the request."},
        "request_id": {"type": "string", "description": "Quote it when asking for help."},
        "errors": {
            "type": "array",
            "description": "Each invalid field (422): where, and why. Values are not echoed.",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string", "examples": ["body.members.0.birth_date"]},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}
_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def document_problems(app: FastAPI) -> None:
    """From now on `app.openapi()` documents its error answers as problems."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_problems(spec: dict[str, Any]) -> dict[str, Any]:
    for item in spec.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            _declare_common_errors(operation, responses)
            for code, response in responses.items():
                if code.startswith(("4", "5")) and not _own_error_shape(response):
                    response["content"] = _PROBLEM
            if "422" in responses:
                responses["422"]["description"] = "Invalid request: `errors` names each field."
            responses.setdefault(
                "default", {"description": "Any other error.", "content": _PROBLEM}
            )
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    return spec


# What any operation behind a token may answer, and one with a record in its path: said on
# each, so that an integrator (and a generated client) knows them without guessing.
_AUTH_ERRORS = {
    "401": "No bearer token, or one that is expired, revoked or signed by another key.",
    "403": "The token's role, regions or agreement do not allow this.",
}
_NOT_FOUND = "No such record (or none the caller may see)."
_UNREADABLE_BODY = "The body is not valid JSON (or not a readable form)."
_BAD_CURSOR = "The cursor is not one this API issued."
_VERSION_ERRORS = {
    "412": "The record changed since you read it: read it again (the answer has its ETag).",
    "428": "Send If-Match with the ETag of the version you read (GET it first).",
}


def _declare_common_errors(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    if _own_error_shape(responses.get("default", {})):
        return  # a route that documents its own errors (the DCI paths)
    bad_request = [
        text
        for present, text in (
            ("requestBody" in operation, _UNREADABLE_BODY),
            (_has_parameter(operation, "query", "cursor"), _BAD_CURSOR),
        )
        if present
    ]
    if bad_request:
        responses.setdefault("400", {"description": " ".join(bad_request)})
    if operation.get("security"):
        for code, description in _AUTH_ERRORS.items():
            responses.setdefault(code, {"description": description})
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        responses.setdefault("404", {"description": _NOT_FOUND})
    if _has_parameter(operation, "header", IF_MATCH):
        for code, description in _VERSION_ERRORS.items():
            responses.setdefault(code, {"description": description})


def _has_parameter(operation: dict[str, Any], where: str, name: str) -> bool:
    return any(
        p.get("in") == where and p.get("name") == name for p in operation.get("parameters", [])
    )


def _own_error_shape(response: dict[str, Any]) -> bool:
    """An error a route documents with a body of its own (the DCI paths answer the
    standard's error, not a problem); FastAPI's own 422 is not one."""
    content = response.get("content") or {}
    own = [
        media
        for media in content.values()
        if not media.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError")
    ]
    return bool(own)
